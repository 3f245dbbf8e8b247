"""KioskView: each school's kiosks for the staff who run them, and the students a kiosk can find."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import asyncpg

from hallpass.aggregates.kiosks import Kiosk, StudentMode, StudentScope
from hallpass.projections.kiosk_search import Candidate, search

SCHEMA = """
CREATE TABLE IF NOT EXISTS kiosks (
    kiosk_id uuid PRIMARY KEY,
    school_id uuid NOT NULL,
    name text NOT NULL,
    room_id uuid NOT NULL,
    created_by uuid,
    created_at timestamptz NOT NULL,
    status text NOT NULL,
    destination_ids uuid[] NOT NULL,
    student_mode text NOT NULL,
    homeroom_ids uuid[] NOT NULL,
    grades integer[] NOT NULL,
    student_count integer NOT NULL,
    exit_failures integer NOT NULL DEFAULT 0,
    locked_until timestamptz,
    ended_at timestamptz
);
CREATE INDEX IF NOT EXISTS kiosks_school ON kiosks (school_id, created_by, created_at);
"""


class KioskProjection:
    name = "kiosks"
    serves_requests = True
    tables: tuple[str, ...] = ("kiosks",)

    async def create_schema(self, conn: asyncpg.Connection) -> None:
        await conn.execute(SCHEMA)

    async def handle(self, conn: asyncpg.Connection, event: Any, notification_id: int) -> UUID | None:
        if isinstance(event, Kiosk.Configured):
            await conn.execute(
                "INSERT INTO kiosks VALUES ($1, $2, $3, $4, $5, $6, 'active', $7, $8, $9, $10, $11,"
                " 0, NULL, NULL) ON CONFLICT DO NOTHING",
                event.originator_id,
                event.school_id,
                event.name,
                event.room_id,
                event.actor_id,
                event.timestamp,
                list(event.destination_ids),
                event.student_mode,
                list(event.homeroom_ids),
                list(event.grades),
                len(event.student_ids),
            )
        elif isinstance(event, (Kiosk.Revoked, Kiosk.Exited)):
            status = "revoked" if isinstance(event, Kiosk.Revoked) else "exited"
            await conn.execute(
                "UPDATE kiosks SET status = $2, ended_at = $3 WHERE kiosk_id = $1",
                event.originator_id,
                status,
                event.timestamp,
            )
        elif isinstance(event, Kiosk.ExitFailed):
            await conn.execute(
                "UPDATE kiosks SET exit_failures = $2 WHERE kiosk_id = $1",
                event.originator_id,
                event.failures,
            )
        elif isinstance(event, Kiosk.LockedOut):
            await conn.execute(
                "UPDATE kiosks SET exit_failures = 0, locked_until = $2 WHERE kiosk_id = $1",
                event.originator_id,
                event.until,
            )
        return None


CANDIDATE_SQL = """
SELECT student_id, first_name, last_name, grade, homeroom_id, hall_pass_id, external_id, open_pass_id
FROM dir_students WHERE school_id = $1
"""


class KioskView:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def for_staff(
        self, school_id: UUID, staff_id: UUID | None, *, limit: int = 20
    ) -> list[dict[str, Any]]:
        rows = await self.pool.fetch(
            "SELECT k.*, r.name AS room_name FROM kiosks k"
            " LEFT JOIN dir_locations r ON r.location_id = k.room_id"
            " WHERE k.school_id = $1 AND k.created_by IS NOT DISTINCT FROM $2"
            " ORDER BY k.status = 'active' DESC, k.created_at DESC LIMIT $3",
            school_id,
            staff_id,
            limit,
        )
        return [dict(r) for r in rows]

    async def find_students(self, school_id: UUID, scope: StudentScope, query: str) -> list[Candidate]:
        """Allowed students the query names (at most a handful); see `kiosk_search.search`."""
        sql = CANDIDATE_SQL
        values: list[Any] = []
        if scope.mode is StudentMode.CLASSROOM:
            sql, values = sql + " AND homeroom_id = ANY($2::uuid[])", list(scope.homeroom_ids)
        elif scope.mode is StudentMode.GRADE:
            sql, values = sql + " AND grade = ANY($2::int[])", list(scope.grades)
        elif scope.mode is StudentMode.LIST:
            sql, values = sql + " AND student_id = ANY($2::uuid[])", list(scope.student_ids)
        args: list[Any] = [school_id, values] if scope.mode is not StudentMode.ALL else [school_id]
        rows = await self.pool.fetch(sql, *args)
        return search((Candidate(**dict(r)) for r in rows), scope, query)
