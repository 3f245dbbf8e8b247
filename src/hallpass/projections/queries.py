"""Queries over the read models, always scoped to one school."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg

from hallpass.bounds import hall_pass_id
from hallpass.eventstore.store import begun
from hallpass.projections.base import View
from hallpass.projections.directory import fold
from hallpass.text import is_number, like_escaped

PASS_COLUMNS = """
    p.pass_id, p.school_id, p.status, p.source, p.created_at, p.start_at, p.due_at,
    p.allotted_minutes, p.returned_at, p.ended_at, p.end_reason, p.end_note, p.note, p.version,
    p.created_by_kind, p.created_by_id, p.ended_by_kind, p.ended_by_id,
    p.override_rules, p.override_reason, p.overridden_by_id,
    p.student_id, s.first_name || ' ' || s.last_name AS student_name, s.grade,
    s.hall_pass_id, p.origin_id, o.name AS origin_name, p.destination_id,
    d.name AS destination_name, COALESCE(c.name, k.name) AS creator_name, e.name AS ended_by_name,
    h.name AS homeroom_name
"""
PASS_JOINS = """
    JOIN dir_students s ON s.student_id = p.student_id
    JOIN dir_locations o ON o.location_id = p.origin_id
    JOIN dir_locations d ON d.location_id = p.destination_id
    LEFT JOIN dir_staff c ON c.staff_id = p.created_by_id
    LEFT JOIN kiosks k ON p.created_by_kind = 'kiosk' AND k.kiosk_id = p.created_by_id
    LEFT JOIN dir_staff e ON e.staff_id = p.ended_by_id
    LEFT JOIN dir_locations h ON h.location_id = s.homeroom_id
"""
PASS_FROM = f"FROM pass_list p {PASS_JOINS}"


@dataclass(frozen=True)
class PassShape:
    """What a page of the pass list reads for each pass: its columns and the joins they need."""

    columns: str
    joins: str


FULL = PassShape(PASS_COLUMNS, PASS_JOINS)
"""Every column (`pass_json` and the API)."""
DASHBOARD = PassShape(
    """
    p.pass_id, p.status, p.source, p.start_at, p.due_at, p.returned_at, p.end_reason,
    p.created_by_kind, s.first_name || ' ' || s.last_name AS student_name, s.grade,
    o.name AS origin_name, d.name AS destination_name, COALESCE(c.name, k.name) AS creator_name,
    sp.schedule_id
    """,
    """
    JOIN dir_students s ON s.student_id = p.student_id
    JOIN dir_locations o ON o.location_id = p.origin_id
    JOIN dir_locations d ON d.location_id = p.destination_id
    LEFT JOIN dir_staff c ON c.staff_id = p.created_by_id
    LEFT JOIN kiosks k ON p.created_by_kind = 'kiosk' AND k.kiosk_id = p.created_by_id
    LEFT JOIN schedule_passes sp ON p.status = 'scheduled' AND sp.pass_id = p.pass_id
    """,
)
"""Only what a row of the Hall Pass dashboard shows (decision 114): no ender, homeroom, note or
override, so neither their joins nor their decoding; and the repeating series a scheduled pass
belongs to (`schedule_id`, decision 127)."""


OPEN = "(p.status IN ('active', 'expired') AND p.returned_at IS NULL)"
"""A pass whose student is still out. Open passes lead the list; the partial index
pass_list_open holds exactly these rows, so the clause must keep this text to match it."""
ALERT_COLUMNS = (
    "p.pass_id, p.start_at, p.due_at, s.first_name || ' ' || s.last_name AS student_name,"
    " o.name AS origin_name, d.name AS destination_name"
)
ALERT_JOINS = """
    JOIN dir_students s ON s.student_id = p.student_id
    JOIN dir_locations o ON o.location_id = p.origin_id
    JOIN dir_locations d ON d.location_id = p.destination_id
"""
"""What the dashboard's overdue alerts show of a pass (decision 119)."""
OVERDUE_FOR = (
    f"SELECT {ALERT_COLUMNS} FROM (SELECT * FROM pass_list p WHERE p.school_id = $1"
    f" AND {OPEN} OFFSET 0) p {ALERT_JOINS}"
    " WHERE p.status = 'expired'"
    " AND (p.created_by_id = $2 OR p.origin_id = (SELECT room_id FROM dir_staff WHERE staff_id = $2))"
)
"""The overdue passes of school $1 that staff member $2 hears of (`PassListView.overdue_for`)."""
COUNT_CAP = 500
"""The list counts matching passes up to this many and then says "500+"."""


