"""LISTEN connections come back: a runner and the watcher whose connection the server cuts."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import asyncpg

from hallpass.acting import Acting
from hallpass.bootstrap import Runtime
from hallpass.commands.messages import CreatePasses
from hallpass.projections.listen import Listener
from hallpass.projections.pass_list import PassListProjection
from hallpass.projections.runner import ProjectionRunner
from support.school import SchoolFixture, make_school
from support.waiting import eventually


async def cut(pool: asyncpg.Pool, listener: Listener) -> int:
    """Terminate the listener's server process, as a database restart would; return its pid."""
    await eventually(lambda: listener.backend_pid is not None)
    pid = listener.backend_pid
    assert pid is not None
    assert await pool.fetchval("SELECT pg_terminate_backend($1)", pid)
    return pid


async def create_pass(runtime: Runtime, school: SchoolFixture, index: int) -> None:
    await runtime.app.create_passes(
        Acting(school.teacher(), datetime.now(UTC)),
        CreatePasses(
            origin_id=school.rooms["Room 101"],
            destination_id=school.rooms["Library"],
            student_ids=[school.students[index]],
        ),
    )


async def test_a_runner_reconnects_and_projects_what_was_appended_meanwhile(runtime: Runtime) -> None:
    school = await make_school(runtime, label="Reconnect")
    # Polling is off, so only a NOTIFY or the re-check after reconnecting can wake the runner.
    runner = ProjectionRunner(runtime.pool, runtime.store, PassListProjection(), poll_interval=3600)
    stop = asyncio.Event()
    running = asyncio.create_task(runner.run(stop))
    try:
        await eventually(lambda: runner.listener is not None and runner.listener.connected.is_set())
        assert runner.listener is not None
        first = await cut(runtime.pool, runner.listener)
        await create_pass(runtime, school, 0)
        head = await runtime.store.max_notification_id()
        await eventually(lambda: _at(runner, head))
        await eventually(lambda: runner.listener is not None and runner.listener.connections == 2)
        assert runner.listener.backend_pid not in (None, first)

        await create_pass(runtime, school, 1)
        head = await runtime.store.max_notification_id()
        await eventually(lambda: _at(runner, head))
        assert await runtime.pool.fetchval("SELECT count(*) FROM pass_list") == 2
    finally:
        stop.set()
        await running


async def _at(runner: ProjectionRunner, head: int | None) -> bool:
    return head is not None and await runner.position() >= head


async def test_the_watcher_reconnects_and_tells_subscribers_to_look_again(runtime: Runtime) -> None:
    school = await make_school(runtime, label="Watcher")
    watcher = runtime.watcher
    async with watcher.subscribe(str(school.id)) as queue:
        first = await cut(runtime.pool, watcher.listener)
        await eventually(lambda: watcher.listener.connections == 2)
        assert watcher.listener.backend_pid not in (None, first)
        # Changes notified while nobody listened are lost: every subscriber is told to reload.
        assert await asyncio.wait_for(queue.get(), 20) == str(school.id)

        await create_pass(runtime, school, 2)
        head = await runtime.store.max_notification_id()
        for runner in runtime.runners:
            await runner.catch_up()
        assert await watcher.wait_for(head, timeout=20)
        assert await asyncio.wait_for(queue.get(), 20) == str(school.id)
