"""Cost of a pass command for a new student and place against ones with a long history.

Usage::

    .venv/bin/python bench/history.py [--passes 2000] [--visits 50000] [--samples 100]
        [--vacuum 1] [--database-url URL]

1. Creates a throwaway database ``bench_<hex>`` (dropped at the end) and two schools.
2. Gives one student of the second school ``--passes`` past passes (PassOpened/PassClosed) and
   that school's Library (a place with a capacity) ``--visits`` past visits (Entered/Left),
   spread over the past two years, appended straight to the log as a log written before
   snapshots existed would hold them (no snapshot), then VACUUM ANALYZE the log (``--vacuum 0``
   leaves it as written: see decision 121). The first load of each then replays it once and
   records a snapshot.
3. Times create (one student to the Library) and complete, called on the command layer
   (no HTTP), one at a time: *warm* with one long-lived application (its cache filled), and
   *cold* with a new application, and so an empty cache, for every command, as in a fresh
   process. New: a student with no past pass before the run, to the first school's Library.
   Both students make the same passes during the run (what the run adds to a student, its
   openings of today for the pass limits, is then the same for both), and each sample times
   them in the other order from the one before (decision 123).

No test asserts a time; this prints figures only.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID, uuid4

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "tests"))

from scratch import measure_and_print  # noqa: E402

CHUNK = 5_000  # events per append while writing the history
HISTORY_DAYS = timedelta(days=730)  # two school years


async def write_history(runtime: object, student_id: UUID, place_id: UUID, passes: int, visits: int) -> None:
    from hallpass.aggregates.locations import Location
    from hallpass.aggregates.students import Student
    from hallpass.bootstrap import Runtime
    from hallpass.commands.repository import Repository

    assert isinstance(runtime, Runtime)
    reader = Repository(runtime.store)
    student = await reader.find(student_id, Student)
    place = await reader.find(place_id, Location)
    assert student is not None and place is not None
    # The history is spread over the past HISTORY_DAYS, oldest first, as years of school leave
    # it: what a stream keeps of recent days (a student's openings for the pass limits, decision
    # 088) is the state of now, not history, and the same for an old student as for a new one.
    now = datetime.now(UTC)
    for i in range(passes):
        at = now - HISTORY_DAYS * (passes - i) / passes
        pass_id = uuid4()
        student.open_pass(pass_id=pass_id, destination_id=place_id, now=at)
        student.close_pass(pass_id=pass_id, now=at + timedelta(minutes=5))
    for i in range(visits):
        at = now - HISTORY_DAYS * (visits - i) / visits
        pass_id = uuid4()
        place.admit(pass_id=pass_id, now=at)
        place.release(pass_id=pass_id, now=at + timedelta(minutes=5))
    events = [reader.mapper.to_stored_event(e) for a in (student, place) for e in a.collect_events()]
    for start in range(0, len(events), CHUNK):
        await runtime.store.append(events[start : start + CHUNK])


async def timed(call: Callable[[], Awaitable[object]]) -> float:
    started = time.perf_counter()
    await call()
    return time.perf_counter() - started


async def measure(url: str, args: argparse.Namespace) -> str:
    from hallpass.acting import Acting
    from hallpass.bootstrap import build_runtime
    from hallpass.commands import Hallpass
    from hallpass.commands.messages import CreatePasses
    from hallpass.commands.repository import SNAPSHOT_EVERY
    from support.school import SchoolFixture, make_school

    runtime = await build_runtime(url)
    try:
        fresh = await make_school(runtime, label="New", students=2)
        old = await make_school(runtime, label="Old", students=2)
        veteran, library = old.students[0], old.rooms["Library"]
        started = time.perf_counter()
        await write_history(runtime, veteran, library, args.passes, args.visits)
        print(f"wrote the history in {time.perf_counter() - started:.1f}s", file=sys.stderr)
        if args.vacuum:
            # A log two years long has been vacuumed and analysed by autovacuum again and again,
            # and each time the plans cached on its connections were made again (decision 121).
            await runtime.pool.execute(f"VACUUM ANALYZE {runtime.store.events_table}")

        first_load = {}
        for name, stream in (("student", veteran), ("place", library)):
            started = time.perf_counter()
            await Hallpass(runtime.store).repository._load_many([stream])
            first_load[name] = time.perf_counter() - started

        async def cycle(
            app: Hallpass, school: SchoolFixture, student: UUID, cold: bool
        ) -> tuple[float, float]:
            actor = school.teacher()
            command = CreatePasses(
                origin_id=school.rooms["Room 101"],
                destination_id=school.rooms["Library"],
                student_ids=[student],
            )
            outcome = None

            async def create() -> None:
                nonlocal outcome
                outcome = await app.create_passes(Acting(actor, datetime.now(UTC)), command)

            create_s = await timed(create)
            assert outcome is not None
            pass_id = UUID(outcome.body["passes"][0]["id"])
            if cold:
                app = Hallpass(runtime.store)
            complete_s = await timed(lambda: app.complete_pass(Acting(actor, datetime.now(UTC)), pass_id))
            return create_s, complete_s

        results: dict[tuple[str, str], list[float]] = {}
        warm_new, warm_old = Hallpass(runtime.store), Hallpass(runtime.store)
        newcomer = fresh.students[0]
        await cycle(warm_new, fresh, newcomer, cold=False)  # fill the caches
        await cycle(warm_old, old, veteran, cold=False)
        for sample in range(args.samples):
            for mode in ("warm", "cold"):
                # Alternated, so that whatever the one measured first pays (or leaves warm for
                # the other) falls on each as often.
                for who in ("new", "long history")[:: 1 if sample % 2 == 0 else -1]:
                    if who == "new":
                        school, student, app = fresh, newcomer, warm_new
                    else:
                        school, student, app = old, veteran, warm_old
                    if mode == "cold":
                        app = Hallpass(runtime.store)
                    create_s, complete_s = await cycle(app, school, student, cold=mode == "cold")
                    results.setdefault((mode, who), []).append(create_s + complete_s)
    finally:
        await runtime.close()

    lines = [
        "| cache | new: ms per command (p50 / mean) | long history: ms per command (p50 / mean) "
        "| ratio p50 | ratio mean |",
        "|---|---|---|---|---|",
    ]
    for mode in ("warm", "cold"):
        new = [t / 2 * 1000 for t in results[(mode, "new")]]
        long = [t / 2 * 1000 for t in results[(mode, "long history")]]
        p50n, p50l = statistics.median(new), statistics.median(long)
        mn, ml = statistics.fmean(new), statistics.fmean(long)
        lines.append(
            f"| {mode} | {p50n:.2f} / {mn:.2f} | {p50l:.2f} / {ml:.2f} | {p50l / p50n:.2f} | {ml / mn:.2f} |"
        )
    lines += [
        "",
        f"long history: a student with {args.passes:,} past passes and a place with a capacity with "
        f"{args.visits:,} past visits ({2 * args.passes + 2 * args.visits:,} events); new: a student "
        "with none, to a place with a capacity and only this run's visits; both students make the "
        "same passes during the run, in alternating order",
        f"per command: (create + complete) / 2, {args.samples} samples each, called on the command layer "
        "one at a time, no projections running; cold = a new application (empty cache) for each command",
        f"snapshots every {SNAPSHOT_EVERY} events; the history was written without any, so the first load "
        f"replayed it once: student {first_load['student'] * 1000:.0f} ms, "
        f"place {first_load['place'] * 1000:.0f} ms (then snapshotted)",
        "the log was vacuumed and analysed once written, as autovacuum would have over two years"
        if args.vacuum
        else "the log was left as written, never vacuumed nor analysed (--vacuum 0): the plans the "
        "connections cached while it was small stay (decision 121)",
        "load average (1, 5, 15 min) at the end: " + ", ".join(f"{x:.2f}" for x in os.getloadavg()),
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    options = {
        "--passes": (2000, "past passes of the long-history student"),
        "--visits": (50_000, "past visits of the long-history place"),
        "--samples": (100, "create+complete cycles per cell"),
        "--vacuum": (1, "1: VACUUM ANALYZE the log once the history is written; 0: leave it so"),
    }
    return measure_and_print(__doc__, "bench_history", measure, options, argv)


if __name__ == "__main__":
    sys.exit(main())