@dataclass(frozen=True)
class Cursor:
    """Where a page ends: keyset paging over (open first, start_at DESC, pass_id DESC)."""

    open: bool
    start_at: datetime
    pass_id: UUID

    def encode(self) -> str:
        micros = (self.start_at - EPOCH) // timedelta(microseconds=1)
        return f"{'o' if self.open else 'c'}{micros}.{self.pass_id.hex}"

    @staticmethod
    def decode(text: str) -> Cursor | None:
        """The cursor `encode` made, or None for anything else."""
        section, rest = text[:1], text[1:]
        micros, dot, hexid = rest.partition(".")
        if section not in ("o", "c") or not dot or not micros.lstrip("-").isdigit() or len(micros) > 20:
            return None
        try:
            at = EPOCH + timedelta(microseconds=int(micros))
            return Cursor(section == "o", at, UUID(hex=hexid))
        except (ValueError, OverflowError):
            return None


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class PassFilters:
    statuses: tuple[str, ...] = ()
    student_id: UUID | None = None
    student: str = ""
    origin_id: UUID | None = None
    destination_id: UUID | None = None
    creator_id: UUID | None = None
    sources: tuple[str, ...] = ()
    since: datetime | None = None
    until: datetime | None = None
    open_too: bool = False
    """Open passes are listed whatever `since` and `until` say (the dashboard's default view:
    today, plus every pass still open)."""
    overdue_only: bool = False
    limit: int = 100
    offset: int = 0
    after: Cursor | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PassPage:
    rows: list[dict[str, Any]]
    total: int
    """Passes matching the filters, counted up to COUNT_CAP + 1."""
    next: Cursor | None
    """Where the next page starts, or None on the last page."""

    @property
    def total_exact(self) -> bool:
        return self.total <= COUNT_CAP

    @property
    def total_label(self) -> str:
        return f"{self.total:,}" if self.total_exact else f"{COUNT_CAP:,}+"


def _eq(column: str, values: tuple[str, ...]) -> tuple[str, Any]:
    """One value as `=` so an index on (school, column, start_at) also serves the order."""
    if len(values) == 1:
        return f"{column} = ?", values[0]
    return f"{column} = ANY(?::text[])", list(values)


LATERAL_STUDENTS = 50
"""A name that matches up to this many students reads each one's newest passes through
pass_list_by_student and merges them; a name matching more filters the school's newest."""


