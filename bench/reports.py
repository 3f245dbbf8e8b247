"""The Reports page with a school year of passes: page and per-report latency beside a scan.

Usage::

    .venv/bin/python bench/reports.py [--passes 500000] [--runs 30] [--database-url URL]

1. Creates a throwaway database ``bench_reports_<hex>`` on the server (dropped at the end) and
   seeds the demo school (1,200 students, 47 places, 77 staff) through the commands, and 20
   kiosks set up by its teachers.
2. Puts ``--passes`` rows straight into the reports' read model ``report_passes`` with one
   ``INSERT ... SELECT`` over ``generate_series`` (fixed seed): the school days (Monday to
   Friday) of the school year 2025-08-18 to 2026-06-05, 07:30-15:30 school time; sources staff
   70%, kiosk 20%, Student Portal 10% (of those 85% approved, 12% denied, 3% cancelled); times
   out from 1 to 41 minutes, skewed short; overdue when past the time allotted; 3% ended by
   dismissal. These are the rows the projection writes for such passes (its generated columns
   give the local day, hour, weekday, time out and lateness), in the order it would write them
   (by start), and the counts per day and hour, and per day and teacher, that the projection
   adds up pass by pass (as one GROUP BY of those rows). Then VACUUM ANALYZE.
3. Measures, ``--runs`` times each after a warm-up:
   - the **ceiling**: ``SELECT count(*)`` of the same rows (the school, the whole year), an
     index-only scan of the index the per-pass reports read;
   - each report's query (``ReportsView``) over the whole year;
   - ``GET /reports`` (all six reports rendered, through HTTP to uvicorn in this process) for
     the whole year, for the last 30 days of it, and for the whole district over the year.

``measure_reports_page(database_url)`` runs the same and answers the lines to print, so
``bench/stream.py --reports`` can call it. No test asserts these figures.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlencode
from uuid import UUID

import asyncpg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from demo import DIRECTORY_ARRAYS, demo_client, seed_demo  # noqa: E402
from scratch import arguments, pct, scratch_database, timings  # noqa: E402

from hallpass.bootstrap import build_runtime  # noqa: E402
from hallpass.projections.pass_facts import AGGREGATES  # noqa: E402
from hallpass.projections.reports import Report, ReportsView, Scope  # noqa: E402
from hallpass.seed import TIMEZONE  # noqa: E402

FIRST_DAY, LAST_DAY = date(2025, 8, 18), date(2026, 6, 5)
KIOSKS = 20

KIOSKS_SQL = """
INSERT INTO kiosks (kiosk_id, school_id, name, room_id, created_by, created_at, status, destination_ids,
    student_mode, homeroom_ids, grades, student_count)
SELECT gen_random_uuid(), $1, 'Kiosk ' || k, r.location_id, st.staff_id, now(), 'active', '{}', 'all', '{}',
    '{}', 0
FROM generate_series(1, $2::int) AS k
CROSS JOIN LATERAL (SELECT location_id FROM dir_locations WHERE school_id = $1 AND kind = 'classroom'
    ORDER BY location_id OFFSET k LIMIT 1) r
CROSS JOIN LATERAL (SELECT staff_id FROM dir_staff WHERE school_id = $1 ORDER BY staff_id OFFSET k LIMIT 1) st
"""

LOAD_SQL = f"""
WITH {DIRECTORY_ARRAYS},
kiosk AS (SELECT array_agg(kiosk_id ORDER BY kiosk_id) AS a FROM kiosks WHERE school_id = $1),
g AS (
    SELECT i, random() AS r_day, random() AS r_time, random() AS r_source, random() AS r_decision,
        random() AS r_student, random() AS r_room, random() AS r_place, random() AS r_staff,
        random() AS r_minutes, random() AS r_out, random() AS r_end
    FROM generate_series(1, $2::int) AS i
),
p AS (
    SELECT g.*,
        (($4::date[])[1 + floor(r_day * array_length($4::date[], 1))::int] + interval '7 hours 30 minutes'
            + r_time * interval '8 hours') AT TIME ZONE $3 AS anchor_at,
        CASE WHEN r_source < 0.7 THEN 'staff' WHEN r_source < 0.9 THEN 'kiosk' ELSE 'portal' END AS source,
        5 + floor(r_minutes * 11)::int AS minutes,
        interval '1 minute' * (1 + 40 * r_out * r_out) AS out
    FROM g
),
q AS (
    SELECT p.*,
        CASE WHEN source <> 'portal' THEN NULL WHEN r_decision < 0.85 THEN 'approved'
            WHEN r_decision < 0.97 THEN 'denied' ELSE 'cancelled' END AS decided
    FROM p
),
r AS (
    SELECT q.*, (decided IS NULL OR decided = 'approved') AS started,
        staff.a[1 + floor(r_staff * array_length(staff.a, 1))::int] AS staff_id,
        kiosk.a[1 + floor(r_staff * array_length(kiosk.a, 1))::int] AS kiosk_id
    FROM q, staff, kiosk
)
INSERT INTO report_passes (pass_id, school_id, timezone, student_id, origin_id, destination_id, source,
    creator_kind, creator_id, teacher_id, outcome, decision, allotted_minutes, requested_at, anchor_at,
    started_at, due_at, ended_at, returned_at, end_reason, overdue)
