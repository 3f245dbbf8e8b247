"""EventStore behaviour: optimistic concurrency, streams, tracking, configuration."""

from __future__ import annotations

import asyncio
import re
import secrets
from uuid import UUID, uuid4

import asyncpg  # type: ignore[import-untyped, unused-ignore]
import pytest
from eventsourcing.persistence import IntegrityError, ProgrammingError, StoredEvent

from hallpass.eventstore import EventStore


def event(originator_id: object, version: int, topic: str = "topic") -> StoredEvent:
    return StoredEvent(originator_id, version, topic, f"{topic}-{version}".encode())  # type: ignore[arg-type]


async def test_concurrent_appends_of_same_version_one_wins_atomically(
    event_store: EventStore,
) -> None:
    contested = uuid4()
    bystander_a, bystander_b = uuid4(), uuid4()
    batch_a = [event(bystander_a, 1), event(contested, 1, "a")]
    batch_b = [event(bystander_b, 1), event(contested, 1, "b")]

    results = await asyncio.gather(
        event_store.append(batch_a), event_store.append(batch_b), return_exceptions=True
    )

    failures = [r for r in results if isinstance(r, BaseException)]
    successes = [r for r in results if not isinstance(r, BaseException)]
    assert len(failures) == 1
    assert isinstance(failures[0], IntegrityError)
    assert successes == [[1, 2]]

    winner_is_a = not isinstance(results[0], BaseException)
    winner, loser = (bystander_a, bystander_b) if winner_is_a else (bystander_b, bystander_a)
    assert await event_store.read_stream(loser) == []
    assert len(await event_store.read_stream(winner)) == 1
    [recorded] = await event_store.read_stream(contested)
    assert recorded.topic == ("a" if winner_is_a else "b")
    notifications = await event_store.select_notifications(None, 10)
    assert {n.originator_id for n in notifications} == {winner, contested}


async def test_conflict_with_recorded_version_writes_nothing(event_store: EventStore) -> None:
    stream, other = uuid4(), uuid4()
    assert await event_store.append([event(stream, 1), event(stream, 2)]) == [1, 2]

    with pytest.raises(IntegrityError):
        await event_store.append([event(other, 1), event(stream, 2)])

    assert await event_store.read_stream(other) == []
    assert await event_store.max_notification_id() == 2


async def test_empty_append_returns_no_ids(event_store: EventStore) -> None:
    assert await event_store.append([]) == []
    assert await event_store.max_notification_id() is None


async def test_ids_follow_the_given_event_order(event_store: EventStore) -> None:
    first, second = uuid4(), uuid4()
    events = [event(second, 2), event(first, 1), event(second, 1)]
    ids = await event_store.append(events)
    assert ids == [1, 2, 3]
    notifications = await event_store.select_notifications(None, 10)
    assert [(n.originator_id, n.originator_version) for n in notifications] == [
        (second, 2),
        (first, 1),
        (second, 1),
    ]


async def test_read_stream_bounds_order_and_limit(event_store: EventStore) -> None:
    stream = uuid4()
    await event_store.append([event(stream, v) for v in range(1, 6)])

    def versions(events: list[StoredEvent]) -> list[int]:
        return [e.originator_version for e in events]

    assert versions(await event_store.read_stream(stream)) == [1, 2, 3, 4, 5]
    assert versions(await event_store.read_stream(stream, gt=2, lte=4)) == [3, 4]
    assert versions(await event_store.read_stream(stream, desc=True, limit=2)) == [5, 4]
    assert versions(await event_store.read_stream(stream, lte=3, desc=True)) == [3, 2, 1]


async def test_create_schema_is_idempotent(event_store: EventStore) -> None:
    await event_store.create_schema()
    assert await event_store.append([event(uuid4(), 1)]) == [1]
    await event_store.create_schema()
    assert await event_store.max_notification_id() == 1


async def test_tracking_within_caller_transaction(
    event_store: EventStore, eventstore_pool: asyncpg.Pool
) -> None:
    async with eventstore_pool.acquire() as conn:
        async with conn.transaction():
            await event_store.insert_tracking(conn, "projection", 3)
            assert await event_store.max_tracking_id("projection", conn) == 3
            assert await event_store.max_tracking_id("projection") is None

        with pytest.raises(IntegrityError):
            async with conn.transaction():
                await event_store.insert_tracking(conn, "projection", 3)
        with pytest.raises(IntegrityError):
            async with conn.transaction():
                await event_store.insert_tracking(conn, "projection", 2)
        with pytest.raises(ProgrammingError):
            await event_store.insert_tracking(conn, "projection", 4)

        assert await event_store.has_tracking_id("projection", 3)
        assert not await event_store.has_tracking_id("projection", 4)
        assert await event_store.has_tracking_id("projection", None)

        async with conn.transaction():
            await event_store.delete_tracking(conn, "projection")
    assert await event_store.max_tracking_id("projection") is None


