"""Signed checkpoints over the whole log (decision 079).

A checkpoint folds every event since the previous checkpoint, in notification order, into a
running digest (``fold``) and signs its position, its count of events and that digest with an
HMAC whose key comes from the process settings (``HALLPASS_SECRET_KEY`` or the data folder's
key file), never from the database. Changing, adding or deleting any event a checkpoint covers
changes the digest or the count; re-signing needs the key.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import asyncpg  # type: ignore[import-untyped, unused-ignore]

from hallpass.eventstore.chain import GENESIS, checkpoints_table
from hallpass.eventstore.identifiers import quote_table_name

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_READ_BATCH = 20_000


@dataclass(frozen=True)
class Checkpoint:
    number: int
    notification_id: int
    events: int
    digest: bytes
    signed_at: datetime
    mac: bytes


def checkpoint_key(secret_key: str) -> bytes:
    """The signing key, derived from the process's secret so it serves no other purpose."""
    return hmac.new(secret_key.encode(), b"hallpass audit checkpoints", hashlib.sha256).digest()


def signature(
    key: bytes, number: int, notification_id: int, events: int, digest: bytes, signed_at: datetime
) -> bytes:
    micros = (signed_at - _EPOCH) // timedelta(microseconds=1)
    message = f"{number}:{notification_id}:{events}:{digest.hex()}:{micros}".encode()
    return hmac.new(key, message, hashlib.sha256).digest()


def fold(digest: bytes, notification_id: int, event_hash: bytes | None) -> bytes:
    """The running digest after one more event."""
    return hashlib.sha256(digest + notification_id.to_bytes(8, "big") + (event_hash or b"")).digest()


def is_signed(key: bytes, checkpoint: Checkpoint) -> bool:
    expected = signature(
        key,
        checkpoint.number,
        checkpoint.notification_id,
        checkpoint.events,
        checkpoint.digest,
        checkpoint.signed_at,
    )
    return hmac.compare_digest(expected, checkpoint.mac)


async def load_checkpoints(
    executor: asyncpg.Pool | asyncpg.Connection, events_table: str
) -> list[Checkpoint]:
    rows = await executor.fetch(
        "SELECT checkpoint_no, notification_id, events, digest, signed_at, mac "
        f"FROM {checkpoints_table(events_table)} ORDER BY checkpoint_no"
    )
    return [Checkpoint(*row) for row in rows]


async def write_checkpoint(
    pool: asyncpg.Pool, events_table: str, key: bytes, now: datetime
) -> Checkpoint | None:
    """Sign the head of the log; None when no event was added since the last checkpoint.

    Committed notification IDs are never passed by a later commit (appends hold the table's
    lock), so the events read here are all those the checkpoint's position covers.
    """
    table = checkpoints_table(events_table)
    events = quote_table_name(events_table)
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", table)
        last: Sequence[Checkpoint] = [
            Checkpoint(*row)
            for row in await conn.fetch(
                f"SELECT checkpoint_no, notification_id, events, digest, signed_at, mac FROM {table} "
                "ORDER BY checkpoint_no DESC LIMIT 1"
            )
        ]
        number = last[0].number + 1 if last else 1
        position = last[0].notification_id if last else 0
        count = last[0].events if last else 0
        digest = last[0].digest if last else GENESIS
        head = position
        while True:
            rows = await conn.fetch(
                f"SELECT notification_id, hash FROM {events} WHERE notification_id > $1 "
                "ORDER BY notification_id LIMIT $2",
                head,
                _READ_BATCH,
            )
            for notification_id, event_hash in rows:
                digest = fold(digest, notification_id, event_hash)
            count += len(rows)
            if len(rows) < _READ_BATCH:
                if rows:
                    head = rows[-1][0]
                break
            head = rows[-1][0]
        if head == position:
            return None
        signed_at = now.astimezone(UTC)
        mac = signature(key, number, head, count, digest, signed_at)
        await conn.execute(
            f"INSERT INTO {table} VALUES ($1, $2, $3, $4, $5, $6)",
            number,
            head,
            count,
            digest,
            signed_at,
            mac,
        )
        return Checkpoint(number, head, count, digest, signed_at, mac)


CHECKPOINT_EVERY = 300.0  # seconds between checkpoints while the projector runs


async def sign_periodically(
    pool: asyncpg.Pool, events_table: str, key: bytes, stop: asyncio.Event, every: float = CHECKPOINT_EVERY
) -> None:
    """Sign the head of the log now and every ``every`` seconds until ``stop`` is set."""
    while not stop.is_set():
        await write_checkpoint(pool, events_table, key, datetime.now(UTC))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every)
