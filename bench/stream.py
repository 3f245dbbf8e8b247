"""The event stream: events/s through GET /api/v1/stream and through the live tail with 50
followers, beside a raw scan of the notification log in the same run.

Usage::

    .venv/bin/python bench/stream.py [--passes 50000] [--followers 50] [--tail-passes 5000]
                                     [--reports] [--database-url URL]

1. Creates a throwaway database ``bench_stream_<hex>`` (dropped at the end). Two districts of one
   school each; ``--passes`` passes (Started then Completed) alternate between the two schools,
   appended through the store (hash chain included): 100,000 events with the defaults, half of
   them the token's district's. A district administrator issues a stream token for the first
   district (pseudonymised). One web process serves the app (as ``bench/passes.py --serve``).
2. **Raw scan** (the ceiling): `EventStore.select_notifications` over the whole log in pages of
   1,000 (rows fetched, not decoded): rows/s.
3. **Paged stream**: GET /api/v1/stream from the start, ``limit=1000``, page after page to the
   head (decoded, the school looked up, pseudonymised, encoded as CloudEvents, sent over HTTP):
   events given/s and log rows scanned/s.
4. **Live tail**: ``--followers`` server-sent-event connections at the head; then
   ``--tail-passes`` more passes alternate between the schools, appended in batches of 500
   events; the time from the first append until every follower has the last of its district's
   events: events/s per follower and delivered in all, beside the append rate of the same run.
5. ``--reports``: the reports page's own measurement, if ``bench/reports.py`` provides
   ``measure_reports_page(database_url) -> str`` (the reports page p99 the issue asks for, on its
   own data); without the flag or the module it says it was not measured here.

No test asserts these figures.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import importlib.util
import time
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import httpx
from eventsourcing.persistence import StoredEvent
from passes import CHILDREN, start_child, stop_server, wait_ready
from scratch import arguments, scratch_database

from hallpass.acting import Acting, Actor
from hallpass.aggregates.api_tokens import token_text
from hallpass.aggregates.encoding import TypedMapper
from hallpass.aggregates.passes import Pass, Source
from hallpass.bootstrap import Runtime, build_runtime
from hallpass.commands.api_tokens import MAX_RATE, IssueApiToken

START = datetime(2026, 11, 2, 14, 0, tzinfo=UTC)
APPEND_BATCH = 2_000
TAIL_BATCH = 500
REPORTS_HOOK = "measure_reports_page"
"""What bench/reports.py provides for `--reports`: async (database URL) -> the line to print."""


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def passes(schools: list[UUID], count: int, offset: int) -> list[StoredEvent]:
    """`count` passes, each Started then Completed, alternating between `schools`."""
    mapper = TypedMapper()
    out: list[StoredEvent] = []
    for n in range(offset, offset + count):
        school = schools[n % len(schools)]
        start = START + timedelta(seconds=n)
        hall_pass = Pass.start(
            pass_id=uuid4(),
            school_id=school,
            student_id=UUID(int=n % 1000 + 1),
            origin_id=UUID(int=10_001),
            destination_id=UUID(int=10_002),
            source=Source.STAFF,
            allotted_minutes=10,
            now=start,
            actor_kind="staff",
            actor_id=UUID(int=20_001),
        )
        hall_pass.complete(now=start + timedelta(minutes=4), actor_kind="staff", actor_id=UUID(int=20_001))
        out += [mapper.to_stored_event(e) for e in hall_pass.collect_events()]
    return out


async def append(runtime: Runtime, events: list[StoredEvent], batch: int) -> None:
    for i in range(0, len(events), batch):
        await runtime.store.append(events[i : i + batch])


async def setup(runtime: Runtime) -> tuple[list[UUID], str]:
    """Two schools in two districts, and a stream token for the first district."""
    now = datetime.now(UTC)
    schools = []
    for label in ("First", "Second"):
        district = await runtime.app.found_district(name=f"{label} District", now=now)
        school = await runtime.app.register_school(
            name=f"{label} School", timezone="America/Chicago", district_id=district.id, now=now
        )
        schools.append(school.id)
    admin = Actor("staff", uuid4(), schools[0], "district_admin", "Bench", roles=("district_admin",))
    token_id, secret = runtime.app.new_token_secret()
    command = IssueApiToken(name="Bench", rate_per_minute=MAX_RATE)
    await runtime.app.issue_api_token(Acting(admin, now), command, token_id=token_id, secret=secret)
    return schools, token_text(token_id, secret)


async def raw_scan(runtime: Runtime) -> tuple[int, float]:
    started, after, rows = time.perf_counter(), 0, 0
    while True:
        page = await runtime.store.select_notifications(after + 1, 1000)
        rows += len(page)
        if len(page) < 1000:
            return rows, time.perf_counter() - started
        after = page[-1].id


async def paged(http: httpx.AsyncClient, token: str) -> tuple[int, float, str]:
    """Every event from the start to the head, a page of 1,000 at a time."""
    started, events, cursor = time.perf_counter(), 0, ""
    headers = {"Authorization": f"Bearer {token}"}
    while True:
        params = {"limit": "1000", **({"after": cursor} if cursor else {})}
        answer = await http.get("/api/v1/stream", params=params, headers=headers)
        answer.raise_for_status()
        events += answer.content.count(b"\n")
        cursor = answer.headers["x-hallpass-cursor"]
        if answer.headers["x-hallpass-at-head"] == "true":
            return events, time.perf_counter() - started, cursor


async def follow(http: httpx.AsyncClient, token: str, cursor: str, want: int, ready: asyncio.Event) -> float:
    """A live follower from `cursor`: the moment it has `want` events."""
    headers = {"Authorization": f"Bearer {token}", "Accept": "text/event-stream", "Last-Event-ID": cursor}
    got = 0
    async with http.stream("GET", "/api/v1/stream", headers=headers) as answer:
        answer.raise_for_status()
        async for line in answer.aiter_lines():
            if line.startswith("retry:"):
                ready.set()
            elif line.startswith("data: "):
                got += 1
                if got >= want:
                    return time.perf_counter()
    raise RuntimeError(f"a follower's stream ended after {got} of {want} events")


async def reports(database_url: str) -> str:
    """The reports page's measurement, from bench/reports.py if it is there."""
    if importlib.util.find_spec("reports") is None:
        return "reports page: bench/reports.py is not there; not measured in this run"
    measure = getattr(importlib.import_module("reports"), REPORTS_HOOK, None)
    if measure is None:
        return f"reports page: bench/reports.py has no {REPORTS_HOOK}(); not measured in this run"
    return str(await measure(database_url))