async def test_tracking_rolls_back_with_caller_transaction(
    event_store: EventStore, eventstore_pool: asyncpg.Pool
) -> None:
    async with eventstore_pool.acquire() as conn:
        with pytest.raises(RuntimeError):
            async with conn.transaction():
                await event_store.insert_tracking(conn, "projection", 1)
                raise RuntimeError
    assert await event_store.max_tracking_id("projection") is None


@pytest.mark.parametrize(
    "options",
    [
        {"events_table": "events; DROP TABLE x"},
        {"events_table": "a.b.c"},
        {"tracking_table": '"quoted"'},
        {"channel": "has space"},
        {"events_table": "x" * 64},
        {"events_table": "1starts_with_digit"},
    ],
)
async def test_rejects_unsafe_identifiers(eventstore_pool: asyncpg.Pool, options: dict[str, str]) -> None:
    with pytest.raises(ValueError, match="Invalid"):
        EventStore(eventstore_pool, **options)  # type: ignore[arg-type]


async def test_accepts_schema_qualified_table(eventstore_pool: asyncpg.Pool, event_store: EventStore) -> None:
    store = EventStore(
        eventstore_pool,
        events_table=f"public.{event_store.events_table}",
        tracking_table=f"public.{event_store.tracking_table}",
    )
    await store.create_schema()
    assert await store.append([event(uuid4(), 1)]) == [1]
    assert await event_store.max_notification_id() == 1


async def test_positions_beside_and_after_read_a_batch_in_one_statement(
    event_store: EventStore, eventstore_pool: asyncpg.Pool
) -> None:
    """The positions of every name (0 for one never tracked), the rows of the query beside them,
    and the notifications after the lowest position, at most `limit` of them, in order."""
    streams = [uuid4() for _ in range(3)]
    for version in (1, 2):
        await event_store.append([event(s, version) for s in streams])  # ids 1-3, then 4-6
    beside = (
        "SELECT n || '!', '00000000-0000-0000-0000-00000000000a'::uuid, 7::bigint"
        " FROM unnest($1::text[]) AS n WHERE n = 'ahead'"
    )
    async with eventstore_pool.acquire() as conn, conn.transaction():
        await event_store.insert_trackings(conn, ["ahead"], 5)
        await event_store.insert_trackings(conn, ["behind"], 2)

        read = event_store.tracking_positions_beside_and_after
        positions, rows, notifications = await read(["ahead", "behind"], beside, 10, conn)
        assert positions == {"ahead": 5, "behind": 2}
        assert [tuple(r) for r in rows] == [("ahead!", UUID(int=10), 7)]
        assert [n.id for n in notifications] == [3, 4, 5, 6]
        assert [(n.originator_id, n.originator_version) for n in notifications] == [
            (streams[2], 1),
            (streams[0], 2),
            (streams[1], 2),
            (streams[2], 2),
        ]
        assert notifications[0].topic == "topic" and notifications[0].state == b"topic-1"

        positions, _, notifications = await read(["ahead", "behind"], beside, 2, conn)
        assert [n.id for n in notifications] == [3, 4]

        positions, rows, notifications = await read(["ahead", "never"], beside, 10, conn)
        assert positions == {"ahead": 5, "never": 0}
        assert [n.id for n in notifications] == [1, 2, 3, 4, 5, 6]

        positions, rows, notifications = await read(["ahead"], beside, 10, conn)
        assert [n.id for n in notifications] == [6]
        await event_store.insert_trackings(conn, ["ahead"], 6)
        assert (await read(["ahead"], beside, 10, conn))[2] == []


