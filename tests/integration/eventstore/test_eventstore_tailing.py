"""A reader tailing the notification log while many writers append concurrently."""

from __future__ import annotations

import asyncio
import random
from uuid import uuid4

import asyncpg  # type: ignore[import-untyped, unused-ignore]
from eventsourcing.persistence import StoredEvent

from hallpass.eventstore import EventStore
from hallpass.eventstore.notice import head_of

WRITERS = 8
APPENDS_PER_WRITER = 50
MAX_EVENTS_PER_APPEND = 5
READ_LIMIT = 7


async def write_streams(store: EventStore, seed: int) -> list[int]:
    rng = random.Random(seed)
    originator_id = uuid4()
    version = 0
    committed: list[int] = []
    for _ in range(APPENDS_PER_WRITER):
        batch = []
        for _ in range(rng.randint(1, MAX_EVENTS_PER_APPEND)):
            version += 1
            batch.append(StoredEvent(originator_id, version, "tail-test", b"{}"))
        committed.extend(await store.append(batch))
        await asyncio.sleep(0)
    return committed


async def tail(store: EventStore, writers_done: asyncio.Event) -> list[int]:
    seen: list[int] = []
    last: int | None = None
    while True:
        finished = writers_done.is_set()
        page = await store.select_notifications(last, READ_LIMIT, inclusive_of_start=False)
        seen.extend(n.id for n in page)
        if page:
            last = page[-1].id
        elif finished:
            return seen
        else:
            await asyncio.sleep(0.001)


async def test_tailing_reader_sees_every_notification_once_in_order(
    event_store: EventStore, eventstore_dsn: str
) -> None:
    payloads: list[int] = []
    listener = await asyncpg.connect(eventstore_dsn)
    await listener.add_listener(event_store.channel, lambda *args: payloads.append(head_of(args[-1]) or 0))
    try:
        writers_done = asyncio.Event()
        reader = asyncio.create_task(tail(event_store, writers_done))
        results = await asyncio.gather(*(write_streams(event_store, seed) for seed in range(WRITERS)))
        writers_done.set()
        seen = await reader
        max_id = await event_store.max_notification_id()
        await asyncio.sleep(0.2)
    finally:
        await listener.close()

    committed = sorted(i for ids in results for i in ids)
    assert max_id is not None
    assert committed == list(range(1, max_id + 1))
    assert seen == list(range(1, max_id + 1))
    # One NOTIFY per transaction, led by its largest ID (then its streams, decision 124);
    # concurrent appends share one.
    assert payloads == sorted(set(payloads))
    assert 1 <= len(payloads) <= WRITERS * APPENDS_PER_WRITER
    assert set(payloads) <= set(committed)
    assert payloads[-1] == max_id
    for ids in results:
        assert ids == sorted(ids)
