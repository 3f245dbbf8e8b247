"""EmergencyView: whether each school is in emergency mode, for the banner on its pages.

Declaring or ending an emergency tells the school's pages (its row changes and the runner
notifies the school), so an open page shows or hides the banner without reloading.
"""

from __future__ import annotations

from uuid import UUID

from hallpass.aggregates.emergencies import Emergency
from hallpass.projections.base import Rows, StatementProjection, View

SCHEMA = """
CREATE TABLE IF NOT EXISTS school_emergency (
    emergency_id uuid PRIMARY KEY,
    school_id uuid NOT NULL UNIQUE,
    is_on boolean NOT NULL DEFAULT false,
    declared_at timestamptz
);
"""


EMERGENCIES = Rows("school_emergency", "emergency_id")


class EmergencyProjection(StatementProjection):
    name = "school_emergency"
    schema = SCHEMA
    statements = {
        Emergency.Opened: EMERGENCIES.insert("school_id", lambda e: (e.school_id,)),
        Emergency.Declared: EMERGENCIES.update(
            "is_on, declared_at", lambda e: (True, e.timestamp), tells=True
        ),
        Emergency.Ended: EMERGENCIES.update("is_on", lambda e: (False,), tells=True),
    }


class EmergencyView(View):
    async def on(self, school_id: UUID) -> bool:
        found = await self.pool.fetchval("SELECT is_on FROM school_emergency WHERE school_id = $1", school_id)
        return bool(found)