async def test_trackings_keep_one_row_each_replacing_from_the_position_read(
    event_store: EventStore, eventstore_pool: asyncpg.Pool
) -> None:
    """Each application keeps one row: a new position replaces the rows from the one the caller
    read (`since`, decision 132), or with none given every earlier row; a row below the
    position given is left as it is, and a position at or behind the one recorded is refused."""
    table = event_store.tracking_table

    async def rows(conn: asyncpg.Connection) -> list[tuple[str, int]]:
        found = await conn.fetch(f"SELECT application_name, notification_id FROM {table} ORDER BY 1, 2")
        return [tuple(r) for r in found]

    async with eventstore_pool.acquire() as conn, conn.transaction():
        await event_store.insert_trackings(conn, ["a", "b"], 3)
        await event_store.insert_trackings(conn, ["a", "b"], 7, since={"a": 3, "b": 3})
        assert await rows(conn) == [("a", 7), ("b", 7)]
        await event_store.insert_trackings(conn, ["a"], 9, since={"a": 7, "b": 0})
        assert await rows(conn) == [("a", 9), ("b", 7)]
        await event_store.insert_tracking(conn, "b", 8)  # one more row, as the singular form keeps
        await event_store.insert_trackings(conn, ["b"], 12, since={"b": 8})
        assert await rows(conn) == [("a", 9), ("b", 7), ("b", 12)]
        await event_store.insert_trackings(conn, ["b"], 13)  # from the start: every earlier row
        assert await rows(conn) == [("a", 9), ("b", 13)]
        with pytest.raises(IntegrityError):
            await event_store.insert_trackings(conn, ["a", "b"], 11, since={"a": 9, "b": 13})


async def test_a_batchs_generic_plan_made_on_an_empty_table_still_looks_rows_up_by_key(
    event_store: EventStore, eventstore_pool: asyncpg.Pool
) -> None:
    """In a transaction with `generic_plans` (a live projection batch), a statement's plan is made
    once per connection; made while its table was empty, it must still find rows by their key
    once the table has grown, not read the whole table at every run (decision 132). The server
    here makes plans again only when a table is analysed, which this test never does."""
    table = f"grown_{secrets.token_hex(4)}"
    update = (
        f"UPDATE {table} SET seen = u.seen FROM unnest($1::uuid[], $2::int[]) AS u (id, seen)"
        f" WHERE {table}.id = u.id"
    )
    locked = event_store.transaction_with_trackings_locked
    run = "EXECUTE grown_update (ARRAY[gen_random_uuid()], ARRAY[1])"
    async with eventstore_pool.acquire() as conn:
        await conn.execute(f"CREATE TABLE {table} (id uuid PRIMARY KEY, seen int, pad text)")
        try:
            async with locked(conn, ["grown"], generic_plans=True):
                await conn.execute(f"PREPARE grown_update (uuid[], int[]) AS {update}")
                await conn.execute(run)
            await conn.execute(
                f"INSERT INTO {table} SELECT gen_random_uuid(), 0, repeat('x', 200)"
                " FROM generate_series(1, 20000)"
            )
            async with locked(conn, ["grown"], generic_plans=True):
                plan = "\n".join(
                    r[0]
                    for r in await conn.fetch(
                        "EXPLAIN EXECUTE grown_update (ARRAY[gen_random_uuid()], ARRAY[1])"
                    )
                )
            assert f"Index Scan using {table}_pkey" in plan, plan
            assert "Seq Scan" not in plan, plan
        finally:
            await conn.execute("DEALLOCATE grown_update")
            await conn.execute(f"DROP TABLE {table}")


async def test_an_append_planned_on_an_empty_log_still_finds_streams_by_key_once_it_grows(
    event_store: EventStore, eventstore_pool: asyncpg.Pool
) -> None:
    """The append function's statement is planned once per connection (decision 117). Planned on
    an empty log, it must still look the appended streams up by the log's key once the log has
    grown, not read the whole log at every append (decision 132). The plans are those the server
    used, as `auto_explain` reports them for the function's statement."""
    streams = [uuid4() for _ in range(2)]
    async with eventstore_pool.acquire() as conn:
        try:
            await conn.execute("LOAD 'auto_explain'")
        except asyncpg.PostgresError as e:  # a server without the contrib modules
            pytest.skip(f"auto_explain cannot be loaded here: {e}")
        await conn.execute(
            "SET auto_explain.log_min_duration = 0; SET auto_explain.log_nested_statements = on;"
            " SET client_min_messages = log"
        )
        plans: list[str] = []

        def heard(_conn: object, message: object) -> None:
            plans.append(str(getattr(message, "message", message)))

        conn.add_log_listener(heard)
        call = event_store._sql.call_append_function

        async def append(version: int) -> None:
            events = [event(s, version) for s in streams]
            await conn.fetchrow(
                call,
                [e.originator_id for e in events],
                [e.originator_version for e in events],
                [e.topic for e in events],
                [e.state for e in events],
                [0, 0],
                event_store._sql.channel,
                [],
                [],
                [],
            )

        await append(1)  # planned now, on a log of nothing
        events = event_store.events_table
        await conn.execute(
            f"INSERT INTO {events} (originator_id, originator_version, topic, state)"
            " SELECT gen_random_uuid(), 1, 'grown', repeat('x', 200)::bytea FROM generate_series(1, 20000)"
        )
        plans.clear()
        try:
            await append(2)
        finally:
            conn.remove_log_listener(heard)
            await conn.execute("RESET ALL")
    found = [p for p in plans if "Insert on" in p]
    assert found, plans
    assert "Seq Scan" not in found[-1], found[-1]
    assert "Index" in found[-1], found[-1]


