"""Loads aggregates from the event store (cached, fast-forwarded) and saves their new events.

A command decides inside a unit of work (`Repository.unit_of_work`): there, each aggregate is
read once and every `find` of it hands out that same object, so the decision's changes to it
accumulate; the unit then saves each changed aggregate once. A version clash inside one save is
therefore a bug in the command (`SavedTwice`), while one against another writer's append is a
`ConcurrentChange`, and the command decides again in a fresh unit.
"""

from __future__ import annotations

import copy
from collections import OrderedDict
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import TypeVar
from uuid import UUID

from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError

from hallpass.aggregates.encoding import TypedMapper
from hallpass.eventstore import EventStore

A = TypeVar("A", bound=Aggregate)


class ConcurrentChange(Exception):
    """Another writer appended to one of the streams first; reload and decide again."""


class SavedTwice(Exception):
    """A programming error: one save holds two copies of one aggregate, or a unit saved twice.

    Never a concurrent change: deciding again would make the same mistake.
    """


class Repository:
    def __init__(self, store: EventStore, *, cache_size: int = 50_000) -> None:
        self.store = store
        self.mapper = TypedMapper()
        self._cache: OrderedDict[UUID, Aggregate] = OrderedDict()
        self._cache_size = cache_size
        self._unit: ContextVar[UnitOfWork | None] = ContextVar(f"unit_of_work_{id(self)}", default=None)

    async def find(self, aggregate_id: UUID, cls: type[A]) -> A | None:
        """The aggregate as committed now, or None.

        Inside a unit of work: the unit's own copy, the same object on every call. Outside: a
        private copy. Only new events are read for aggregates in the cache.
        """
        unit = self._unit.get()
        if unit is not None:
            return await unit.find(aggregate_id, cls)
        return await self._load(aggregate_id, cls)

    async def find_as_of(self, aggregate_id: UUID, cls: type[A], notification_id: int) -> A | None:
        """The aggregate as the log held it at `notification_id` (a private copy, not cached)."""
        stored = await self.store.read_stream(aggregate_id, until_notification_id=notification_id)
        aggregate: Aggregate | None = None
        for record in stored:
            aggregate = self.mapper.to_domain_event(record).mutate(aggregate)  # type: ignore[attr-defined]
        return aggregate if isinstance(aggregate, cls) else None

    @asynccontextmanager
    async def unit_of_work(self) -> AsyncIterator[UnitOfWork]:
        """One attempt of one command: `find` hands out the unit's objects until it ends."""
        if self._unit.get() is not None:
            raise RuntimeError("a unit of work is already open here; a command runs in one unit")
        unit = UnitOfWork(self)
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
        cached = self._cache.get(aggregate_id)
        after = cached.version if cached is not None else None
        stored = await self.store.read_stream(aggregate_id, gt=after)
        if cached is None and not stored:
            return None
        aggregate: Aggregate | None = copy.deepcopy(cached)
        for record in stored:
            aggregate = self.mapper.to_domain_event(record).mutate(aggregate)  # type: ignore[attr-defined]
        if aggregate is None:
            return None
        self._remember(aggregate)
        if not isinstance(aggregate, cls):
            return None
        return copy.deepcopy(aggregate)

    async def _append(self, aggregates: Sequence[Aggregate]) -> int | None:
        _each_once(aggregates)
        pending = [(a, a.collect_events()) for a in aggregates]
        stored = [self.mapper.to_stored_event(e) for _, events in pending for e in events]
        if not stored:
            return None
        try:
            ids = await self.store.append(stored)
        except IntegrityError as e:
            for aggregate, _ in pending:
                self._cache.pop(aggregate.id, None)
            raise ConcurrentChange(str(e)) from e
        for aggregate, _ in pending:
            self._remember(copy.deepcopy(aggregate))
        return max(ids) if ids else None

    def _remember(self, aggregate: Aggregate) -> None:
        self._cache[aggregate.id] = aggregate
        self._cache.move_to_end(aggregate.id)
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)


class UnitOfWork:
    """The aggregates one command attempt has read, each once, and its single save."""

    def __init__(self, repository: Repository) -> None:
        self.repository = repository
        self._seen: dict[UUID, Aggregate] = {}
        self._committed = False

    async def find(self, aggregate_id: UUID, cls: type[A]) -> A | None:
        aggregate = self._seen.get(aggregate_id)
        if aggregate is None:
            loaded = await self.repository._load(aggregate_id, Aggregate)
            if loaded is None:
                return None
            # Two concurrent finds (asyncio.gather) may both have loaded it: keep the first.
            aggregate = self._seen.setdefault(aggregate_id, loaded)
        return aggregate if isinstance(aggregate, cls) else None

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
        return await self.repository._append(unique)


def _each_once(aggregates: Sequence[Aggregate]) -> None:
    seen: set[UUID] = set()
    for aggregate in aggregates:
        if aggregate.id in seen:
            raise SavedTwice(f"{type(aggregate).__name__} {aggregate.id} is saved twice in one save")
        seen.add(aggregate.id)

