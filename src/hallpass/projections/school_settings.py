"""SchoolSettingsView: what each school's administrators set (the Student Portal, dismissal)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time
from uuid import UUID

from hallpass.aggregates.schools import School
from hallpass.projections.base import Rows, StatementProjection, View

SCHEMA = """
CREATE TABLE IF NOT EXISTS school_settings (
    school_id uuid PRIMARY KEY,
    timezone text NOT NULL,
    portal_enabled boolean NOT NULL DEFAULT false,
    portal_needs_approval boolean NOT NULL DEFAULT false,
    portal_approval_destination_ids uuid[] NOT NULL DEFAULT '{}',
    dismissal_time time
);
"""


SETTINGS = Rows("school_settings", "school_id")


class SchoolSettingsProjection(StatementProjection):
    """One row per school. Its own projection, so a log that predates it is projected in full."""

    name = "school_settings"
    schema = SCHEMA
    statements = {
        School.Registered: SETTINGS.insert("timezone", lambda e: (e.timezone,)),
        School.PortalSettingsChanged: SETTINGS.update(
            "portal_enabled, portal_needs_approval, portal_approval_destination_ids",
            lambda e: (e.enabled, e.needs_approval, list(e.approval_destination_ids)),
        ),
        School.Changed: SETTINGS.update("timezone", lambda e: (e.timezone,)),
        School.DismissalTimeSet: SETTINGS.update("dismissal_time", lambda e: (e.dismissal_time,)),
    }


@dataclass(frozen=True)
class SchoolSettings:
    """A school's settings as its read model holds them; named as on the `School` aggregate."""

    id: UUID
    timezone: str
    portal_enabled: bool
    portal_needs_approval: bool
    portal_approval_destinations: tuple[UUID, ...]
    dismissal_time: time | None


class SchoolSettingsView(View):
    async def get(self, school_id: UUID) -> SchoolSettings | None:
        row = await self.pool.fetchrow("SELECT * FROM school_settings WHERE school_id = $1", school_id)
        if row is None:
            return None
        return SchoolSettings(
            id=row["school_id"],
            timezone=row["timezone"],
            portal_enabled=row["portal_enabled"],
            portal_needs_approval=row["portal_needs_approval"],
            portal_approval_destinations=tuple(row["portal_approval_destination_ids"]),
            dismissal_time=row["dismissal_time"],
        )
