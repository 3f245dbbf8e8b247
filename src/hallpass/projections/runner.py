"""Runs a projection: follows the notification log, exactly once, restartable, rebuildable."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple, TypeVar
from uuid import UUID

import asyncpg
from eventsourcing.persistence import Notification

from hallpass.aggregates.encoding import Decoder, TypedMapper
from hallpass.eventstore import EventStore
from hallpass.eventstore.ids import as_read
from hallpass.eventstore.notice import head_of
from hallpass.eventstore.store import DbConnection, Read
from hallpass.heap import collection_paused
from hallpass.outages import Backoff, is_outage, wait_any
from hallpass.projections.base import (
    CHANGES_CHANNEL,
    PROJECTED_CHANNEL,
    Projection,
    Straight,
    StraightValues,
    handles,
    run_statement,
    totals,
)
from hallpass.projections.folding import Written
from hallpass.projections.listen import Listener
from hallpass.projections.parking import ParkedEvents, describe, held_error, is_transient
from hallpass.projections.pipeline import Pipeline

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
T = TypeVar("T")

# Every NOTIFY on the log wakes a runner; the poll only covers one lost while nobody listened.
SAFETY_POLL_SECONDS = 60.0
REBUILD_BATCH = 5_000
YIELD_EVERY = 50  # events handled between turns of the event loop while preparing


@dataclass
class RetryReport:
    projection: str
    applied: list[int] = field(default_factory=list)
    still_parked: list[int] = field(default_factory=list)


class EventFailed(Exception):
    """A handler failed on an event of its own (not the database): the batch is redone event by event."""


class ProjectionRunner:
    """Feeds the log to several projections together, in one transaction per batch.

    Each projection keeps its own tracking position, parked events and lock, so a projection
    that was rebuilt or retried alone is fed from where it is; the runner reads from the lowest
    position and hands each projection only the events beyond its own (docs/decisions/055).
    """

    def __init__(
        self,
        pool: asyncpg.Pool,
        store: EventStore,
        *projections: Projection,
        batch_size: int = 500,
        poll_interval: float = SAFETY_POLL_SECONDS,
        gather: float = 0.0,
    ) -> None:
        if not projections:
            raise ValueError("a runner needs at least one projection")
        names = [p.name for p in projections]
        if len(set(names)) != len(names):
            raise ValueError(f"projection names must differ: {names}")
        self.pool = pool
        self.store = store
        self.projections = tuple(projections)
        self.names = tuple(sorted(names))  # locks are taken in this order
        self.mapper = TypedMapper()
        # A rebuild's: the mapper's events, its work per topic done once, ids as asyncpg reads them.
        self.decode = Decoder(self.mapper, as_read)
        self._topics: dict[str, _Topic] = {}  # see `_topic`
        self.parked = ParkedEvents(pool)
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        # Live batches start at least this many seconds apart: events appended meanwhile wait
        # to go in one batch, its fixed statements shared (decision 133). 0 for the read
        # models answers wait for.
        self.gather = gather
        self.listener: Listener | None = None
        self.read = 0  # the last notification a committed batch read
        # Told, once a batch has committed, its events by notification id (decoded ones; each has
        # its `timestamp`).
        self.on_visible: Callable[[dict[int, Any]], None] | None = None

    @property
    def label(self) -> str:
        return ", ".join(p.name for p in self.projections)

    def chosen(self, name: str | None) -> list[Projection]:
        """The projections named (all with None); ValueError for a name this runner lacks."""
        if name is None:
            return list(self.projections)
        found = [p for p in self.projections if p.name == name]
        if not found:
            raise ValueError(f"no projection named {name!r}; the projections are {self.label}")
        return found

    async def create_schema(self) -> None:
        async with self.pool.acquire() as conn:
            await self.parked.create_schema(conn)
            for projection in self.projections:
                await projection.create_schema(conn)

    async def positions(self, conn: DbConnection | None = None) -> dict[str, int]:
        return await self.store.tracking_positions(list(self.names), conn=conn)

    async def position(self) -> int:
        """How far every projection of this runner has got: the lowest of their positions."""
        return min((await self.positions()).values())

    async def process_batch(self) -> int:
        """Project the next batch of notifications in one transaction; return how many were read.

        An event a projection fails on is parked and the batch goes on past it (see `parking`);
        a failure of the database itself aborts the batch, to be tried again.
        """
        try:
            return await self._process_batch(each=False)
        except EventFailed:
            # The fast attempt is rolled back whole; now each event in its own savepoint.
            return await self._process_batch(each=True)

    async def _process_batch(self, *, each: bool) -> int:
        async with self.pool.acquire() as conn:
            # The batch commits without waiting for its WAL to reach the disk (decision 104): a
            # batch lost in a crash takes its tracking with it, so it is projected again.
            if each:  # each event in a savepoint: asyncpg's transaction, which makes them
                async with conn.transaction():
                    await conn.execute("SET LOCAL synchronous_commit TO off")
                    await self.store.lock_trackings(conn, self.names)
                    read, events = await self._batch(conn, None)
            else:  # begun, set and locked in one round trip (decision 111)
                locked = self.store.transaction_with_trackings_locked
                async with locked(conn, self.names, synchronous_commit=False, generic_plans=True):
                    read, events = await self._batch(conn, Pipeline())
        if read:
            self.read = max(self.read, read[-1].id)
            if self.on_visible is not None:
                self.on_visible(events)
        return len(read)

    async def _batch(
        self, conn: asyncpg.Connection, pipeline: Pipeline | None
    ) -> tuple[list[Notification], dict[int, Any]]:
        """Read the batch, apply it, write the positions and NOTIFYs; the caller holds the locks
        and commits. Returns the notifications read and the events decoded, by id.

        With `pipeline`, the handlers' statements go out together at the end; without, each goes
        at once inside its event's savepoint.
        """
        positions, held, notifications = await self.parked.positions_held_and_after(
            conn, self.store, self.names, self.batch_size
        )
        if not notifications:
            return [], {}
        decoded = _Decoded(self.mapper)
        schools: set[str] = set()
        moved: list[str] = []
        for projection in self.projections:
            position = positions[projection.name]
            mine = [n for n in notifications if n.id > position]
            if not mine:
                continue
            moved.append(projection.name)
            schools |= await self._apply_batch(
                conn, pipeline, projection, mine, held.get(projection.name, {}), decoded
            )
        if pipeline is not None:
            try:
                await pipeline.flush(conn)
            except Exception as e:
                if is_transient(e):
                    raise
                raise EventFailed from e  # which event is not known: each in its savepoint
            schools |= {str(school) for school in pipeline.returned if school is not None}
        last = notifications[-1].id
        notify = [(PROJECTED_CHANNEL, f"{name}:{last}") for name in moved]
        notify += [(CHANGES_CHANNEL, school) for school in sorted(schools)]
        await self.store.insert_trackings(conn, moved, last, notify=notify, since=positions)
        return notifications, decoded.events

    async def _apply_batch(
        self,
        conn: asyncpg.Connection,
        pipeline: Pipeline | None,
        projection: Projection,
        notifications: list[Notification],
        held: Mapping[UUID, int],
        decoded: _Decoded,
    ) -> set[str]:
        """Apply the batch: into `pipeline`, or without one every event in its own savepoint,
        parking those that fail."""
        blocked: dict[UUID | str, int] = {stream: first for stream, first in held.items()}
        schools: set[str] = set()
        for notification in notifications:
            first = blocked.get(notification.originator_id)
            if first is not None:
                await self.parked.park(conn, projection.name, notification, held_error(first), first)
                continue
            if pipeline is not None:
                try:
                    changed = await projection.handle(pipeline, decoded(notification), notification.id)
                except Exception as e:
                    if is_transient(e):
                        raise
                    raise EventFailed from e
            else:
                try:
                    async with conn.transaction():
                        changed = await projection.handle(conn, decoded(notification), notification.id)
                except Exception as e:
                    if is_transient(e):
                        raise
                    log.error(
                        "projection %s parked event %d (%s): %s",
                        projection.name,
                        notification.id,
                        notification.topic,
                        describe(e),
                    )
                    await self.parked.park(conn, projection.name, notification, describe(e))
                    blocked[notification.originator_id] = notification.id
                    continue
            if changed is not None:
                schools.add(str(changed))
        return schools

    @staticmethod
    async def _announce(conn: asyncpg.Connection, schools: set[str]) -> None:
        if schools:
            notify = "SELECT count(pg_notify($1, s)) FROM unnest($2::text[]) AS s"
            await conn.execute(notify, CHANGES_CHANNEL, sorted(schools))

    async def retry_parked(
        self, notification_id: int | None = None, name: str | None = None
    ) -> list[RetryReport]:
        """Replay the parked events of each projection named (all with None), or the one given.

        Each projection's retry runs in one transaction under its lock, so it never interleaves
        with a running batch. An event applied now leaves the table; one that fails again stays
        with its new error, and later parked events of its stream stay held behind it. A failure
        of the database aborts that projection's retry, changing nothing.
        """
        return [await self._retry_projection(p, notification_id) for p in self.chosen(name)]

    async def _retry_projection(self, projection: Projection, notification_id: int | None) -> RetryReport:
        name = projection.name
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
                error = await self._retry_one(conn, projection, parked.notification_id, schools)
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
        self, conn: asyncpg.Connection, projection: Projection, notification_id: int, schools: set[str]
    ) -> str | None:
        found = await self.store.select_notifications(
            notification_id, 1, stop=notification_id, inclusive_of_start=True, conn=conn
        )
        if not found:
            return f"notification {notification_id} is not in the log"
        try:
            async with conn.transaction():
                event = self.mapper.to_domain_event(found[0])
                changed = await projection.handle(conn, event, found[0].id)
        except Exception as e:
            if is_transient(e):
                raise
            return describe(e)
        if changed is not None:
            schools.add(str(changed))
        return None

    async def catch_up(self, progress: Progress | None = None) -> int:
        """Project everything the log holds now; return how many notifications were read."""
        total = 0
        end = await self.store.max_notification_id() or 0
        while True:
            count = await self.process_batch()
            total += count
            if progress is not None:
                progress(min(await self.position(), end), end)
            if count < self.batch_size:  # a short batch reached the head of the log
                return total

    async def rebuild(self, progress: Progress | None = None, *, batch_size: int = REBUILD_BATCH) -> int:
        """Empty the read models, their tracking and parked events, then project the whole log.

        One pass over the log for every read model, in large batches whose statements go out
        together (`pipeline`); the tables keep their indexes, which the server keeps up while
        the next batch is prepared (decision 122), and are analysed at the end. A batch a
        projection fails on is run again the usual way, so events that still fail are parked
        again on the way. Returns the number of events read.
        """
        tables = [t for p in self.projections for t in p.tables]
        async with self.pool.acquire() as conn, conn.transaction():
            await self.store.lock_trackings(conn, self.names)
            await conn.execute(f"TRUNCATE {', '.join(tables)}")
            counted = [t for t in map(totals, self.projections) if t is not None]
            for each in counted:
                await each.totals_pending(conn)
            for name in self.names:
                await self.store.delete_tracking(conn, name)
                await self.parked.clear(conn, name)
        end = await self.store.max_notification_id() or 0
        try:
            with collection_paused():
                total = await self._rebuild_batches(batch_size, end, progress)
            for each in counted:  # the totals, counted once from the rows (decision 118)
                async with self.pool.acquire() as conn, conn.transaction():
                    await each.count_totals(conn)
        finally:
            await asyncio.gather(*(self._analysed(p) for p in self.projections))
        if "dir_schools" in tables:  # every school's pages may have changed
            notify = "SELECT count(pg_notify($1, school_id::text)) FROM dir_schools"
            await self.pool.execute(notify, CHANGES_CHANNEL)
        return total

    async def _analysed(self, projection: Projection) -> None:
        """The projection's schema made sure of (`create_schema`, which counts the totals a
        rebuild that failed left pending, decision 118) and its tables analysed, on a connection
        of its own: the projections' tables are their own, so the server analyses several at once
        (decision 113)."""
        async with self.pool.acquire() as conn:
            await projection.create_schema(conn)
            await conn.execute(f"ANALYZE {', '.join(projection.tables)}")

    async def _rebuild_batches(self, batch_size: int, end: int, progress: Progress | None) -> int:
        """Batch after batch, each sent while the next is prepared (read, decoded, handled).

        The statements of a batch go out in one transaction that first checks, under the
        tracking locks, that the positions are those the batch was prepared from and that no
        stream is parked; otherwise, or if the batch fails (a handler raises, the server refuses
        a statement), that stretch of the log goes the usual way (`process_batch`, parking what
        fails) and preparing starts again from the positions then.
        """
        total = 0
        written = Written()  # the tables are empty now
        prepared = await self._prepare(await self.positions(), batch_size, written)
        while prepared is not None:
            if prepared.failed:
                written.unknown = True
                total += await self._the_usual_way(prepared.last)
                prepared = await self._prepare(await self.positions(), batch_size, written)
                continue
            sending = asyncio.create_task(self._send(prepared))
            try:
                following = await self._prepare(prepared.after, batch_size, written)
            except BaseException:
                sending.cancel()
                with contextlib.suppress(BaseException):
                    await sending
                raise
            try:
                await sending
            except Exception as e:
                if is_transient(e):
                    raise
                written.unknown = True
                total += await self._the_usual_way(prepared.last)
                prepared = await self._prepare(await self.positions(), batch_size, written)
                continue
            total += len(prepared.notifications)
            if progress is not None:
                progress(min(min(prepared.after.values()), end), end)
            prepared = following
        return total

    async def _prepare(
        self, positions: dict[str, int], batch_size: int, written: Written | None = None
    ) -> _Prepared | None:
        """Read the batch after `positions` and run the handlers into a pipeline that folds rows
        (`folding`), knowing what the rebuild has `written`; None at the end."""
        async with self.pool.acquire() as conn:
            notifications = await self.store.read_notifications(
                min(positions.values()) + 1, batch_size, conn=conn
            )
        if not notifications:
            return None
        last = notifications[-1].id
        pipeline = Pipeline(fold=True, written=written, totals_at_end=True)
        prepared = _Prepared(notifications, positions, {}, pipeline)
        try:
            # Each event decoded once for the projections that handle its class, and not at all
            # when none does, and put in the list of each of them it goes to (one pass over the
            # batch); the event loop gets a turn every YIELD_EVERY events decoded or handled, so
            # the batch being sent goes on meanwhile.
            # An event whose every projection makes one statement of its stream and fields
            # (`straight`) is decoded to its fields only, and that statement made at once
            # (decision 128).
            decode, topics = self.decode, self._topics
            mine: list[list[tuple[int, Any]]] = [[] for _ in self.projections]
            for read in _chunks(notifications):
                for n in read:
                    topic = n.topic
                    found = topics.get(topic) or self._topic(topic)
                    handled, straight = found
                    if not handled:
                        continue
                    if straight and (fields := decode.fields(n)) is not None:
                        stream = fields["originator_id"]
                        for at, sql, values in straight:
                            mine[at].append((n.id, _Made(sql, values(stream, fields))))
                        continue
                    event = (n.id, decode(n))
                    for at in handled:
                        mine[at].append(event)
                await asyncio.sleep(0)
            for at, projection in enumerate(self.projections):
                position = positions[projection.name]
                if position >= last:
                    continue
                prepared.after[projection.name] = last
                handle = projection.handle
                for some in _chunks([e for e in mine[at] if e[0] > position]):
                    for notification_id, event in some:
                        if type(event) is _Made:
                            await run_statement(pipeline, event.sql, event.args)
                        else:
                            await handle(pipeline, event, notification_id)
                    await asyncio.sleep(0)
            pipeline.seal()
        except Exception as e:
            if is_transient(e):
                raise
            prepared.failed = True
        prepared.after = {**positions, **prepared.after}
        return prepared

    def _topic(self, topic: str) -> _Topic:
        """Which of the projections handle events of `topic`, by their place in the runner's
        order (none, or every one for a topic that does not name a class, which decoding fails
        on as before, or names a superseded one, decoded into another class); and, where each of
        them makes one statement of the event's stream and fields (`straight`), those."""
        kind = self.decode.event_class(topic)
        handled = tuple(at for at, p in enumerate(self.projections) if kind is None or handles(p, kind))
        straight: list[tuple[int, str, StraightValues]] = []
        for at in handled if kind is not None else ():
            said = getattr(self.projections[at], "straight", None)
            made: Straight | None = None if said is None else said(kind)
            if made is None:
                straight = []
                break
            sql, values = made
            straight.append((at, sql, values))
        found = self._topics[topic] = (handled, tuple(straight))
        return found

    async def _send(self, prepared: _Prepared) -> None:
        async with self.pool.acquire() as conn, conn.transaction():
            # Without waiting for the disk at each commit: a batch lost in a crash is lost with
            # its tracking rows, so the runner projects it again.
            await conn.execute("SET LOCAL synchronous_commit = off")
            await self.store.lock_trackings(conn, self.names)
            positions, held = await self.parked.positions_and_held(conn, self.store, self.names)
            if positions != prepared.positions:
                raise EventFailed("the positions moved while the batch was prepared")
            if held:
                raise EventFailed("parked streams: the usual way parks behind them")
            await prepared.pipeline.flush(conn)
            moved = [name for name in self.names if prepared.after[name] != prepared.positions[name]]
            await self.store.insert_trackings(conn, moved, prepared.last, since=prepared.positions)

    async def _the_usual_way(self, last: int) -> int:
        """Project up to `last` batch by batch, each event in a savepoint where one fails."""
        count = 0
        while await self.position() < last:
            count += await self.process_batch()
        return count

    async def run(self, stop: asyncio.Event) -> None:
        """Follow the log until `stop` is set: woken by NOTIFY, polling slowly as a safety net.

        A short batch means the log's head was reached, so the runner waits for the next
        NOTIFY instead of reading an empty batch; so does a NOTIFY heard during a batch for
        events that batch read (the log's NOTIFY says the last notification appended). The
        database may go away and come back: the listener reconnects and wakes this loop (a NOTIFY
        sent meanwhile is lost), and a failing batch is retried with a growing pause.
        """
        wake = asyncio.Event()
        heard = Heard()

        def on_notify(_conn: Any, _pid: int, _channel: str, payload: str) -> None:
            heard.notified(payload)
            wake.set()

        async def on_connect(_: asyncpg.Connection) -> None:
            heard.reconnected()
            wake.set()

        listener = Listener(
            self.pool,
            {self.store.channel: on_notify},
            name=f"projections {self.label}",
            on_connect=on_connect,
        )
        self.listener = listener
        listening = asyncio.create_task(listener.run(stop))
        backoff = Backoff()
        loop = asyncio.get_running_loop()
        try:
            while not stop.is_set():
                wake.clear()
                heard.reading()
                began = loop.time()
                pause = self.poll_interval
                try:
                    while await self.process_batch() >= self.batch_size:
                        pass
                    backoff.reset()
                except Exception as e:
                    cause = e.__cause__ or e  # the event store re-raises asyncpg errors as its own
                    if not (is_outage(e) or is_transient(cause) or isinstance(cause, asyncpg.PostgresError)):
                        raise
                    pause = backoff.next()
                    log.warning("projections %s: %s; retrying in %.1fs", self.label, e, pause)
                if wake.is_set() and not heard.news_after(self.read):
                    wake.clear()  # every NOTIFY since was for events read already (decision 111)
                await wait_any(wake, stop, timeout=pause)
                gathering = began + self.gather - loop.time()
                if gathering > 0 and wake.is_set():
                    await wait_any(stop, timeout=gathering)
        finally:
            if not stop.is_set():
                listening.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listening


