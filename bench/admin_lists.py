"""Administration lists: a page of students by key, at the start and at the end of a large school,
and searches, beside a bare round trip and the same last page read with OFFSET.

Usage::

    .venv/bin/python bench/admin_lists.py [--students 20000] [--runs 200] [--database-url URL]

1. Creates a throwaway database ``bench_admin_<hex>`` (dropped at the end), a district and a
   school, and registers ``--students`` students through the commands (names from the demo
   names, fixed seed); the projections catch up, then ANALYZE.
2. Times ``AdminListView.students`` ``--runs`` times each: the first page, the last page (the
   cursor of the row before it), a search by part of a name, and one by hall pass ID.
3. Beside them, in the same run: ``SELECT 1`` (one round trip, the floor of any page) and the
   last page read with ``OFFSET`` (what paging by number would cost there).

Prints p50 and p99 in milliseconds. No test asserts these figures.
"""

from __future__ import annotations

import asyncio
import random
import statistics
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from scratch import arguments, pct, scratch_database, timings

from hallpass.bootstrap import build_runtime
from hallpass.commands.directory import NewStudent
from hallpass.demo_names import FIRST_NAMES, LAST_NAMES
from hallpass.projections.admin_lists import PAGE_SIZE, STUDENTS, encode_cursor


async def timed(runs: int, read: Callable[[], Awaitable[Any]]) -> tuple[float, float]:
    """Median and p99 in milliseconds, after one call that is not counted."""
    samples = await timings(read, runs, warmup=1)
    return statistics.median(samples), pct(samples, 0.99)


async def run(url: str, students: int, runs: int) -> list[tuple[str, float, float]]:
    runtime = await build_runtime(url)
    try:
        now = datetime.now(UTC)
        district = await runtime.app.found_district(name="Bench", now=now)
        school = await runtime.app.register_school(
            name="Bench", timezone="UTC", district_id=district.id, now=now
        )
        rng = random.Random(11)
        new = [
            NewStudent(rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES), 6 + i % 3, 100_000 + i)
            for i in range(students)
        ]
        await runtime.app.register_students(school.id, new, now=now)
        for runner in runtime.runners:
            await runner.catch_up()
        await runtime.pool.execute("ANALYZE")
        order = ", ".join(STUDENTS.order)
        before_last = await runtime.pool.fetchrow(
            f"SELECT {order} FROM dir_students WHERE school_id = $1 ORDER BY {order} OFFSET $2 LIMIT 1",
            school.id,
            students - PAGE_SIZE - 1,
        )
        cursor = encode_cursor(dict(before_last), STUDENTS.order)
        view = runtime.admin
        last_page = await view.students(school.id, after=cursor)
        assert len(last_page.rows) == PAGE_SIZE and last_page.next is None
        offset_sql = (
            f"SELECT {STUDENTS.columns} FROM dir_students WHERE school_id = $1 ORDER BY {order}"
            f" OFFSET {students - PAGE_SIZE} LIMIT {PAGE_SIZE + 1}"
        )
        return [
            ("SELECT 1 (round trip)", *await timed(runs, lambda: runtime.pool.fetchval("SELECT 1"))),
            ("first page", *await timed(runs, lambda: view.students(school.id))),
            ("last page, by key", *await timed(runs, lambda: view.students(school.id, after=cursor))),
            ("last page, by OFFSET", *await timed(runs, lambda: runtime.pool.fetch(offset_sql, school.id))),
            ("search: part of a name", *await timed(runs, lambda: view.students(school.id, q="smi"))),
            (
                "search: hall pass ID",
                *await timed(runs, lambda: view.students(school.id, q=str(100_000 + students // 2))),
            ),
        ]
    finally:
        await runtime.close()


async def main() -> None:
    parser = arguments(__doc__)
    parser.add_argument("--students", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    async with scratch_database(args.database_url, "bench_admin") as url:
        rows = await run(url, args.students, args.runs)
    print(f"{args.students:,} students, {args.runs} runs each, {PAGE_SIZE} rows a page")
    print(f"{'read':<26} {'p50 ms':>8} {'p99 ms':>8}")
    for name, p50, p99 in rows:
        print(f"{name:<26} {p50:>8.2f} {p99:>8.2f}")


if __name__ == "__main__":
    asyncio.run(main())
