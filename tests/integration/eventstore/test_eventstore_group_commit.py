"""Group commit: concurrent appends share one transaction, and each keeps its own outcome."""

from __future__ import annotations

import asyncio
from uuid import UUID, uuid4

import asyncpg  # type: ignore[import-untyped, unused-ignore]
import pytest
from eventsourcing.persistence import DataError, IntegrityError, StoredEvent

from hallpass.eventstore import EventStore
from hallpass.eventstore.group_commit import GroupCommitLimits


def event(originator_id: UUID, version: int, topic: str = "topic") -> StoredEvent:
    return StoredEvent(originator_id, version, topic, f"{topic}-{version}".encode())


def store_like(store: EventStore, limits: GroupCommitLimits) -> EventStore:
    return EventStore(
        store.pool,
        events_table=store.events_table,
        tracking_table=store.tracking_table,
        channel=store.channel,
        group_commit=limits,
    )


async def versions(store: EventStore, stream: UUID) -> list[int]:
    return [e.originator_version for e in await store.read_stream(stream)]


async def test_concurrent_appends_share_one_transaction_in_the_order_they_came(
    event_store: EventStore,
) -> None:
    streams = [uuid4() for _ in range(6)]
    results = await asyncio.gather(*(event_store.append([event(s, 1), event(s, 2)]) for s in streams))
    assert event_store.group_commit.batches == 1
    assert results == [[1, 2], [3, 4], [5, 6], [7, 8], [9, 10], [11, 12]]
    notifications = await event_store.select_notifications(None, 20)
    assert [(n.originator_id, n.originator_version) for n in notifications] == [
        (s, v) for s in streams for v in (1, 2)
    ]


async def test_an_append_that_clashes_with_a_recorded_version_fails_alone(event_store: EventStore) -> None:
    recorded, before, after, bystander = uuid4(), uuid4(), uuid4(), uuid4()
    assert await event_store.append([event(recorded, 1)]) == [1]
    batches = event_store.group_commit.batches

    results = await asyncio.gather(
        event_store.append([event(before, 1)]),
        event_store.append([event(bystander, 1), event(recorded, 1, "late")]),
        event_store.append([event(after, 1)]),
        return_exceptions=True,
    )

    assert event_store.group_commit.batches == batches + 1
    assert results[0] == [2] and results[2] == [3]
    assert isinstance(results[1], IntegrityError)
    assert await versions(event_store, bystander) == []
    [kept] = await event_store.read_stream(recorded)
    assert kept.topic == "topic"
    assert await event_store.max_notification_id() == 3


async def test_two_appends_of_one_stream_version_go_in_turn_and_the_second_fails(
    event_store: EventStore,
) -> None:
    contested, a, b = uuid4(), uuid4(), uuid4()
    results = await asyncio.gather(
        event_store.append([event(a, 1), event(contested, 1, "first")]),
        event_store.append([event(b, 1), event(contested, 1, "second")]),
        return_exceptions=True,
    )
    assert results[0] == [1, 2]
    assert isinstance(results[1], IntegrityError)
    assert event_store.group_commit.batches == 2  # the second waited for the next transaction
    [recorded] = await event_store.read_stream(contested)
    assert recorded.topic == "first"
    assert await versions(event_store, b) == []


async def test_a_failed_transaction_fails_every_append_in_it_and_writes_none(event_store: EventStore) -> None:
    streams = [uuid4() for _ in range(4)]
    appends = [[event(s, 1), event(s, 2)] for s in streams]
    appends[2][1] = event(streams[2], 2, "no\x00nul in text")  # PostgreSQL refuses the statement

    results = await asyncio.gather(*(event_store.append(a) for a in appends), return_exceptions=True)

    assert event_store.group_commit.batches == 1
    assert all(isinstance(r, DataError) for r in results), results
    assert len({id(r) for r in results}) == len(results)  # each caller raises its own exception
    for stream in streams:
        assert await versions(event_store, stream) == []
    assert await event_store.max_notification_id() is None
    assert await event_store.append([event(streams[0], 1)]) == [1]  # the store goes on


async def test_caps_on_appends_and_events_per_transaction(event_store: EventStore) -> None:
    by_appends = store_like(event_store, GroupCommitLimits(max_appends=2))
    await asyncio.gather(*(by_appends.append([event(uuid4(), 1)]) for _ in range(5)))
    assert (by_appends.group_commit.batches, by_appends.group_commit.largest_batch) == (3, 2)

    by_events = store_like(event_store, GroupCommitLimits(max_events=3))
    streams = [uuid4() for _ in range(3)]
    big = uuid4()
    results = await asyncio.gather(
        *(by_events.append([event(s, 1), event(s, 2)]) for s in streams),
        by_events.append([event(big, v) for v in range(1, 6)]),  # larger than the cap: alone
    )
    assert by_events.group_commit.batches == 4
    assert [len(ids) for ids in results] == [2, 2, 2, 5]
    assert await versions(event_store, big) == [1, 2, 3, 4, 5]


async def test_an_append_cancelled_before_its_transaction_begins_writes_nothing(
    event_store: EventStore,
) -> None:
    dropped, kept = uuid4(), uuid4()
    cancelled = asyncio.create_task(event_store.append([event(dropped, 1)]))
    await asyncio.sleep(0)  # it waits in the queue now
    cancelled.cancel()
    assert await event_store.append([event(kept, 1)]) == [1]
    with pytest.raises(asyncio.CancelledError):
        await cancelled
    assert await versions(event_store, dropped) == []


