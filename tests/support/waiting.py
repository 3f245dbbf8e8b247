"""Waiting in tests for what another task or process does: a condition polled up to a deadline."""

from __future__ import annotations

import asyncio
import time


async def eventually(check: object, timeout: float = 20.0) -> None:
    """Return once `check()` (a function, or a coroutine function) answers true; fail the test
    if it has not by `timeout` seconds."""
    assert callable(check)
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        assert time.monotonic() < deadline, "condition not met before the deadline"
        await asyncio.sleep(0.02)
