"""Runs a projection: follows the notification log, exactly once, restartable, rebuildable."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import asyncpg
from eventsourcing.persistence import Notification

from hallpass.aggregates.encoding import TypedMapper
from hallpass.eventstore import EventStore
from hallpass.outages import Backoff, is_outage, wait_any
from hallpass.projections.base import CHANGES_CHANNEL, PROJECTED_CHANNEL, Projection
from hallpass.projections.listen import Listener
from hallpass.projections.parking import ParkedEvents, describe, held_error, is_transient

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]


@dataclass
class RetryReport:
    projection: str
    applied: list[int] = field(default_factory=list)
    still_parked: list[int] = field(default_factory=list)


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
        self.parked = ParkedEvents(pool)
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self.listener: Listener | None = None

    async def create_schema(self) -> None:
        async with self.pool.acquire() as conn:
            await self.parked.create_schema(conn)
            await self.projection.create_schema(conn)

    async def position(self) -> int:
        return await self.store.max_tracking_id(self.projection.name) or 0

    async def process_batch(self) -> int:
        """Project the next batch of notifications in one transaction; return how many.

        An event the projection fails on is parked and the batch goes on past it (see
        `parking`); a failure of the database itself aborts the batch, to be tried again.
        """
        async with self.pool.acquire() as conn, conn.transaction():
            await self.store.lock_tracking(conn, self.projection.name)
            last = await self.store.max_tracking_id(self.projection.name, conn=conn) or 0
            notifications = await self.store.select_notifications(
                last + 1, self.batch_size, inclusive_of_start=True, conn=conn
            )
            if not notifications:
                return 0
            held = await self.parked.held_streams(conn, self.projection.name)
            try:
                # One savepoint for the whole batch: the usual case costs no extra round trips.
                async with conn.transaction():
                    schools = await self._apply_batch(conn, notifications, held, each=False)
            except Exception as e:
                if is_transient(e):
                    raise
                schools = await self._apply_batch(conn, notifications, held, each=True)
            position = notifications[-1].id
            await self.store.insert_tracking(conn, self.projection.name, position)
            await conn.execute(
                "SELECT pg_notify($1, $2)", PROJECTED_CHANNEL, f"{self.projection.name}:{position}"
            )
            await self._announce(conn, schools)
            return len(notifications)

    async def _apply_batch(
        self,
        conn: asyncpg.Connection,
        notifications: list[Notification],
        held: Mapping[UUID, int],
        *,
        each: bool,
    ) -> set[str]:
        """Apply the batch; with `each`, every event in its own savepoint, parking those that fail."""
        blocked: dict[UUID | str, int] = {stream: first for stream, first in held.items()}
        schools: set[str] = set()
        for notification in notifications:
            first = blocked.get(notification.originator_id)
            if first is not None:
                await self.parked.park(conn, self.projection.name, notification, held_error(first), first)
                continue
            if not each:
                changed = await self._apply(conn, notification)
            else:
                try:
                    async with conn.transaction():
                        changed = await self._apply(conn, notification)
                except Exception as e:
                    if is_transient(e):
                        raise
                    log.error(
                        "projection %s parked event %d (%s): %s",
                        self.projection.name,
                        notification.id,
                        notification.topic,
                        describe(e),
                    )
                    await self.parked.park(conn, self.projection.name, notification, describe(e))
                    blocked[notification.originator_id] = notification.id
                    continue
            if changed is not None:
                schools.add(str(changed))
        return schools

    async def _apply(self, conn: asyncpg.Connection, notification: Notification) -> UUID | None:
        event = self.mapper.to_domain_event(notification)
        return await self.projection.handle(conn, event, notification.id)

    @staticmethod
    async def _announce(conn: asyncpg.Connection, schools: set[str]) -> None:
        for school in schools:
            await conn.execute("SELECT pg_notify($1, $2)", CHANGES_CHANNEL, school)

    async def retry_parked(self, notification_id: int | None = None) -> RetryReport:
        """Replay this projection's parked events (or the one given) in log order.

        Runs in one transaction under the projection's lock, so it never interleaves with a
        running batch. An event applied now leaves the table; one that fails again stays with
        its new error, and later parked events of its stream stay held behind it. A failure of
        the database aborts the whole retry, changing nothing.
        """
        name = self.projection.name
        report = RetryReport(name)
        async with self.pool.acquire() as conn, conn.transaction():
            await self.store.lock_tracking(conn, name)
            blocked: dict[UUID, int] = {}
            schools: set[str] = set()
            for parked in await self.parked.entries(conn, name):
                first = blocked.get(parked.originator_id)
                chosen = notification_id is None or parked.notification_id == notification_id
                if first is not None:
                    await self.parked.held_again(conn, name, parked.notification_id, first)
                    if chosen:
                        report.still_parked.append(parked.notification_id)
                    continue
                if not chosen:
                    blocked[parked.originator_id] = parked.notification_id
                    continue
                error = await self._retry_one(conn, parked.notification_id, schools)
                if error is None:
                    await self.parked.remove(conn, name, parked.notification_id)
                    report.applied.append(parked.notification_id)
                else:
                    await self.parked.failed_again(conn, name, parked.notification_id, error, None)
                    blocked[parked.originator_id] = parked.notification_id
                    report.still_parked.append(parked.notification_id)
            await self._announce(conn, schools)
        return report

    async def _retry_one(
        self, conn: asyncpg.Connection, notification_id: int, schools: set[str]
    ) -> str | None:
        found = await self.store.select_notifications(
            notification_id, 1, stop=notification_id, inclusive_of_start=True, conn=conn
        )
        if not found:
            return f"notification {notification_id} is not in the log"
        try:
            async with conn.transaction():
                changed = await self._apply(conn, found[0])
        except Exception as e:
            if is_transient(e):
                raise
            return describe(e)
        if changed is not None:
            schools.add(str(changed))
        return None

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
        """Empty the read model, its tracking and its parked events, then project the whole log.

        Events that still fail are parked again on the way.
        """
        async with self.pool.acquire() as conn, conn.transaction():
            await self.store.lock_tracking(conn, self.projection.name)
            for table in self.projection.tables:
                await conn.execute(f"TRUNCATE {table}")
            await self.store.delete_tracking(conn, self.projection.name)
            await self.parked.clear(conn, self.projection.name)
        return await self.catch_up(progress)

    async def run(self, stop: asyncio.Event) -> None:
        """Follow the log until `stop` is set: woken by NOTIFY, polling as a safety net.

        The database may go away and come back: the listener reconnects and wakes this loop
        (a NOTIFY sent meanwhile is lost), and a failing batch is retried with a growing pause.
        """
        wake = asyncio.Event()

        def on_notify(*_: Any) -> None:
            wake.set()

        async def on_connect(_: asyncpg.Connection) -> None:
            wake.set()

        listener = Listener(
            self.pool,
            {self.store.channel: on_notify},
            name=f"projection {self.projection.name}",
            on_connect=on_connect,
        )
        self.listener = listener
        listening = asyncio.create_task(listener.run(stop))
        backoff = Backoff()
        try:
            while not stop.is_set():
                wake.clear()
                pause = self.poll_interval
                try:
                    while await self.process_batch():
                        pass
                    backoff.reset()
                except Exception as e:
                    cause = e.__cause__ or e  # the event store re-raises asyncpg errors as its own
                    if not (is_outage(e) or is_transient(cause) or isinstance(cause, asyncpg.PostgresError)):
                        raise
                    pause = backoff.next()
                    log.warning("projection %s: %s; retrying in %.1fs", self.projection.name, e, pause)
                await wait_any(wake, stop, timeout=pause)
        finally:
            if not stop.is_set():
                listening.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listening
