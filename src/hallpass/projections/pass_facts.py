"""PassFactsView: one row per pass for the reports: who, from where, to where, by which source,
when in the school's time zone, for how long, how late, and how a request was decided
(docs/decisions/085).

The local day, hour and weekday are generated columns of the pass's moment (its start, or for
a pass that never started, when it was asked for or planned for) in the time zone its school had
when the pass began, so a report filters and groups by them without converting a row per
request. The time zones are this projection's own table, written by school events sent as
barriers (statements without arguments, see `pipeline`): every pass queued after a school's
event reads the school's row, whichever batch or round it lands in.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache, cached_property
from typing import Any
from uuid import UUID

import asyncpg

from hallpass.aggregates.passes import Pass, Source
from hallpass.aggregates.schools import School
from hallpass.eventstore.store import DbConnection
from hallpass.projections.base import TableProjection
from hallpass.projections.folding import copy_new_rows
from hallpass.projections.pipeline import FEWEST_COPIED, Pipeline

SCHEMA = """
CREATE TABLE IF NOT EXISTS report_schools (
    school_id uuid PRIMARY KEY,
    timezone text NOT NULL
);
CREATE TABLE IF NOT EXISTS report_passes (
    pass_id uuid PRIMARY KEY,
    school_id uuid NOT NULL,
    timezone text NOT NULL,
    student_id uuid NOT NULL,
    origin_id uuid NOT NULL,
    destination_id uuid NOT NULL,
    source text NOT NULL,
    creator_kind text NOT NULL,
    creator_id uuid,
    teacher_id uuid,
    outcome text NOT NULL,
    decision text,
    allotted_minutes integer NOT NULL,
    requested_at timestamptz,
    anchor_at timestamptz NOT NULL,
    started_at timestamptz,
    due_at timestamptz,
    ended_at timestamptz,
    returned_at timestamptz,
    end_reason text,
    overdue boolean NOT NULL DEFAULT false,
    day date GENERATED ALWAYS AS ((anchor_at AT TIME ZONE timezone)::date) STORED,
    hour smallint GENERATED ALWAYS AS (extract(hour FROM anchor_at AT TIME ZONE timezone)::smallint) STORED,
    dow smallint GENERATED ALWAYS AS (extract(isodow FROM anchor_at AT TIME ZONE timezone)::smallint) STORED,
    seconds_out integer GENERATED ALWAYS AS (
        floor(extract(epoch FROM ended_at - started_at))::integer) STORED,
    late_seconds integer GENERATED ALWAYS AS (
        CASE WHEN overdue THEN floor(extract(epoch FROM ended_at - due_at))::integer END) STORED
);
DROP INDEX IF EXISTS report_passes_school_day;
DROP INDEX IF EXISTS report_passes_by_day;
CREATE INDEX IF NOT EXISTS report_passes_day ON report_passes (school_id, day)
    INCLUDE (student_id, destination_id, started_at, seconds_out, overdue, late_seconds);
CREATE INDEX IF NOT EXISTS report_passes_late ON report_passes
    (school_id, late_seconds DESC NULLS FIRST, pass_id) INCLUDE (day) WHERE overdue;
CREATE INDEX IF NOT EXISTS report_passes_overdue_day ON report_passes (school_id, day)
    INCLUDE (late_seconds) WHERE overdue;
CREATE TABLE IF NOT EXISTS report_hour_counts (
    school_id uuid NOT NULL,
    day date NOT NULL,
    hour smallint NOT NULL,
    dow smallint NOT NULL,
    source text NOT NULL,
    passes integer NOT NULL,
    started integer NOT NULL,
    requested integer NOT NULL,
    approved integer NOT NULL,
    denied integer NOT NULL,
    overdue integer NOT NULL,
    PRIMARY KEY (school_id, day, hour, source)
);
CREATE INDEX IF NOT EXISTS report_passes_times ON report_passes (destination_id, seconds_out)
    INCLUDE (school_id, day) WHERE seconds_out IS NOT NULL;
