"""Timers end to end: real Postgres, real Redis, real `dramatiq` worker processes."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest
import redis

from hallpass.acting import Acting
from hallpass.aggregates.encoding import TypedMapper
from hallpass.aggregates.locations import Location, LocationKind
from hallpass.aggregates.passes import Pass
from hallpass.bootstrap import Runtime, build_runtime
from hallpass.commands.directory import NewLocation
from hallpass.commands.messages import CreatePasses
from hallpass.projections.timers import TimerKind
from hallpass.timers.broker import TimerSettings, make_broker
from hallpass.timers.messages import make_sender
from hallpass.timers.sweep import Due, SweepSettings, sweep_all
from support.school import SchoolFixture, make_school, plan_out, send_out
from support.worker import workers

pytestmark = pytest.mark.slow

EXPIRED_TOPIC = "hallpass.aggregates.passes:Pass.Expired"


def namespace_keys(redis_url: str, namespace: str) -> list[bytes]:
    client = redis.Redis.from_url(redis_url)
    try:
        return list(client.scan_iter(match=f"{namespace}*", count=1000))
    finally:
        client.close()


def lose_every_message(redis_url: str, namespace: str) -> int:
    """Delete every key of this namespace: all the app's messages are gone, as after FLUSHALL."""
    keys = namespace_keys(redis_url, namespace)
    client = redis.Redis.from_url(redis_url)
    try:
        if keys:
            client.delete(*keys)
    finally:
        client.close()
    return len(keys)


@pytest.fixture
def namespace(redis_url: str) -> Iterator[str]:
    name = f"hallpass-timers-test-{secrets.token_hex(6)}"
    yield name
    lose_every_message(redis_url, name)


@pytest.fixture
async def runtime(fresh_database_url: str) -> AsyncIterator[Runtime]:
    rt = await build_runtime(fresh_database_url)
    stop = asyncio.Event()
    tasks = [asyncio.create_task(runner.run(stop)) for runner in rt.runners]
    try:
        yield rt
    finally:
        stop.set()
        await asyncio.gather(*tasks)
        await rt.close()


@pytest.fixture
async def school(runtime: Runtime) -> SchoolFixture:
    return await make_school(runtime, students=200)


async def start_due_in(
    runtime: Runtime, school: SchoolFixture, students: list[UUID], seconds: float
) -> datetime:
    """Start one-minute passes whose due time is `seconds` from now; return that due time."""
    due = datetime.now(UTC) + timedelta(seconds=seconds)
    for start in range(0, len(students), 100):
        batch = students[start : start + 100]
        await send_out(runtime, school, "Nurse", batch, due - timedelta(minutes=1), minutes=1)
    await caught_up(runtime)
    return due


async def caught_up(runtime: Runtime) -> None:
    """Wait until the read models show everything appended so far."""
    assert await runtime.watcher.wait_for(await runtime.store.max_notification_id(), timeout=10)


# Never early and not lost: these tests check that much. How late timers fire is measured by
# bench/expiry.py, not asserted here, so a loaded machine does not turn them red.
NOT_LOST = timedelta(seconds=10)


async def expired_events(runtime: Runtime) -> list[Pass.Expired]:
    rows = await runtime.store.select_notifications(1, 1_000_000, topics=[EXPIRED_TOPIC])
    mapper = TypedMapper()
    return [e for e in (mapper.to_domain_event(r) for r in rows) if isinstance(e, Pass.Expired)]


async def wait_for_expired(runtime: Runtime, count: int, timeout: float) -> list[Pass.Expired]:
    deadline = time.monotonic() + timeout
    while True:
        events = await expired_events(runtime)
        if len(events) >= count or time.monotonic() > deadline:
            return events
        await asyncio.sleep(0.05)