class _Where:
    """The parts of a pass list query: filters every section shares, the date window, and
    the open / not-open sections, each with `?` placeholders numbered as they are added.
    `named` are the students whose name matches `f.student` (PassListView.page looks them up)."""

    def __init__(self, school_id: UUID, f: PassFilters, named: list[UUID] | None) -> None:
        self.args: list[Any] = [school_id]
        self.common = ["p.school_id = $1"]
        self.named: str | None = None
        self.by_name = named is not None  # the students a name matched, whether or not laterally
        if f.statuses:
            self.add(self.common, *_eq("p.status", f.statuses))
        if f.student_id is not None:
            self.add(self.common, "p.student_id = ?", f.student_id)
        if named is not None:
            self.add(self.common, "p.student_id = ANY(?::uuid[])", named)
            self.named = f"${len(self.args)}" if len(named) <= LATERAL_STUDENTS else None
        if f.origin_id is not None:
            self.add(self.common, "p.origin_id = ?", f.origin_id)
        if f.destination_id is not None:
            self.add(self.common, "p.destination_id = ?", f.destination_id)
        if f.creator_id is not None:
            self.add(self.common, "p.created_by_id = ?", f.creator_id)
        if f.sources:
            self.add(self.common, *_eq("p.source", f.sources))
        if f.overdue_only:
            self.common.append("p.status = 'expired' AND p.returned_at IS NULL")
        self.window: list[str] = []
        if f.since is not None:
            self.add(self.window, "p.start_at >= ?", f.since)
        if f.until is not None:
            self.add(self.window, "p.start_at < ?", f.until)

    def add(self, clauses: list[str], sql: str, value: Any) -> None:
        self.args.append(value)
        clauses.append(sql.replace("?", f"${len(self.args)}"))

    def section(self, open_: bool, f: PassFilters, limit: int, *, ordered: bool = True) -> str | None:
        """A SELECT of the open or the not-open section's passes (pass_list rows), at most
        `limit` of them and newest first if `ordered`, or None if the page skips the section.

        The open passes of a school are few (at most one per student) and pass_list_open holds
        just them, so that section reads them all through it and filters what it reads: the
        OFFSET 0 keeps the planner from combining the filters' indexes, which would read every
        pass of a place or a student to find the few open ones. The other section is a range
        scan of the index of its most selective filter, (column, start_at DESC, pass_id DESC),
        that stops after `limit` rows; for a few named students, one such scan per student.
        """
        if open_ and f.after is not None and not f.after.open:
            return None
        order = f" {ORDER}" if ordered else ""
        if open_:
            table = f"(SELECT * FROM pass_list p WHERE p.school_id = $1 AND {OPEN} OFFSET 0) p"
            clauses = list(self.common)
        else:
            table = "pass_list p"
            clauses = [*self.common, f"NOT {OPEN}"]
        if not (open_ and f.open_too):
            clauses += self.window
        if f.after is not None and f.after.open == open_:
            n = len(self.args)
            self.args += [f.after.start_at, f.after.pass_id]
            clauses.append(f"(p.start_at, p.pass_id) < (${n + 1}, ${n + 2})")
        where = " AND ".join(clauses)
        if self.named is not None and not open_:
            return (
                f"SELECT p.* FROM unnest({self.named}::uuid[]) AS named(student_id) CROSS JOIN LATERAL"
                f" (SELECT * FROM pass_list p WHERE p.student_id = named.student_id AND {where}"
                f"{order} LIMIT {limit}) p{order} LIMIT {limit}"
            )
        return f"SELECT p.* FROM {table} WHERE {where}{order} LIMIT {limit}"


ORDER = "ORDER BY p.start_at DESC, p.pass_id DESC"


def _named_sql(school_id: UUID, text: str) -> list[Any]:
    """The students a dashboard's Student filter names: a hall pass ID, `#` and a school ID,
    or a part of a name, as everywhere a student is searched."""
    text = text.strip()
    if is_number(text):
        return [
            "SELECT student_id FROM dir_students WHERE school_id = $1 AND hall_pass_id = $2",
            school_id,
            hall_pass_id(text),
        ]
    if text.startswith("#"):
        return [
            "SELECT student_id FROM dir_students WHERE school_id = $1 AND external_id = $2",
            school_id,
            text[1:].strip(),
        ]
    return [
        "SELECT student_id FROM dir_students WHERE school_id = $1 AND search_name LIKE $2",
        school_id,
        f"%{like_escaped(fold(text))}%",
    ]


@contextlib.asynccontextmanager
async def _planned_each_run(conn: asyncpg.Connection) -> AsyncIterator[None]:
    """A read-only transaction on `conn` whose statements are planned for their values at each
    run, begun and set in one round trip (`begun`, decision 119).

    The best index for a page depends on the values (a day or a year, a place with a few passes
    or thousands). asyncpg prepares statements, and after five runs Postgres may keep one
    generic plan for all values: in bench/dashboard.py that plan read a day's 4,000 passes for
    "Going To" (500 ms instead of 6 ms). So each run is planned (decision 054).

    The joins are made in the order the statement writes them (`join_collapse_limit`): the
    page's few passes first, then each one's student, places and creator by their keys. Left to
    search every order of the seven tables, planning took 1.5 ms of a page's 3 (decision 131)."""
    async with begun(
        conn,
        "BEGIN READ ONLY; SET LOCAL plan_cache_mode = force_custom_plan; SET LOCAL join_collapse_limit = 1",
    ):
        yield


def _without_total(row: asyncpg.Record) -> dict[str, Any]:
    """A row of `PassListView.page` as a dict, without the page's count it carried."""
    found = dict(row.items())  # from (key, value) pairs: dict(row) looks each key up again
    del found["total"]
    return found


