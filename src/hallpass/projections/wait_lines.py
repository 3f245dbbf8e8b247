"""WaitLinesProjection: which places of a school have a wait line, and when each last changed.

Every change to a line tells the school's pages (the runner notifies the school), so a student
waiting sees their offer, and staff the line, without reloading. The lines themselves are read
from their aggregates (docs/decisions/092).
"""

from __future__ import annotations

from uuid import UUID

from hallpass.aggregates.wait_lines import WaitLine
from hallpass.projections.base import Rows, StatementProjection, View

SCHEMA = """
CREATE TABLE IF NOT EXISTS wait_lines (
    line_id uuid PRIMARY KEY,
    school_id uuid NOT NULL,
    location_id uuid NOT NULL,
    changed_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS wait_lines_school ON wait_lines (school_id);
"""


LINES = Rows("wait_lines", "line_id", tells=True)


class WaitLinesProjection(StatementProjection):
    name = "wait_lines"
    schema = SCHEMA
    statements = {
        WaitLine.Opened: (
            "INSERT INTO wait_lines (line_id, school_id, location_id, changed_at) VALUES ($1, $2, $3, $4)"
            " ON CONFLICT (line_id) DO UPDATE SET changed_at = EXCLUDED.changed_at RETURNING school_id",
            lambda e: (e.originator_id, e.school_id, e.location_id, e.timestamp),
        ),
        WaitLine.Event: LINES.update("changed_at", lambda e: (e.timestamp,)),
    }
    """Every other event of a line (`WaitLine.Event`) marks it changed."""


class WaitLinesView(View):
    async def line_ids(self, school_id: UUID) -> list[UUID]:
        rows = await self.pool.fetch(
            "SELECT line_id FROM wait_lines WHERE school_id = $1 ORDER BY location_id", school_id
        )
        return [row["line_id"] for row in rows]
