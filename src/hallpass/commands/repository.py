"""Loads aggregates from the event store (cached, fast-forwarded) and saves their new events.

A command decides inside a unit of work (`Repository.unit_of_work`): there, each aggregate is
read once and every `find` of it hands out that same object, so the decision's changes to it
accumulate; the unit then saves each changed aggregate once. A version clash inside one save is
therefore a bug in the command (`SavedTwice`), while one against another writer's append is a
`ConcurrentChange`, and the command decides again in a fresh unit.

Finds made together (`asyncio.gather`) inside a unit are read in one round trip
(`EventStore.read_streams`); so are the aggregates named to `read_together`, after which each
`find` of them returns at once, without the task per find a gather costs. A unit opened with
`unit_of_work(trusting=True)` reads nothing for an aggregate the cache holds, or knows to be
absent: it decides on the cached version and its save names every version it was decided on, so
the append clashes (`ConcurrentChange`) if another process has moved any of them meanwhile
(docs/decisions/105). A trusting unit whose
decision saves nothing cannot be checked that way: it raises `ReadAgain`, and the command
decides again reading everything. The cache holds aggregates no caller sees, each with the
names of its attributes that could change in place (`snapshots.mutable_keys`, found once when it
is cached); `find` hands out a `snapshots.clone`, a new object sharing every other value, whose
cost does not grow with what the values hold (docs/decisions/115). A stream that has grown by
`SNAPSHOT_EVERY` events since its last snapshot gets a new one after the load or save that
saw it, so a cold load reads at most that many events whatever the stream's length
(`docs/decisions/051`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import TypeVar
from uuid import UUID

from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError, PersistenceError, StoredEvent

from hallpass.aggregates.encoding import TypedMapper
from hallpass.commands import snapshots
from hallpass.commands.snapshots import Keys, clone, mutable_keys
from hallpass.eventstore import EventStore, StreamRead

A = TypeVar("A", bound=Aggregate)

SNAPSHOT_EVERY = 20  # events a stream may grow by before a new snapshot of it is taken
CONTENDED_SECONDS = 60.0  # how long a stream that clashed is read rather than trusted from the cache

log = logging.getLogger(__name__)


class ConcurrentChange(Exception):
    """Another writer appended to one of the streams first; reload and decide again."""


class ReadAgain(Exception):
    """A trusting unit's decision was not checked by a save (a refusal, or nothing changed):
    decide again in a unit that reads every aggregate."""


class SavedTwice(Exception):
    """A programming error: one save holds two copies of one aggregate, or a unit saved twice.

    Never a concurrent change: deciding again would make the same mistake.
    """


class Repository:
    def __init__(self, store: EventStore, *, cache_size: int = 50_000) -> None:
        self.store = store
        self.mapper = TypedMapper()
        self._cache: OrderedDict[UUID, tuple[Aggregate, Keys]] = OrderedDict()
        """Each aggregate no caller sees, and its `mutable_keys` (deep-copied in every clone)."""
        self._cache_size = cache_size
        self._snapshot_at: dict[UUID, int] = {}  # the version of the latest snapshot known here
        self._absent: OrderedDict[UUID, None] = OrderedDict()  # streams read empty, none saved since
        self._contended: OrderedDict[UUID, tuple[float, int]] = OrderedDict()
        """Streams of a save that clashed: read until (monotonic), and the version the save was
        decided on. A read that finds a stream still at that version clears it (it did not move:
        another stream of the save did)."""
        self.snapshot_every = SNAPSHOT_EVERY
        self.clashes = 0
        """Saves that clashed with another writer's append (each command then decided again)."""
        self._unit: ContextVar[UnitOfWork | None] = ContextVar(f"unit_of_work_{id(self)}", default=None)

    async def find(self, aggregate_id: UUID, cls: type[A]) -> A | None:
        """The aggregate as committed now, or None.

        Inside a unit of work: the unit's own copy, the same object on every call (in a trusting
        unit, the cache's copy unread, checked when the unit saves). Outside: a private copy.
        Only new events are read for aggregates in the cache.
        """
        if type(aggregate_id) is not UUID:  # a caller that holds the ID as text
            aggregate_id = UUID(str(aggregate_id))
        unit = self._unit.get()
        if unit is not None:
            return await unit.find(aggregate_id, cls)
        return await self._load(aggregate_id, cls)

    async def read_together(self, aggregate_ids: Iterable[UUID]) -> None:
        """Inside a unit of work, read in one round trip those of the aggregates the unit does
        not hold yet (nor trusts from the cache), so that a `find` of any of them then returns
        at once. Outside a unit, nothing: each `find` reads."""
        unit = self._unit.get()
        if unit is not None:
            await unit.find_many(aggregate_ids)

    async def find_committed(self, aggregate_id: UUID, cls: type[A]) -> A | None:
        """The aggregate as committed now, even inside a unit of work (a private copy).

        For a second look at something the unit has read and that another writer may have
        committed since (an idempotency record after a refusal).
        """
        return await self._load(aggregate_id, cls)

    async def find_as_of(self, aggregate_id: UUID, cls: type[A], notification_id: int) -> A | None:
        """The aggregate as the log held it at `notification_id` (a private copy, not cached)."""
        stored = await self.store.read_stream(aggregate_id, until_notification_id=notification_id)
        aggregate: Aggregate | None = None
        for record in stored:
            aggregate = self.mapper.to_domain_event(record).mutate(aggregate)  # type: ignore[attr-defined]
        return aggregate if isinstance(aggregate, cls) else None

    @asynccontextmanager
    async def unit_of_work(self, *, trusting: bool = False) -> AsyncIterator[UnitOfWork]:
        """One attempt of one command: `find` hands out the unit's objects until it ends.

        `trusting`: the cache's aggregates are used unread, and checked when the unit saves.
        """
        if self._unit.get() is not None:
            raise RuntimeError("a unit of work is already open here; a command runs in one unit")
        unit = UnitOfWork(self, trusting=trusting)
        token = self._unit.set(unit)
        try:
            yield unit
        finally:
            self._unit.reset(token)

    async def save(self, *aggregates: Aggregate) -> int | None:
        """Append every pending event of the given aggregates in one transaction.

        Inside a unit of work, commands save through the unit (`UnitOfWork.commit`) instead.
        """
        if self._unit.get() is not None:
            raise SavedTwice("inside a unit of work, save through the unit, once")
        return await self._append(aggregates)

    async def _load(self, aggregate_id: UUID, cls: type[A]) -> A | None:
        aggregate = (await self._load_many([aggregate_id]))[aggregate_id]
        return aggregate if isinstance(aggregate, cls) else None

    async def _load_many(self, aggregate_ids: Sequence[UUID]) -> dict[UUID, Aggregate | None]:
        """Each aggregate as committed now (a copy of its own), in one read of the store."""
        ids = list(dict.fromkeys(aggregate_ids))
        entries = {i: self._cache.get(i) for i in ids}
        cached = {i: e[0] if e is not None else None for i, e in entries.items()}
        reads = await self.store.read_streams([(i, a.version if a else 0) for i, a in cached.items()])
        loaded: dict[UUID, Aggregate | None] = {}
        to_snapshot: list[Aggregate] = []
        for aggregate_id in ids:
            read = reads[aggregate_id]
            base = cached[aggregate_id]
            if read.snapshot is not None:
                base = snapshots.restore(read.snapshot)
                if base is None:  # taken by other code: replay the whole stream
                    read = StreamRead(events=await self.store.read_stream(aggregate_id))
                else:
                    self._snapshot_at[aggregate_id] = base.version
            elif base is None:
                self._snapshot_at[aggregate_id] = 0
            entry = entries[aggregate_id]
            known = entry[1] if entry is not None and base is entry[0] else None
            aggregate: Aggregate | None = base
            if read.events:
                aggregate = clone(base, known) if base is not None else None
                for record in read.events:
                    aggregate = self.mapper.to_domain_event(record).mutate(aggregate)  # type: ignore[attr-defined]
            self._cleared(aggregate_id, aggregate.version if aggregate is not None else 0)
            if aggregate is None:
                self._remember_absent(aggregate_id)
                loaded[aggregate_id] = None
                continue
            if known is None:  # new to the cache (read whole, or from a snapshot)
                known = mutable_keys(aggregate)
            elif aggregate is not base:  # grown from the cache's copy: what it shares needs no look
                known = mutable_keys(aggregate, base, known)
            if aggregate is not cached[aggregate_id]:
                self._remember(aggregate, known)
                to_snapshot.append(aggregate)
            loaded[aggregate_id] = clone(aggregate, known)
        await self._snapshot(to_snapshot)
        return loaded

    async def _snapshot(self, aggregates: Iterable[Aggregate]) -> None:
        """Snapshot each aggregate whose stream has grown enough since its last snapshot."""
        taken: list[StoredEvent] = []
        for aggregate in aggregates:
            if aggregate.version - self._snapshot_at.get(aggregate.id, 0) < self.snapshot_every:
                continue
            snapshot = snapshots.take(aggregate)
            self._snapshot_at[aggregate.id] = aggregate.version  # not again soon, even if untakeable
            if snapshot is not None:
                taken.append(snapshot)
        if not taken:
            return
        try:
            await self.store.write_snapshots(taken)
        except PersistenceError:  # the events are committed; a snapshot only saves reading
            log.warning("could not record %d snapshots", len(taken), exc_info=True)

    async def _append(
        self, aggregates: Sequence[Aggregate], held: Mapping[UUID, int] | None = None
    ) -> int | None:
        """Append the aggregates' pending events; `held`: the versions of the streams the
        decision read unread from the cache (0: known absent), which must not have moved."""
        _each_once(aggregates)
        pending = [(a, a.collect_events()) for a in aggregates]
        stored = [self.mapper.to_stored_event(e) for _, events in pending for e in events]
        if not stored:
            return None
        try:
            ids = await self.store.append(stored, held=list((held or {}).items()))
        except IntegrityError as e:
            self.clashes += 1
            until = time.monotonic() + CONTENDED_SECONDS
            decided_on = {a.id: events[0].originator_version - 1 for a, events in pending if events}
            for aggregate_id, version in [*decided_on.items(), *(held or {}).items()]:
                self._forget(aggregate_id)
                self._contended[aggregate_id] = (until, version)
                self._contended.move_to_end(aggregate_id)
            while len(self._contended) > self._cache_size:
                self._contended.popitem(last=False)
            raise ConcurrentChange(str(e)) from e
        saved = []
        for aggregate, events in pending:
            if not events:
                continue
            before = self._cache.get(aggregate.id)
            known = mutable_keys(aggregate, *before) if before is not None else mutable_keys(aggregate)
            copied = clone(aggregate, known)
            self._remember(copied, known)
            saved.append(copied)
        await self._snapshot(saved)
        return max(ids) if ids else None

    def moved(self, streams: Iterable[tuple[UUID, int]]) -> None:
        """Streams appended to, each at the version it has reached (the log's NOTIFY, decision
        124): a cached copy older than that, or a stream remembered as absent, is dropped, so the
        next command reads what another process committed instead of clashing with it first.
        This process's own saves are told of too, and change nothing (the cache holds them)."""
        cache, absent = self._cache, self._absent
        if not cache and not absent:  # a process that runs no commands (the projector's)
            return  # reads nothing of `streams`: they are parsed as they are iterated
        for stream, version in streams:
            entry = cache.get(stream)
            if entry is not None:
                if entry[0].version < version:
                    del cache[stream]
            elif stream in absent:
                del absent[stream]

    def _remember(self, aggregate: Aggregate, mutable: Keys) -> None:
        self._absent.pop(aggregate.id, None)
        self._cache[aggregate.id] = (aggregate, mutable)
        self._cache.move_to_end(aggregate.id)
        while len(self._cache) > self._cache_size:
            forgotten, _ = self._cache.popitem(last=False)
            self._snapshot_at.pop(forgotten, None)

    def _cleared(self, aggregate_id: UUID, version: int) -> None:
        """A stream read at the version a clashed save was decided on had not moved: trusted
        again (the save clashed on another of its streams)."""
        contended = self._contended.get(aggregate_id)
        if contended is not None and contended[1] == version:
            del self._contended[aggregate_id]

    def _remember_absent(self, aggregate_id: UUID) -> None:
        self._absent[aggregate_id] = None
        self._absent.move_to_end(aggregate_id)
        while len(self._absent) > self._cache_size:
            self._absent.popitem(last=False)

    def _forget(self, aggregate_id: UUID) -> None:
        self._cache.pop(aggregate_id, None)
        self._absent.pop(aggregate_id, None)

    def _trusted(self, aggregate_id: UUID) -> tuple[bool, tuple[Aggregate, Keys] | None]:
        """(known, the cached aggregate and its mutable keys): known is False when only a read
        can tell.

        A stream whose save clashed lately (another process writes it too, such as a busy
        destination's) is read for CONTENDED_SECONDS instead: trusting its copy would cost a
        failed save and a second attempt far more often than the read it saves.
        """
        contended = self._contended.get(aggregate_id)
        if contended is not None:
            if time.monotonic() < contended[0]:
                return False, None
            del self._contended[aggregate_id]
        cached = self._cache.get(aggregate_id)
        if cached is not None:
            return True, cached
        return aggregate_id in self._absent, None


