"""Audit: the hallway at a past moment, and `audit verify`, on a log of 100,000 events.

Usage::

    .venv/bin/python bench/audit.py [--days 10] [--passes-per-day 5000] [--instants 100]
                                    [--database-url URL]

1. Creates a throwaway database ``bench_audit_<hex>`` (dropped at the end) and appends, through
   the store's append (hash chain included), ``--days`` school days of one school: each day
   ``--passes-per-day`` passes of 1,000 students, each pass Started then Completed (two events),
   the events of a day in time order: 10,000 events a day, 100,000 in all with the defaults.
   The audit index projection alone is caught up over them.
2. The hallway at a moment (`audit.moment.hallway_at`, what the API and page answer from): p50
   and p99 over ``--instants`` random instants of the last day, beside the ceiling of the same
   run: one query fetching the same passes' events, undecoded.
3. `audit verify` (`audit.verify.verify_log`, after one signed checkpoint over the whole log):
   events/s, beside a raw scan of the events table in the same run (every row's stream, version,
   topic, state and hash, fetched in pages of the same size verify reads).

No test asserts these figures.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import time
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

from eventsourcing.persistence import StoredEvent
from scratch import arguments, scratch_database

from hallpass.aggregates.encoding import TypedMapper
from hallpass.aggregates.passes import Pass, Source
from hallpass.audit.checkpoints import checkpoint_key, write_checkpoint
from hallpass.audit.history import AuditLog
from hallpass.audit.index import AuditIndexProjection
from hallpass.audit.moment import hallway_at
from hallpass.audit.verify import verify_log
from hallpass.bootstrap import build_runtime
from hallpass.projections.runner import ProjectionRunner

FIRST_DAY = datetime(2026, 11, 2, 14, 0, tzinfo=UTC)  # 08:00 in Chicago
STUDENTS = 1000
APPEND_BATCH = 2000
KEY = checkpoint_key("bench audit key")


def school_day(
    day: datetime, passes: int, school: UUID, places: list[UUID], teacher: UUID
) -> list[StoredEvent]:
    """A day's events in time order: each student's passes in slots of the day, none overlapping."""
    mapper = TypedMapper()
    rng = random.Random(day.toordinal())
    per_student = max(1, passes // STUDENTS)
    slot = timedelta(minutes=420 // per_student)
    timed: list[tuple[datetime, int, StoredEvent]] = []
    for n in range(passes):
        student = UUID(int=(n % STUDENTS) + 1)
        start = (
            day
            + slot * (n // STUDENTS)
            + timedelta(seconds=rng.randrange(0, int(slot.total_seconds()) - 1500))
        )
        origin, destination = rng.sample(places, 2)
        hall_pass = Pass.start(
            pass_id=uuid4(),
            school_id=school,
            student_id=student,
            origin_id=origin,
            destination_id=destination,
            source=Source.STAFF,
            allotted_minutes=10,
            now=start,
            actor_kind="staff",
            actor_id=teacher,
        )
        hall_pass.complete(
            now=start + timedelta(seconds=rng.randrange(60, 1200)), actor_kind="staff", actor_id=teacher
        )
        for event in hall_pass.collect_events():
            timed.append((event.timestamp, len(timed), mapper.to_stored_event(event)))
    timed.sort(key=lambda t: (t[0], t[1]))
    return [stored for _, _, stored in timed]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def run(args: argparse.Namespace) -> None:
    async with scratch_database(args.database_url, "bench_audit") as url:
        runtime = await build_runtime(url, pool_size=4)
        try:
            school, teacher = uuid4(), uuid4()
            places = [uuid4() for _ in range(12)]
            started = time.perf_counter()
            for d in range(args.days):
                events = school_day(
                    FIRST_DAY + timedelta(days=d), args.passes_per_day, school, places, teacher
                )
                for i in range(0, len(events), APPEND_BATCH):
                    await runtime.store.append(events[i : i + APPEND_BATCH])
            total = await runtime.pool.fetchval("SELECT count(*) FROM hallpass_events")
            print(f"appended {total:,} events ({args.days} days) in {time.perf_counter() - started:.1f} s")
            index = ProjectionRunner(runtime.pool, runtime.store, AuditIndexProjection())
            started = time.perf_counter()
            await index.catch_up()
            print(f"audit index caught up in {time.perf_counter() - started:.1f} s")
            await runtime.pool.execute("VACUUM ANALYZE")

            log = AuditLog(runtime.pool)
            last_day = FIRST_DAY + timedelta(days=args.days - 1)
            rng = random.Random(7)
            instants = [
                last_day + timedelta(seconds=rng.randrange(0, 7 * 3600)) for _ in range(args.instants)
            ]
            moment_ms, ceiling_ms, out = [], [], []
            for at in instants:
                t = time.perf_counter()
                hallway = await hallway_at(log, school, at)
                moment_ms.append((time.perf_counter() - t) * 1000)
                out.append(len(hallway))
                t = time.perf_counter()
                await runtime.pool.fetch(
                    "SELECT notification_id, originator_id, originator_version, topic, state "
                    "FROM hallpass_events "
                    "WHERE originator_id IN (SELECT stream_id FROM audit_streams WHERE kind = 'Pass' "
                    "AND span @> $2::timestamptz AND school_id = $1) "
                    "ORDER BY notification_id",
                    school,
                    at,
                )
                ceiling_ms.append((time.perf_counter() - t) * 1000)
            print(
                f"hallway at a moment, {args.instants} random instants of the last day "
                f"({statistics.mean(out):.0f} students out on average): "
                f"p50 {percentile(moment_ms, 0.5):.1f} ms, p99 {percentile(moment_ms, 0.99):.1f} ms"
            )
            print(
                f"  ceiling (the same passes' events fetched, not decoded or replayed): "
                f"p50 {percentile(ceiling_ms, 0.5):.1f} ms, p99 {percentile(ceiling_ms, 0.99):.1f} ms"
            )

            await write_checkpoint(runtime.pool, "hallpass_events", KEY, datetime.now(UTC))
            t = time.perf_counter()
            verification = await verify_log(runtime.pool, "hallpass_events", KEY)
            seconds = time.perf_counter() - t
            assert verification.intact, verification.finding
            print(
                f"audit verify: {verification.checked:,} events and {verification.checkpoints} checkpoint "
                f"in {seconds:.2f} s, {verification.checked / seconds:,.0f} events/s"
            )
            t = time.perf_counter()
            after, scanned = 0, 0
            while True:
                rows = await runtime.pool.fetch(
                    "SELECT notification_id, originator_id, originator_version, topic, state, hash "
                    "FROM hallpass_events WHERE notification_id > $1 ORDER BY notification_id LIMIT 10000",
                    after,
                )
                scanned += len(rows)
                if len(rows) < 10000:
                    break
                after = rows[-1]["notification_id"]
            seconds = time.perf_counter() - t
            print(
                f"  raw scan of the events table, same run: {scanned:,} rows in {seconds:.2f} s, "
                f"{scanned / seconds:,.0f} rows/s"
            )
        finally:
            await runtime.close()


def main() -> None:
    counts = {"--days": 10, "--passes-per-day": 5000, "--instants": 100}
    asyncio.run(run(arguments(__doc__, counts=counts).parse_args()))


if __name__ == "__main__":
    main()
