"""The hash chain of each stream (decision 079), and the one-time migration of older logs.

Every event's ``hash`` is sha256 over the hash of its stream's previous version (32 zero bytes
for a stream's first event) and its own stream id, version, topic and state. The append
statements compute it inside the appending transaction (``statements._chain``); this module is
the same function in Python, for the migration and for ``hallpass audit verify``.
"""

from __future__ import annotations

import hashlib
from uuid import UUID

import asyncpg  # type: ignore[import-untyped, unused-ignore]

from hallpass.eventstore.identifiers import quote_table_name

GENESIS = bytes(32)
_MIGRATION_BATCH = 5000


def event_hash(
    previous: bytes, originator_id: UUID, originator_version: int, topic: str, state: bytes | None
) -> bytes:
    encoded_topic = topic.encode()
    return hashlib.sha256(
        previous
        + originator_id.bytes
        + originator_version.to_bytes(8, "big", signed=True)
        + len(encoded_topic).to_bytes(4, "big", signed=True)
        + encoded_topic
        + (state or b"")
    ).digest()


def checkpoints_table(events_table: str) -> str:
    """The table of signed checkpoints over the whole log (``hallpass.audit.checkpoints``)."""
    return quote_table_name(f"{events_table}_checkpoints")


def migrations_table(events_table: str) -> str:
    """The table that records the one-time chaining of events stored before hashes existed."""
    return quote_table_name(f"{events_table}_chained")


async def chain_existing_events(conn: asyncpg.Connection, events_table: str) -> None:
    """Give events stored before the chain their hashes, once; record that it was done.

    Runs inside the caller's transaction, after the hash column exists. Once the record is
    there it never runs again, so a row inserted later without a hash stays without one and
    ``verify`` names it.
    """
    events = quote_table_name(events_table)
    chained = migrations_table(events_table)
    await conn.execute(
        f"CREATE TABLE IF NOT EXISTS {chained} ("
        "chained_at timestamptz NOT NULL DEFAULT now(), "
        "up_to_notification_id bigint, "
        "events bigint NOT NULL)"
    )
    await conn.execute(
        f"CREATE TABLE IF NOT EXISTS {checkpoints_table(events_table)} ("
        "checkpoint_no bigint PRIMARY KEY, "
        "notification_id bigint NOT NULL, "
        "events bigint NOT NULL, "
        "digest bytea NOT NULL, "
        "signed_at timestamptz NOT NULL, "
        "mac bytea NOT NULL)"
    )
    await conn.execute(f"LOCK TABLE {events} IN EXCLUSIVE MODE")
    if await conn.fetchval(f"SELECT EXISTS (SELECT 1 FROM {chained})"):
        return
    rows = await conn.fetch(
        f"SELECT originator_id, originator_version, topic, state FROM {events} "
        "WHERE hash IS NULL ORDER BY originator_id, originator_version"
    )
    previous_stream: UUID | None = None
    previous_version = 0
    previous_hash = GENESIS
    ids: list[UUID] = []
    versions: list[int] = []
    hashes: list[bytes] = []
    for row in rows:
        stream, version = row["originator_id"], row["originator_version"]
        link = previous_hash if stream == previous_stream and version == previous_version + 1 else GENESIS
        previous_hash = event_hash(link, stream, version, row["topic"], row["state"])
        previous_stream, previous_version = stream, version
        ids.append(stream)
        versions.append(version)
        hashes.append(previous_hash)
    for start in range(0, len(ids), _MIGRATION_BATCH):
        end = start + _MIGRATION_BATCH
        await conn.execute(
            f"UPDATE {events} t SET hash = u.hash "
            "FROM unnest($1::uuid[], $2::bigint[], $3::bytea[]) "
            "AS u(originator_id, originator_version, hash) "
            "WHERE t.originator_id = u.originator_id AND t.originator_version = u.originator_version",
            ids[start:end],
            versions[start:end],
            hashes[start:end],
        )
    await conn.execute(
        f"INSERT INTO {chained} (up_to_notification_id, events) "
        f"SELECT max(notification_id), $1 FROM {events}",
        len(ids),
    )