async def test_a_pass_expires_at_its_due_time_never_early(
    runtime: Runtime, school: SchoolFixture, fresh_database_url: str, redis_url: str, namespace: str
) -> None:
    with workers(fresh_database_url, redis_url, namespace):
        due = await start_due_in(runtime, school, school.students[:1], seconds=2)
        (event,) = await wait_for_expired(runtime, 1, timeout=10)
        await caught_up(runtime)
    assert event.due_at == due
    assert timedelta(0) <= event.timestamp - due <= NOT_LOST
    row = await runtime.pool.fetchrow(
        "SELECT status, returned_at FROM pass_list WHERE pass_id = $1", event.originator_id
    )
    assert (row["status"], row["returned_at"]) == ("expired", None)


async def test_passes_still_expire_through_the_sweep_after_every_message_is_lost(
    runtime: Runtime, school: SchoolFixture, fresh_database_url: str, redis_url: str, namespace: str
) -> None:
    students = school.students[:20]
    due = await start_due_in(runtime, school, students, seconds=3)
    for runner in runtime.runners:
        await runner.catch_up()
    async with runtime.pool.acquire() as conn:
        assert await sweep_all(
            conn,
            make_sender(make_broker(TimerSettings(fresh_database_url, redis_url, namespace))),
            SweepSettings(horizon_ms=10_000),  # sent ahead, as delayed messages, then lost
        ) == len(students)
    assert await runtime.pool.fetchval("SELECT count(*) FROM pass_timers WHERE sent_at IS NULL") == 0
    assert lose_every_message(redis_url, namespace) > 0

    with workers(fresh_database_url, redis_url, namespace):
        events = await wait_for_expired(runtime, len(students), timeout=30)
    assert sorted(e.originator_id for e in events) == sorted(
        await runtime.pool.fetchval("SELECT array_agg(pass_id) FROM pass_list")
    )
    assert all(e.timestamp >= due for e in events)


async def test_two_workers_expire_each_of_200_passes_exactly_once_despite_duplicate_messages(
    runtime: Runtime, school: SchoolFixture, fresh_database_url: str, redis_url: str, namespace: str
) -> None:
    with workers(fresh_database_url, redis_url, namespace, count=2):
        due = await start_due_in(runtime, school, school.students, seconds=3)
        send = make_sender(make_broker(TimerSettings(fresh_database_url, redis_url, namespace)))
        delay = int((due - datetime.now(UTC)).total_seconds() * 1000) + 1
        passes = await runtime.pool.fetch("SELECT pass_id, school_id FROM pass_list")
        for _ in range(3):
            for row in passes:
                send([Due(row["pass_id"], TimerKind.EXPIRE, row["school_id"], due, delay)])
        events = await wait_for_expired(runtime, 200, timeout=30)
        await asyncio.sleep(3)
        events = await expired_events(runtime)
    per_pass: dict[UUID, int] = {}
    for event in events:
        per_pass[event.originator_id] = per_pass.get(event.originator_id, 0) + 1
    assert len(per_pass) == 200
    assert set(per_pass.values()) == {1}


async def test_a_scheduled_pass_activates_on_time(
    runtime: Runtime, school: SchoolFixture, fresh_database_url: str, redis_url: str, namespace: str
) -> None:
    with workers(fresh_database_url, redis_url, namespace):
        start_at = datetime.now(UTC) + timedelta(seconds=2)
        outcome = await plan_out(runtime, school, "Library", school.students[:1], start_at, datetime.now(UTC))
        pass_id = UUID(outcome.body["passes"][0]["id"])
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            hall_pass = await runtime.app.repository.find(pass_id, Pass)
            if hall_pass is not None and hall_pass.status.value != "scheduled":
                break
            await asyncio.sleep(0.05)
    assert hall_pass is not None and hall_pass.status.value == "active"
    assert timedelta(0) <= hall_pass.start_at - start_at <= NOT_LOST


