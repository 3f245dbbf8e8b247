"""Waiting in tests for what another task or process does: a condition polled up to a deadline."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable


async def eventually(check: Callable[[], object | Awaitable[object]], timeout: float = 20.0) -> None:
    """Return once `check()` (a function, or a coroutine function) answers true; fail the test
    if it has not by `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        assert time.monotonic() < deadline, "condition not met before the deadline"
        await asyncio.sleep(0.02)
