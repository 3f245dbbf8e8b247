"""The sweep: claims timers from Postgres and hands them to Dramatiq, safely from many workers.

A timer is sent once ahead of its due time (as a delayed message) and sent again, now, while
it is overdue and its pass has still not moved on: messages may be lost, and the command they
carry does nothing when it is stale, so re-sending is always safe. `FOR UPDATE SKIP LOCKED`
lets any number of workers sweep at once without claiming the same timer twice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import asyncpg

from hallpass.projections.timers import TimerKind

CLAIM = """
WITH claimed AS (
    SELECT pass_id, kind FROM pass_timers
    WHERE (sent_at IS NULL AND due_at <= now() + $1 * interval '1 millisecond')
       OR (due_at <= now() - $2 * interval '1 millisecond'
           AND sent_at <= now() - $3 * interval '1 millisecond')
    ORDER BY due_at
    LIMIT $4
    FOR UPDATE SKIP LOCKED
)
UPDATE pass_timers t SET sent_at = now()
FROM claimed
WHERE t.pass_id = claimed.pass_id AND t.kind = claimed.kind
RETURNING t.pass_id, t.kind, t.school_id, t.due_at,
    greatest(0, ceil(extract(epoch FROM t.due_at - now()) * 1000))::bigint AS delay_ms
"""


@dataclass(frozen=True)
class Due:
    pass_id: UUID
    kind: TimerKind
    school_id: UUID
    due_at: datetime
    delay_ms: int


Send = Callable[[Due], None]


@dataclass(frozen=True)
class SweepSettings:
    """Milliseconds: send `horizon_ms` ahead; re-send once `grace_ms` overdue, every `resend_ms`."""

    horizon_ms: int = 10_000
    grace_ms: int = 1_500
    resend_ms: int = 5_000
    batch: int = 1_000
    interval_s: float = 0.25


async def sweep_once(conn: asyncpg.Connection, send: Send, settings: SweepSettings) -> int:
    """Claim one batch of timers and send them; the claim commits only if every send succeeded."""
    async with conn.transaction():
        rows = await conn.fetch(
            CLAIM, settings.horizon_ms, settings.grace_ms, settings.resend_ms, settings.batch
        )
        for row in rows:
            send(
                Due(
                    pass_id=row["pass_id"],
                    kind=TimerKind(row["kind"]),
                    school_id=row["school_id"],
                    due_at=row["due_at"],
                    delay_ms=row["delay_ms"],
                )
            )
    return len(rows)


async def sweep_all(conn: asyncpg.Connection, send: Send, settings: SweepSettings) -> int:
    """Sweep until no full batch remains."""
    total = 0
    while True:
        count = await sweep_once(conn, send, settings)
        total += count
        if count < settings.batch:
            return total
