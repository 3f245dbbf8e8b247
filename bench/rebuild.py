"""Rebuild speed: `hallpass projections rebuild` against a raw keyset scan of the same log.

Usage::

    .venv/bin/python bench/rebuild.py [--passes 20000] [--students 2000] [--database-url URL]

1. Creates a throwaway database ``bench_rebuild_<hex>`` (dropped at the end) with one school
   (``--students`` students, a few places) and ``--passes`` passes started and completed, each
   with its student's and destination's events: six events per pass, written straight to the log
   as the commands would write them.
2. Scans the whole log with a keyset read (``EventStore.select_notifications`` from the last ID
   seen, the runner's batch size), and prints events/s.
3. Runs ``hallpass projections rebuild`` (the real command, in a process of its own, progress bar
   and all) and prints its events/s from the time the command reports, and the ratio of the two,
   with the load average (on a shared machine, read the figures beside it).

No test asserts these figures.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import secrets
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import uuid4

import asyncpg
from scratch import arguments, with_database

from hallpass.aggregates.locations import Location, LocationKind
from hallpass.aggregates.passes import Pass, Source
from hallpass.aggregates.students import Student
from hallpass.bootstrap import Runtime, build_runtime
from hallpass.commands.directory import NewLocation, NewStudent
from hallpass.commands.repository import Repository

ROOT = Path(__file__).resolve().parent.parent
CHUNK = 5_000  # events per append while writing the log
GOAL = 0.25  # issue 10: the rebuild at a quarter of the raw scan's rate at least


async def write_log(runtime: Runtime, passes: int, students: int) -> None:
    now = datetime.now(UTC) - timedelta(days=30)
    app = runtime.app
    district = await app.found_district(name="Bench", now=now)
    school = await app.register_school(name="Bench", timezone="UTC", district_id=district.id, now=now)
    places = await app.add_locations(
        school.id,
        [
            NewLocation("Room 1", LocationKind.CLASSROOM, 10),
            NewLocation("Nurse", LocationKind.NURSE, 15),
            NewLocation("Library", LocationKind.LIBRARY, 10, capacity=50),
        ],
        now=now,
    )
    registered = await app.register_students(
        school.id,
        [NewStudent("S", f"{i:05d}", 7, i + 1, homeroom_id=places[0].id) for i in range(students)],
        now=now,
    )
    reader = Repository(runtime.store)
    people = [await reader.find(s.id, Student) for s in registered]
    rooms = [await reader.find(p.id, Location) for p in places]
    pending = []
    for n in range(passes):
        student, destination = people[n % students], rooms[1 + n % 2]
        assert student is not None and destination is not None
        at = now + timedelta(seconds=n)
        hall_pass = Pass.start(
            pass_id=uuid4(),
            school_id=school.id,
            student_id=student.id,
            origin_id=places[0].id,
            destination_id=destination.id,
            source=Source.STAFF,
            allotted_minutes=5,
            now=at,
            actor_kind="system",
            actor_id=None,
        )
        student.open_pass(pass_id=hall_pass.id, destination_id=destination.id, now=at)
        destination.admit(pass_id=hall_pass.id, now=at)
        hall_pass.complete(now=at + timedelta(minutes=2), actor_kind="system", actor_id=None)
        student.close_pass(pass_id=hall_pass.id, now=at + timedelta(minutes=2))
        destination.release(pass_id=hall_pass.id, now=at + timedelta(minutes=2))
        pending += [
            reader.mapper.to_stored_event(e)
            for a in (hall_pass, student, destination)
            for e in a.collect_events()
        ]
        if len(pending) >= CHUNK:
            await runtime.store.append(pending)
            pending = []
    if pending:
        await runtime.store.append(pending)


async def raw_scan(runtime: Runtime, batch: int) -> tuple[int, float]:
    started = time.perf_counter()
    count, last = 0, 0
    while True:
        found = await runtime.store.select_notifications(last + 1, batch)
        if not found:
            return count, time.perf_counter() - started
        count += len(found)
        last = found[-1].id


def rebuild_command(database_url: str) -> tuple[int, float]:
    """Run the real command; return the events and seconds it reports."""
    done = subprocess.run(
        [sys.executable, "-m", "hallpass.cli", "projections", "rebuild"],
        env={**os.environ, "DATABASE_URL": database_url},
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    found = re.search(r"from ([\d,]+) events in ([\d.]+)s", done.stdout)
    if found is None:
        raise RuntimeError(f"unexpected output: {done.stdout!r} {done.stderr!r}")
    return int(found[1].replace(",", "")), float(found[2])


async def run(args: argparse.Namespace) -> None:
    name = f"bench_rebuild_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(args.database_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    database_url = with_database(args.database_url, name)
    try:
        runtime = await build_runtime(database_url)
        try:
            print(f"writing {args.passes:,} passes ...", file=sys.stderr)
            await write_log(runtime, args.passes, args.students)
            await runtime.pool.execute("VACUUM ANALYZE hallpass_events")
            await raw_scan(runtime, runtime.runners[0].batch_size)  # warm the cache alike
            scanned, scan_seconds = await raw_scan(runtime, runtime.runners[0].batch_size)
        finally:
            await runtime.close()
        events, seconds = await asyncio.to_thread(rebuild_command, database_url)
        scan_rate, rebuild_rate = scanned / scan_seconds, events / seconds
        print(f"log: {scanned:,} events")
        print(f"raw keyset scan: {scan_seconds:.2f} s, {scan_rate:,.0f} events/s")
        print(f"projections rebuild: {seconds:.1f} s, {rebuild_rate:,.0f} events/s")
        print(f"rebuild / raw scan: {rebuild_rate / scan_rate:.1%} (goal, issue 10: at least {GOAL:.0%})")
        print("load average (1, 5, 15 min): " + ", ".join(f"{n:.1f}" for n in os.getloadavg()))
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def main() -> None:
    counts = {"--passes": 20_000, "--students": 2_000}
    asyncio.run(run(arguments(__doc__, counts=counts).parse_args()))


if __name__ == "__main__":
    main()
