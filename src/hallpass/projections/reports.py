"""ReportsView: the analytics reports, read from the pass facts (`pass_facts`) of some schools
over a range of local days (docs/decisions/085).

Each report is a table, columns and rows, that the page shows, the CSV writes and the JSON
answers, and the figures its chart draws. Times out are in minutes (one decimal) from whole
seconds; a pass's day, hour and weekday are those of its school's time zone.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import asyncpg

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
LATENESS = ((0, 5), (5, 10), (10, 15), (15, 30), (30, 60), (60, None))
OVERDUE_ROWS = 500  # the most late; the caption says how many there were in all
TOP_STUDENTS = 10
WORK_MEM = "48MB"
REPORTS = {
    "hours": "Passes by hour of the day and day of the week",
    "students": "Time out of class per student",
    "destinations": "By destination",
    "teachers": "By teacher",
    "sources": "By source",
    "overdue": "Overdue passes and how late",
}


@dataclass(frozen=True)
class Scope:
    """Which schools, and which local days (both ends included)."""

    school_ids: tuple[UUID, ...]
    start: date
    end: date

    @property
    def args(self) -> tuple[list[UUID], date, date]:
        return list(self.school_ids), self.start, self.end


@dataclass
class Report:
    name: str
    title: str
    columns: list[tuple[str, str]]  # (key, heading)
    rows: list[dict[str, Any]]
    chart: dict[str, Any]
    caption: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def cells(self) -> list[list[str]]:
        """The table's cells as text, row by row: what the page shows and the CSV writes."""
        keys = [key for key, _ in self.columns]
        return [["" if row.get(k) is None else str(row.get(k)) for k in keys] for row in self.rows]

    def as_json(self) -> dict[str, Any]:
        return {
            "report": self.name,
            "title": self.title,
            "columns": [{"key": k, "heading": h} for k, h in self.columns],
            "rows": self.rows,
            "chart": self.chart,
            "caption": self.caption,
        }


def minutes(seconds: float | int | None) -> float | None:
    return None if seconds is None else round(seconds / 60, 1)


def share(part: int, whole: int) -> float | None:
    """A percentage with one decimal; None when there is nothing to divide by."""
    return None if whole == 0 else round(100 * part / whole, 1)


def bars(
    rows: list[dict[str, Any]], columns: list[tuple[str, str]], label: str, *keys: str, **options: Any
) -> dict[str, Any]:
    """A bar chart of table rows: a bar (or group) per row, named by its `label` column, and a
    series per column of `keys`, named by the column's heading. `options`: "horizontal", "stacked"."""
    headings = dict(columns)
    return {
        "kind": "bar",
        **options,
        "labels": [r[label] for r in rows],
        "series": [{"label": headings[k], "data": [r[k] for r in rows]} for k in keys],
    }


RANGE = "f.school_id = ANY($1::uuid[]) AND f.day BETWEEN $2 AND $3"

# Counted per school, day, hour and source as passes come and change (`pass_facts.HOUR_COUNTS`).
HOURS_SQL = f"""
SELECT f.dow, f.hour, sum(f.started) AS passes FROM report_hour_counts f
WHERE {RANGE} GROUP BY f.dow, f.hour HAVING sum(f.started) > 0
"""

# Counted per school, day and student as passes come, end and change
# (`pass_facts.STUDENT_DAYS`), then per student; time out is none while no pass has ended.
STUDENTS_SQL = f"""
WITH sd AS (
    SELECT f.school_id, f.student_id, f.day, f.started AS passes,
        CASE WHEN f.timed > 0 THEN f.seconds_out END AS seconds_out, f.overdue
    FROM report_student_days f WHERE {RANGE} AND f.started > 0
), days AS (
    SELECT school_id, count(*) AS school_days FROM (SELECT DISTINCT school_id, day FROM sd) d
    GROUP BY school_id
), per AS (
    SELECT school_id, student_id, sum(passes)::bigint AS passes, count(*) AS days_out,
        sum(seconds_out)::bigint AS seconds_out, sum(overdue)::bigint AS overdue
    FROM sd GROUP BY school_id, student_id
)
SELECT per.*, days.school_days, s.first_name, s.last_name, s.grade
FROM per JOIN days USING (school_id) LEFT JOIN dir_students s USING (student_id)
ORDER BY per.passes DESC, per.seconds_out DESC NULLS LAST, s.last_name, s.first_name, per.student_id
"""

