"""The Hall Pass dashboard with a year of passes: list query and page latency per filter.

Usage::

    .venv/bin/python bench/dashboard.py [--rows 1000000] [--runs 200] [--http-runs 100]
        [--old-runs 3] [--database-url URL]

1. Creates a throwaway database ``bench_dash_<hex>`` on the server (dropped at the end) and
   seeds the demo school (1,200 students, 47 places, 77 staff) through the commands.
2. Puts ``--rows`` passes straight into ``pass_list`` with one ``INSERT ... SELECT`` over
   ``generate_series`` (fixed seed): school days (Monday to Friday, 08:00-15:00 school time) of
   the past year, plus today's passes up to now (some still out) and scheduled ones for the
   next two weeks; statuses, sources (staff 70%, kiosk 20%, portal 10%), creators, places and
   students spread as a school's would be. Then VACUUM ANALYZE.
3. For each filter of the dashboard, in the default view (today and every pass still open) and
   over the whole year (From a year ago, as a user looking back would pick): p50 / p99 of
   ``PassListView.page`` with the dashboard's columns (the rows and the bounded count), of the
   same filter with the query
   the dashboard ran before decision 054 (``--old-runs`` runs each, 0 to skip), and of
   ``GET /hall-pass`` (the full page, through HTTP to a web process of its own, as ``hallpass web``
   runs it; ``--in-process`` serves it under uvicorn in this process instead), with the CPU time
   that web process spent per page.
4. A ``SELECT 1`` round trip on the same pool is the floor the figures stand on.

No test asserts these figures.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import statistics
import sys
import time
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit
from uuid import UUID
from zoneinfo import ZoneInfo

import asyncpg
import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from demo import DIRECTORY_ARRAYS, demo_client, seed_demo  # noqa: E402
from scratch import arguments, create_database, drop_database, pct, timings  # noqa: E402

from hallpass.bootstrap import Runtime, build_runtime  # noqa: E402
from hallpass.projections.queries import DASHBOARD, PASS_COLUMNS, PASS_FROM, PassFilters, PassListView  # noqa: E402
from hallpass.seed import DEMO_TEACHER_EMAIL, SCHOOL_ID, TIMEZONE  # noqa: E402

DEFAULT_URL = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")

LOAD_SQL = f"""
WITH {DIRECTORY_ARRAYS},
g AS (
    SELECT i, random() AS r_day, random() AS r_time, random() AS r_status, random() AS r_source,
        random() AS r_student, random() AS r_room, random() AS r_place, random() AS r_staff,
        random() AS r_minutes
    FROM generate_series(1, $2::int) AS i
),
p AS (
    SELECT g.*,
        CASE WHEN i <= $3 THEN
            -- today, from school-day start up to now
            ($5::timestamp + (r_time * ($6::timestamp - $5::timestamp))) AT TIME ZONE $4
        WHEN i <= $3 + $7 THEN
            -- scheduled: the next two weeks
            ($5::timestamp + interval '1 day' * (1 + floor(r_day * 14)) + interval '8 hours'
                + r_time * interval '7 hours') AT TIME ZONE $4
        ELSE
            (($8::date[])[1 + floor(r_day * array_length($8::date[], 1))::int] + interval '8 hours'
                + r_time * interval '7 hours') AT TIME ZONE $4
        END AS start_at,
        CASE WHEN r_source < 0.7 THEN 'staff' WHEN r_source < 0.9 THEN 'kiosk' ELSE 'portal' END AS source,
        CASE
            WHEN i <= $3 THEN CASE WHEN r_status < 0.02 THEN 'active' WHEN r_status < 0.025 THEN 'expired'
                ELSE 'completed' END
            WHEN i <= $3 + $7 THEN 'scheduled'
            WHEN r_status < 0.88 THEN 'completed'
            WHEN r_status < 0.93 THEN 'expired'
            WHEN r_status < 0.96 THEN 'terminated'
            WHEN r_status < 0.98 THEN 'cancelled'
            ELSE 'denied'
        END AS status,
        5 + floor(r_minutes * 11)::int AS minutes
    FROM g
)
INSERT INTO pass_list (pass_id, school_id, student_id, origin_id, destination_id, source, status,
    created_by_kind, created_by_id, created_at, start_at, due_at, allotted_minutes, returned_at,
    ended_at, ended_by_kind, ended_by_id, end_reason, note, version, notification_id)
