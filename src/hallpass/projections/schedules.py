"""ScheduleListView: each repeating schedule and the passes it planned, for its series page."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from hallpass.aggregates.schedules import Schedule
from hallpass.projections.base import Rows, StatementProjection, View

SCHEMA = """
CREATE TABLE IF NOT EXISTS schedule_list (
    schedule_id uuid PRIMARY KEY,
    school_id uuid NOT NULL,
    student_ids uuid[] NOT NULL,
    origin_id uuid NOT NULL,
    destination_id uuid NOT NULL,
    weekdays integer[] NOT NULL,
    at time NOT NULL,
    first_date date NOT NULL,
    last_date date NOT NULL,
    timezone text NOT NULL,
    created_by_kind text NOT NULL,
    created_by_id uuid,
    created_at timestamptz NOT NULL,
    cancelled_at timestamptz
);
CREATE TABLE IF NOT EXISTS schedule_passes (
    pass_id uuid PRIMARY KEY,
    schedule_id uuid NOT NULL
);
CREATE INDEX IF NOT EXISTS schedule_passes_schedule ON schedule_passes (schedule_id);
"""

SCHEDULES = Rows("schedule_list", "schedule_id")


class ScheduleListProjection(StatementProjection):
    """Its own projection, so a log that predates it is projected in full."""

    name = "schedule_list"
    schema = SCHEMA
    tables: tuple[str, ...] = ("schedule_list", "schedule_passes")
    statements = {
        Schedule.Created: (
            """
            WITH added AS (
                INSERT INTO schedule_list (schedule_id, school_id, student_ids, origin_id, destination_id,
                    weekdays, at, first_date, last_date, timezone, created_by_kind, created_by_id, created_at)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
                ON CONFLICT DO NOTHING
            )
            INSERT INTO schedule_passes (pass_id, schedule_id)
            SELECT unnest($14::uuid[]), $1 ON CONFLICT DO NOTHING
            """,
            lambda e: (
                e.originator_id,
                e.school_id,
                list(e.student_ids),
                e.origin_id,
                e.destination_id,
                list(e.weekdays),
                e.at,
                e.first_date,
                e.last_date,
                e.timezone,
                e.actor_kind,
                e.actor_id,
                e.timestamp,
                list(e.pass_ids),
            ),
        ),
        Schedule.Cancelled: SCHEDULES.update("cancelled_at", lambda e: (e.timestamp,)),
    }


class ScheduleListView(View):
    async def schedule(self, school_id: UUID, schedule_id: UUID) -> dict[str, Any] | None:
        return await self.row(
            "SELECT s.*, o.name AS origin_name, d.name AS destination_name, c.name AS creator_name"
            " FROM schedule_list s"
            " LEFT JOIN dir_locations o ON o.location_id = s.origin_id"
            " LEFT JOIN dir_locations d ON d.location_id = s.destination_id"
            " LEFT JOIN dir_staff c ON c.staff_id = s.created_by_id"
            " WHERE s.schedule_id = $1 AND s.school_id = $2",
            schedule_id,
            school_id,
        )

    async def passes(self, schedule_id: UUID) -> list[dict[str, Any]]:
        """The series' passes, soonest first, with each one's student and status."""
        return await self.rows(
            "SELECT p.pass_id, p.status, p.start_at, p.end_reason,"
            " s.first_name || ' ' || s.last_name AS student_name"
            " FROM schedule_passes sp JOIN pass_list p ON p.pass_id = sp.pass_id"
            " JOIN dir_students s ON s.student_id = p.student_id"
            " WHERE sp.schedule_id = $1 ORDER BY p.start_at, student_name",
            schedule_id,
        )