class Heard:
    """What the log's NOTIFYs said since the runner began reading: whether any announced an event
    beyond those it read. Each says the last notification its append wrote; notification ids
    commit in order (the log is appended under a lock), so events up to an id read are all read.
    """

    def __init__(self) -> None:
        self.last = 0  # the last notification announced
        self.unknown = False  # woken without knowing how far: a reconnection, or another payload

    def notified(self, payload: str) -> None:
        head = head_of(payload)
        if head is not None:
            self.last = max(self.last, head)
        else:
            self.unknown = True

    def reconnected(self) -> None:
        self.unknown = True  # NOTIFYs sent while nobody listened are lost

    def reading(self) -> None:
        """The runner reads the log now: what was unknown until here is read."""
        self.unknown = False

    def news_after(self, read: int) -> bool:
        """Whether some event announced since `reading` may lie beyond notification `read`."""
        return self.unknown or self.last > read


# Per topic: the projections that handle it, and each one's statement where all make one
# straight from the stored fields (else empty).
_Topic = tuple[tuple[int, ...], tuple[tuple[int, str, StraightValues], ...]]


class _Made(NamedTuple):
    """A statement a projection makes of an event, made from its stored fields (decision 128)."""

    sql: str  # it answers the school told where it `tells`
    args: tuple[Any, ...]


@dataclass
class _Prepared:
    """A rebuild batch ready to send: its notifications, the positions it was prepared from,
    the positions it leaves each projection at, and its statements."""

    notifications: list[Read]
    positions: dict[str, int]
    after: dict[str, int]
    pipeline: Pipeline
    failed: bool = False

    @property
    def last(self) -> int:
        return self.notifications[-1].id


def _chunks(items: list[T]) -> list[list[T]]:
    return [items[i : i + YIELD_EVERY] for i in range(0, len(items), YIELD_EVERY)]


class _Decoded:
    """Decodes each notification once for all the projections of a batch; a failure each time."""

    def __init__(self, mapper: TypedMapper) -> None:
        self.mapper = mapper
        self.events: dict[int, Any] = {}

    def __call__(self, notification: Notification) -> Any:
        event = self.events.get(notification.id)
        if event is None:
            event = self.events[notification.id] = self.mapper.to_domain_event(notification)
        return event
