"""Synchronous eventsourcing recorder that drives an EventStore on a background loop."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine, Sequence
from typing import Any, TypeVar
from uuid import UUID

import asyncpg  # type: ignore[import-untyped, unused-ignore]
from eventsourcing.persistence import (
    InterfaceError,
    ListenNotifySubscription,
    Notification,
    ProcessRecorder,
    StoredEvent,
    Subscription,
    Tracking,
)

from hallpass.eventstore.errors import translated_errors
from hallpass.eventstore.store import EventStore

_T = TypeVar("_T")

_CLOSE_TIMEOUT = 10.0


async def _create_pool(dsn: str, min_size: int, max_size: int) -> asyncpg.Pool:
    pool: asyncpg.Pool = await asyncpg.create_pool(dsn, min_size=min_size, max_size=max_size)
    return pool


class SyncApplicationRecorder(ProcessRecorder):
    """eventsourcing ``ProcessRecorder`` backed by an asyncpg ``EventStore``.

    The asyncpg pool lives on a private event loop in a daemon thread; every
    recorder method blocks the calling thread until its coroutine completes.
    """

    def __init__(
        self,
        dsn: str,
        *,
        events_table: str = "hallpass_events",
        tracking_table: str = "hallpass_tracking",
        channel: str = "hallpass_events",
        min_pool_size: int = 1,
        max_pool_size: int = 10,
        create_schema: bool = True,
    ) -> None:
        self.dsn = dsn
        self._closed = False
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="hallpass-eventstore", daemon=True
        )
        self._thread.start()
        try:
            with translated_errors():
                pool = self.run(_create_pool(dsn, min_pool_size, max_pool_size))
            self.store = EventStore(
                pool, events_table=events_table, tracking_table=tracking_table, channel=channel
            )
            if create_schema:
                self.run(self.store.create_schema())
        except BaseException:
            self.close()
            raise

    def run(self, coroutine: Coroutine[Any, Any, _T]) -> _T:
        """Run ``coroutine`` on the recorder's event loop and return its result."""
        if self._closed:
            coroutine.close()
            msg = "Recorder is closed"
            raise InterfaceError(msg)
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result()

    def close(self) -> None:
        """Close the connection pool and stop the background event loop."""
        if self._closed:
            return
        store: EventStore | None = getattr(self, "store", None)
        if store is not None:
            self.run(self._close_pool(store.pool))
        self._closed = True
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()

    @staticmethod
    async def _close_pool(pool: asyncpg.Pool) -> None:
        try:
            await asyncio.wait_for(pool.close(), timeout=_CLOSE_TIMEOUT)
        except TimeoutError:
            pool.terminate()

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        tracking: Tracking | None = kwargs.get("tracking")
        return self.run(self.store.append(stored_events, tracking=tracking))

    def select_events(
        self,
        originator_id: UUID | str,
        *,
        gt: int | None = None,
        lte: int | None = None,
        desc: bool = False,
        limit: int | None = None,
    ) -> Sequence[StoredEvent]:
        stream_id = originator_id if isinstance(originator_id, UUID) else UUID(originator_id)
        return self.run(self.store.read_stream(stream_id, gt=gt, lte=lte, desc=desc, limit=limit))

    def select_notifications(self, *args: Any, **kwargs: Any) -> Sequence[Notification]:
        """`EventStore.select_notifications`, whose parameters are the recorder interface's."""
        return self.run(self.store.select_notifications(*args, **kwargs))

    def max_notification_id(self) -> int | None:
        return self.run(self.store.max_notification_id())

    def subscribe(
        self, gt: int | None = None, topics: Sequence[str] = ()
    ) -> Subscription[SyncApplicationRecorder]:
        return NotifySubscription(recorder=self, gt=gt, topics=topics)

    def insert_tracking(self, tracking: Tracking) -> None:
        self.run(self.store.append([], tracking=tracking))

    def max_tracking_id(self, application_name: str) -> int | None:
        return self.run(self.store.max_tracking_id(application_name))

    def has_tracking_id(self, application_name: str, notification_id: int | None) -> bool:
        return self.run(self.store.has_tracking_id(application_name, notification_id))

    def listen(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Call ``callback`` (on the loop thread) whenever the store's channel is notified.

        Returns a function that stops listening and closes the listening connection.
        """
        channel = self.store.channel

        def on_notify(*_: object) -> None:
            callback()

        async def start() -> asyncpg.Connection:
            conn: asyncpg.Connection = await asyncpg.connect(self.dsn)
            try:
                await conn.add_listener(channel, on_notify)
            except BaseException:
                await conn.close()
                raise
            return conn

        with translated_errors():
            conn = self.run(start())
        lock = threading.Lock()
        stopped = False

        def stop() -> None:
            nonlocal stopped
            with lock:
                if stopped:
                    return
                stopped = True
            if not self._closed:
                self.run(conn.close(timeout=_CLOSE_TIMEOUT))

        return stop


class NotifySubscription(ListenNotifySubscription[SyncApplicationRecorder]):
    """Subscription that pulls notifications whenever the store's channel is notified."""

    def __init__(
        self,
        recorder: SyncApplicationRecorder,
        gt: int | None = None,
        topics: Sequence[str] = (),
    ) -> None:
        super().__init__(recorder=recorder, gt=gt, topics=topics)
        try:
            self._stop_listening = recorder.listen(self._has_been_notified.set)
        except BaseException:
            super().stop()
            self._pull_thread.join()
            raise
        self._has_been_notified.set()

    def stop(self) -> None:
        super().stop()
        stop_listening: Callable[[], None] | None = getattr(self, "_stop_listening", None)
        if stop_listening is not None:
            stop_listening()
