"""TimersProjection: the authoritative due times of pending pass timers, kept in Postgres."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

import asyncpg

from hallpass.aggregates.passes import Pass, Status

SCHEMA = """
CREATE TABLE IF NOT EXISTS pass_timers (
    pass_id uuid NOT NULL,
    kind text NOT NULL,
    school_id uuid NOT NULL,
    due_at timestamptz NOT NULL,
    sent_at timestamptz,
    PRIMARY KEY (pass_id, kind)
);
CREATE INDEX IF NOT EXISTS pass_timers_due ON pass_timers (due_at);
"""


class TimerKind(StrEnum):
    EXPIRE = "expire"
    ACTIVATE = "activate"


class TimersProjection:
    """One row per timer still to fire; a row goes away once its pass leaves the state."""

    name = "pass_timers"
    tables: tuple[str, ...] = ("pass_timers",)

    async def create_schema(self, conn: asyncpg.Connection) -> None:
        await conn.execute(SCHEMA)

    async def handle(self, conn: asyncpg.Connection, event: Any, notification_id: int) -> UUID | None:
        if not isinstance(event, Pass.Event):
            return None
        pass_id = event.originator_id
        if isinstance(event, Pass.Created):
            if event.status == Status.ACTIVE.value:
                await _set(conn, pass_id, TimerKind.EXPIRE, event.school_id, expiry_of(event))
            elif event.status == Status.SCHEDULED.value:
                await _set(conn, pass_id, TimerKind.ACTIVATE, event.school_id, event.start_at)
            return None
        for handler in _HANDLERS:
            if await handler(conn, event):
                return None
        if isinstance(event, (Pass.Expired, Pass.Completed, Pass.Terminated)):
            await conn.execute("DELETE FROM pass_timers WHERE pass_id = $1", pass_id)
        return None


def expiry_of(created: Pass.Created) -> datetime:
    from datetime import timedelta

    return created.start_at + timedelta(minutes=created.allotted_minutes)


async def _set(conn: asyncpg.Connection, pass_id: UUID, kind: TimerKind, school_id: UUID, due: datetime) -> None:
    await conn.execute(
        """
        INSERT INTO pass_timers (pass_id, kind, school_id, due_at) VALUES ($1, $2, $3, $4)
        ON CONFLICT (pass_id, kind) DO UPDATE SET due_at = EXCLUDED.due_at, sent_at = NULL
        """,
        pass_id,
        kind.value,
        school_id,
        due,
    )