CREATE TABLE IF NOT EXISTS report_destination_minutes (
    school_id uuid NOT NULL,
    day date NOT NULL,
    destination_id uuid NOT NULL,
    minute integer NOT NULL,
    passes integer NOT NULL,
    started integer NOT NULL,
    timed integer NOT NULL,
    overdue integer NOT NULL,
    PRIMARY KEY (school_id, day, destination_id, minute)
);
CREATE TABLE IF NOT EXISTS report_student_days (
    school_id uuid NOT NULL,
    day date NOT NULL,
    student_id uuid NOT NULL,
    passes integer NOT NULL,
    started integer NOT NULL,
    timed integer NOT NULL,
    seconds_out integer NOT NULL,
    overdue integer NOT NULL,
    PRIMARY KEY (school_id, day, student_id)
);
CREATE TABLE IF NOT EXISTS report_teacher_counts (
    school_id uuid NOT NULL,
    day date NOT NULL,
    who_kind text NOT NULL,
    who uuid NOT NULL,
    passes integer NOT NULL,
    started integer NOT NULL,
    staff integer NOT NULL,
    kiosk integer NOT NULL,
    approved integer NOT NULL,
    denied integer NOT NULL,
    PRIMARY KEY (school_id, day, who_kind, who)
);
-- A row while a rebuild has emptied the tables and not yet counted the count tables from the
-- rows (decision 118): whoever finds it counts them (`count_totals`).
CREATE TABLE IF NOT EXISTS report_counts_pending (
    pending boolean PRIMARY KEY DEFAULT true CHECK (pending)
);
"""

# The columns a new row is written with (all but the generated ones), and their types.
COLUMNS: tuple[tuple[str, str], ...] = (
    ("pass_id", "uuid"),
    ("school_id", "uuid"),
    ("timezone", "text"),
    ("student_id", "uuid"),
    ("origin_id", "uuid"),
    ("destination_id", "uuid"),
    ("source", "text"),
    ("creator_kind", "text"),
    ("creator_id", "uuid"),
    ("teacher_id", "uuid"),
    ("outcome", "text"),
    ("decision", "text"),
    ("allotted_minutes", "integer"),
    ("requested_at", "timestamptz"),
    ("anchor_at", "timestamptz"),
    ("started_at", "timestamptz"),
    ("due_at", "timestamptz"),
    ("ended_at", "timestamptz"),
    ("returned_at", "timestamptz"),
    ("end_reason", "text"),
    ("overdue", "boolean"),
)
# New rows, one array per column ($1 the pass ids, ...), in one statement. A row without its time
# zone takes its school's from `report_schools` as it is when the statement runs.
_TIMEZONE = "coalesce(r.timezone, (SELECT timezone FROM report_schools s WHERE s.school_id = r.school_id))"
_INSERT = (
    f"INSERT INTO report_passes ({', '.join(c for c, _ in COLUMNS)})"
    f" SELECT {', '.join(f'r.{c}' if c != 'timezone' else _TIMEZONE for c, _ in COLUMNS)}"
    f" FROM unnest({', '.join(f'${n}::{t}[]' for n, (_, t) in enumerate(COLUMNS, start=1))})"
    f" AS r ({', '.join(c for c, _ in COLUMNS)})"
    " ON CONFLICT (pass_id) DO NOTHING"
)

Row = dict[str, Any]


@dataclass(frozen=True)
class Due:
    """A due time `at` plus the row's own allotted minutes."""

    at: datetime


def _staff(event: Any) -> UUID | None:
    return event.actor_id if event.actor_kind == "staff" else None


def _started(event: Any) -> Row:
    return {"outcome": "started", "anchor_at": event.timestamp, "started_at": event.timestamp}


def _ended(at: datetime, reason: str) -> Row:
    return {"ended_at": at, "end_reason": reason}


# How each later event changes a pass's row: the columns it sets. The same changes serve a row
# still in Python (a pass that began in the batch being prepared) and one already written
# (`update_sql`).
CHANGES: dict[type, Callable[[Any], Row]] = {
    Pass.Activated: lambda e: {**_started(e), "due_at": Due(e.timestamp)},
    Pass.Rescheduled: lambda e: {"anchor_at": e.start_at, "allotted_minutes": e.allotted_minutes},
    Pass.Approved: lambda e: {
        **_started(e),
        "due_at": e.due_at,
        "decision": "approved",
        "teacher_id": _staff(e),
    },
    Pass.Denied: lambda e: {
        "outcome": "denied",
        "decision": "denied",
        **_ended(e.timestamp, "denied"),
        "teacher_id": _staff(e),
    },
    Pass.Cancelled: lambda e: {"outcome": "cancelled", **_ended(e.timestamp, e.reason)},
    Pass.Expired: lambda e: {"overdue": True},
    Pass.Completed: lambda e: {"returned_at": e.timestamp, **_ended(e.timestamp, "completed")},
    Pass.ReturnRecorded: lambda e: {"returned_at": e.timestamp, **_ended(e.timestamp, "returned")},
    Pass.Terminated: lambda e: _ended(e.timestamp, e.reason),
}


