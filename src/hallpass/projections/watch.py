"""Per-process listener: projection positions (read-your-writes), school change feeds, and the
head of the log (the event stream's live tail)."""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from typing import Any
from uuid import UUID

import asyncpg

from hallpass.eventstore.identifiers import quote_table_name
from hallpass.eventstore.notice import head_of, streams_of
from hallpass.projections.base import CHANGES_CHANNEL, PROJECTED_CHANNEL
from hallpass.projections.listen import Handler, Listener

# How long a command waits for the read models to show its change (docs/decisions/033).
WAIT_TIMEOUT = 5.0
WAIT_STALL = 2.0


class Watcher:
    """Holds one LISTEN connection; any number of waiters and subscribers share it.

    The connection comes back after the database does. On each (re)connect the positions are
    read again and every subscriber is told that its school may have changed, since the
    NOTIFYs sent while nobody listened are lost.
    """

    def __init__(
        self,
        pool: asyncpg.Pool,
        projections: tuple[str, ...],
        *,
        events_channel: str = "hallpass_events",
        events_table: str = "hallpass_events",
        also: Mapping[str, Handler] | None = None,
        streams_moved: Callable[[Iterator[tuple[UUID, int]]], None] | None = None,
    ) -> None:
        self._head_sql = f"SELECT max(notification_id) FROM {quote_table_name(events_table)}"
        self.pool = pool
        self.projections = projections
        self.positions: dict[str, int] = {}
        """Every projection's position heard of, those commands wait for and the others."""
        self.head = 0
        """The highest notification id the log's NOTIFYs (or a read on reconnecting) told of."""
        self._streams_moved = streams_moved
        """Told the streams and versions each append's NOTIFY names (the process's aggregate
        cache, decision 124)."""
        self._moved = asyncio.Condition()
        """Notified when a projection commands wait for moves; `_moved_behind` for the others, so
        their progress neither wakes a waiting command nor hides that its projections are stuck."""
        self._moved_behind = asyncio.Condition()
        self._grew = asyncio.Event()
        """Set (and replaced by a new one) each time the head moves, or when the watcher stops."""
        self._subscribers: dict[str, set[asyncio.Queue[str]]] = defaultdict(set)
        self.listener = Listener(
            pool,
            {
                PROJECTED_CHANNEL: self._on_projected,
                CHANGES_CHANNEL: self._on_change,
                events_channel: self._on_appended,
                **(also or {}),
            },
            name="watcher",
            on_connect=self._resume,
        )
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Start listening; return once the first connection is made and positions are read."""
        self._stop.clear()
        self._task = asyncio.create_task(self.listener.run(self._stop))
        connected = asyncio.ensure_future(self.listener.connected.wait())
        try:
            await asyncio.wait({self._task, connected}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            connected.cancel()
        if self._task.done():
            self._task.result()

    def listening(self) -> int | None:
        """Which connection listens now (it changes when the connection is made again), or None
        while none does: NOTIFYs are being missed."""
        return self.listener.connections if self.listener.connected.is_set() else None

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    async def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            await self._task
            self._task = None
        self._tell_grown()
        for queues in self._subscribers.values():
            for queue in queues:
                queue.put_nowait("")

    async def _resume(self, conn: asyncpg.Connection) -> None:
        rows = await conn.fetch(
            "SELECT application_name, max(notification_id) AS position FROM hallpass_tracking"
            " GROUP BY application_name"
        )
        for row in rows:
            name, position = row["application_name"], row["position"]
            if position is not None and position > self.positions.get(name, 0):
                self.positions[name] = position
        await self._notify(self._moved)
        await self._notify(self._moved_behind)
        head = await conn.fetchval(self._head_sql)
        self._grown_to(head or 0)
        for school_id, queues in self._subscribers.items():
            for queue in list(queues):
                if queue.qsize() < 100:
                    queue.put_nowait(school_id)

    def _on_projected(self, _c: Any, _pid: Any, _ch: Any, payload: str) -> None:
        name, _, position = payload.rpartition(":")
        value = int(position)
        if value > self.positions.get(name, 0):
            self.positions[name] = value
            # A background read model's runner (decision 112) moves no command's projections.
            moved = self._moved if name in self.projections else self._moved_behind
            asyncio.get_running_loop().create_task(self._notify(moved))

    @staticmethod
    async def _notify(moved: asyncio.Condition) -> None:
        async with moved:
            moved.notify_all()

    def _on_change(self, _c: Any, _pid: Any, _ch: Any, school_id: str) -> None:
        for queue in list(self._subscribers.get(school_id, ())):
            if queue.qsize() < 100:
                queue.put_nowait(school_id)

    def _on_appended(self, _c: Any, _pid: Any, _ch: Any, payload: str) -> None:
        head = head_of(payload)
        if head is not None:
            self._grown_to(head)
        if self._streams_moved is not None:
            self._streams_moved(streams_of(payload))

    def _grown_to(self, head: int) -> None:
        if head > self.head:
            self.head = head
            self._tell_grown()

    def _tell_grown(self) -> None:
        told, self._grew = self._grew, asyncio.Event()
        told.set()

    async def log_past(self, position: int, timeout: float) -> bool:
        """Wait until the log's head is beyond `position` (True), `timeout` passes or the watcher
        stops (False). One LISTEN connection serves every follower of the process."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self.head <= position and not self.stopped:
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False
            try:
                await asyncio.wait_for(self._grew.wait(), remaining)
            except TimeoutError:
                return False
        return self.head > position

    def caught_up(self, notification_id: int, names: tuple[str, ...] | None = None) -> bool:
        return all(self.positions.get(name, 0) >= notification_id for name in names or self.projections)

    async def wait_for(
        self,
        notification_id: int | None,
        timeout: float = WAIT_TIMEOUT,
        stall: float = WAIT_STALL,
        *,
        names: tuple[str, ...] | None = None,
    ) -> bool:
        """Wait until the projections requests read (or those `names`, which must all be of them
        or all not) have processed `notification_id`.

        False when they have not after `timeout` seconds, or as soon as `stall` seconds pass
        with none of them moving at all (the projector is stopped or stuck), so a command
        does not sit out the whole timeout for a projector that is not there.
        """
        serving = names is None or set(names) <= set(self.projections)
        if not serving and not set(names or ()).isdisjoint(self.projections):
            raise ValueError(f"{names} mixes projections commands wait for with others")
        if notification_id is None or self.caught_up(notification_id, names):
            return True
        moved = self._moved if serving else self._moved_behind
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        async with moved:
            while not self.caught_up(notification_id, names):
                remaining = deadline - loop.time()
                if remaining <= 0:
                    return False
                try:
                    await asyncio.wait_for(moved.wait(), min(remaining, stall))
                except TimeoutError:
                    return False
        return True

    async def log_shown_by(self, names: tuple[str, ...], timeout: float = WAIT_TIMEOUT) -> bool:
        """Wait until the projections `names` have processed every event committed before this
        call (the log's head read now), as `wait_for` does: read-your-writes for read models no
        command waits for (decision 120). False if they have not within `timeout`."""
        head = await self.pool.fetchval(self._head_sql)
        return await self.wait_for(head, timeout, names=names)

    @contextlib.asynccontextmanager
    async def subscribe(self, school_id: str) -> AsyncIterator[asyncio.Queue[str]]:
        queue: asyncio.Queue[str] = asyncio.Queue()
        self._subscribers[school_id].add(queue)
        try:
            yield queue
        finally:
            self._subscribers[school_id].discard(queue)