SELECT gen_random_uuid(), $1, $3,
    s.a[1 + floor(r_student * array_length(s.a, 1))::int],
    rooms.a[1 + floor(r_room * array_length(rooms.a, 1))::int],
    places.a[1 + floor(r_place * array_length(places.a, 1))::int],
    source,
    CASE source WHEN 'staff' THEN 'staff' WHEN 'kiosk' THEN 'kiosk' ELSE 'student' END,
    CASE source WHEN 'staff' THEN staff_id WHEN 'kiosk' THEN kiosk_id END,
    CASE WHEN source = 'staff' OR decided IN ('approved', 'denied') THEN staff_id END,
    CASE WHEN started THEN 'started' ELSE decided END,
    CASE WHEN decided IN ('approved', 'denied') THEN decided END,
    minutes,
    CASE WHEN source = 'portal' THEN anchor_at - interval '1 minute' END,
    anchor_at,
    CASE WHEN started THEN anchor_at END,
    CASE WHEN started THEN anchor_at + minutes * interval '1 minute' END,
    CASE WHEN started THEN anchor_at + out ELSE anchor_at END,
    CASE WHEN started AND r_end >= 0.03 THEN anchor_at + out END,
    CASE WHEN NOT started THEN decided WHEN r_end < 0.03 THEN 'dismissed' ELSE 'completed' END,
    started AND out > minutes * interval '1 minute'
FROM r, s, rooms, places
ORDER BY r.anchor_at  -- as the projection writes them: the passes of a day after the day before's
"""

COUNT_SQL = (
    "SELECT count(*) FROM report_passes f WHERE f.school_id = ANY($1::uuid[]) AND f.day BETWEEN $2 AND $3"
)


def school_days() -> list[date]:
    days = (LAST_DAY - FIRST_DAY).days + 1
    return [d for k in range(days) if (d := FIRST_DAY + timedelta(days=k)).weekday() < 5]


def ms(values: list[float]) -> str:
    return f"p50 {pct(values, 0.5):7.1f} ms  p99 {pct(values, 0.99):7.1f} ms"


async def load(pool: asyncpg.Pool, school_id: UUID, passes: int) -> float:
    started = time.perf_counter()
    await pool.execute(KIOSKS_SQL, school_id, KIOSKS)
    async with pool.acquire() as conn:
        await conn.execute("SELECT setseed(0.2025)")  # the same session as the INSERT
        await conn.execute(LOAD_SQL, school_id, passes, TIMEZONE, school_days())
        for aggregate in AGGREGATES:  # the counts the projection adds up pass by pass
            await conn.execute(f"INSERT INTO {aggregate.table} {aggregate.counted}")
        tables = ", ".join(("report_passes", *(aggregate.table for aggregate in AGGREGATES)))
        await conn.execute(f"VACUUM ANALYZE {tables}")
    return time.perf_counter() - started


async def measure_reports_page(database_url: str, passes: int = 500_000, runs: int = 30) -> str:
    """Load a school year of `passes` into a database of its own on `database_url`'s server and
    measure the reports; the lines to print. (The database is dropped afterwards.)"""
    lines: list[str] = []
    async with scratch_database(database_url, "bench_reports") as url:
        runtime = await build_runtime(url)
        try:
            demo = await seed_demo(runtime)
            school_id = demo.school_id
            print(f"loading {passes:,} passes ...", file=sys.stderr)
            took = await load(runtime.pool, school_id, passes)
            rows = await runtime.pool.fetchval("SELECT count(*) FROM report_passes")
            lines.append(
                f"{rows:,} passes in report_passes, school days {FIRST_DAY} to {LAST_DAY}"
                f" (loaded in {took:.0f} s);"
                f" load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}, {os.cpu_count()} CPUs"
            )
            year = Scope((school_id,), FIRST_DAY, LAST_DAY)
            view = ReportsView(runtime.pool)
            ceiling = await timings(lambda: runtime.pool.fetchval(COUNT_SQL, *year.args), runs)
            lines.append(f"ceiling: SELECT count(*) of the year's rows (index-only scan)  {ms(ceiling)}")
            total: list[float] = [0.0] * runs
            for name, report in view.reports.items():

                async def one(report: Callable[[Scope], Awaitable[Report]] = report) -> None:
                    await report(year)

                each = await timings(one, runs)
                total = [a + b for a, b in zip(total, each, strict=True)]
                lines.append(f"  report {name:<13} whole year  {ms(each)}")
                print(lines[-1], file=sys.stderr)
            lines.append(f"  the six queries one after another           {ms(total)}")

            async with demo_client(url, timeout=300, email=demo.admin.email) as http:
                cases = [
                    (
                        "whole year, the school",
                        {"school": str(school_id), "from": str(FIRST_DAY), "to": str(LAST_DAY)},
                    ),
                    (
                        "last 30 days, the school",
                        {
                            "school": str(school_id),
                            "from": str(LAST_DAY - timedelta(days=29)),
                            "to": str(LAST_DAY),
                        },
                    ),
                    (
                        "whole year, the district",
                        {"school": "district", "from": str(FIRST_DAY), "to": str(LAST_DAY)},
                    ),
                ]
                for label, params in cases:

                    async def get(params: dict[str, str] = params) -> None:
                        (await http.get(f"/reports?{urlencode(params)}")).raise_for_status()

                    lines.append(f"GET /reports {label:<26} {ms(await timings(get, runs))}")
                    print(lines[-1], file=sys.stderr)
            lines.append(f"runs: {runs} each after 3 warm-up; one request at a time, uvicorn in this process")
        finally:
            await runtime.close()
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    args = arguments(__doc__, counts={"--passes": 500_000, "--runs": 30}).parse_args(argv)
    print(asyncio.run(measure_reports_page(args.database_url, args.passes, args.runs)))


if __name__ == "__main__":
    main()
