"""Expiry lateness: N active passes falling due over S seconds, expired by real worker processes.

Usage::

    .venv/bin/python bench/expiry.py [--passes 10000] [--spread 60] [--workers 1] [--threads 4]
        [--lead SECONDS] [--database-url URL] [--redis-url URL]

1. Creates a throwaway database ``bench_expiry_<hex>`` (dropped at the end) and a Redis namespace
   (its keys deleted at the end); registers one school with N students.
2. Starts W ``python -m dramatiq hallpass.timers.actors`` processes (as ``hallpass worker`` does)
   and the projector in a process of its own (``hallpass projector``, as ``hallpass run`` does).
3. Starts one pass per student, backdated so that due times are spread evenly over S seconds
   beginning ``--lead`` seconds from now, then waits until every due time is long past.
4. Prints lateness (Expired event time minus due time) p50 / p99 / max, missed and doubled
   counts, and the peak resident memory of the worker and projector processes.

No test asserts these figures.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID, uuid4

import redis
from scratch import arguments, create_database, drop_database, process_tree, rss_mb, with_database

from hallpass.acting import Acting, Actor
from hallpass.aggregates.encoding import TypedMapper
from hallpass.aggregates.locations import LocationKind
from hallpass.aggregates.passes import Pass
from hallpass.aggregates.staff import Role
from hallpass.bootstrap import Runtime, build_runtime
from hallpass.commands.directory import NewLocation, NewStaff, NewStudent
from hallpass.commands.messages import CreatePasses

EXPIRED_TOPIC = "hallpass.aggregates.passes:Pass.Expired"
ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class School:
    teacher: Actor
    origin: UUID
    destination: UUID
    students: list[UUID]


async def make_school(runtime: Runtime, students: int) -> School:
    now = datetime.now(UTC)
    app = runtime.app
    district = await app.found_district(name="Bench", now=now)
    school = await app.register_school(name="Bench", timezone="UTC", district_id=district.id, now=now)
    room, nurse = await app.add_locations(
        school.id,
        [NewLocation("Room 1", LocationKind.CLASSROOM, 10), NewLocation("Nurse", LocationKind.NURSE, 15)],
        now=now,
    )
    (teacher,) = await app.hire_staff(
        school.id,
        [NewStaff("T", f"t.{uuid4().hex[:8]}@bench.example.org", (Role.TEACHER,), room.id)],
        now=now,
    )
    registered = await app.register_students(
        school.id,
        [NewStudent("S", f"{i:05d}", 7, i + 1, homeroom_id=room.id) for i in range(students)],
        now=now,
    )
    return School(
        teacher=Actor("staff", teacher.id, school.id, "teacher", "T"),
        origin=room.id,
        destination=nurse.id,
        students=[s.id for s in registered],
    )


def start_projector(database_url: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "hallpass.cli", "projector"],
        env={**os.environ, "DATABASE_URL": database_url},
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def start_workers(
    count: int, threads: int, database_url: str, redis_url: str, namespace: str
) -> list[subprocess.Popen[bytes]]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "HALLPASS_REDIS_NAMESPACE": namespace,
    }
    command = [sys.executable, "-m", "dramatiq", "hallpass.timers.actors", "--processes", "1"]
    return [
        subprocess.Popen(
            [*command, "--threads", str(threads)],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        for _ in range(count)
    ]


def process_name(pid: int) -> str:
    try:
        words = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return str(pid)
    return " ".join(w.decode() for w in words[1:4])


async def sample_memory(
    workers: list[subprocess.Popen[bytes]], peak: dict[str, float], stop: asyncio.Event
) -> None:
    names: dict[int, str] = {}
    while not stop.is_set():
        for worker in workers:
            for pid in process_tree(worker.pid):
                name = names.setdefault(pid, f"{process_name(pid)} [{pid}]")
                peak[name] = max(peak.get(name, 0.0), rss_mb(pid))
        await asyncio.sleep(1.0)


async def create_passes(runtime: Runtime, school: School, first_due: datetime, spread: float) -> float:
    """Start one pass per student, due evenly over `spread` seconds; return when creation ended."""
    count = len(school.students)
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(count):
        queue.put_nowait(i)

    async def creator() -> None:
        while not queue.empty():
            i = queue.get_nowait()
            due = first_due + timedelta(seconds=spread * i / count)
            await runtime.app.create_passes(
                Acting(school.teacher, due - timedelta(minutes=1)),
                CreatePasses(
                    origin_id=school.origin,
                    destination_id=school.destination,
                    student_ids=[school.students[i]],
                    allotted_minutes=1,
                ),
            )

    await asyncio.gather(*(creator() for _ in range(16)))
    return (datetime.now(UTC) - first_due).total_seconds()


async def expired_events(runtime: Runtime) -> list[Pass.Expired]:
    mapper = TypedMapper()
    rows = await runtime.store.select_notifications(1, 10_000_000, topics=[EXPIRED_TOPIC])
    return [e for e in (mapper.to_domain_event(r) for r in rows) if isinstance(e, Pass.Expired)]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


async def run(args: argparse.Namespace) -> None:
    name = f"bench_expiry_{secrets.token_hex(4)}"
    namespace = f"hallpass-bench-{secrets.token_hex(4)}"
    await create_database(args.database_url, name)
    database_url = with_database(args.database_url, name)
    workers: list[subprocess.Popen[bytes]] = []
    runtime = await build_runtime(database_url, pool_size=24)
    stop = asyncio.Event()
    try:
        print(f"setting up {args.passes} students ...", file=sys.stderr)
        school = await make_school(runtime, args.passes)
        workers = [
            start_projector(database_url),
            *start_workers(args.workers, args.threads, database_url, args.redis_url, namespace),
        ]
        peak: dict[str, float] = {}
        sampler = asyncio.create_task(sample_memory(workers, peak, stop))
        lead = args.lead if args.lead is not None else 10 + args.passes / 200
        first_due = datetime.now(UTC) + timedelta(seconds=lead)
        print(f"creating passes due from +{lead:.0f} s over {args.spread} s ...", file=sys.stderr)
        created_at = await create_passes(runtime, school, first_due, args.spread)
        end = first_due + timedelta(seconds=args.spread)
        await asyncio.sleep(max(0.0, (end - datetime.now(UTC)).total_seconds()) + args.settle)
        events = await expired_events(runtime)
        stop.set()
        await sampler
        report(args, events, created_at, peak)
    finally:
        stop.set()
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        for worker in workers:
            try:
                worker.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(worker.pid, signal.SIGKILL)
        await runtime.close()
        await drop_database(args.database_url, name)
        client = redis.Redis.from_url(args.redis_url)
        keys = list(client.scan_iter(match=f"{namespace}*", count=1000))
        if keys:
            client.delete(*keys)
        client.close()


def report(
    args: argparse.Namespace, events: list[Pass.Expired], created_at: float, peak: dict[str, float]
) -> None:
    per_pass = Counter(e.originator_id for e in events)
    lateness = [(e.timestamp - e.due_at).total_seconds() * 1000 for e in events]
    missed = args.passes - len(per_pass)
    doubled = sum(n - 1 for n in per_pass.values())
    print(f"passes {args.passes} due over {args.spread} s; workers {args.workers} x {args.threads} threads")
    print(f"creation finished {created_at:+.1f} s relative to the first due time")
    if lateness:
        print(
            f"lateness ms: p50 {percentile(lateness, 0.5):.0f}  p99 {percentile(lateness, 0.99):.0f}"
            f"  max {max(lateness):.0f}  min {min(lateness):.0f}"
        )
    print(f"missed {missed}  doubled {doubled}")
    print("peak RSS per process:")
    for name, mb in sorted(peak.items()):
        if mb > 0:
            print(f"  {mb:6.0f} MB  {name}")


def main() -> None:
    parser = arguments(__doc__)
    parser.add_argument("--passes", type=int, default=10_000)
    parser.add_argument("--spread", type=float, default=60.0, help="seconds over which passes fall due")
    parser.add_argument("--workers", type=int, default=1, help="worker processes")
    parser.add_argument("--threads", type=int, default=4, help="threads per worker process")
    parser.add_argument("--lead", type=float, default=None, help="seconds until the first due time")
    parser.add_argument("--settle", type=float, default=10.0, help="seconds waited after the last due")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    args = parser.parse_args()
    started = time.monotonic()
    asyncio.run(run(args))
    print(f"total {time.monotonic() - started:.0f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