class UnitOfWork:
    """The aggregates one command attempt has read, each once, and its single save.

    Finds of aggregates not yet read that are made in the same turn of the event loop (e.g.
    under `asyncio.gather`) are read together, in one round trip.
    """

    def __init__(self, repository: Repository, *, trusting: bool = False) -> None:
        self.repository = repository
        self.trusting = trusting
        self.unread: dict[UUID, int] = {}
        """The aggregates handed out from the cache unread, and their versions (0: absent)."""
        self._seen: dict[UUID, Aggregate | None] = {}
        self._loading: dict[UUID, asyncio.Future[Aggregate | None]] = {}
        self._wanted: list[UUID] = []
        self._reader: asyncio.Task[None] | None = None
        self._committed = False

    async def find(self, aggregate_id: UUID, cls: type[A]) -> A | None:
        if type(aggregate_id) is not UUID:
            aggregate_id = UUID(str(aggregate_id))
        if aggregate_id in self._seen or self._take_trusted(aggregate_id):
            aggregate = self._seen[aggregate_id]
        else:
            aggregate = await asyncio.shield(self._fetch(aggregate_id))
        return aggregate if isinstance(aggregate, cls) else None

    def _take_trusted(self, aggregate_id: UUID) -> bool:
        """In a trusting unit, hand out the cache's copy unread (True), if the cache knows it."""
        if not self.trusting or aggregate_id in self._loading:
            return False
        known, cached = self.repository._trusted(aggregate_id)
        if not known:
            return False
        self._seen[aggregate_id] = clone(*cached) if cached is not None else None
        self.unread[aggregate_id] = cached[0].version if cached is not None else 0
        return True

    async def find_many(self, aggregate_ids: Iterable[UUID]) -> dict[UUID, Aggregate | None]:
        """Many aggregates at once (a roster import's thousands), in one read of those not yet
        read; each then belongs to the unit as if `find` had read it."""
        keys = list(dict.fromkeys(aggregate_ids))
        wanted = [
            i for i in keys if i not in self._seen and i not in self._loading and not self._take_trusted(i)
        ]
        if wanted:
            loop = asyncio.get_running_loop()
            futures = {i: loop.create_future() for i in wanted}
            self._loading.update(futures)  # a find of one of them meanwhile waits for this read
            try:
                loaded = await self.repository._load_many(wanted)
            except BaseException:
                for aggregate_id, future in futures.items():
                    self._loading.pop(aggregate_id, None)
                    future.cancel()
                raise
            for aggregate_id in wanted:
                self._seen[aggregate_id] = loaded[aggregate_id]
                self._loading.pop(aggregate_id).set_result(loaded[aggregate_id])
        for aggregate_id in keys:
            if aggregate_id not in self._seen:
                await asyncio.shield(self._loading[aggregate_id])
        return {i: self._seen[i] for i in keys}

    def _fetch(self, aggregate_id: UUID) -> asyncio.Future[Aggregate | None]:
        future = self._loading.get(aggregate_id)
        if future is None:
            loop = asyncio.get_running_loop()
            future = self._loading[aggregate_id] = loop.create_future()
            self._wanted.append(aggregate_id)
            if len(self._wanted) == 1:
                self._reader = loop.create_task(self._read_wanted())
        return future

    async def _read_wanted(self) -> None:
        await asyncio.sleep(0)  # let the other finds of this turn join
        wanted, self._wanted = self._wanted, []
        try:
            loaded = await self.repository._load_many(wanted)
        except BaseException as error:
            for aggregate_id in wanted:
                future = self._loading.pop(aggregate_id)
                if future.done():
                    continue
                if isinstance(error, Exception):
                    future.set_exception(error)
                else:
                    future.cancel()
            if not isinstance(error, Exception):
                raise
            return
        for aggregate_id in wanted:
            self._seen[aggregate_id] = loaded[aggregate_id]
            self._loading.pop(aggregate_id).set_result(loaded[aggregate_id])

    async def commit(self, aggregates: Iterable[Aggregate]) -> int | None:
        """Save the decision's aggregates, each once, in one transaction; only once per unit.

        The same object named twice is saved once. A different object for an aggregate this
        unit handed out (a copy read outside the unit) would clash with it: `SavedTwice`.
        """
        if self._committed:
            raise SavedTwice("this unit of work has already saved; a command saves once")
        self._committed = True
        unique = list({id(a): a for a in aggregates}.values())
        for aggregate in unique:
            known = self._seen.get(aggregate.id)
            if known is not None and known is not aggregate:
                raise SavedTwice(
                    f"{type(aggregate).__name__} {aggregate.id} is saved from a second copy;"
                    " use the object this unit of work handed out"
                )
        if self.unread and not any(a.pending_events for a in unique):
            raise ReadAgain("nothing saved would check what was decided unread")
        return await self.repository._append(unique, self.unread)

    async def commit_each(self, aggregates: Sequence[Aggregate]) -> list[UUID]:
        """Save each aggregate in an append of its own, all at once; only once per unit.

        The appends share a transaction (group commit) but not their fate: one that clashes with
        another writer's change fails alone. Returns the IDs of those, to be decided again.
        """
        if self._committed:
            raise SavedTwice("this unit of work has already saved; a command saves once")
        if self.unread:
            raise ReadAgain("separate saves would not check what was decided unread")
        self._committed = True
        _each_once(aggregates)
        results = await asyncio.gather(
            *(self.repository._append([a]) for a in aggregates), return_exceptions=True
        )
        _gathered(results)
        return [a.id for a, r in zip(aggregates, results, strict=True) if isinstance(r, ConcurrentChange)]


def _gathered(results: Sequence[object]) -> None:
    """Raise the first failure among gathered results that is not a concurrent change."""
    for result in results:
        if isinstance(result, BaseException) and not isinstance(result, ConcurrentChange):
            raise result


def _each_once(aggregates: Sequence[Aggregate]) -> None:
    seen: set[UUID] = set()
    for aggregate in aggregates:
        if aggregate.id in seen:
            raise SavedTwice(f"{type(aggregate).__name__} {aggregate.id} is saved twice in one save")
        seen.add(aggregate.id)
