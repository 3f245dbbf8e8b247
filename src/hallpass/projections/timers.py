"""TimersProjection: the authoritative due times of pending pass timers, kept in Postgres."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from uuid import UUID

import asyncpg

from hallpass.aggregates.passes import Pass
from hallpass.aggregates.schools import School
from hallpass.aggregates.wait_lines import WaitLine
from hallpass.projections.base import TableProjection

SCHEMA = """
CREATE TABLE IF NOT EXISTS pass_timers (
    pass_id uuid NOT NULL,
    kind text NOT NULL,
    school_id uuid NOT NULL,
    due_at timestamptz NOT NULL,
    allotted_minutes integer NOT NULL,
    sent_at timestamptz,
    PRIMARY KEY (pass_id, kind)
);
CREATE INDEX IF NOT EXISTS pass_timers_due ON pass_timers (due_at);
"""

# Told (at commit) whenever a due time is written, with that time (Unix seconds), so a sweep
# sleeping until a later one wakes for it (timers/scheduler.py).
DUE_CHANNEL = "hallpass_timer_due"
_TOLD = (
    f"SELECT pg_notify('{DUE_CHANNEL}', extract(epoch FROM min(due_at))::text) FROM written"
    " HAVING count(*) > 0"
)

UPSERT = f"""
WITH written AS (
    INSERT INTO pass_timers (pass_id, kind, school_id, due_at, allotted_minutes) VALUES ($1, $2, $3, $4, $5)
    ON CONFLICT (pass_id, kind) DO UPDATE
    SET due_at = EXCLUDED.due_at, allotted_minutes = EXCLUDED.allotted_minutes, sent_at = NULL
    RETURNING due_at
)
{_TOLD}
"""

ACTIVATED = f"""
WITH started AS (
    DELETE FROM pass_timers WHERE pass_id = $1 AND kind = 'activate'
    RETURNING pass_id, school_id, allotted_minutes
), written AS (
    INSERT INTO pass_timers (pass_id, kind, school_id, due_at, allotted_minutes)
    SELECT pass_id, 'expire', school_id,
        $2::timestamptz + allotted_minutes * interval '1 minute', allotted_minutes
    FROM started
    ON CONFLICT (pass_id, kind) DO UPDATE SET due_at = EXCLUDED.due_at, sent_at = NULL
    RETURNING due_at
)
{_TOLD}
"""

RESCHEDULED = f"""
WITH written AS (
    UPDATE pass_timers SET due_at = $2, allotted_minutes = $3, sent_at = NULL
    WHERE pass_id = $1 AND kind = 'activate'
    RETURNING due_at
)
{_TOLD}
"""


# The events after which a pass has no timer left.
ENDINGS = (Pass.Expired, Pass.Completed, Pass.Terminated, Pass.Cancelled)


class TimerKind(StrEnum):
    EXPIRE = "expire"
    ACTIVATE = "activate"
    DISMISS = "dismiss"
    OFFER = "offer"


def due_at(start_at: datetime, allotted_minutes: int) -> datetime:
    """A pass is due back its allotted minutes after it starts."""
    return start_at + timedelta(minutes=allotted_minutes)


class TimersProjection(TableProjection):
    """One row per timer still to fire; the row goes once its pass leaves that state.

    A school's dismissal is a row of kind `dismiss` whose `pass_id` is the school's id; a wait
    line's earliest offer, a row of kind `offer` whose `pass_id` is the line's id.
    """

    name = "pass_timers"
    schema = SCHEMA
    serves_requests = False
    events = (
        Pass.Started,
        Pass.Scheduled,
        Pass.Activated,
        Pass.Rescheduled,
        Pass.Approved,
        School.DismissalTimeSet,
        School.Dismissed,
        WaitLine.Offered,
        WaitLine.Left,
        *ENDINGS,
    )

    async def handle(self, conn: asyncpg.Connection, event: Any, notification_id: int) -> UUID | None:
        pass_id = getattr(event, "originator_id", None)
        if isinstance(event, Pass.Started):
            await _set(conn, event, TimerKind.EXPIRE, due_at(event.timestamp, event.allotted_minutes))
        elif isinstance(event, Pass.Scheduled):
            await _set(conn, event, TimerKind.ACTIVATE, event.start_at)
        elif isinstance(event, Pass.Activated):
            await conn.execute(ACTIVATED, pass_id, event.timestamp)
        elif isinstance(event, Pass.Rescheduled):
            await conn.execute(RESCHEDULED, pass_id, event.start_at, event.allotted_minutes)
        elif isinstance(event, Pass.Approved):
            await conn.execute(
                UPSERT, pass_id, TimerKind.EXPIRE.value, event.school_id, event.due_at, event.allotted_minutes
            )
        elif isinstance(event, (School.DismissalTimeSet, School.Dismissed)):
            await conn.execute(UPSERT, pass_id, TimerKind.DISMISS.value, pass_id, event.next_at, 0)
        elif isinstance(event, (WaitLine.Offered, WaitLine.Left)):
            # One timer per line, at its earliest offer; none while no offer is out.
            if event.next_expiry is None:
                await conn.execute("DELETE FROM pass_timers WHERE pass_id = $1 AND kind = 'offer'", pass_id)
            else:
                await conn.execute(
                    UPSERT, pass_id, TimerKind.OFFER.value, event.school_id, event.next_expiry, 0
                )
        elif isinstance(event, ENDINGS):
            await conn.execute("DELETE FROM pass_timers WHERE pass_id = $1", pass_id)
        return None


async def _set(conn: asyncpg.Connection, event: Pass.Creation, kind: TimerKind, due: datetime) -> None:
    await conn.execute(UPSERT, event.originator_id, kind.value, event.school_id, due, event.allotted_minutes)