# Per destination from the histogram of times out by the minute (`pass_facts.DESTINATION_MINUTES`):
# the passes started, the overdue, and how many times out fall in each minute.
DESTINATIONS_SQL = f"""
WITH m AS (
    SELECT f.destination_id, f.minute, sum(f.started) AS started, sum(f.timed) AS timed,
        sum(f.overdue) AS overdue
    FROM report_destination_minutes f WHERE {RANGE} GROUP BY f.destination_id, f.minute
)
SELECT m.destination_id, l.name, sum(m.started)::bigint AS passes, sum(m.overdue)::bigint AS overdue,
    array_agg(m.minute ORDER BY m.minute) FILTER (WHERE m.timed > 0) AS minutes,
    array_agg(m.timed::bigint ORDER BY m.minute) FILTER (WHERE m.timed > 0) AS timed
FROM m LEFT JOIN dir_locations l ON l.location_id = m.destination_id
GROUP BY m.destination_id, l.name HAVING sum(m.started) > 0
ORDER BY passes DESC, l.name, m.destination_id
"""

# The k-th shortest time out (from 0) within one minute of one destination, for each asked:
# an index range scan of that minute's times, which a histogram's minute holds a few of.
TIMES_SQL = f"""
SELECT q.i, v.seconds_out
FROM unnest($4::uuid[], $5::int[], $6::int[]) WITH ORDINALITY AS q(destination_id, minute, k, i)
CROSS JOIN LATERAL (
    SELECT f.seconds_out FROM report_passes f
    WHERE f.destination_id = q.destination_id AND f.seconds_out >= q.minute * 60
        AND f.seconds_out < q.minute * 60 + 60 AND {RANGE}
    ORDER BY f.seconds_out OFFSET q.k LIMIT 1
) v
"""

PERCENTILES = (0.5, 0.9)
# Below this many times out in the range, the percentiles are read from the rows themselves (a
# range of the day index): the minute lookups read a minute's times over all days, which for a
# short range in a school of many years is more than the range's own rows. Both are exact.
DIRECT_BELOW = 20_000
PERCENTILES_SQL = f"""
SELECT f.destination_id, percentile_cont(0.5) WITHIN GROUP (ORDER BY f.seconds_out) AS median,
    percentile_cont(0.9) WITHIN GROUP (ORDER BY f.seconds_out) AS p90
FROM report_passes f WHERE {RANGE} AND f.seconds_out IS NOT NULL GROUP BY f.destination_id
"""


def _ranks(n: int) -> list[int]:
    """The ranks (from 0, in order of time out) that `percentile_cont` reads for each percentile."""
    return sorted({r for p in PERCENTILES for r in (math.floor(p * (n - 1)), math.ceil(p * (n - 1)))})


def _find(minutes: list[int], counts: list[int], rank: int) -> tuple[int, int]:
    """The minute that holds the time out of this rank, and its rank within that minute."""
    for minute, count in zip(minutes, counts, strict=True):
        if rank < count:
            return minute, rank
        rank -= count
    raise ValueError("rank beyond the histogram")


def percentile_cont(p: float, n: int, value: Callable[[int], int]) -> float:
    """PostgreSQL's `percentile_cont(p)` over n sorted values, read by rank: the same floating
    point steps (float8 interpolation), so the same figure."""
    first, second = math.floor(p * (n - 1)), math.ceil(p * (n - 1))
    low = float(value(first))
    if first == second:
        return low
    return low + ((p * (n - 1)) - first) * (float(value(second)) - low)


# Counted per school, day and who answers for the pass (`pass_facts.TEACHER_COUNTS`): the member
# of staff who created it or decided its request, or the member of staff who set up its kiosk.
TEACHERS_SQL = f"""
SELECT t.teacher_id, st.name, sum(f.started) AS started, sum(f.staff) AS staff, sum(f.kiosk) AS kiosk,
    sum(f.approved) AS approved, sum(f.denied) AS denied
FROM report_teacher_counts f
LEFT JOIN kiosks k ON f.who_kind = 'kiosk' AND k.kiosk_id = f.who
CROSS JOIN LATERAL (
    SELECT CASE f.who_kind WHEN 'staff' THEN f.who WHEN 'kiosk' THEN k.created_by END AS teacher_id
) t
LEFT JOIN dir_staff st ON st.staff_id = t.teacher_id
WHERE {RANGE}
GROUP BY t.teacher_id, st.name HAVING sum(f.passes) > 0
ORDER BY started DESC, st.name NULLS LAST, t.teacher_id
"""

