"""A command's wait for the read models it reads is woken by those read models only."""

from __future__ import annotations

import asyncio
from typing import cast

import asyncpg
import pytest

from hallpass.projections.watch import Watcher


async def test_a_background_read_model_moving_neither_wakes_nor_ends_the_wait() -> None:
    """The background read models have a runner of their own (decision 112): their progress
    must not count as the served ones moving, or a stuck serving runner would never stall."""
    watcher = Watcher(cast(asyncpg.Pool, None), ("pass_list",))
    checks = 0
    caught_up = watcher.caught_up

    def counted(notification_id: int, names: tuple[str, ...] | None = None) -> bool:
        nonlocal checks
        checks += 1
        return caught_up(notification_id, names)

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


async def test_a_wait_for_background_read_models_is_woken_by_them_only() -> None:
    """Reads of the background read models (the audit index) wait for those (decision 120): the
    served ones moving is no progress there, and a wait may not mix the two kinds."""
    watcher = Watcher(cast(asyncpg.Pool, None), ("pass_list",))
    waiting = asyncio.create_task(watcher.wait_for(3, timeout=600, stall=600, names=("audit_index",)))
    watcher._on_projected(None, None, None, "pass_list:3")
    watcher._on_projected(None, None, None, "audit_index:2")
    for _ in range(5):
        await asyncio.sleep(0)
    assert not waiting.done()
    watcher._on_projected(None, None, None, "audit_index:3")
    assert await waiting
    assert watcher.caught_up(3) and watcher.caught_up(3, ("audit_index",))
    assert not watcher.caught_up(3, ("report_passes",))

    assert not await watcher.wait_for(4, timeout=600, stall=0.001, names=("audit_index",))
    with pytest.raises(ValueError, match="mixes"):
        await watcher.wait_for(9, names=("pass_list", "audit_index"))
