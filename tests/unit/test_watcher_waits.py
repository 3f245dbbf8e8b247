"""A command's wait for the read models it reads is woken by those read models only."""

from __future__ import annotations

import asyncio
from typing import cast

import asyncpg

from hallpass.projections.watch import Watcher


async def test_a_background_read_model_moving_neither_wakes_nor_ends_the_wait() -> None:
    """The background read models have a runner of their own (decision 112): their progress
    must not count as the served ones moving, or a stuck serving runner would never stall."""
    watcher = Watcher(cast(asyncpg.Pool, None), ("pass_list",))
    checks = 0
    caught_up = watcher.caught_up

    def counted(notification_id: int) -> bool:
        nonlocal checks
        checks += 1
        return caught_up(notification_id)

    watcher.caught_up = counted  # type: ignore[method-assign]
    waiting = asyncio.create_task(watcher.wait_for(3, timeout=600, stall=600))
    for _ in range(5):
        await asyncio.sleep(0)
    before = checks

    for payload in ("pass_timers:3", "report_passes:3"):
        watcher._on_projected(None, None, None, payload)
    for _ in range(5):
        await asyncio.sleep(0)
    assert checks == before and not waiting.done()

    watcher._on_projected(None, None, None, "pass_list:3")
    assert await waiting
