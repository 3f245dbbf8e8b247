"""Telling an outage of PostgreSQL or Redis from a bug, and waiting politely for the end of one.

An outage (the server restarting, refusing connections, out of connections, a connection cut
mid-query) passes by itself: requests answer 503 with `Retry-After`, and the long-running loops
(projection runners, listeners, the timer sweep) back off and try again. Anything else is a bug.
"""

from __future__ import annotations

import asyncio
import random

import asyncpg
import redis

RETRY_AFTER_SECONDS = 5

_OUTAGES: tuple[type[BaseException], ...] = (
    OSError,  # refused, reset, unreachable, socket file gone, connect timed out
    asyncpg.PostgresConnectionError,  # class 08, and a connection that died mid-query
    asyncpg.OperatorInterventionError,  # class 57: shutting down, starting up, crash recovery
    asyncpg.InsufficientResourcesError,  # class 53: too many connections, disk full
    asyncpg.InternalClientError,  # a connection left mid-operation when the server went away
    redis.ConnectionError,
    redis.TimeoutError,
)


def is_outage(error: BaseException) -> bool:
    """True when `error`, or what it was raised from, says a database or Redis is unreachable now."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, _OUTAGES):
            return True
        if isinstance(current, asyncpg.InterfaceError) and "connection is closed" in str(current):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


class Backoff:
    """Delays that double from `first` up to `most` seconds, with jitter, until `reset`."""

    def __init__(self, first: float = 0.1, most: float = 5.0) -> None:
        self.first = first
        self.most = most
        self.failures = 0

    def next(self) -> float:
        delay: float = min(self.most, self.first * 2.0**self.failures)
        self.failures = min(self.failures + 1, 30)
        return delay * random.uniform(0.5, 1.0)

    def reset(self) -> None:
        self.failures = 0


async def wait_any(*events: asyncio.Event, timeout: float | None) -> None:
    """Return when any of `events` is set, or after `timeout` seconds."""
    if any(e.is_set() for e in events):
        return
    waiters = [asyncio.ensure_future(e.wait()) for e in events]
    try:
        await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