def apply(row: Row, changes: Row) -> None:
    """What `update_sql` does to a row in the table, to a row in Python."""
    minutes = row["allotted_minutes"]
    for column, value in changes.items():
        row[column] = value.at + timedelta(minutes=minutes) if isinstance(value, Due) else value


@cache
def update_sql(columns: tuple[str, ...], due: str | None) -> str:
    """The UPDATE of a pass's row ($1) setting `columns` from $2 on; the column `due` is a `Due`."""
    sets = ", ".join(
        f"{c} = ${n}::timestamptz + allotted_minutes * interval '1 minute'" if c == due else f"{c} = ${n}"
        for n, c in enumerate(columns, start=2)
    )
    return f"UPDATE report_passes SET {sets} WHERE pass_id = $1"


async def insert_rows(conn: DbConnection, rows: list[Row]) -> None:
    await conn.execute(_INSERT, *([row.get(c) for row in rows] for c, _ in COLUMNS))


_NAMES = tuple(c for c, _ in COLUMNS)  # the key, pass_id, first
_ZONES = "SELECT school_id, timezone FROM report_schools WHERE school_id = ANY($1::uuid[])"


async def copy_rows(conn: DbConnection, rows: list[Row]) -> None:
    """What `insert_rows` does, by one COPY into the table (a rebuild's many rows, decision 122):
    the passes the table has already left out (its `ON CONFLICT (pass_id) DO NOTHING`), and a row
    without its time zone given its school's from `report_schools` as the batch found it."""
    unknown = {row["school_id"] for row in rows if row.get("timezone") is None}
    zones: dict[Any, Any] = dict(await conn.fetch(_ZONES, list(unknown))) if unknown else {}
    records = [tuple(map(row.get, _NAMES)) for row in (_zoned(row, zones) for row in rows)]
    await copy_new_rows(conn, "report_passes", "pass_id", _NAMES, records)


def _zoned(row: Row, zones: dict[Any, Any]) -> Row:
    """The row with its school's time zone where it has none of its own."""
    return row if row.get("timezone") is not None else {**row, "timezone": zones.get(row["school_id"])}


@dataclass(frozen=True, eq=False)  # each one is itself: a key by identity
class Aggregate:
    """Counts per key of the pass rows: each pass adds its contribution (`values`, from its row)
    to its key's counts. Whatever changes what some passes contribute takes their contributions
    away before their rows change (`take_away`) and adds them after (`add`): for one event, or
    for a whole batch's passes at once (`Recount`)."""

    table: str
    keys: tuple[tuple[str, str], ...]  # (column, expression over the pass row)
    values: tuple[tuple[str, str], ...]

    def _grouped(self, param: int) -> str:
        """The contributions of the passes `$param` (an array), summed per key. Each pass is found
        by its key (a join to the array, never a scan of the table for the array's members)."""
        keys = ", ".join(f"{expr} AS {column}" for column, expr in self.keys)
        sums = ", ".join(f"sum({expr})::integer AS {column}" for column, expr in self.values)
        return (
            f"SELECT {keys}, {sums} FROM unnest(${param}::uuid[]) AS p (pass_id), LATERAL"
            " (SELECT * FROM report_passes r WHERE r.pass_id = p.pass_id OFFSET 0) r"
            f" GROUP BY {', '.join(e for _, e in self.keys)}"
        )

    def add(self, n: int) -> str:
        """Adds the contributions of the passes `$n`: a data-modifying CTE, `add{n}`."""
        columns = ", ".join(c for c, _ in (*self.keys, *self.values))
        conflict = ", ".join(c for c, _ in self.keys if c != "dow")
        sums = ", ".join(f"{c} = a.{c} + excluded.{c}" for c, _ in self.values)
        return (
            f"add{n} AS (INSERT INTO {self.table} AS a ({columns}) {self._grouped(n)}"
            f" ON CONFLICT ({conflict}) DO UPDATE SET {sums})"
        )

    @cached_property
    def counted(self) -> str:
        """Every key's counts as a query over all the pass rows: what adding and taking them away
        gives."""
        keys = ", ".join(f"{expr} AS {column}" for column, expr in self.keys)
        sums = ", ".join(f"sum({expr})::integer AS {column}" for column, expr in self.values)
        return f"SELECT {keys}, {sums} FROM report_passes GROUP BY {', '.join(e for _, e in self.keys)}"

    def take_away(self, n: int) -> str:
        """Takes the contributions of the passes `$n` away, as data-modifying CTEs (`x{n}`,
        `emptied{n}`, `kept{n}`); a key none of whose passes is left goes (every pass counts 1 in
        `passes`), so a key has a row while some pass counts in it, whichever batches the
        passes came in."""
        sums = ", ".join(f"{c} = a.{c} - x.{c}" for c, _ in self.values)
        match = " AND ".join(f"a.{c} = x.{c}" for c, _ in self.keys if c != "dow")
        return (
            f"x{n} AS ({self._grouped(n)}),"
            f" emptied{n} AS (DELETE FROM {self.table} a USING x{n} x"
            f" WHERE {match} AND a.passes = x.passes),"
            f" kept{n} AS (UPDATE {self.table} a SET {sums} FROM x{n} x"
            f" WHERE {match} AND a.passes <> x.passes)"
        )


