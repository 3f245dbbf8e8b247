"""The event loop a long-running process runs on."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def run(main: Coroutine[Any, Any, T]) -> T:
    """Run `main` to its end on uvloop where it is installed, as uvicorn runs the web processes
    (`uvicorn[standard]` brings it), else on asyncio's own loop. The projector runs on it: each
    of its batches is a few round trips to the database, and on asyncio's loop it spent a fifth
    to two fifths more CPU per command at one client (decision 135)."""
    factory: Callable[[], asyncio.AbstractEventLoop] | None
    try:
        import uvloop

        factory = uvloop.new_event_loop
    except ImportError:  # pragma: no cover - not on Windows, nor where it does not build
        factory = None
    with asyncio.Runner(loop_factory=factory) as runner:
        return runner.run(main)