async def test_reading_streams_looks_each_one_up_by_key_however_long_others_are(
    event_store: EventStore, eventstore_pool: asyncpg.Pool
) -> None:
    """`read_streams` reads each stream's events by a range of the primary key, never by a scan
    of the log, with a custom plan and with the generic one a connection settles on, on a log
    where a few streams are long (decision 123: a scan of the log made a cold command's read
    cost as much as the log held, and more for the streams that were long)."""
    long_one, longer, short, snapped = uuid4(), uuid4(), uuid4(), uuid4()
    async with eventstore_pool.acquire() as conn:
        await conn.execute(
            f"INSERT INTO {event_store._sql.events} (originator_id, originator_version, topic, state) "
            "SELECT s.id, v, 'topic', NULL FROM unnest($1::uuid[], $2::int[]) AS s(id, n) "
            "CROSS JOIN LATERAL generate_series(1, s.n) AS v",
            [long_one, longer],
            [4_000, 40_000],
        )
        await conn.execute(f"ANALYZE {event_store._sql.events}")
    await event_store.append([event(short, v) for v in (1, 2, 3)] + [event(snapped, v) for v in (1, 2, 3)])
    await event_store.write_snapshots([event(snapped, 2, "snap"), event(longer, 39_990, "snap")])
    asked = [(longer, 0), (long_one, 3_998), (short, 1), (snapped, 0), *((uuid4(), 0) for _ in range(3))]

    reads = await event_store.read_streams(asked)
    longer_snapshot, snapped_snapshot = reads[longer].snapshot, reads[snapped].snapshot
    assert longer_snapshot is not None and longer_snapshot.originator_version == 39_990
    assert [e.originator_version for e in reads[longer].events] == list(range(39_991, 40_001))
    assert [e.originator_version for e in reads[long_one].events] == [3_999, 4_000]
    assert reads[long_one].snapshot is None
    assert [e.originator_version for e in reads[short].events] == [2, 3]
    assert snapped_snapshot is not None and snapped_snapshot.state == b"snap-2"
    assert [e.originator_version for e in reads[snapped].events] == [3]
    assert sum(len(r.events) for r in reads.values()) == 15

    ids = "ARRAY[" + ", ".join(f"'{s}'::uuid" for s, _ in asked) + "]"
    versions = "ARRAY[" + ", ".join(f"{v}::bigint" for _, v in asked) + "]"
    log = event_store.events_table
    async with eventstore_pool.acquire() as conn:
        for mode in ("force_custom_plan", "force_generic_plan"):
            await conn.execute(f"SET plan_cache_mode = {mode}")
            await conn.execute(
                f"PREPARE streams (uuid[], bigint[], boolean) AS {event_store._sql.select_streams}"
            )
            try:
                explained = await conn.fetch(f"EXPLAIN EXECUTE streams({ids}, {versions}, true)")
            finally:
                await conn.execute("DEALLOCATE streams")
            plan = "\n".join(r[0] for r in explained)
            assert re.search(rf"(Index Scan using|Bitmap Index Scan on) {log}_pkey", plan), plan
            assert f"Seq Scan on {log} " not in plan, plan
        await conn.execute("RESET plan_cache_mode")


async def test_notifications_as_read_are_those_selected(event_store: EventStore) -> None:
    """A rebuild's read (`read_notifications`): asyncpg's records, with the attributes of the
    notifications `select_notifications` makes, from the ID given, inclusive, in order."""
    first, second = uuid4(), uuid4()
    await event_store.append([event(first, 1, "a"), event(second, 1, "b"), event(first, 2, "c")])

    read = await event_store.read_notifications(2, 10)

    selected = await event_store.select_notifications(2, 10)
    fields = ("id", "originator_id", "originator_version", "topic", "state")
    assert [tuple(getattr(n, f) for f in fields) for n in read] == [
        tuple(getattr(n, f) for f in fields) for n in selected
    ]
    assert [(n.id, n.topic, n.state) for n in read] == [(2, "b", b"b-1"), (3, "c", b"c-2")]
    assert [n.id for n in await event_store.read_notifications(1, 2)] == [1, 2]
