"""A runner that gathers: live batches start at least `gather` seconds apart (decision 133)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from hallpass.aggregates.passes import Pass
from hallpass.bootstrap import Runtime
from hallpass.projections.pass_list import PassListProjection
from hallpass.projections.runner import ProjectionRunner
from support.school import SchoolFixture, make_school, send_out
from support.waiting import eventually


async def create_pass(runtime: Runtime, school: SchoolFixture, index: int) -> None:
    await send_out(runtime, school, "Library", [school.students[index]], datetime.now(UTC))


def reached(runtime: Runtime, runner: ProjectionRunner) -> Any:
    async def check() -> bool:
        head = await runtime.store.max_notification_id()
        return head is not None and await runner.position() >= head

    return check


def started_passes(batches: list[dict[int, Any]]) -> list[int]:
    """How many passes each batch started."""
    return [sum(isinstance(e, Pass.Started) for e in events.values()) for events in batches]


async def test_what_is_appended_while_a_runner_gathers_goes_in_one_batch(runtime: Runtime) -> None:
    school = await make_school(runtime, label="Gather")
    await create_pass(runtime, school, 0)
    # Polling off: only the appends' NOTIFYs wake the runner. Three seconds is far more than the
    # appends below take, so each of them falls inside the window its first batch opened.
    runner = ProjectionRunner(
        runtime.pool, runtime.store, PassListProjection(), poll_interval=3600, gather=3.0
    )
    batches: list[dict[int, Any]] = []
    runner.on_visible = batches.append
    stop = asyncio.Event()
    running = asyncio.create_task(runner.run(stop))
    try:
        await eventually(reached(runtime, runner))  # the first batch goes at once
        assert started_passes(batches) == [1]
        for index in range(1, 6):
            await create_pass(runtime, school, index)
        await eventually(reached(runtime, runner))
        assert started_passes(batches) == [1, 5]
        assert await runtime.pool.fetchval("SELECT count(*) FROM pass_list") == 6
    finally:
        stop.set()
        await running


async def test_a_runner_gathering_stops_at_once_and_leaves_the_rest_to_the_next_start(
    runtime: Runtime,
) -> None:
    school = await make_school(runtime, label="Gather stop")
    await create_pass(runtime, school, 0)
    runner = ProjectionRunner(
        runtime.pool, runtime.store, PassListProjection(), poll_interval=3600, gather=3600
    )
    stop = asyncio.Event()
    running = asyncio.create_task(runner.run(stop))
    try:
        await eventually(reached(runtime, runner))  # its first batch, at once
        await create_pass(runtime, school, 1)
        await asyncio.sleep(0.2)  # woken by the append's NOTIFY, the runner is gathering now
        assert not await reached(runtime, runner)()
    finally:
        stop.set()
        await asyncio.wait_for(running, 10)  # not an hour

    again = ProjectionRunner(runtime.pool, runtime.store, PassListProjection(), gather=3600)
    assert await again.catch_up() > 0  # a start reads at once, from where the runner stopped
    assert await runtime.pool.fetchval("SELECT count(*) FROM pass_list") == 2


def test_only_the_background_read_models_gather(runtime: Runtime) -> None:
    """Answers wait for the serving runner (read-your-writes): it never holds a batch back."""
    by_serving = {r.projections[0].serves_requests: r.gather for r in runtime.runners}
    assert by_serving[True] == 0
    assert by_serving[False] > 0
