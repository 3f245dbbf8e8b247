"""The sweep: claims timers from Postgres and hands them to Dramatiq, safely from many workers.

A timer is sent once ahead of its due time (as a delayed message) and sent again, now, while
it is overdue and its pass has still not moved on: messages may be lost, and the command they
carry does nothing when it is stale, so re-sending is always safe. `FOR UPDATE SKIP LOCKED`
lets any number of workers sweep at once without claiming the same timer twice.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
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


# Sends the timers one claim found, in due order (so a sender may group those due together).
Send = Callable[[Sequence[Due]], None]

# Seconds from now until the sweep next has something to do: the earliest unsent timer comes
# within the horizon, or a sent one is overdue enough to send again. NULL with no timers.
NEXT = """
SELECT extract(epoch FROM least(
    (SELECT min(due_at) FROM pass_timers WHERE sent_at IS NULL) - $1 * interval '1 millisecond',
    (SELECT min(greatest(due_at + $2 * interval '1 millisecond', sent_at + $3 * interval '1 millisecond'))
     FROM pass_timers WHERE sent_at IS NOT NULL)
) - now())::float8
"""


@dataclass(frozen=True)
class SweepSettings:
    """Milliseconds: send `horizon_ms` ahead; re-send once `grace_ms` overdue, every `resend_ms`.

    Seconds: between sweeps the sweeper sleeps until it next has work (see `NEXT`), at least
    `min_pause_s` (so timers falling due close together go out together) and at most
    `max_pause_s`, unless told that a nearer due time was written. Timers are sent when due
    (no horizon): a sweep that wakes on time needs no delayed messages (docs/decisions/056).
    """

    horizon_ms: int = 0
    grace_ms: int = 1_500
    resend_ms: int = 5_000
    batch: int = 1_000
    min_pause_s: float = 0.05
    max_pause_s: float = 60.0


async def sweep_once(conn: asyncpg.Connection, send: Send, settings: SweepSettings) -> int:
    """Claim one batch of timers and send them; the claim commits only if every send succeeded."""
    async with conn.transaction():
        rows = await conn.fetch(
            CLAIM, settings.horizon_ms, settings.grace_ms, settings.resend_ms, settings.batch
        )
        if rows:
            send(
                [
                    Due(
                        pass_id=row["pass_id"],
                        kind=TimerKind(row["kind"]),
                        school_id=row["school_id"],
                        due_at=row["due_at"],
                        delay_ms=row["delay_ms"],
                    )
                    for row in rows
                ]
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


async def pause_until_next(conn: asyncpg.Connection, settings: SweepSettings) -> float:
    """Seconds the sweeper may sleep before the next sweep has anything to do."""
    until: float | None = await conn.fetchval(
        NEXT, settings.horizon_ms, settings.grace_ms, settings.resend_ms
    )
    if until is None:
        return settings.max_pause_s
    return min(settings.max_pause_s, max(settings.min_pause_s, until))
