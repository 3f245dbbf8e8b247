"""`hallpass audit verify`: prove the log intact, or name the first event that does not match.

Each event is checked against its own hash and the hash of its stream's previous version (a
changed row, a row inserted without the store, a deleted middle of a stream), and the running
digest of the whole log against every signed checkpoint on the way (a deleted or added event
anywhere, a changed row whose hash was recomputed, a forged checkpoint).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from uuid import UUID

import asyncpg  # type: ignore[import-untyped, unused-ignore]

from hallpass.audit.checkpoints import Checkpoint, fold, is_signed, load_checkpoints
from hallpass.eventstore.chain import GENESIS, event_hash, migrations_table
from hallpass.eventstore.identifiers import quote_table_name

Progress = Callable[[int, int], None]
_BATCH = 10_000


@dataclass(frozen=True)
class Finding:
    """The first thing that does not match, and why."""

    reason: str
    notification_id: int | None = None
    originator_id: UUID | None = None
    originator_version: int | None = None
    topic: str | None = None

    def describe(self) -> str:
        if self.notification_id is None:
            return self.reason
        return (
            f"event #{self.notification_id} (stream {self.originator_id} version {self.originator_version}, "
            f"{self.topic}): {self.reason}"
        )


@dataclass
class Verification:
    scanned: int = 0
    checked: int = 0
    checkpoints: int = 0
    started_after: int = 0
    migrated: tuple[datetime, int | None, int] | None = None
    finding: Finding | None = None
    unsigned_tail: int = field(default=0)

    @property
    def intact(self) -> bool:
        return self.finding is None


def _school_streams_sql(events: str) -> str:
    # A stream belongs to a school when one of its events names the school (every aggregate's
    # creation does, as "school_id"; the school's own stream is its id).
    return (
        f"SELECT DISTINCT originator_id FROM {events} "
        "WHERE originator_id = $1 OR position(convert_to($1::text, 'UTF8') IN state) > 0"
    )


async def verify_log(
    pool: asyncpg.Pool,
    events_table: str,
    key: bytes,
    *,
    school_id: UUID | None = None,
    since: date | None = None,
    progress: Progress | None = None,
) -> Verification:
    events = quote_table_name(events_table)
    result = Verification()
    checkpoints = await load_checkpoints(pool, events_table)
    migration = await pool.fetchrow(
        f"SELECT chained_at, up_to_notification_id, events FROM {migrations_table(events_table)} LIMIT 1"
    )
    if migration is not None and migration["events"]:
        result.migrated = (migration["chained_at"], migration["up_to_notification_id"], migration["events"])
    scope: set[UUID] | None = None
    if school_id is not None:
        scope = {row[0] for row in await pool.fetch(_school_streams_sql(events), school_id)}

    position, count, digest = 0, 0, GENESIS
    ahead = list(checkpoints)
    if since is not None:
        boundary = datetime.combine(since, time(), tzinfo=UTC)
        earlier = [c for c in checkpoints if c.signed_at < boundary]
        if earlier:
            start = earlier[-1]
            if not is_signed(key, start):
                result.finding = _forged(start)
                return result
            position, count, digest = start.notification_id, start.events, start.digest
            ahead = checkpoints[len(earlier) :]
            result.checkpoints += 1
    result.started_after = position
    head = await pool.fetchval(f"SELECT coalesce(max(notification_id), 0) FROM {events}")
    total = max(head - position, 0)

    def close_checkpoint(checkpoint: Checkpoint) -> Finding | None:
        if not is_signed(key, checkpoint):
            return _forged(checkpoint)
        if count != checkpoint.events:
            change = "deleted" if count < checkpoint.events else "added"
            return Finding(
                f"checkpoint {checkpoint.number} signed {checkpoint.events} events up to event "
                f"#{checkpoint.notification_id}; the log now holds {count}: "
                f"{abs(count - checkpoint.events)} {change} since it was signed"
            )
        if digest != checkpoint.digest:
            return Finding(
                f"the events up to #{checkpoint.notification_id} no longer match checkpoint "
                f"{checkpoint.number}'s digest: a row was changed and its hash rewritten"
            )
        return None

    query = (
        "SELECT e.notification_id, e.originator_id, e.originator_version, e.topic, e.state, e.hash, "
        "p.hash AS previous_hash, p.originator_id IS NOT NULL AS has_previous "
        f"FROM {events} e LEFT JOIN {events} p ON p.originator_id = e.originator_id "
        "AND p.originator_version = e.originator_version - 1 "
        "WHERE e.notification_id > $1 ORDER BY e.notification_id LIMIT $2"
    )
    after = position
    while True:
        rows = await pool.fetch(query, after, _BATCH)
        for row in rows:
            notification_id = row["notification_id"]
            while ahead and ahead[0].notification_id < notification_id:
                finding = close_checkpoint(ahead.pop(0))
                result.checkpoints += 1
                if finding is not None:
                    result.finding = finding
                    return result
            result.scanned += 1
            if scope is None or row["originator_id"] in scope:
                finding = _check_event(row)
                result.checked += 1
                if finding is not None:
                    result.finding = finding
                    return result
            digest = fold(digest, notification_id, row["hash"])
            count += 1
        if rows:
            after = rows[-1]["notification_id"]
            if progress is not None:
                progress(after - position, total)
        if len(rows) < _BATCH:
            break
    for checkpoint in ahead:
        finding = close_checkpoint(checkpoint)
        result.checkpoints += 1
        if finding is not None:
            result.finding = finding
            return result
    result.unsigned_tail = count - (checkpoints[-1].events if checkpoints else 0)
    return result


def _forged(checkpoint: Checkpoint) -> Finding:
    return Finding(
        f"checkpoint {checkpoint.number} (up to event #{checkpoint.notification_id}) does not carry "
        "this key's signature: it was forged or changed, or signed with another key"
    )


def _check_event(row: asyncpg.Record) -> Finding | None:
    def found(reason: str) -> Finding:
        return Finding(
            reason, row["notification_id"], row["originator_id"], row["originator_version"], row["topic"]
        )

    stored = row["hash"]
    if stored is None:
        return found(
            "it has no hash: it was not written by the event store (inserted straight into the table?)"
        )
    previous = row["previous_hash"] if row["has_previous"] else GENESIS
    if previous is None:
        return found(f"version {row['originator_version'] - 1} of its stream, which it follows, has no hash")
    expected = event_hash(
        previous, row["originator_id"], row["originator_version"], row["topic"], row["state"]
    )
    if expected == stored:
        return None
    if not row["has_previous"] and row["originator_version"] > 1:
        return found(
            f"version {row['originator_version'] - 1} of its stream, which it chains to, "
            "is missing (deleted?)"
        )
    own = event_hash(GENESIS, row["originator_id"], row["originator_version"], row["topic"], row["state"])
    if row["has_previous"] and own == stored:
        return found(f"it chains to no version {row['originator_version'] - 1} (inserted before it?)")
    return found("its stream, version, topic or state no longer match its hash (the row was changed)")