async def run(args: argparse.Namespace) -> None:
    async with scratch_database(args.database_url, "bench_stream") as url:
        runtime = await build_runtime(url, pool_size=4)
        server = None
        try:
            schools, token = await setup(runtime)
            started = time.perf_counter()
            await append(runtime, passes(schools, args.passes, 0), APPEND_BATCH)
            total = await runtime.store.max_notification_id() or 0
            took = time.perf_counter() - started
            print(f"appended {args.passes:,} passes, a log of {total:,} events, in {took:.1f} s")
            await runtime.pool.execute("VACUUM ANALYZE")

            rows, seconds = await raw_scan(runtime)
            rate = rows / seconds
            print(f"raw notification-log scan (ceiling): {rows:,} rows, {seconds:.2f} s, {rate:,.0f} rows/s")

            port = free_port()
            server = start_child("--serve", url, str(port))
            await wait_ready(server)
            limits = httpx.Limits(max_connections=args.followers + 10)
            async with httpx.AsyncClient(
                base_url=f"http://127.0.0.1:{port}", timeout=600, limits=limits
            ) as http:
                await paged(http, token)  # warm-up: the server learns each stream's school once
                events, seconds, head = await paged(http, token)
                print(
                    f"GET /api/v1/stream, limit 1000, start to head: {events:,} events of the district in "
                    f"{seconds:.2f} s, {events / seconds:,.0f} events/s "
                    f"({rows / seconds:,.0f} log rows/s read)"
                )

                tail_events = passes(schools, args.tail_passes, args.passes)
                # Started and Completed of each pass of the first school (the even ones).
                want = sum(2 for n in range(args.passes, args.passes + args.tail_passes) if n % 2 == 0)
                ready = [asyncio.Event() for _ in range(args.followers)]
                followers = [asyncio.create_task(follow(http, token, head, want, r)) for r in ready]
                await asyncio.gather(*(r.wait() for r in ready))
                await asyncio.sleep(0.5)  # every follower has read to the head and waits
                started = time.perf_counter()
                await append(runtime, tail_events, TAIL_BATCH)
                appended = time.perf_counter() - started
                finished = await asyncio.gather(*followers)
                seconds = max(finished) - started
                print(
                    f"live tail, {args.followers} followers: {want:,} events each as "
                    f"{len(tail_events):,} were appended; all had the last {seconds:.2f} s after the first "
                    f"append: {want / seconds:,.0f} events/s per follower, "
                    f"{want * args.followers / seconds:,.0f} events/s delivered in all"
                )
                print(
                    f"  appending the same {len(tail_events):,} events in batches of {TAIL_BATCH}, same run: "
                    f"{appended:.2f} s, {len(tail_events) / appended:,.0f} events/s"
                )
            if args.reports:
                print(await reports(args.database_url))
            else:
                print("reports page p99: not measured in this run (--reports, with bench/reports.py)")
        finally:
            if server is not None:
                stop_server(server)
            await runtime.close()


def main() -> None:
    parser = arguments(__doc__, counts={"--passes": 50_000, "--followers": 50, "--tail-passes": 5_000})
    parser.add_argument("--reports", action="store_true", help="also run bench/reports.py's measurement")
    try:
        asyncio.run(run(parser.parse_args()))
    finally:
        for child in CHILDREN:
            stop_server(child)


if __name__ == "__main__":
    main()
