"""Kiosk student search: reading every allowed student into Python, against pg_trgm narrowing.

Usage::

    .venv/bin/python bench/kiosk_search.py [--students 20000] [--runs 200] [--database-url URL]

1. Creates a throwaway database ``bench_kiosk_<hex>`` on the server (dropped at the end) and
   seeds the demo school (1,200 students) through the commands.
2. Adds a second school of ``--students`` students straight into ``dir_students`` (names drawn
   from the demo names with a fixed seed, folded as the directory projection folds them), then
   ANALYZE.
3. For each school and kind of query (20 different queries of each kind, drawn from its
   students with a fixed seed), times ``KioskView.find_students`` for a kiosk that allows the
   whole school, both ways, one after the other: ``python`` reads every allowed student and
   applies the rules of ``kiosk_search`` (what every search did before decision 070, and what
   a server without pg_trgm still does); ``pg_trgm`` has PostgreSQL narrow the candidates
   with the trigram index first. It prints p50 / p99 in milliseconds and how many queries got
   a different answer (a typo the trigram bar misses).

Needs a server with pg_trgm (the embedded pgserver has none). No test asserts these figures.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any
from uuid import UUID, uuid4

import asyncpg
from demo import seed_demo
from scratch import arguments, scratch_database

from hallpass.aggregates.kiosks import StudentMode, StudentScope
from hallpass.bootstrap import build_runtime
from hallpass.demo_names import FIRST_NAMES, LAST_NAMES
from hallpass.projections.directory import STUDENT_ROW, fold
from hallpass.projections.kiosk_search import Candidate
from hallpass.projections.kiosks import KioskView

DEFAULT_URL = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
QUERIES_PER_KIND = 20
EVERYONE = StudentScope(StudentMode.ALL)


async def add_school(pool: asyncpg.Pool, students: int, rng: random.Random) -> UUID:
    school_id = uuid4()
    rows = []
    for i in range(students):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        number = 500_000 + i
        rows.append(
            (
                uuid4(),
                school_id,
                first,
                last,
                rng.choice((6, 7, 8)),
                None,
                number,
                f"{number:09d}",
                fold(f"{first} {last}"),
                None,
            )
        )
    await pool.copy_records_to_table("dir_students", records=rows, columns=STUDENT_ROW)
    await pool.execute("ANALYZE dir_students")
    return school_id


def typo(word: str, rng: random.Random) -> str:
    """Two neighbouring letters swapped, not the first two (a slip, not a different name)."""
    if len(word) < 4:
        return word
    i = rng.randrange(1, len(word) - 1)
    return word[:i] + word[i + 1] + word[i] + word[i + 2 :]


def queries(students: list[asyncpg.Record], rng: random.Random) -> dict[str, list[str]]:
    picked = rng.sample(students, QUERIES_PER_KIND)
    return {
        "full name": [f"{s['first_name']} {s['last_name']}" for s in picked],
        "first name": [s["first_name"] for s in picked],
        "two letters": [fold(s["first_name"])[:2] for s in picked],
        "last name, 4 letters": [fold(s["last_name"])[:4] for s in picked],
        "without accents": [fold(f"{s['first_name']} {s['last_name']}") for s in picked],
        "typo in last name": [f"{s['first_name']} {typo(fold(s['last_name']), rng)}" for s in picked],
        "typo, last name only": [typo(fold(s["last_name"]), rng) for s in picked],
        "hall pass ID": [str(s["hall_pass_id"]) for s in picked],
        "no such name": [f"{w}qx" for w in rng.sample(["zork", "vlad", "quen", "pryt", "wexl"], 5)] * 4,
    }


async def timed(call: Callable[[], Awaitable[Any]]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = await call()
    return (time.perf_counter() - started) * 1000, result


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def cell(values: list[float]) -> str:
    return f"{pct(values, 0.5):.2f} / {pct(values, 0.99):.2f}"


async def measure(
    python: KioskView, trigram: KioskView, school_id: UUID, kinds: dict[str, list[str]], runs: int
) -> list[tuple[str, list[float], list[float], int]]:
    out = []
    for kind, texts in kinds.items():
        slow: list[float] = []
        fast: list[float] = []
        differ: set[str] = set()
        for text in texts[:3]:  # warm up both
            await python.find_students(school_id, EVERYONE, text)
            await trigram.find_students(school_id, EVERYONE, text)
        for i in range(runs):
            text = texts[i % len(texts)]
            a_ms, a = await timed(lambda: python.find_students(school_id, EVERYONE, text))  # noqa: B023
            b_ms, b = await timed(lambda: trigram.find_students(school_id, EVERYONE, text))  # noqa: B023
            slow.append(a_ms)
            fast.append(b_ms)
            if ids(a) != ids(b):
                differ.add(text)
        out.append((kind, slow, fast, len(differ)))
    return out


def ids(found: list[Candidate]) -> list[UUID]:
    return [c.student_id for c in found]


async def run(args: argparse.Namespace) -> None:
    async with scratch_database(args.database_url, "bench_kiosk") as url:
        runtime = await build_runtime(url)
        try:
            pool = runtime.pool
            if not runtime.kiosks.trigrams:
                raise SystemExit("this server has no pg_trgm: nothing to compare")
            demo = await seed_demo(runtime)
            rng = random.Random(2026)
            print(f"adding a school of {args.students:,} students ...", file=sys.stderr)
            big = await add_school(pool, args.students, rng)
            python, trigram = KioskView(pool, trigrams=False), KioskView(pool, trigrams=True)
            print(
                f"{'school':<22} {'query':<22} {'python p50 / p99 ms':>20} {'pg_trgm p50 / p99 ms':>21}"
                f" {'different answers':>18}"
            )
            for label, school_id in (
                (f"demo ({demo.students:,})", demo.school_id),
                (f"large ({args.students:,})", big),
            ):
                students = await pool.fetch("SELECT * FROM dir_students WHERE school_id = $1", school_id)
                kinds = queries(list(students), rng)
                print(f"measuring {label} ...", file=sys.stderr)
                for kind, slow, fast, differ in await measure(python, trigram, school_id, kinds, args.runs):
                    asked = len(set(kinds[kind]))
                    print(
                        f"{label:<22} {kind:<22} {cell(slow):>20} {cell(fast):>21} {differ:>11} of {asked:>2}"
                    )
            version = await pool.fetchval("SHOW server_version")
            print(
                f"runs: {args.runs} per kind and way, alternating; PostgreSQL {version}; scope: whole school"
            )
        finally:
            await runtime.close()


def main(argv: list[str] | None = None) -> None:
    counts = {
        "--students": (20_000, "students in the large school"),
        "--runs": (200, "searches per kind of query and way"),
    }
    asyncio.run(run(arguments(__doc__, database_url=DEFAULT_URL, counts=counts).parse_args(argv)))


if __name__ == "__main__":
    main()