def _flag(condition: str) -> str:
    return f"(CASE WHEN {condition} THEN 1 ELSE 0 END)"


def _as_is(*columns: str) -> tuple[tuple[str, str], ...]:
    """Keys that are the pass row's columns of the same names."""
    return tuple((column, column) for column in columns)


# The counts more than one aggregate keeps. Every aggregate counts each pass 1 in `passes`
# (`take_away` removes a key's row when that comes to 0).
PASSES = ("passes", "1")
STARTED = ("started", _flag("started_at IS NOT NULL"))
APPROVED = ("approved", _flag("decision = 'approved'"))
DENIED = ("denied", _flag("decision = 'denied'"))
OVERDUE = ("overdue", _flag("overdue AND started_at IS NOT NULL"))
TIMED_OUT = ("timed", _flag("seconds_out IS NOT NULL"))

HOUR_COUNTS = Aggregate(
    "report_hour_counts",
    _as_is("school_id", "day", "hour", "dow", "source"),
    (PASSES, STARTED, ("requested", _flag("requested_at IS NOT NULL")), APPROVED, DENIED, OVERDUE),
)
# Who answers for a pass: the member of staff who created it or decided its request, else the
# kiosk it came from (its creator is read at query time), else nobody (the nil id).
TEACHER_COUNTS = Aggregate(
    "report_teacher_counts",
    (
        *_as_is("school_id", "day"),
        (
            "who_kind",
            "CASE WHEN teacher_id IS NOT NULL THEN 'staff'"
            " WHEN creator_kind = 'kiosk' THEN 'kiosk' ELSE 'none' END",
        ),
        (
            "who",
            "coalesce(teacher_id, CASE WHEN creator_kind = 'kiosk' THEN creator_id END,"
            " '00000000-0000-0000-0000-000000000000'::uuid)",
        ),
    ),
    (
        PASSES,
        STARTED,
        ("staff", _flag("source = 'staff' AND started_at IS NOT NULL")),
        ("kiosk", _flag("source = 'kiosk'")),
        APPROVED,
        DENIED,
    ),
)
# A histogram of times out per school, day and destination, by the whole minute (`minute` is
# floor(seconds out / 60); -1 holds the passes with no time out yet, which `timed` does not
# count): the destinations report finds in it which minute holds each percentile's pass, then
# reads only that minute's times (docs/decisions/085).
DESTINATION_MINUTES = Aggregate(
    "report_destination_minutes",
    (
        *_as_is("school_id", "day", "destination_id"),
        ("minute", "coalesce(floor(seconds_out / 60.0)::integer, -1)"),
    ),
    (PASSES, STARTED, TIMED_OUT, OVERDUE),
)
# Per school, day and student: the passes started, their time out (of those that have ended,
# `timed`) and how many went overdue. The students report adds up days, not passes.
STUDENT_DAYS = Aggregate(
    "report_student_days",
    _as_is("school_id", "day", "student_id"),
    (PASSES, STARTED, TIMED_OUT, ("seconds_out", "coalesce(seconds_out, 0)"), OVERDUE),
)
# The aggregates that a pass's time out changes, so every event that ends a pass recounts them.
TIMED = (DESTINATION_MINUTES, STUDENT_DAYS)
AGGREGATES = (HOUR_COUNTS, TEACHER_COUNTS, *TIMED)
# Every aggregate recounted in one statement each way, the passes of the n-th aggregate in `$n`
# (decision 111): each part writes its own table from `report_passes`, which none of them
# changes, so running them side by side in one snapshot does what running them in turn did.
TAKE_AWAY = "WITH " + ", ".join(a.take_away(n) for n, a in enumerate(AGGREGATES, 1)) + " SELECT 1"
ADD = "WITH " + ", ".join(a.add(n) for n, a in enumerate(AGGREGATES, 1)) + " SELECT 1"
# Every aggregate counted from all the rows at once (a rebuild's end, decision 118).
COUNT_ALL = [
    f"INSERT INTO {a.table} ({', '.join(c for c, _ in (*a.keys, *a.values))}) {a.counted}" for a in AGGREGATES
]
# The events that change a pass's contribution to each aggregate (the rest leave them as they are).
RECOUNTED: dict[type, tuple[Aggregate, ...]] = {
    Pass.Activated: AGGREGATES,
    Pass.Rescheduled: AGGREGATES,
    Pass.Approved: AGGREGATES,
    Pass.Denied: AGGREGATES,
    Pass.Expired: (HOUR_COUNTS, *TIMED),
    Pass.Cancelled: TIMED,
    Pass.Completed: TIMED,
    Pass.ReturnRecorded: TIMED,
    Pass.Terminated: TIMED,
}


