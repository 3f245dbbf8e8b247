"""The hash chain: computed inside the append, within and across group-commit batches; older
logs chained once by the migration; `verify` finds rows changed, deleted or inserted in SQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from uuid import UUID, uuid4

import pytest
from eventsourcing.persistence import IntegrityError, StoredEvent, Tracking

from hallpass.audit.checkpoints import checkpoint_key, sign_periodically, write_checkpoint
from hallpass.audit.verify import Finding, verify_log
from hallpass.eventstore import EventStore
from hallpass.eventstore.chain import GENESIS, event_hash
from hallpass.eventstore.identifiers import quote_table_name

KEY = checkpoint_key("test secret")
NOW = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)


def event(stream: UUID, version: int) -> StoredEvent:
    return StoredEvent(
        stream, version, "hallpass.aggregates.passes:Pass.Started", f'{{"v": {version}}}'.encode()
    )


async def stored_chain(store: EventStore, stream: UUID) -> list[bytes]:
    rows = await store.pool.fetch(
        f"SELECT hash FROM {quote_table_name(store.events_table)} "
        "WHERE originator_id = $1 ORDER BY originator_version",
        stream,
    )
    return [row["hash"] for row in rows]


def expected_chain(stream: UUID, versions: int) -> list[bytes]:
    hashes, previous = [], GENESIS
    for version in range(1, versions + 1):
        e = event(stream, version)
        previous = event_hash(previous, stream, version, e.topic, e.state)
        hashes.append(previous)
    return hashes


async def tampered(store: EventStore, sql: str, *args: object) -> Finding:
    """Run `sql` against the log (`{table}`: the events table), then what verifying it finds."""
    await store.pool.execute(sql.format(table=quote_table_name(store.events_table)), *args)
    return await first_finding(store)


async def first_finding(store: EventStore, key: bytes = KEY) -> Finding:
    """What verifying the whole log finds first, after a test tampered with it."""
    finding = (await verify_log(store.pool, store.events_table, key)).finding
    assert finding is not None
    return finding


async def test_chain_holds_within_and_across_batches_and_a_clash_fails_alone(event_store: EventStore) -> None:
    a, b = uuid4(), uuid4()
    await event_store.append([event(a, 1), event(a, 2)])
    # One batch: a's next two versions in two appends, b's first, and an append that clashes.
    batches = event_store.group_commit.batches
    outcomes = await asyncio.gather(
        event_store.append([event(a, 3)]),
        event_store.append([event(a, 4), event(a, 5)]),
        event_store.append([event(b, 1)]),
        event_store.append([event(a, 1)]),
        return_exceptions=True,
    )
    assert event_store.group_commit.batches == batches + 1
    assert isinstance(outcomes[3], IntegrityError)
    assert not any(isinstance(o, BaseException) for o in outcomes[:3])
    await event_store.append([event(b, 2)], tracking=Tracking("chain-test", 1))
    assert await stored_chain(event_store, a) == expected_chain(a, 5)
    assert await stored_chain(event_store, b) == expected_chain(b, 2)
    verification = await verify_log(event_store.pool, event_store.events_table, KEY)
    assert verification.intact and verification.checked == 7


async def filled(store: EventStore) -> list[UUID]:
    streams = [uuid4() for _ in range(3)]
    for version in range(1, 4):
        await asyncio.gather(*(store.append([event(s, version)]) for s in streams))
    assert await write_checkpoint(store.pool, store.events_table, KEY, NOW) is not None
    return streams


@pytest.mark.parametrize(
    ("sql", "stream", "named_version", "reasons"),
    [
        pytest.param(
            "UPDATE {table} SET state = '{{\"v\": 9}}' WHERE originator_id = $1 AND originator_version = 2",
            1,
            2,
            ["the row was changed"],
            id="update",
        ),
        pytest.param(
            "DELETE FROM {table} WHERE originator_id = $1 AND originator_version = 2",
            2,
            3,
            ["version 2 of its stream", "missing"],
            id="delete",
        ),
        pytest.param(
            "INSERT INTO {table} (originator_id, originator_version, topic, state) VALUES ($1, 4, 'x', 'y')",
            1,
            4,
            ["no hash"],
            id="insert",
        ),
    ],
)
async def test_a_row_changed_deleted_or_inserted_in_sql_is_named(
    event_store: EventStore, sql: str, stream: int, named_version: int, reasons: list[str]
) -> None:
    """`sql` run against `filled`'s stream number `stream`: verifying names that stream at
    `named_version`, and its reason says each of `reasons`."""
    streams = await filled(event_store)
    finding = await tampered(event_store, sql, streams[stream])
    assert (finding.originator_id, finding.originator_version) == (streams[stream], named_version)
    for reason in reasons:
        assert reason in finding.reason


async def test_an_update_that_rewrites_the_hash_is_caught_by_the_next_version(
    event_store: EventStore,
) -> None:
    streams = await filled(event_store)
    forged = event_hash(
        expected_chain(streams[0], 1)[0], streams[0], 2, event(streams[0], 2).topic, b'{"v": 9}'
    )
    finding = await tampered(
        event_store,
        "UPDATE {table} SET state = '{{\"v\": 9}}', hash = $2 "
        "WHERE originator_id = $1 AND originator_version = 2",
        streams[0],
        forged,
    )
    assert (finding.originator_id, finding.originator_version) == (streams[0], 3)


async def test_deleting_a_streams_last_event_breaks_the_signed_checkpoint(event_store: EventStore) -> None:
    streams = await filled(event_store)
    finding = await tampered(
        event_store, "DELETE FROM {table} WHERE originator_id = $1 AND originator_version = 3", streams[0]
    )
    assert "checkpoint 1 signed 9 events" in finding.reason and "1 deleted" in finding.reason


async def test_a_checkpoint_signed_with_another_key_is_named(event_store: EventStore) -> None:
    await filled(event_store)
    finding = (await verify_log(event_store.pool, event_store.events_table, checkpoint_key("other"))).finding
    assert finding is not None and "checkpoint 1" in finding.reason and "signature" in finding.reason


async def test_older_events_are_chained_once_by_the_migration(event_store: EventStore) -> None:
    streams = await filled(event_store)
    table = quote_table_name(event_store.events_table)
    # A log from before the chain: no hashes, and no record of the migration.
    await event_store.pool.execute(f"UPDATE {table} SET hash = NULL")
    await event_store.pool.execute(f"DROP TABLE {quote_table_name(event_store.events_table + '_chained')}")
    await event_store.pool.execute(
        f"DELETE FROM {quote_table_name(event_store.events_table + '_checkpoints')}"
    )
    await event_store.create_schema()
    assert await stored_chain(event_store, streams[0]) == expected_chain(streams[0], 3)
    await event_store.append([event(streams[0], 4)])
    verification = await verify_log(event_store.pool, event_store.events_table, KEY)
    assert verification.intact and verification.checked == 10
    assert verification.migrated is not None and verification.migrated[1:] == (9, 9)
    # Once done, never again: a row inserted without a hash afterwards stays without one.
    await event_store.pool.execute(
        f"INSERT INTO {table} (originator_id, originator_version, topic, state) VALUES ($1, 4, 'x', 'y')",
        streams[1],
    )
    await event_store.create_schema()
    finding = (await verify_log(event_store.pool, event_store.events_table, KEY)).finding
    assert finding is not None and "no hash" in finding.reason


async def test_verify_for_one_school_checks_only_its_streams(event_store: EventStore) -> None:
    school, other = uuid4(), uuid4()
    ours = StoredEvent(uuid4(), 1, "t", f'{{"school_id": "{school}"}}'.encode())
    theirs = StoredEvent(uuid4(), 1, "t", f'{{"school_id": "{other}"}}'.encode())
    await event_store.append([ours, theirs])
    verification = await verify_log(event_store.pool, event_store.events_table, KEY, school_id=school)
    assert verification.intact and (verification.scanned, verification.checked) == (2, 1)


async def test_the_projector_signs_a_checkpoint_as_it_starts_and_stops_when_told(
    event_store: EventStore,
) -> None:
    await filled(event_store)
    await event_store.append([event(uuid4(), 1)])
    stop = asyncio.Event()
    signing = asyncio.create_task(sign_periodically(event_store.pool, event_store.events_table, KEY, stop))
    table = quote_table_name(event_store.events_table + "_checkpoints")
    deadline = asyncio.get_running_loop().time() + 30
    while await event_store.pool.fetchval(f"SELECT max(events) FROM {table}") != 10:
        assert asyncio.get_running_loop().time() < deadline, "no checkpoint signed"
        await asyncio.sleep(0.01)
    stop.set()
    await asyncio.wait_for(signing, 30)
    assert (await verify_log(event_store.pool, event_store.events_table, KEY)).checkpoints == 2