class PassListView(View):
    async def page(self, school_id: UUID, filters: PassFilters, shape: PassShape = FULL) -> PassPage:
        """One page of passes: open ones first, then the rest, each newest first; each row with
        the columns of `shape`.

        Each section reads at most the page's rows through an index (see `_Where.section`) and
        only those rows are joined to the directory; the count stops at COUNT_CAP + 1. So a
        page costs about the same with a thousand passes or a million (decision 054).

        The rows and the count are one statement (decision 127): the count is a column of each
        row, worked out once. Only an empty page after a cursor (`after`) counts in a statement
        of its own, as it has no row to carry the count; an empty page at an `offset` counts at
        least the passes it skipped, and an empty first page none.
        """
        async with self.pool.acquire() as conn, _planned_each_run(conn):
            named: list[UUID] | None = None
            if filters.student.strip():
                named = [r["student_id"] for r in await conn.fetch(*_named_sql(school_id, filters.student))]
            where = _Where(school_id, filters, named)
            rows = await conn.fetch(*self._rows_sql(where, filters, shape, self._count_sql(where, filters)))
            if rows:
                total: int = rows[0]["total"]
            elif filters.after is not None:
                counted = _Where(school_id, filters, named)
                total = await conn.fetchval(f"SELECT {self._count_sql(counted, filters)}", *counted.args)
            else:
                total = 0
        more = len(rows) > filters.limit
        rows = rows[: filters.limit]
        last = rows[-1] if rows else None
        cursor = Cursor(last["open_first"], last["start_at"], last["pass_id"]) if more and last else None
        skipped = filters.offset if filters.after is None else 0
        return PassPage([_without_total(r) for r in rows], max(total, skipped + len(rows)), cursor)

    @staticmethod
    def _rows_sql(where: _Where, f: PassFilters, shape: PassShape, count: str) -> list[Any]:
        wanted = f.limit + 1 + f.offset
        parts = []
        for open_ in (True, False):
            section = where.section(open_, f, wanted)
            if section is not None:
                parts.append(f"(SELECT p.*, {open_} AS open_first FROM ({section}) p)")
        sql = (
            f"SELECT {shape.columns}, p.open_first, {count} AS total"
            f" FROM ({' UNION ALL '.join(parts)}) p {shape.joins}"
            f" ORDER BY p.open_first DESC, {ORDER.removeprefix('ORDER BY ')}"
            f" LIMIT {f.limit + 1} OFFSET {f.offset}"
        )
        return [sql, *where.args]

    @staticmethod
    def _count_sql(where: _Where, f: PassFilters) -> str:
        """The passes matching `f` whatever page it asks for, up to COUNT_CAP + 1: an expression
        over `where`'s arguments as they stand before the page's cursor adds its own."""
        f = replace(f, after=None)
        # Newest first, as the page's rows are read: the planner then counts along the index the
        # rows come through (a place's or a creator's, by start_at) and stops at the cap. Left
        # unordered it guessed the matches were spread evenly through the table and scanned it
        # until it had found enough, 15,000 rows for a classroom's year (decision 131). The
        # students a name matched are counted unordered: ordered, each one's passes would be
        # read and sorted together before the cap.
        parts = [
            f"(SELECT count(*) FROM ({where.section(open_, f, COUNT_CAP + 1, ordered=not where.by_name)}) c)"
            for open_ in (True, False)
        ]
        return f"least({' + '.join(parts)}, {COUNT_CAP + 1})"

    async def overdue_for(self, school_id: UUID, staff_id: UUID | None) -> list[dict[str, Any]]:
        """Overdue passes a member of staff should hear about: ones they created or from their
        room, oldest due first, with the columns the dashboard's alerts show (`ALERT_COLUMNS`).

        One statement (decision 119): the staff member's room is looked up inside it, and the
        passes come from the open passes (`pass_list_open`, a few per school) behind an `OFFSET
        0` fence, as the dashboard's open section reads them (decision 054): without it the
        planner ANDed the open index with the creator's and the room's indexes and read every
        pass they ever made (42,000 index entries for a teacher in a year of passes)."""
        return await self.rows(f"{OVERDUE_FOR} ORDER BY p.due_at", school_id, staff_id)

    async def open_pass_ids(self, school_id: UUID) -> list[UUID]:
        """Passes whose student is not back yet: Requested, Active, or Expired not returned."""
        rows = await self.pool.fetch(
            "SELECT pass_id FROM pass_list WHERE school_id = $1"
            " AND (status IN ('active', 'requested') OR (status = 'expired' AND returned_at IS NULL))",
            school_id,
        )
        return [row["pass_id"] for row in rows]

    async def get(self, school_id: UUID, pass_id: UUID) -> dict[str, Any] | None:
        return await self.row(
            f"SELECT {PASS_COLUMNS} {PASS_FROM} WHERE p.school_id = $1 AND p.pass_id = $2",
            school_id,
            pass_id,
        )