async def test_open_passes_are_dismissed_at_the_dismissal_time(
    runtime: Runtime, school: SchoolFixture, fresh_database_url: str, redis_url: str, namespace: str
) -> None:
    with workers(fresh_database_url, redis_url, namespace):
        now = datetime.now(UTC)
        at = (
            (now + timedelta(seconds=3)).astimezone(ZoneInfo("America/Chicago")).time().replace(microsecond=0)
        )
        await runtime.app.set_dismissal_time(Acting(school.teacher(), now), at)
        await send_out(runtime, school, "Nurse", school.students[:3], now)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            rows = await runtime.pool.fetch("SELECT status, end_reason, ended_at FROM pass_list")
            if len(rows) == 3 and all(r["status"] == "terminated" for r in rows):
                break
            await asyncio.sleep(0.1)
    assert [(r["status"], r["end_reason"]) for r in rows] == [("terminated", "dismissed")] * 3
    school_day_end = datetime.combine(
        datetime.now(ZoneInfo("America/Chicago")).date(), at, tzinfo=ZoneInfo("America/Chicago")
    )
    assert all(timedelta(0) <= r["ended_at"] - school_day_end <= NOT_LOST for r in rows)


async def test_dismissal_through_two_workers_ends_several_passes_to_one_restroom_and_marks_the_day_once(
    runtime: Runtime, school: SchoolFixture, fresh_database_url: str, redis_url: str, namespace: str
) -> None:
    """The demo school's case: open passes to the same capacity-limited restroom and elsewhere."""
    now = datetime.now(UTC)
    (restroom_b,) = await runtime.app.add_locations(
        school.id, [NewLocation("Restroom B", LocationKind.RESTROOM, 5, capacity=4)], now=now
    )
    places = [
        (restroom_b.id, school.students[0:4]),
        (school.rooms["Restroom"], school.students[4:6]),
        (school.rooms["Library"], school.students[6:11]),
        (school.rooms["Nurse"], school.students[11:14]),
    ]
    chicago = ZoneInfo("America/Chicago")
    with workers(fresh_database_url, redis_url, namespace, count=2):
        now = datetime.now(UTC)
        at = (now + timedelta(seconds=3)).astimezone(chicago).time().replace(microsecond=0)
        school_day_end = datetime.combine(now.astimezone(chicago).date(), at, tzinfo=chicago)
        await runtime.app.set_dismissal_time(Acting(school.teacher(), now), at)
        for destination, students in places:
            await runtime.app.create_passes(
                Acting(school.teacher(), now),
                CreatePasses(
                    origin_id=school.rooms["Room 101"], destination_id=destination, student_ids=students
                ),
            )
        send = make_sender(make_broker(TimerSettings(fresh_database_url, redis_url, namespace)))
        delay = int((school_day_end - datetime.now(UTC)).total_seconds() * 1000) + 1
        send([Due(school.id, TimerKind.DISMISS, school.id, school_day_end, delay)])
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            rows = await runtime.pool.fetch("SELECT status, end_reason, ended_at FROM pass_list")
            next_dismissal = await runtime.pool.fetchval(
                "SELECT due_at FROM pass_timers WHERE pass_id = $1 AND kind = 'dismiss'", school.id
            )
            ended = len(rows) == 14 and all(r["status"] == "terminated" for r in rows)
            if ended and next_dismissal is not None and next_dismissal > school_day_end:
                break
            await asyncio.sleep(0.1)
    assert len(rows) == 14
    assert [(r["status"], r["end_reason"]) for r in rows] == [("terminated", "dismissed")] * 14
    assert all(timedelta(0) <= r["ended_at"] - school_day_end <= NOT_LOST for r in rows)
    assert next_dismissal == school_day_end + timedelta(days=1)
    assert (
        await runtime.pool.fetchval(
            "SELECT count(*) FROM hallpass_events WHERE originator_id = $1 AND topic = $2",
            school.id,
            "hallpass.aggregates.schools:School.Dismissed",
        )
        == 1
    )
    for location_id in (restroom_b.id, school.rooms["Restroom"], school.rooms["Library"]):
        location = await runtime.app.repository.find(location_id, Location)
        assert location is not None and location.occupants == ()