class Recount:
    """The passes whose contributions to each aggregate change, recounted together: taken away
    `before` their rows change, added `after`. In a batch sent through a `Pipeline` that is one
    statement each way for every aggregate and the whole batch (docs/decisions/103, 111)."""

    def __init__(self) -> None:
        self.passes: dict[Aggregate, set[UUID]] = {aggregate: set() for aggregate in AGGREGATES}
        self.created: set[UUID] = set()  # rows that do not exist before: nothing to take away

    def note(self, pass_id: UUID, aggregates: tuple[Aggregate, ...], *, created: bool = False) -> None:
        if created:
            self.created.add(pass_id)
        for aggregate in aggregates:
            self.passes[aggregate].add(pass_id)

    async def before(self, conn: DbConnection) -> None:
        existing = [list(passes - self.created) for passes in self.passes.values()]
        if any(existing):
            await conn.execute(TAKE_AWAY, *existing)

    async def after(self, conn: DbConnection) -> None:
        passes = [list(each) for each in self.passes.values()]
        if any(passes):
            await conn.execute(ADD, *passes)


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _school_barrier(school_id: UUID, timezone: str) -> str:
    """The school's row as a statement without arguments: the pipeline sends it as a barrier."""
    return (
        "INSERT INTO report_schools (school_id, timezone)"
        f" VALUES ({_literal(str(school_id))}::uuid, {_literal(timezone)})"
        " ON CONFLICT (school_id) DO UPDATE SET timezone = excluded.timezone"
    )


class PassFactsProjection(TableProjection):
    name = "report_passes"
    tables: tuple[str, ...] = (
        "report_passes",
        "report_schools",
        "report_hour_counts",
        "report_teacher_counts",
        "report_destination_minutes",
        "report_student_days",
        "report_counts_pending",
    )
    schema = SCHEMA
    serves_requests = False  # the reports are read later; a command's answer never waits on them
    events = (School.Registered, School.Changed, Pass.Creation, *CHANGES)

    async def create_schema(self, conn: asyncpg.Connection) -> None:
        """The tables, and the count tables counted if a rebuild left them pending (one that
        stopped before its end: its rows are whole batches, so the counts follow from them)."""
        await conn.execute(self.schema)
        if await conn.fetchval("SELECT count(*) FROM report_counts_pending"):
            async with conn.transaction():
                await self.count_totals(conn)

    async def totals_pending(self, conn: asyncpg.Connection) -> None:
        """In the transaction that empties the tables for a rebuild: the count tables are not
        kept up batch by batch from now on (`Rebuilding`), but counted at the end."""
        await conn.execute("INSERT INTO report_counts_pending DEFAULT VALUES ON CONFLICT DO NOTHING")

    async def count_totals(self, conn: asyncpg.Connection) -> None:
        """Every count table from all the rows, one INSERT ... SELECT ... GROUP BY each: they are
        functions of the rows alone (decision 103), and a key has a row while a pass counts in
        it, as the recounts leave them."""
        await conn.execute(f"TRUNCATE {', '.join(a.table for a in AGGREGATES)}")
        for sql in COUNT_ALL:
            await conn.execute(sql)
        await conn.execute("DELETE FROM report_counts_pending")

    async def handle(self, conn: asyncpg.Connection, event: Any, notification_id: int) -> UUID | None:
        batch: Batch | None = None
        if isinstance(conn, Pipeline):
            batch = conn.deferred(Rebuilding if conn.totals_at_end else Batch)
        if isinstance(event, (School.Registered, School.Changed)):
            if batch is not None:
                batch.timezones[event.originator_id] = event.timezone
            await conn.execute(_school_barrier(event.originator_id, event.timezone))
            return None
        pass_id = event.originator_id
        row: Row | None = None
        recounted: tuple[Aggregate, ...]
        if isinstance(event, Pass.Creation):
            row, recounted = _created(event), AGGREGATES
        elif (change := CHANGES.get(type(event))) is not None:
            changes, recounted = change(event), RECOUNTED.get(type(event), ())
        else:
            return None
        if batch is not None:  # the batch's rows and counts are written around its statements
            if not batch.counted_at_end:
                batch.recount.note(pass_id, recounted, created=row is not None)
            if row is not None:
                row["timezone"] = batch.timezones.get(event.school_id)
                batch.rows[pass_id] = row
            elif pass_id in batch.rows:
                apply(batch.rows[pass_id], changes)
            else:
                await conn.execute(*_update(pass_id, changes))
            return None
        recount = Recount()
        recount.note(pass_id, recounted, created=row is not None)
        await recount.before(conn)
        if row is not None:
            await insert_rows(conn, [row])
        else:
            await conn.execute(*_update(pass_id, changes))
        await recount.after(conn)
        return None


