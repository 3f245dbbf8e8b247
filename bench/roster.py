"""Roster import: a large generated OneRoster roster into an empty database, then again.

Usage::

    .venv/bin/python bench/roster.py [--students 2000] [--staff 100] [--classes 400]
                                     [--enrolments 12000] [--database-url URL]

1. Generates a OneRoster 1.1 roster in memory: one school, ``--staff`` teachers, ``--students``
   students, ``--classes`` classes (each in one of the teachers' rooms, one teacher each) and
   ``--enrolments`` enrolments in all (one teacher per class, the rest students, spread evenly).
2. Creates a throwaway database ``bench_roster_<hex>`` (dropped at the end), founds a district,
   and imports the roster with `Hallpass.import_roster` (the command the CLI and the admin page
   run): seconds and events/s. Then imports the same files again: seconds and events (none).
3. Ceiling, same run: the store's raw append (`EventStore.append`, one call, as the import's
   single transaction is) of the same number of events with the same payloads under new ids.

No test asserts these figures.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from datetime import UTC, datetime
from uuid import uuid4

from eventsourcing.persistence import StoredEvent
from scratch import arguments, scratch_database

from hallpass.acting import ActedBy
from hallpass.bootstrap import build_runtime
from hallpass.roster.source import RosterFiles
from hallpass.roster.writer import RosterWriter

BY: ActedBy = {"actor_kind": "system", "actor_id": None}


def generate(students: int, staff: int, classes: int, enrolments: int) -> RosterFiles:
    roster = RosterWriter(modified="2026-09-01T08:00:00Z")
    roster.orgs.append({"sourcedId": "org-bench", "name": "Bench High School", "type": "school"})
    roster.sessions.append(
        {
            "sourcedId": "term-1",
            "title": "Fall",
            "type": "term",
            "startDate": "2026-09-01",
            "endDate": "2027-01-31",
        }
    )
    for n in range(staff):
        roster.users.append(
            {
                "sourcedId": f"t-{n}",
                "enabledUser": "true",
                "orgSourcedIds": "org-bench",
                "role": "teacher",
                "username": f"teacher{n}",
                "givenName": f"Teacher{n}",
                "familyName": "Bench",
                "email": f"teacher{n}@bench.example.org",
            }
        )
    for n in range(students):
        roster.users.append(
            {
                "sourcedId": f"s-{n}",
                "enabledUser": "true",
                "orgSourcedIds": "org-bench",
                "role": "student",
                "username": f"student{n}",
                "givenName": f"Student{n}",
                "familyName": "Bench",
                "identifier": f"{500000 + n}",
                "grades": f"{9 + n % 4:02d}",
            }
        )
    for n in range(classes):
        roster.classes.append(
            {
                "sourcedId": f"c-{n}",
                "title": f"Class {n}",
                "courseSourcedId": f"course-{n % 40}",
                "classType": "homeroom" if n < staff else "scheduled",
                "location": f"Room {100 + n % staff}",
                "schoolSourcedId": "org-bench",
                "termSourcedIds": "term-1",
                "periods": str(1 + n % 8),
            }
        )
        roster.enrollments.append(
            {
                "sourcedId": f"e-t{n}",
                "classSourcedId": f"c-{n}",
                "schoolSourcedId": "org-bench",
                "userSourcedId": f"t-{n % staff}",
                "role": "teacher",
                "primary": "true",
            }
        )
    for n in range(enrolments - classes):
        roster.enrollments.append(
            {
                "sourcedId": f"e-s{n}",
                "classSourcedId": f"c-{(n * 7 + n // students) % classes}",
                "schoolSourcedId": "org-bench",
                "userSourcedId": f"s-{n % students}",
                "role": "student",
            }
        )
    return roster.files("bench roster")


async def run(args: argparse.Namespace) -> None:
    files = generate(args.students, args.staff, args.classes, args.enrolments)
    async with scratch_database(args.database_url, "bench_roster") as url:
        runtime = await build_runtime(url)
        try:
            district = await runtime.app.found_district(name="Bench", now=datetime.now(UTC))
            head = await runtime.store.max_notification_id() or 0
            for label in ("import into an empty database", "import the same files again"):
                started = time.perf_counter()
                outcome = await runtime.app.import_roster(
                    files, district_id=district.id, now=datetime.now(UTC), by=BY, timezone="America/Chicago"
                )
                seconds = time.perf_counter() - started
                assert outcome.applied and outcome.report.ok, outcome.report.errors[:5]
                rate = outcome.events / seconds
                print(f"{label}: {seconds:.2f} s, {outcome.events:,} events, {rate:,.0f} events/s")
                if label.startswith("import into"):
                    imported, first_rate = outcome.events, rate
                    counts = {k.value: sum(c.values()) for k, c in outcome.counts.items()}
                    print(f"  records: {counts}")
            stored = await runtime.store.select_notifications(head + 1, imported + 1)
            copies = [StoredEvent(uuid4(), e.originator_version, e.topic, e.state) for e in stored]
            started = time.perf_counter()
            await runtime.store.append(copies)
            seconds = time.perf_counter() - started
            raw = len(copies) / seconds
            print(f"raw append of the same {len(copies):,} events: {seconds:.2f} s, {raw:,.0f} events/s")
            print(f"first import / raw append: {first_rate / raw:.1%} of the raw append rate")
        finally:
            await runtime.close()


def main() -> None:
    counts = {"--students": 2000, "--staff": 100, "--classes": 400, "--enrolments": 12000}
    asyncio.run(run(arguments(__doc__, counts=counts).parse_args()))


if __name__ == "__main__":
    main()