SELECT gen_random_uuid(), $1,
    s.a[1 + floor(r_student * array_length(s.a, 1))::int],
    rooms.a[1 + floor(r_room * array_length(rooms.a, 1))::int],
    places.a[1 + floor(r_place * array_length(places.a, 1))::int],
    source, status,
    CASE source WHEN 'staff' THEN 'staff' WHEN 'kiosk' THEN 'kiosk' ELSE 'student' END,
    CASE WHEN source = 'staff' THEN staff.a[1 + floor(r_staff * array_length(staff.a, 1))::int] END,
    start_at - interval '1 minute', start_at, start_at + minutes * interval '1 minute', minutes,
    -- every expired pass but today's and 1 in 50,000 of the rest is back: dismissal ends the day
    CASE WHEN status = 'completed' OR (status = 'expired' AND i > $3 AND i % 50000 <> 7)
        THEN start_at + (minutes + 2) * interval '1 minute' * r_minutes END,
    CASE WHEN status IN ('completed', 'terminated', 'cancelled', 'denied')
        OR (status = 'expired' AND i > $3 AND i % 50000 <> 7)
        THEN start_at + (minutes + 2) * interval '1 minute' * r_minutes END,
    CASE WHEN status IN ('completed', 'terminated', 'cancelled', 'denied') THEN 'staff' END,
    CASE WHEN status IN ('completed', 'terminated', 'cancelled', 'denied')
        THEN staff.a[1 + floor(r_room * array_length(staff.a, 1))::int] END,
    CASE status WHEN 'terminated' THEN 'left_early' WHEN 'denied' THEN 'denied' END,
    '', 2, i
