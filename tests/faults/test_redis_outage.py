"""Stop Redis for 30 s: the timers due meanwhile still fire once it is back, each exactly once.

The test starts a Redis of its own (no persistence, so its restart loses every message, as a
crash would) and stops only that one.
"""

from __future__ import annotations

import asyncio
import secrets
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from hallpass.acting import Acting
from hallpass.aggregates.encoding import TypedMapper
from hallpass.aggregates.passes import Pass
from hallpass.bootstrap import Runtime
from hallpass.commands.messages import CreatePasses
from support.load import caught_up
from support.private_services import PrivateRedis
from support.processes import cluster
from support.school import make_school

pytestmark = pytest.mark.slow

OUTAGE_SECONDS = 30
EXPIRED_TOPIC = "hallpass.aggregates.passes:Pass.Expired"


async def expired_per_pass(runtime: Runtime) -> Counter[object]:
    rows = await runtime.store.select_notifications(1, 1_000_000, topics=[EXPIRED_TOPIC])
    mapper = TypedMapper()
    return Counter(
        e.originator_id for e in (mapper.to_domain_event(r) for r in rows) if isinstance(e, Pass.Expired)
    )


async def poll(condition: object, timeout: float = 90) -> None:
    assert callable(condition)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await condition():
        assert loop.time() < deadline, "condition not met before the deadline"
        await asyncio.sleep(0.1)


async def test_timers_due_while_redis_is_down_fire_once_it_is_back(
    runtime: Runtime, fresh_database_url: str, tmp_path: Path
) -> None:
    school = await make_school(runtime, label="Redis", students=20)
    with (
        PrivateRedis(tmp_path / "redis") as redis_server,
        cluster(
            fresh_database_url, redis_server.url, f"hallpass-faults-{secrets.token_hex(4)}", tmp_path
        ) as processes,
    ):
        processes.start("projector")
        processes.start("worker").wait_ready()

        due = datetime.now(UTC) + timedelta(seconds=4)
        await runtime.app.create_passes(
            Acting(school.teacher(), due - timedelta(minutes=1)),
            CreatePasses(
                origin_id=school.rooms["Room 101"],
                destination_id=school.rooms["Nurse"],
                student_ids=school.students,
                allotted_minutes=1,
            ),
        )
        await caught_up(runtime)

        async def all_sent() -> bool:
            unsent = await runtime.pool.fetchval("SELECT count(*) FROM pass_timers WHERE sent_at IS NULL")
            return bool(unsent == 0)

        # Every expiry is waiting in Redis as a delayed message; then Redis goes, with them all.
        await poll(all_sent)
        redis_server.stop()
        await asyncio.sleep(OUTAGE_SECONDS)  # the outage itself; every pass falls due during it
        assert datetime.now(UTC) > due
        redis_server.start()

        async def all_expired() -> bool:
            return len(await expired_per_pass(runtime)) == len(school.students)

        await poll(all_expired)
        await caught_up(runtime)

        async def no_timer_left() -> bool:
            return bool(await runtime.pool.fetchval("SELECT count(*) FROM pass_timers") == 0)

        await poll(no_timer_left)

    expired = await expired_per_pass(runtime)
    assert len(expired) == len(school.students), "a timer was missed"
    assert set(expired.values()) == {1}, "a timer fired twice"
