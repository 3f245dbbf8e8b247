"""EmergencyView: whether each school is in emergency mode, for the banner on its pages.

Declaring or ending an emergency tells the school's pages (its row changes and the runner
notifies the school), so an open page shows or hides the banner without reloading.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import asyncpg

from hallpass.aggregates.emergencies import Emergency
from hallpass.projections.base import TableProjection

SCHEMA = """
CREATE TABLE IF NOT EXISTS school_emergency (
    emergency_id uuid PRIMARY KEY,
    school_id uuid NOT NULL UNIQUE,
    is_on boolean NOT NULL DEFAULT false,
    declared_at timestamptz
);
"""


class EmergencyProjection(TableProjection):
    name = "school_emergency"
    schema = SCHEMA

    async def handle(self, conn: asyncpg.Connection, event: Any, notification_id: int) -> UUID | None:
        if isinstance(event, Emergency.Opened):
            await conn.execute(
                "INSERT INTO school_emergency (emergency_id, school_id) VALUES ($1, $2)"
                " ON CONFLICT DO NOTHING",
                event.originator_id,
                event.school_id,
            )
            return None
        if isinstance(event, Emergency.Declared):
            return await conn.fetchval(  # type: ignore[no-any-return]
                "UPDATE school_emergency SET is_on = true, declared_at = $2 WHERE emergency_id = $1"
                " RETURNING school_id",
                event.originator_id,
                event.timestamp,
            )
        if isinstance(event, Emergency.Ended):
            return await conn.fetchval(  # type: ignore[no-any-return]
                "UPDATE school_emergency SET is_on = false WHERE emergency_id = $1 RETURNING school_id",
                event.originator_id,
            )
        return None


class EmergencyView:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def on(self, school_id: UUID) -> bool:
        found = await self.pool.fetchval("SELECT is_on FROM school_emergency WHERE school_id = $1", school_id)
        return bool(found)
