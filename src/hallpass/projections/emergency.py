"""EmergencyView: whether each school is in emergency mode, for the banner on its pages.

Declaring or ending an emergency tells the school's pages (its row changes and the runner
notifies the school), so an open page shows or hides the banner without reloading.
"""

from __future__ import annotations

from uuid import UUID

from hallpass.aggregates.emergencies import Emergency
from hallpass.projections.base import Statement, StatementProjection, View

SCHEMA = """
CREATE TABLE IF NOT EXISTS school_emergency (
    emergency_id uuid PRIMARY KEY,
    school_id uuid NOT NULL UNIQUE,
    is_on boolean NOT NULL DEFAULT false,
    declared_at timestamptz
);
"""


STATEMENTS: dict[type, Statement] = {
    Emergency.Opened: (
        "INSERT INTO school_emergency (emergency_id, school_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        lambda e: (e.originator_id, e.school_id),
    ),
    Emergency.Declared: (
        "UPDATE school_emergency SET is_on = true, declared_at = $2 WHERE emergency_id = $1"
        " RETURNING school_id",
        lambda e: (e.originator_id, e.timestamp),
    ),
    Emergency.Ended: (
        "UPDATE school_emergency SET is_on = false WHERE emergency_id = $1 RETURNING school_id",
        lambda e: (e.originator_id,),
    ),
}


class EmergencyProjection(StatementProjection):
    name = "school_emergency"
    schema = SCHEMA
    statements = STATEMENTS


class EmergencyView(View):
    async def on(self, school_id: UUID) -> bool:
        found = await self.pool.fetchval("SELECT is_on FROM school_emergency WHERE school_id = $1", school_id)
        return bool(found)
