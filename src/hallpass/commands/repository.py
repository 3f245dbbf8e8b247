"""Loads aggregates from the event store (cached, fast-forwarded) and saves their new events."""

from __future__ import annotations

import copy
from collections import OrderedDict
from typing import TypeVar
from uuid import UUID

from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError

from hallpass.aggregates.encoding import TypedMapper
from hallpass.eventstore import EventStore

A = TypeVar("A", bound=Aggregate)


class ConcurrentChange(Exception):
    """Another writer appended to one of the streams first; reload and decide again."""


class Repository:
    def __init__(self, store: EventStore, *, cache_size: int = 50_000) -> None:
        self.store = store
        self.mapper = TypedMapper()
        self._cache: OrderedDict[UUID, Aggregate] = OrderedDict()
        self._cache_size = cache_size

    async def find(self, aggregate_id: UUID, cls: type[A]) -> A | None:
        """The aggregate as committed now, or None. Only new events are read for cached ones."""
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

    async def save(self, *aggregates: Aggregate) -> int | None:
        """Append every pending event of the given aggregates in one transaction."""
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
