"""Per-process listener: projection positions (read-your-writes) and school change feeds."""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Any

import asyncpg

from hallpass.projections.base import CHANGES_CHANNEL, PROJECTED_CHANNEL

# How long a command waits for the read models to show its change (docs/decisions/033).
WAIT_TIMEOUT = 5.0
WAIT_STALL = 2.0


class Watcher:
    """Holds one LISTEN connection; any number of waiters and subscribers share it."""

    def __init__(self, pool: asyncpg.Pool, projections: tuple[str, ...]) -> None:
        self.pool = pool
        self.projections = projections
        self.positions: dict[str, int] = {}
        self._moved = asyncio.Condition()
        self._subscribers: dict[str, set[asyncio.Queue[str]]] = defaultdict(set)
        self._conn: asyncpg.Connection | None = None

    async def start(self) -> None:
        self._conn = await self.pool.acquire()
        await self._conn.add_listener(PROJECTED_CHANNEL, self._on_projected)
        await self._conn.add_listener(CHANGES_CHANNEL, self._on_change)
        rows = await self._conn.fetch(
            "SELECT application_name, max(notification_id) AS position FROM hallpass_tracking"
            " GROUP BY application_name"
        )
        for row in rows:
            self.positions[row["application_name"]] = row["position"]

    async def stop(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                await self._conn.remove_listener(PROJECTED_CHANNEL, self._on_projected)
                await self._conn.remove_listener(CHANGES_CHANNEL, self._on_change)
            await self.pool.release(self._conn)
            self._conn = None
        for queues in self._subscribers.values():
            for queue in queues:
                queue.put_nowait("")

    def _on_projected(self, _c: Any, _pid: Any, _ch: Any, payload: str) -> None:
        name, _, position = payload.rpartition(":")
        value = int(position)
        if value > self.positions.get(name, 0):
            self.positions[name] = value
            asyncio.get_running_loop().create_task(self._notify())

    async def _notify(self) -> None:
        async with self._moved:
            self._moved.notify_all()

    def _on_change(self, _c: Any, _pid: Any, _ch: Any, school_id: str) -> None:
        for queue in list(self._subscribers.get(school_id, ())):
            if queue.qsize() < 100:
                queue.put_nowait(school_id)

    def caught_up(self, notification_id: int) -> bool:
        return all(self.positions.get(name, 0) >= notification_id for name in self.projections)

    async def wait_for(
        self, notification_id: int | None, timeout: float = WAIT_TIMEOUT, stall: float = WAIT_STALL
    ) -> bool:
        """Wait until the projections requests read have processed `notification_id`.

        False when they have not after `timeout` seconds, or as soon as `stall` seconds pass
        with no projection moving at all (the projector is stopped or stuck), so a command
        does not sit out the whole timeout for a projector that is not there.
        """
        if notification_id is None or self.caught_up(notification_id):
            return True
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        async with self._moved:
            while not self.caught_up(notification_id):
                remaining = deadline - loop.time()
                if remaining <= 0:
                    return False
                try:
                    await asyncio.wait_for(self._moved.wait(), min(remaining, stall))
                except TimeoutError:
                    return False
        return True

    @contextlib.asynccontextmanager
    async def subscribe(self, school_id: str) -> AsyncIterator[asyncio.Queue[str]]:
        queue: asyncio.Queue[str] = asyncio.Queue()
        self._subscribers[school_id].add(queue)
        try:
            yield queue
        finally:
            self._subscribers[school_id].discard(queue)