async def test_one_append_naming_a_version_twice_fails_before_reaching_the_database(
    event_store: EventStore,
) -> None:
    stream = uuid4()
    with pytest.raises(IntegrityError):
        await event_store.append([event(stream, 1), event(stream, 1)])
    assert event_store.group_commit.batches == 0


async def test_appends_from_two_stores_interleave_under_the_lock_without_gaps(
    event_store: EventStore, eventstore_dsn: str
) -> None:
    other_pool: asyncpg.Pool = await asyncpg.create_pool(eventstore_dsn, min_size=1, max_size=2)
    try:
        other = store_like(event_store, GroupCommitLimits())
        other.pool = other_pool

        async def write(store: EventStore) -> list[int]:
            stream, ids = uuid4(), []
            for version in range(1, 21):
                ids += await store.append([event(stream, version)])
            return ids

        results = await asyncio.gather(*(write(s) for s in (event_store, other) for _ in range(4)))
    finally:
        await other_pool.close()
    assert sorted(i for ids in results for i in ids) == list(range(1, 161))


async def test_a_batch_is_one_statement_that_takes_the_lock_itself(event_store: EventStore) -> None:
    # Outside any transaction the function's statement is its own transaction: it takes the
    # lock, so another transaction holding it keeps the append waiting until it ends.
    first, second = uuid4(), uuid4()
    async with event_store.pool.acquire() as holder, holder.transaction():
        await holder.execute(f"LOCK TABLE {event_store.events_table} IN EXCLUSIVE MODE")
        waiting = asyncio.create_task(event_store.append([event(first, 1)]))
        while not await event_store.pool.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE $1",
            f"%{event_store.events_table}_append%",
        ):
            assert not waiting.done(), "the append went past a lock another transaction holds"
            await asyncio.sleep(0.01)
        assert not waiting.done()
    assert await waiting == [1]
    assert await event_store.append([event(second, 1)]) == [2]
    assert event_store._append_function is True


async def test_a_database_without_the_batch_function_still_takes_appends(event_store: EventStore) -> None:
    # Tables made by code from before the function: the same transaction in three round trips.
    await event_store.pool.execute(
        f"DROP FUNCTION {event_store._sql.append_function}"
        "(uuid[], bigint[], text[], bytea[], int[], text, uuid[], bigint[], int[])"
    )
    old = store_like(event_store, GroupCommitLimits())
    recorded, clashing, other = uuid4(), uuid4(), uuid4()
    assert await old.append([event(recorded, 1)]) == [1]
    assert old._append_function is False
    results = await asyncio.gather(
        old.append([event(clashing, 1), event(recorded, 1, "late")]),
        old.append([event(other, 1)]),
        return_exceptions=True,
    )
    assert isinstance(results[0], IntegrityError)
    assert results[1] == [2]
    assert await versions(old, clashing) == []


async def test_creating_the_schema_drops_the_append_function_of_six_arguments(
    event_store: EventStore,
) -> None:
    # Tables made by code from before held versions have the function in its first form too.
    function = event_store._sql.append_function
    first_form = f"{function}(uuid[], bigint[], text[], bytea[], int[], text)"
    await event_store.pool.execute(
        f"CREATE FUNCTION {first_form} RETURNS TABLE (clashed int[], ids bigint[], notified text) "
        "LANGUAGE sql AS $$ SELECT NULL::int[], NULL::bigint[], NULL::text $$"
    )
    assert await event_store.pool.fetchval("SELECT to_regprocedure($1) IS NOT NULL", first_form)
    await event_store.create_schema()
    assert await event_store.pool.fetchval("SELECT to_regprocedure($1) IS NULL", first_form)
    assert await event_store.append([event(uuid4(), 1)]) == [1]
    assert event_store._append_function is True


async def test_an_append_decided_on_a_stream_that_has_moved_since_fails_alone(
    event_store: EventStore,
) -> None:
    read, unmoved, deciding, bystander = uuid4(), uuid4(), uuid4(), uuid4()
    assert await event_store.append([event(read, 1), event(unmoved, 1)]) == [1, 2]
    assert await event_store.append([event(read, 2)]) == [3]
    absent = uuid4()

    results = await asyncio.gather(
        event_store.append([event(deciding, 1)], held=[(read, 1)]),  # read has moved to 2
        event_store.append([event(bystander, 1)], held=[(read, 2), (unmoved, 1), (absent, 0)]),
        return_exceptions=True,
    )
    assert isinstance(results[0], IntegrityError)
    assert results[1] == [4]
    assert await versions(event_store, deciding) == []
    await event_store.append([event(absent, 1)])
    with pytest.raises(IntegrityError):
        await event_store.append([event(uuid4(), 1)], held=[(absent, 0)])


async def test_an_append_holding_a_stream_an_earlier_one_of_its_batch_writes_waits_for_the_next(
    event_store: EventStore,
) -> None:
    written, other = uuid4(), uuid4()
    results = await asyncio.gather(
        event_store.append([event(written, 1)]),
        event_store.append([event(other, 1)], held=[(written, 0)]),
        return_exceptions=True,
    )
    assert results[0] == [1]
    assert isinstance(results[1], IntegrityError), "decided before the first append's event"
    assert event_store.group_commit.batches == 2