SOURCES_SQL = f"""
SELECT f.source, sum(f.passes) AS passes, sum(f.started) AS started, sum(f.requested) AS requested,
    sum(f.approved) AS approved, sum(f.denied) AS denied, sum(f.overdue) AS overdue
FROM report_hour_counts f WHERE {RANGE} GROUP BY f.source
"""

# The most late of each school straight from the partial index on lateness (in its order, so a
# school year reads about 500 entries), then only their rows.
OVERDUE_SQL = f"""
WITH top AS (
    SELECT t.pass_id, t.late_seconds FROM unnest($1::uuid[]) AS s(school_id)
    CROSS JOIN LATERAL (
        SELECT f.pass_id, f.late_seconds FROM report_passes f
        WHERE f.school_id = s.school_id AND f.overdue AND f.day BETWEEN $2 AND $3
        ORDER BY f.late_seconds DESC NULLS FIRST, f.pass_id LIMIT {OVERDUE_ROWS}
    ) t
    ORDER BY t.late_seconds DESC NULLS FIRST, t.pass_id LIMIT {OVERDUE_ROWS}
)
SELECT f.pass_id, f.day, f.started_at, f.due_at, f.ended_at, f.end_reason, f.late_seconds, f.timezone,
    s.first_name, s.last_name, l.name AS destination, o.name AS origin
FROM top JOIN report_passes f USING (pass_id)
LEFT JOIN dir_students s ON s.student_id = f.student_id
LEFT JOIN dir_locations l ON l.location_id = f.destination_id
LEFT JOIN dir_locations o ON o.location_id = f.origin_id
ORDER BY top.late_seconds DESC NULLS FIRST, f.pass_id
"""

# The overdue rows only (a partial index), and the passes started from the hour counts.
OVERDUE_TOTALS_SQL = f"""
SELECT (SELECT coalesce(sum(f.started), 0) FROM report_hour_counts f WHERE {RANGE}) AS started,
    count(*) AS overdue,
    count(*) FILTER (WHERE f.late_seconds IS NULL) AS not_back,
    {
    ", ".join(
        f"count(*) FILTER (WHERE f.late_seconds >= {low * 60}"
        + ("" if high is None else f" AND f.late_seconds < {high * 60}")
        + ")"
        for low, high in LATENESS
    )
}
FROM report_passes f WHERE {RANGE} AND f.overdue
"""


def lateness_label(low: int, high: int | None) -> str:
    return f"{low}+ min" if high is None else f"{low}-{high} min"


def student_name(row: asyncpg.Record) -> str:
    if row["first_name"] is None:
        return "(not in the directory)"
    return f"{row['first_name']} {row['last_name']}"


