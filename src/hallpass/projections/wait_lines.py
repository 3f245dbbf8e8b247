"""WaitLinesProjection: which places of a school have a wait line, and when each last changed.

Every change to a line tells the school's pages (the runner notifies the school), so a student
waiting sees their offer, and staff the line, without reloading. The lines themselves are read
from their aggregates (docs/decisions/092).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import asyncpg

from hallpass.aggregates.wait_lines import WaitLine
from hallpass.projections.base import TableProjection

SCHEMA = """
CREATE TABLE IF NOT EXISTS wait_lines (
    line_id uuid PRIMARY KEY,
    school_id uuid NOT NULL,
    location_id uuid NOT NULL,
    changed_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS wait_lines_school ON wait_lines (school_id);
"""


class WaitLinesProjection(TableProjection):
    name = "wait_lines"
    schema = SCHEMA

    async def handle(self, conn: asyncpg.Connection, event: Any, notification_id: int) -> UUID | None:
        if isinstance(event, WaitLine.Opened):
            return await conn.fetchval(  # type: ignore[no-any-return]
                "INSERT INTO wait_lines (line_id, school_id, location_id, changed_at) VALUES ($1, $2, $3, $4)"
                " ON CONFLICT (line_id) DO UPDATE SET changed_at = EXCLUDED.changed_at RETURNING school_id",
                event.originator_id,
                event.school_id,
                event.location_id,
                event.timestamp,
            )
        if isinstance(event, WaitLine.Event):
            return await conn.fetchval(  # type: ignore[no-any-return]
                "UPDATE wait_lines SET changed_at = $2 WHERE line_id = $1 RETURNING school_id",
                event.originator_id,
                event.timestamp,
            )
        return None


class WaitLinesView:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def line_ids(self, school_id: UUID) -> list[UUID]:
        rows = await self.pool.fetch(
            "SELECT line_id FROM wait_lines WHERE school_id = $1 ORDER BY location_id", school_id
        )
        return [row["line_id"] for row in rows]
