"""Runs a projection: follows the notification log, exactly once, restartable, rebuildable."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import asyncpg

from hallpass.aggregates.encoding import TypedMapper
from hallpass.eventstore import EventStore
from hallpass.projections.base import CHANGES_CHANNEL, PROJECTED_CHANNEL, Projection

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]


class ProjectionRunner:
    def __init__(
        self,
        pool: asyncpg.Pool,
        store: EventStore,
        projection: Projection,
        *,
        batch_size: int = 500,
        poll_interval: float = 1.0,
    ) -> None:
        self.pool = pool
        self.store = store
        self.projection = projection
        self.mapper = TypedMapper()
        self.batch_size = batch_size
        self.poll_interval = poll_interval

    async def create_schema(self) -> None:
        async with self.pool.acquire() as conn:
            await self.projection.create_schema(conn)

    async def position(self) -> int:
        return await self.store.max_tracking_id(self.projection.name) or 0

    async def process_batch(self) -> int:
        """Project the next batch of notifications in one transaction; return how many."""
        async with self.pool.acquire() as conn, conn.transaction():
            await self.store.lock_tracking(conn, self.projection.name)
            last = await self.store.max_tracking_id(self.projection.name, conn=conn) or 0
            notifications = await self.store.select_notifications(
                last + 1, self.batch_size, inclusive_of_start=True, conn=conn
            )
            if not notifications:
                return 0
            schools: set[str] = set()
            for notification in notifications:
                event = self.mapper.to_domain_event(notification)
                changed = await self.projection.handle(conn, event, notification.id)
                if changed is not None:
                    schools.add(str(changed))
            position = notifications[-1].id
            await self.store.insert_tracking(conn, self.projection.name, position)
            await conn.execute(
                "SELECT pg_notify($1, $2)", PROJECTED_CHANNEL, f"{self.projection.name}:{position}"
            )
            for school in schools:
                await conn.execute("SELECT pg_notify($1, $2)", CHANGES_CHANNEL, school)
            return len(notifications)

    async def catch_up(self, progress: Progress | None = None) -> int:
        total = 0
        end = await self.store.max_notification_id() or 0
        while True:
            count = await self.process_batch()
            total += count
            if progress is not None:
                progress(min(await self.position(), end), end)
            if count == 0:
                return total

    async def rebuild(self, progress: Progress | None = None) -> int:
        """Empty the read model and its tracking, then project the whole log from the start."""
        async with self.pool.acquire() as conn, conn.transaction():
            for table in self.projection.tables:
                await conn.execute(f"TRUNCATE {table}")
            await self.store.delete_tracking(conn, self.projection.name)
        return await self.catch_up(progress)

    async def run(self, stop: asyncio.Event) -> None:
        """Follow the log until `stop` is set: woken by NOTIFY, polling as a safety net."""
        wake = asyncio.Event()

        def on_notify(*_: Any) -> None:
            wake.set()

        listener = await self.pool.acquire()
        try:
            await listener.add_listener(self.store.channel, on_notify)
            while not stop.is_set():
                wake.clear()
                try:
                    while await self.process_batch():
                        pass
                except (asyncpg.PostgresError, OSError) as e:
                    log.warning("projection %s: %s; retrying", self.projection.name, e)
                waiter = asyncio.ensure_future(wake.wait())
                stopper = asyncio.ensure_future(stop.wait())
                await asyncio.wait(
                    {waiter, stopper},
                    timeout=self.poll_interval,
                    return_when=asyncio.FIRST_COMPLETED,
                )
                waiter.cancel()
                stopper.cancel()
        finally:
            await listener.remove_listener(self.store.channel, on_notify)
            await self.pool.release(listener)