class ReportsView:
    """The reports of a scope, each one or two queries over `report_passes`, its count tables and
    its indexes."""

    def __init__(self, pool: asyncpg.Pool, direct_below: int = DIRECT_BELOW) -> None:
        self.pool = pool
        self.direct_below = direct_below

    @property
    def reports(self) -> dict[str, Callable[[Scope], Awaitable[Report]]]:
        return {
            "hours": self.hours,
            "students": self.students,
            "destinations": self.destinations,
            "teachers": self.teachers,
            "sources": self.sources,
            "overdue": self.overdue,
        }

    async def _per_pass(self, sql: str, scope: Scope) -> list[asyncpg.Record]:
        """A query over the pass rows of the scope, with room to group and sort a school year of
        them in memory (grouping per student and day, or sorting times out, outgrows
        PostgreSQL's default 4 MB long before a year of a large school)."""
        async with self.pool.acquire() as conn, conn.transaction(readonly=True):
            await conn.execute(f"SET LOCAL work_mem = '{WORK_MEM}'")
            return await conn.fetch(sql, *scope.args)  # type: ignore[no-any-return]

    async def all(self, scope: Scope) -> list[Report]:
        """Every report, their queries run together (each on a connection of its own)."""
        return list(await asyncio.gather(*(report(scope) for report in self.reports.values())))

    async def hours(self, scope: Scope) -> Report:
        rows = await self.pool.fetch(HOURS_SQL, *scope.args)
        counts = {(r["dow"], r["hour"]): r["passes"] for r in rows}
        hours = [h for _, h in counts] or [8, 15]
        shown = list(range(min(hours), max(hours) + 1))
        table = [
            {"weekday": name, **{f"h{h:02d}": counts.get((dow, h), 0) for h in shown}}
            for dow, name in enumerate(WEEKDAYS, start=1)
        ]
        return Report(
            "hours",
            REPORTS["hours"],
            [("weekday", "Day"), *((f"h{h:02d}", f"{h:02d}:00") for h in shown)],
            table,
            {
                "kind": "heatmap",
                "x": [f"{h:02d}:00" for h in shown],
                "y": list(WEEKDAYS),
                "cells": [[d - 1, shown.index(h), n] for (d, h), n in sorted(counts.items())],
            },
            f"{sum(counts.values())} passes started, by the hour they started (school time)",
        )

    async def students(self, scope: Scope) -> Report:
        rows = await self._per_pass(STUDENTS_SQL, scope)
        table = [
            {
                "student_id": str(r["student_id"]),
                "student": student_name(r),
                "grade": r["grade"],
                "passes": r["passes"],
                "days_out": r["days_out"],
                "minutes_out": minutes(r["seconds_out"] or 0),
                "minutes_per_school_day": minutes((r["seconds_out"] or 0) / r["school_days"]),
                "overdue": r["overdue"],
            }
            for r in rows
        ]
        columns = [
            ("student", "Student"),
            ("grade", "Grade"),
            ("passes", "Passes"),
            ("days_out", "Days out"),
            ("minutes_out", "Minutes out"),
            ("minutes_per_school_day", "Minutes per school day"),
            ("overdue", "Overdue"),
            ("student_id", "Student ID"),
        ]
        return Report(
            "students",
            REPORTS["students"],
            columns,
            table,
            bars(table[:TOP_STUDENTS], columns, "student", "passes", horizontal=True),
            f"{len(table)} students out at least once, most often out first; a school day is a day on"
            " which the school started a pass",
        )

    async def destinations(self, scope: Scope) -> Report:
        async with self.pool.acquire() as conn, conn.transaction(readonly=True, isolation="repeatable_read"):
            rows = await conn.fetch(DESTINATIONS_SQL, *scope.args)
            if sum(sum(r["timed"] or ()) for r in rows) < self.direct_below:
                await conn.execute(f"SET LOCAL work_mem = '{WORK_MEM}'")
                direct = {r["destination_id"]: r for r in await conn.fetch(PERCENTILES_SQL, *scope.args)}
                found = []
            else:
                asked = [
                    (r["destination_id"], *_find(r["minutes"], r["timed"], rank))
                    for r in rows
                    if r["minutes"]
                    for rank in _ranks(sum(r["timed"]))
                ]
                found = await conn.fetch(
                    TIMES_SQL,
                    *scope.args,
                    [a[0] for a in asked],
                    [a[1] for a in asked],
                    [a[2] for a in asked],
                )
                direct = None
        times = {} if direct is not None else {asked[r["i"] - 1]: r["seconds_out"] for r in found}

        def percentiles(r: asyncpg.Record) -> dict[str, float | None]:
            if not r["minutes"]:
                return {"median": None, "p90": None}
            if direct is not None:
                return {
                    "median": direct[r["destination_id"]]["median"],
                    "p90": direct[r["destination_id"]]["p90"],
                }
            n = sum(r["timed"])

            def value(rank: int) -> int:
                return times[(r["destination_id"], *_find(r["minutes"], r["timed"], rank))]  # type: ignore[no-any-return]

            return {
                name: percentile_cont(p, n, value)
                for name, p in zip(("median", "p90"), PERCENTILES, strict=True)
            }

        rows = [{**dict(r), **percentiles(r)} for r in rows]
        table = [
            {
                "destination_id": str(r["destination_id"]),
                "destination": r["name"] or "(unknown place)",
                "passes": r["passes"],
                "median_minutes": minutes(r["median"]),
                "p90_minutes": minutes(r["p90"]),
                "overdue": r["overdue"],
                "overdue_percent": share(r["overdue"], r["passes"]),
            }
            for r in rows
        ]
        columns = [
            ("destination", "Going To"),
            ("passes", "Passes"),
            ("median_minutes", "Median minutes out"),
            ("p90_minutes", "90th percentile minutes out"),
            ("overdue", "Overdue"),
            ("overdue_percent", "Overdue %"),
            ("destination_id", "Location ID"),
        ]
        return Report(
            "destinations",
            REPORTS["destinations"],
            columns,
            table,
            bars(table, columns, "destination", "median_minutes", "p90_minutes"),
            "Passes that started; minutes out of those that have ended",
        )

    async def teachers(self, scope: Scope) -> Report:
        rows = await self.pool.fetch(TEACHERS_SQL, *scope.args)
        table = []
        for r in rows:
            decided = r["approved"] + r["denied"]
            table.append(
                {
                    "staff_id": "" if r["teacher_id"] is None else str(r["teacher_id"]),
                    "teacher": r["name"] or ("(no teacher)" if r["teacher_id"] is None else "(unknown)"),
                    "passes": r["started"],
                    "staff_passes": r["staff"],
                    "kiosk_passes": r["kiosk"],
                    "approved": r["approved"],
                    "denied": r["denied"],
                    "approval_percent": share(r["approved"], decided),
                    "denial_percent": share(r["denied"], decided),
                }
            )
        columns = [
            ("teacher", "Teacher"),
            ("passes", "Passes started"),
            ("staff_passes", "Created by staff"),
            ("kiosk_passes", "From their kiosks"),
            ("approved", "Requests approved"),
            ("denied", "Requests denied"),
            ("approval_percent", "Approval %"),
            ("denial_percent", "Denial %"),
            ("staff_id", "Staff ID"),
        ]
        return Report(
            "teachers",
            REPORTS["teachers"],
            columns,
            table,
            bars(table, columns, "teacher", "passes", "denied", stacked=True),
            "A pass counts for the member of staff who created it, decided its request, or set up"
            " its kiosk; rates are of the requests they decided",
        )

    async def sources(self, scope: Scope) -> Report:
        found = {r["source"]: r for r in await self.pool.fetch(SOURCES_SQL, *scope.args)}
        table = []
        for source, label in (("staff", "Staff"), ("kiosk", "Kiosk (K)"), ("portal", "Student Portal (S)")):
            r = found.get(source)
            counts = {
                k: (r[k] if r else 0)
                for k in ("passes", "started", "requested", "approved", "denied", "overdue")
            }
            decided = counts["approved"] + counts["denied"]
            table.append(
                {
                    "source": label,
                    **counts,
                    "approval_percent": share(counts["approved"], decided),
                    "denial_percent": share(counts["denied"], decided),
                    "overdue_percent": share(counts["overdue"], counts["started"]),
                }
            )
        columns = [
            ("source", "Source"),
            ("passes", "Passes"),
            ("started", "Started"),
            ("requested", "Requested"),
            ("approved", "Approved"),
            ("denied", "Denied"),
            ("approval_percent", "Approval %"),
            ("denial_percent", "Denial %"),
            ("overdue", "Overdue"),
            ("overdue_percent", "Overdue %"),
        ]
        return Report(
            "sources",
            REPORTS["sources"],
            columns,
            table,
            bars(table, columns, "source", "started", "approved", "denied"),
            "Every pass asked for, planned or started; rates are of the requests decided",
        )

    async def overdue(self, scope: Scope) -> Report:
        totals, *_ = await self._per_pass(OVERDUE_TOTALS_SQL, scope)
        rows = await self._per_pass(OVERDUE_SQL, scope)
        table = [
            {
                "pass_id": str(r["pass_id"]),
                "day": r["day"].isoformat(),
                "student": student_name(r),
                "origin": r["origin"] or "",
                "destination": r["destination"] or "",
                "started": _clock(r["started_at"], r["timezone"]),
                "due": _clock(r["due_at"], r["timezone"]),
                "ended": _clock(r["ended_at"], r["timezone"]),
                "how": r["end_reason"] or "not back",
                "minutes_late": minutes(r["late_seconds"]),
            }
            for r in rows
        ]
        buckets = [lateness_label(low, high) for low, high in LATENESS]
        counts = [totals[3 + i] for i in range(len(LATENESS))]
        overdue, started = totals["overdue"], totals["started"]
        return Report(
            "overdue",
            REPORTS["overdue"],
            [
                ("day", "Day"),
                ("student", "Student"),
                ("origin", "Leaving From"),
                ("destination", "Going To"),
                ("started", "Started"),
                ("due", "Due back"),
                ("ended", "Ended"),
                ("how", "How it ended"),
                ("minutes_late", "Minutes late"),
                ("pass_id", "Pass ID"),
            ],
            table,
            {
                "kind": "bar",
                "labels": [*buckets, "not back"],
                "series": [{"label": "Overdue passes", "data": [*counts, totals["not_back"]]}],
            },
            f"{overdue} of {started} passes overdue ({share(overdue, started) or 0}%)"
            + (f"; the {OVERDUE_ROWS} latest shown" if overdue > OVERDUE_ROWS else "")
            + "; most late first",
            {
                "overdue": overdue,
                "started": started,
                "lateness": dict(zip([*buckets, "not back"], [*counts, totals["not_back"]], strict=True)),
            },
        )


def _clock(moment: datetime | None, timezone: str) -> str:
    return "" if moment is None else moment.astimezone(ZoneInfo(timezone)).strftime("%H:%M")
