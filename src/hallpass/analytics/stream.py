"""The event stream: pages of the notification log for one reader's schools, and the cursor.

The stream reads the log through the store, as the projector does (`select_notifications` from a
position), and keeps no copy of the events. The store's append holds an EXCLUSIVE lock on the
events table until it commits, so notification ids become visible in commit order: once id N is
visible, no id below N can commit later. The head of the log read at the start of a request is
therefore a safe horizon; a page never passes an event that is yet to commit (docs/decisions/083).

Which school an event belongs to is read from the log too: the first event of every streamed
kind names its school, and the school's first event names its district. Those facts never
change, so they are kept in memory once read, and a cursor always gives the same events after it.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import struct
from collections.abc import Awaitable, Callable, Collection, Iterable
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.persistence import Notification, StoredEvent

from hallpass.aggregates.encoding import TypedMapper, to_uuid
from hallpass.aggregates.schools import School
from hallpass.analytics.cloudevents import TYPES, topics
from hallpass.errors import BadRequest
from hallpass.eventstore import EventStore
from hallpass.messages import say

T = TypeVar("T")
CURSOR_PREFIX = "c1."
SCAN_CHUNK = 1_000
SCAN_MOST = 20_000
"""Notifications one page reads at most: a narrow filter still moves the cursor on this far."""
_MEMORY_MOST = 500_000


class InvalidCursor(BadRequest):
    """A cursor this server did not give, or one that does not decode (400)."""


class Cursors:
    """Opaque cursors: a notification id and a tag keyed by the server's secret, in base64url.

    The same position is always the same text, so a cursor is stable across requests and
    restarts; a made-up or altered one is refused.
    """

    def __init__(self, secret_key: str) -> None:
        self._key = hashlib.sha256(b"hallpass-stream-cursor:" + secret_key.encode()).digest()

    def _tag(self, position: bytes) -> bytes:
        return hmac.new(self._key, position, hashlib.sha256).digest()[:8]

    def encode(self, position: int) -> str:
        packed = struct.pack(">Q", position)
        return CURSOR_PREFIX + base64.urlsafe_b64encode(packed + self._tag(packed)).decode().rstrip("=")

    def decode(self, text: str, *, head: int) -> int:
        """The position `text` names; InvalidCursor unless this server gave it and the log has it."""
        if not text.startswith(CURSOR_PREFIX) or len(text) > 40:
            raise InvalidCursor(say("stream.cursor_malformed"), cursor=text[:40])
        body = text[len(CURSOR_PREFIX) :]
        try:
            raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        except (ValueError, TypeError) as e:
            raise InvalidCursor(say("stream.cursor_malformed"), cursor=text) from e
        if len(raw) != 16 or not hmac.compare_digest(raw[8:], self._tag(raw[:8])):
            raise InvalidCursor(say("stream.cursor_unknown"), cursor=text)
        (position,) = struct.unpack(">Q", raw[:8])
        if position > head:
            raise InvalidCursor(say("stream.cursor_beyond"), cursor=text)
        return int(position)


@dataclass(frozen=True)
class Scope:
    """The schools a reader sees: every school of `district_id`, or only `school_ids` of it."""

    district_id: UUID
    school_ids: frozenset[UUID] | None = None

    def admits(self, school_id: UUID, district_id: UUID | None) -> bool:
        if district_id != self.district_id:
            return False
        return self.school_ids is None or school_id in self.school_ids


@dataclass(frozen=True)
class Item:
    notification_id: int
    school_id: UUID
    event: Any


@dataclass
class Page:
    items: list[Item] = field(default_factory=list)
    position: int = 0
    """Where the next page starts after: the last event given, or the last notification read."""
    at_head: bool = False
    """True when the page read to the head of the log as it was when the page began."""


class StreamReader:
    """Reads pages of the stream from the log; shared by every request of a process."""

    def __init__(self, store: EventStore) -> None:
        self.store = store
        self.mapper = TypedMapper()
        self._school_of_stream: dict[UUID, UUID | None] = {}
        self._district_of_school: dict[UUID, UUID | None] = {}
        self._reading: dict[tuple[Any, ...], asyncio.Future[Any]] = {}

    async def head(self) -> int:
        return await self._shared(("head",), self._read_head)

    async def _read_head(self) -> int:
        return await self.store.max_notification_id() or 0

    async def _shared(self, key: tuple[Any, ...], read: Callable[[], Awaitable[T]]) -> T:
        """One read for every request that asks the same at the same time (the followers a
        NOTIFY woke together); a request that goes away does not cancel it for the others."""
        running = self._reading.get(key)
        if running is None:
            running = asyncio.ensure_future(read())
            self._reading[key] = running
            running.add_done_callback(lambda _: self._reading.pop(key, None))
        result: T = await asyncio.shield(running)
        return result

    async def _decoded(
        self, start: int, chunk: int, head: int, names: list[str]
    ) -> list[tuple[Notification, Any]]:
        """Notifications of `names` from `start` to `head`, each with its event decoded."""
        rows = await self.store.select_notifications(
            start, chunk, stop=head, topics=names, inclusive_of_start=True
        )
        await self._learn_streams(rows)
        return [(row, self.mapper.to_domain_event(_stored(row))) for row in rows]

    async def district_of(self, school_id: UUID) -> UUID | None:
        await self._learn_districts([school_id])
        return self._district_of_school.get(school_id)

    async def page(
        self,
        after: int,
        limit: int,
        scope: Scope,
        *,
        types: Collection[type] = (),
        head: int | None = None,
        scan_most: int = SCAN_MOST,
        chunk: int = SCAN_CHUNK,
    ) -> Page:
        """Up to `limit` events after `after` (a notification id) of `scope`'s schools, of `types`
        (every type when empty), in log order, read no further than `head` (the head now if None)."""
        if head is None:
            head = await self.head()
        wanted = frozenset(types or TYPES)
        names = topics(wanted)
        page = Page(position=after)
        scanned = 0
        while page.position < head:
            start = page.position + 1
            rows = await self._shared(
                ("rows", start, chunk, head, *names), partial(self._decoded, start, chunk, head, names)
            )
            for row, event in rows:
                school_id = self._school_of_stream.get(to_uuid(row.originator_id))
                if (
                    type(event) in wanted
                    and school_id is not None
                    and scope.admits(school_id, self._district_of_school.get(school_id))
                ):
                    page.items.append(Item(row.id, school_id, event))
                page.position = row.id
                if len(page.items) >= limit:
                    page.at_head = page.position >= head
                    return page
            if len(rows) < chunk:
                page.position = head  # nothing else of these topics up to the head
                break
            scanned += len(rows)
            if scanned >= scan_most:
                break
        page.at_head = page.position >= head
        return page

    async def _learn_streams(self, rows: Iterable[Notification]) -> None:
        """The school of each stream not known yet, from its first event (and each new school's
        district from the school's first event)."""
        streams = {to_uuid(r.originator_id) for r in rows}
        missing = [s for s in streams if s not in self._school_of_stream]
        if not missing:
            return
        self._forget_if_full(self._school_of_stream)
        schools: set[UUID] = set()
        for stored in await self.store.read_first_events(missing):
            found = getattr(self.mapper.to_domain_event(stored), "school_id", None)
            school_id = found if isinstance(found, UUID) else None
            self._school_of_stream[to_uuid(stored.originator_id)] = school_id
            if school_id is not None:
                schools.add(school_id)
        await self._learn_districts(schools)

    async def _learn_districts(self, school_ids: Iterable[UUID]) -> None:
        missing = [s for s in set(school_ids) if s not in self._district_of_school]
        if not missing:
            return
        self._forget_if_full(self._district_of_school)
        for stored in await self.store.read_first_events(missing):
            event = self.mapper.to_domain_event(stored)
            if isinstance(event, School.Registered):
                self._district_of_school[to_uuid(stored.originator_id)] = event.district_id

    @staticmethod
    def _forget_if_full(memory: dict[UUID, Any]) -> None:
        if len(memory) >= _MEMORY_MOST:
            memory.clear()


def _stored(row: Notification) -> StoredEvent:
    return StoredEvent(row.originator_id, row.originator_version, row.topic, row.state)