class DirectoryView(View):
    async def school(self, school_id: UUID) -> dict[str, Any] | None:
        return await self.row("SELECT * FROM dir_schools WHERE school_id = $1", school_id)

    async def district_of(self, school_id: UUID) -> UUID | None:
        value: UUID | None = await self.pool.fetchval(
            "SELECT district_id FROM dir_schools WHERE school_id = $1", school_id
        )
        return value

    async def schools_seen_from(self, school_id: UUID, *, district: bool) -> list[dict[str, Any]]:
        """The school itself, or with `district` every school of its district, by name; each with
        its district's name."""
        seen = (
            "JOIN dir_schools home ON home.district_id = s.district_id WHERE home.school_id = $1"
            if district
            else "WHERE s.school_id = $1"
        )
        return await self.rows(
            "SELECT s.*, d.name AS district_name FROM dir_schools s"
            " LEFT JOIN dir_districts d ON d.district_id = s.district_id"
            f" {seen} ORDER BY s.name, s.school_id",
            school_id,
        )

    async def location(self, location_id: UUID) -> dict[str, Any] | None:
        return await self.row("SELECT * FROM dir_locations WHERE location_id = $1", location_id)

    async def locations(self, school_id: UUID) -> list[dict[str, Any]]:
        return await self.rows(
            "SELECT l.*, t.name AS teacher_name FROM dir_locations l"
            " LEFT JOIN LATERAL (SELECT name FROM dir_staff WHERE room_id = l.location_id"
            "   AND 'teacher' = ANY(roles) AND active ORDER BY name LIMIT 1) t ON true"
            " WHERE l.school_id = $1 AND l.active ORDER BY l.kind <> 'classroom', l.name",
            school_id,
        )

    async def staff(self, school_id: UUID) -> list[dict[str, Any]]:
        return await self.rows(
            "SELECT staff_id, name, email, role, roles, room_id FROM dir_staff"
            " WHERE school_id = $1 AND active ORDER BY name",
            school_id,
        )

    async def staff_member(self, staff_id: UUID) -> dict[str, Any] | None:
        return await self.row("SELECT * FROM dir_staff WHERE staff_id = $1", staff_id)

    async def students(
        self,
        school_id: UUID,
        *,
        name: str = "",
        grade: int | None = None,
        homeroom_id: UUID | None = None,
        class_id: UUID | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> list[dict[str, Any]]:
        """Active students by name or ID, grade, homeroom, and class (its roster, decision 076),
        by name (then ID, so that pages of `limit` from `offset` neither repeat nor skip one)."""
        clauses = ["s.school_id = $1 AND s.active"]
        args: list[Any] = [school_id]
        text = name.strip()
        if text:
            if is_number(text):
                number = hall_pass_id(text)
                if number is None:
                    return []
                args.append(number)
                clauses.append(f"s.hall_pass_id = ${len(args)}")
            elif text.startswith("#"):
                args.append(text[1:].strip())
                clauses.append(f"s.external_id = ${len(args)}")
            else:
                args.append(f"%{like_escaped(fold(text))}%")
                clauses.append(f"s.search_name LIKE ${len(args)}")
        if grade is not None:
            args.append(grade)
            clauses.append(f"s.grade = ${len(args)}")
        if homeroom_id is not None:
            args.append(homeroom_id)
            clauses.append(f"s.homeroom_id = ${len(args)}")
        if class_id is not None:
            args.append(class_id)
            clauses.append(
                "EXISTS (SELECT 1 FROM roster_enrolments e WHERE e.person_id = s.student_id"
                f" AND e.class_id = ${len(args)} AND e.member = 'student' AND e.active)"
            )
        args += [limit, offset]
        return await self.rows(
            "SELECT s.student_id, s.first_name, s.last_name, s.grade, s.hall_pass_id,"
            " s.external_id, s.homeroom_id, h.name AS homeroom_name, s.open_pass_id"
            " FROM dir_students s LEFT JOIN dir_locations h ON h.location_id = s.homeroom_id"
            f" WHERE {' AND '.join(clauses)} ORDER BY s.last_name, s.first_name, s.student_id"
            f" LIMIT ${len(args) - 1} OFFSET ${len(args)}",
            *args,
        )

    async def students_by_ids(self, school_id: UUID, ids: list[UUID]) -> list[dict[str, Any]]:
        return await self.rows(
            "SELECT s.student_id, s.first_name, s.last_name, s.grade, s.hall_pass_id,"
            " s.external_id, s.homeroom_id, h.name AS homeroom_name, s.open_pass_id"
            " FROM dir_students s LEFT JOIN dir_locations h ON h.location_id = s.homeroom_id"
            " WHERE s.school_id = $1 AND s.student_id = ANY($2::uuid[])"
            " ORDER BY s.last_name, s.first_name",
            school_id,
            ids,
        )

    async def names(
        self, school_id: UUID, student_ids: list[UUID], location_ids: list[UUID]
    ) -> dict[UUID, str]:
        """The school's students' full names and its places' names, by id, in one read."""
        rows = await self.pool.fetch(
            "SELECT student_id AS id, first_name || ' ' || last_name AS name FROM dir_students"
            " WHERE school_id = $1 AND student_id = ANY($2::uuid[])"
            " UNION ALL SELECT location_id, name FROM dir_locations"
            " WHERE school_id = $1 AND location_id = ANY($3::uuid[])",
            school_id,
            student_ids,
            location_ids,
        )
        return {r["id"]: r["name"] for r in rows}

    async def grades(self, school_id: UUID) -> list[int]:
        rows = await self.pool.fetch(
            "SELECT DISTINCT grade FROM dir_students WHERE school_id = $1 ORDER BY grade", school_id
        )
        return [r["grade"] for r in rows]


@dataclass(frozen=True)
class DashboardFrame:
    """What the Hall Pass dashboard shows around its list of passes (`DashboardView.frame`)."""

    alerts: list[dict[str, Any]]
    """The reader's overdue passes, oldest due first, with `ALERT_COLUMNS`."""
    places: tuple[tuple[str, str], ...]
    """The school's active places (id, name): classrooms first, then by name."""
    staff: tuple[tuple[str, str], ...]
    """The school's active staff (id, name), by name."""
    emergency: bool
    line_ids: list[UUID]
    """The school's wait lines, by place."""


ALERT_NAMES = tuple(c.rsplit(" ", 1)[-1].rsplit(".", 1)[-1] for c in ALERT_COLUMNS.split(", "))
"""The names of `ALERT_COLUMNS`, in order."""


class DashboardView(View):
    async def frame(self, school_id: UUID, staff_id: UUID | None) -> DashboardFrame:
        """Everything the dashboard shows but its passes, in one statement (decision 127): the
        reader's alerts (as `PassListView.overdue_for`), the filters' places and staff (only
        their ids and names), whether an emergency is on, and the school's wait lines."""
        row = await self.pool.fetchrow(
            f"SELECT ARRAY(SELECT a FROM ({OVERDUE_FOR}) a ORDER BY a.due_at) AS alerts,"
            " ARRAY(SELECT (l.location_id::text, l.name) FROM dir_locations l"
            "   WHERE l.school_id = $1 AND l.active ORDER BY l.kind <> 'classroom', l.name) AS places,"
            " ARRAY(SELECT (staff_id::text, name) FROM dir_staff"
            "   WHERE school_id = $1 AND active ORDER BY name) AS staff,"
            " coalesce((SELECT is_on FROM school_emergency WHERE school_id = $1), false) AS emergency,"
            " ARRAY(SELECT line_id FROM wait_lines WHERE school_id = $1 ORDER BY location_id) AS line_ids",
            school_id,
            staff_id,
        )
        return DashboardFrame(
            alerts=[dict(zip(ALERT_NAMES, a, strict=True)) for a in row["alerts"]],
            places=tuple(row["places"]),
            staff=tuple(row["staff"]),
            emergency=row["emergency"],
            line_ids=row["line_ids"],
        )