FROM p, s, rooms, places, staff
"""


@dataclass(frozen=True)
class Case:
    name: str
    params: dict[str, str]
    filters: PassFilters


def school_days(today: date, days: int = 365) -> list[date]:
    return [d for k in range(1, days + 1) if (d := today - timedelta(days=k)).weekday() < 5]


async def load(pool: asyncpg.Pool, school_id: UUID, rows: int, now: datetime) -> tuple[int, int]:
    tz = ZoneInfo(TIMEZONE)
    local_now = now.astimezone(tz).replace(tzinfo=None)
    today = local_now.date()
    day_start = datetime.combine(today, clock(0))
    todays, scheduled = max(1, rows // 250), max(1, rows // 3000)
    async with pool.acquire() as conn:
        await conn.execute("SELECT setseed(0.2026)")
        await conn.execute(
            LOAD_SQL, school_id, rows, todays, TIMEZONE, day_start, local_now, scheduled, school_days(today)
        )
        await conn.execute("VACUUM ANALYZE pass_list")
    return todays, scheduled


# -- the list query as it was before decision 054 ---------------------------------------------


def old_query(school_id: UUID, f: PassFilters) -> tuple[str, list[Any]]:
    clauses, args = ["p.school_id = $1"], [school_id]

    def add(sql: str, value: Any) -> None:
        args.append(value)
        clauses.append(sql.replace("?", f"${len(args)}"))

    if f.statuses:
        add("p.status = ANY(?::text[])", list(f.statuses))
    if f.student_id is not None:
        add("p.student_id = ?", f.student_id)
    if f.student:
        add("s.search_name LIKE ?", f"%{f.student.lower()}%")
    if f.origin_id is not None:
        add("p.origin_id = ?", f.origin_id)
    if f.destination_id is not None:
        add("p.destination_id = ?", f.destination_id)
    if f.creator_id is not None:
        add("p.created_by_id = ?", f.creator_id)
    if f.sources:
        add("p.source = ANY(?::text[])", list(f.sources))
    if f.since is not None and not f.open_too:  # the old dashboard had no default date range
        add("p.start_at >= ?", f.since)
    if f.until is not None:
        add("p.start_at < ?", f.until)
    n = len(args)
    sql = (
        f"SELECT {PASS_COLUMNS}, count(*) OVER () AS total {PASS_FROM} WHERE {' AND '.join(clauses)}"
        " ORDER BY (p.status IN ('active','expired') AND p.returned_at IS NULL) DESC,"
        f" p.start_at DESC LIMIT ${n + 1} OFFSET ${n + 2}"
    )
    return sql, [*args, f.limit, f.offset]


# -- measuring -------------------------------------------------------------------------------


def cell(values: list[float]) -> str:
    if not values:
        return "-"
    return f"{pct(values, 0.5):.1f} / {pct(values, 0.99):.1f}"


async def cases(pool: asyncpg.Pool, school_id: UUID, now: datetime) -> list[Case]:
    tz = ZoneInfo(TIMEZONE)
    today = now.astimezone(tz).date()
    today_start = datetime.combine(today, clock(0), tzinfo=tz)
    year_ago = today - timedelta(days=365)
    student = await pool.fetchrow(
        "SELECT student_id, last_name FROM dir_students WHERE school_id = $1 ORDER BY hall_pass_id LIMIT 1",
        school_id,
    )
    room = await pool.fetchval(
        "SELECT location_id FROM dir_locations WHERE school_id = $1 AND kind = 'classroom'"
        " ORDER BY name LIMIT 1",
        school_id,
    )
    nurse = await pool.fetchval(
        "SELECT location_id FROM dir_locations WHERE school_id = $1 AND name = 'Nurse'", school_id
    )
    creator = await pool.fetchval(
        "SELECT staff_id FROM dir_staff WHERE school_id = $1 ORDER BY name LIMIT 1", school_id
    )
    filters: list[tuple[str, dict[str, str], PassFilters]] = [
        ("no filter", {}, PassFilters()),
        ("status completed", {"status": "completed"}, PassFilters(statuses=("completed",))),
        ("status active", {"status": "active"}, PassFilters(statuses=("active",))),
        ("student name", {"student": student["last_name"]}, PassFilters(student=student["last_name"])),
        (
            "student id",
            {"student_id": str(student["student_id"])},
            PassFilters(student_id=student["student_id"]),
        ),
        ("Leaving From", {"origin_id": str(room)}, PassFilters(origin_id=room)),
        ("Going To", {"destination_id": str(nurse)}, PassFilters(destination_id=nurse)),
        ("creator", {"creator_id": str(creator)}, PassFilters(creator_id=creator)),
        ("source kiosk", {"source": "kiosk"}, PassFilters(sources=("kiosk",))),
    ]
    out = []
    for name, params, f in filters:
        out.append(Case(f"today: {name}", params, replace(f, since=today_start, open_too=True)))
    for name, params, f in filters:
        since = datetime.combine(year_ago, clock(0), tzinfo=tz)
        out.append(Case(f"year: {name}", {**params, "from": year_ago.isoformat()}, replace(f, since=since)))
    week = today - timedelta(days=40)
    out.append(
        Case(
            "a week, 40 days ago",
            {"from": week.isoformat(), "to": (week + timedelta(days=6)).isoformat()},
            PassFilters(
                since=datetime.combine(week, clock(0), tzinfo=tz),
                until=datetime.combine(week + timedelta(days=7), clock(0), tzinfo=tz),
            ),
        )
    )
    return out


async def run(args: argparse.Namespace) -> None:
    name = args.reuse or f"bench_dash_{secrets.token_hex(4)}"
    if not args.reuse:
        await create_database(args.database_url, name)
    url = urlunsplit(urlsplit(args.database_url)._replace(path=f"/{name}"))
    runtime: Runtime | None = None
    try:
        now = datetime.now(UTC)
        runtime = await build_runtime(url)
        pool = runtime.pool
        if args.reuse:
            school_id = SCHOOL_ID
            args.rows = await pool.fetchval("SELECT count(*) FROM pass_list")
            todays, scheduled = 0, 0
        else:
            school_id = (await seed_demo(runtime, now)).school_id
            started = time.perf_counter()
            print(f"loading {args.rows:,} passes ...", file=sys.stderr)
            todays, scheduled = await load(pool, school_id, args.rows, now)
            print(f"loaded in {time.perf_counter() - started:.0f} s", file=sys.stderr)
        view = PassListView(pool)
        floor = await timings(lambda: pool.fetchval("SELECT 1"), args.runs)
        results: list[Result] = []
        async with demo_client(
            url, timeout=120, email=DEMO_TEACHER_EMAIL, own_process=not args.in_process
        ) as http:
            for case in await cases(pool, school_id, now):
                print(f"  {case.name}", file=sys.stderr)
                results.append(await measure(args, view, http, school_id, case))
        report(args, todays, scheduled, floor, results)
    finally:
        if runtime is not None:
            await runtime.close()
        if args.keep or args.reuse:
            print(f"kept the database {name}", file=sys.stderr)
        else:
            await drop_database(args.database_url, name)


@dataclass(frozen=True)
class Result:
    name: str
    new: list[float]
    old: list[float]
    page: list[float]
    shown: str
    cpu_ms: float | None
    """CPU milliseconds of the web process per GET /hall-pass (its own process only)."""


async def measure(
    args: argparse.Namespace, view: PassListView, http: httpx.AsyncClient, school_id: UUID, case: Case
) -> Result:
    first = await view.page(school_id, case.filters, DASHBOARD)

    async def new() -> None:
        await view.page(school_id, case.filters, DASHBOARD)

    sql, sql_args = old_query(school_id, case.filters)

    async def old() -> None:
        await view.pool.fetch(sql, *sql_args)

    async def get() -> None:
        (await http.get(f"/hall-pass?{urlencode(case.params)}")).raise_for_status()

    new_ms = await timings(new, args.runs)
    old_ms = await timings(old, args.old_runs, warmup=0)
    await timings(get, min(args.http_runs, 3), warmup=0)  # the warm-up, outside the CPU count
    cpu_before = web_cpu_seconds()
    page_ms = await timings(get, args.http_runs, warmup=0)
    cpu = web_cpu_seconds()
    cpu_ms = (cpu - cpu_before) * 1000 / len(page_ms) if cpu is not None and cpu_before is not None else None
    return Result(case.name, new_ms, old_ms, page_ms, f"{len(first.rows)} / {first.total_label}", cpu_ms)


def web_cpu_seconds() -> float | None:
    """CPU time (user + system) the web process of its own has used so far, or None when the
    pages are served in this process (`--in-process`) or /proc cannot say."""
    from passes import CHILDREN

    if not CHILDREN:
        return None
    try:
        stat = Path(f"/proc/{CHILDREN[-1].pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def report(
    args: argparse.Namespace,
    todays: int,
    scheduled: int,
    floor: list[float],
    results: list[Result],
) -> None:
    print(
        f"\n{args.rows:,} passes in pass_list for the demo school"
        f" ({todays:,} today, {scheduled:,} scheduled);"
        f" load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}, {os.cpu_count()} CPUs\n"
    )
    print(
        "| filter | rows / count | page() p50 / p99 ms | old query p50 / p99 ms"
        " | GET /hall-pass p50 / p99 ms | web CPU ms / page |"
    )
    print("|---|---|---|---|---|---|")
    for r in results:
        cpu = "-" if r.cpu_ms is None else f"{r.cpu_ms:.1f}"
        print(f"| {r.name} | {r.shown} | {cell(r.new)} | {cell(r.old)} | {cell(r.page)} | {cpu} |")
    worst = max(pct(r.new, 0.99) for r in results)
    worst_page = max(pct(r.page, 0.99) for r in results)
    print(
        f"\nfloor: SELECT 1 on the same pool p50 {pct(floor, 0.5):.2f} ms, p99 {pct(floor, 0.99):.2f} ms;"
        f" worst page() p99 {worst:.1f} ms, worst GET /hall-pass p99 {worst_page:.1f} ms"
    )
    where = (
        "uvicorn in this process"
        if args.in_process
        else "one web process of its own as `hallpass web` runs it, the client in this one"
    )
    print(
        f"runs: page() {args.runs} each, old query {args.old_runs} each (p99 of so few is their max),"
        f" GET /hall-pass {args.http_runs} each ({where}, one request at a time);"
        f" median of the medians {statistics.median(pct(r.new, 0.5) for r in results):.1f} ms"
    )


def main(argv: list[str] | None = None) -> None:
    counts = {
        "--rows": (1_000_000, "passes put into pass_list"),
        "--runs": (200, "page() runs per filter"),
        "--http-runs": (100, "GET /hall-pass runs per filter"),
        "--old-runs": (3, "runs of the old query per filter; 0 skips"),
    }
    parser = arguments(__doc__, database_url=DEFAULT_URL, counts=counts)
    parser.add_argument("--keep", action="store_true", help="keep the database (to EXPLAIN queries)")
    parser.add_argument(
        "--in-process", action="store_true", help="serve the pages under uvicorn in this process (as before)"
    )
    parser.add_argument("--reuse", metavar="NAME", help="measure a database a --keep run left (no load)")
    args = parser.parse_args(argv)
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