def _update(pass_id: UUID, changes: Row) -> tuple[Any, ...]:
    """The statement and arguments that make `changes` to a written row."""
    due = next((c for c, v in changes.items() if isinstance(v, Due)), None)
    values = [v.at if isinstance(v, Due) else v for v in changes.values()]
    return (update_sql(tuple(changes), due), pass_id, *values)


class Batch:
    """What a batch sent through a `Pipeline` does to the pass rows around its statements: the
    passes that begin in it are rows in Python until `before` writes them all in one statement,
    with every change the batch makes to them applied (queued statements change only rows
    written earlier); and the counts are recounted (`Recount`). A pass takes its school's time
    zone from a school event earlier in the batch, or else from `report_schools` as it was
    before the batch, which is the time zone its school had when it began either way."""

    counted_at_end = False

    def __init__(self) -> None:
        self.rows: dict[UUID, Row] = {}
        self.timezones: dict[UUID, str] = {}
        self.recount = Recount()

    async def before(self, conn: DbConnection) -> None:
        await self.recount.before(conn)
        if self.rows:
            await insert_rows(conn, list(self.rows.values()))

    async def after(self, conn: DbConnection) -> None:
        await self.recount.after(conn)


class Rebuilding(Batch):
    """A rebuild's batch (decision 118): its new rows written by COPY, and no recount: the count
    tables are counted once from all the rows when the batches are done (`count_totals`)."""

    counted_at_end = True

    async def before(self, conn: DbConnection) -> None:
        if len(self.rows) >= FEWEST_COPIED:  # fewer go in the one statement of `insert_rows`
            await copy_rows(conn, list(self.rows.values()))
        elif self.rows:
            await insert_rows(conn, list(self.rows.values()))

    async def after(self, conn: DbConnection) -> None:
        return None


def _created(event: Pass.Creation) -> Row:
    """A new row: what each way a pass comes to be says of it."""
    requested_at = started_at = due_at = None
    if isinstance(event, Pass.Started):
        source, outcome, anchor_at = event.source, "started", event.timestamp
        started_at, due_at = event.timestamp, event.timestamp + timedelta(minutes=event.allotted_minutes)
    elif isinstance(event, Pass.Scheduled):
        source, outcome, anchor_at = Source.STAFF.value, "scheduled", event.start_at
    elif isinstance(event, Pass.Requested):
        source, outcome, anchor_at = Source.PORTAL.value, "requested", event.timestamp
        requested_at = event.timestamp
    else:
        raise TypeError(f"no row for {type(event).__name__}")
    return {
        "pass_id": event.originator_id,
        "school_id": event.school_id,
        "student_id": event.student_id,
        "origin_id": event.origin_id,
        "destination_id": event.destination_id,
        "source": source,
        "creator_kind": event.actor_kind,
        "creator_id": event.actor_id,
        "teacher_id": _staff(event),
        "outcome": outcome,
        "allotted_minutes": event.allotted_minutes,
        "requested_at": requested_at,
        "anchor_at": anchor_at,
        "started_at": started_at,
        "due_at": due_at,
        "overdue": False,
    }
