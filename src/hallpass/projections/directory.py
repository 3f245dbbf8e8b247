"""DirectoryView: schools, locations, staff and students, for pick lists, search and names."""

from __future__ import annotations

import unicodedata
from typing import Any
from uuid import UUID

import asyncpg

from hallpass.aggregates.locations import Location
from hallpass.aggregates.schools import School
from hallpass.aggregates.staff import Staff
from hallpass.aggregates.students import Student
from hallpass.projections import trigrams

SCHEMA = """
CREATE TABLE IF NOT EXISTS dir_schools (
    school_id uuid PRIMARY KEY,
    district_id uuid NOT NULL,
    name text NOT NULL,
    timezone text NOT NULL
);
CREATE TABLE IF NOT EXISTS dir_locations (
    location_id uuid PRIMARY KEY,
    school_id uuid NOT NULL,
    name text NOT NULL,
    kind text NOT NULL,
    allotted_minutes integer NOT NULL,
    capacity integer,
    kiosk_allowed boolean NOT NULL,
    portal_allowed boolean NOT NULL,
    needs_approval boolean NOT NULL,
    occupants integer NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS dir_locations_school ON dir_locations (school_id, name);
CREATE TABLE IF NOT EXISTS dir_staff (
    staff_id uuid PRIMARY KEY,
    school_id uuid NOT NULL,
    name text NOT NULL,
    email text NOT NULL,
    role text NOT NULL,
    room_id uuid
);
CREATE INDEX IF NOT EXISTS dir_staff_school ON dir_staff (school_id, name);
CREATE TABLE IF NOT EXISTS dir_students (
    student_id uuid PRIMARY KEY,
    school_id uuid NOT NULL,
    first_name text NOT NULL,
    last_name text NOT NULL,
    grade integer NOT NULL,
    homeroom_id uuid,
    hall_pass_id bigint NOT NULL,
    external_id text,
    search_name text NOT NULL,
    open_pass_id uuid
);
CREATE INDEX IF NOT EXISTS dir_students_school ON dir_students (school_id, last_name, first_name);
CREATE UNIQUE INDEX IF NOT EXISTS dir_students_hall_pass_id ON dir_students (school_id, hall_pass_id);
"""


def fold(text: str) -> str:
    """Lower case without accents, for searching names."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


class DirectoryProjection:
    name = "directory"
    serves_requests = True
    tables: tuple[str, ...] = ("dir_schools", "dir_locations", "dir_staff", "dir_students")

    async def create_schema(self, conn: asyncpg.Connection) -> None:
        await conn.execute(SCHEMA)
        if await trigrams.enable(conn):
            # Kiosk search and the dashboard's student filter: LIKE and word similarity.
            await conn.execute(
                "CREATE INDEX IF NOT EXISTS dir_students_search ON dir_students"
                " USING gin (search_name gin_trgm_ops)"
            )

    async def handle(self, conn: asyncpg.Connection, event: Any, notification_id: int) -> UUID | None:
        if isinstance(event, School.Registered):
            await conn.execute(
                "INSERT INTO dir_schools VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                event.originator_id,
                event.district_id,
                event.name,
                event.timezone,
            )
            return None
        if isinstance(event, Location.Added):
            await conn.execute(
                "INSERT INTO dir_locations VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 0)"
                " ON CONFLICT DO NOTHING",
                event.originator_id,
                event.school_id,
                event.name,
                event.kind,
                event.allotted_minutes,
                event.capacity,
                event.kiosk_allowed,
                event.portal_allowed,
                event.needs_approval,
            )
            return None
        if isinstance(event, (Location.Entered, Location.Left)):
            step = 1 if isinstance(event, Location.Entered) else -1
            return await conn.fetchval(  # type: ignore[no-any-return]
                "UPDATE dir_locations SET occupants = occupants + $2 WHERE location_id = $1"
                " RETURNING school_id",
                event.originator_id,
                step,
            )
        if isinstance(event, Staff.Hired):
            await conn.execute(
                "INSERT INTO dir_staff VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
                event.originator_id,
                event.school_id,
                event.name,
                event.email,
                event.role,
                event.room_id,
            )
            return None
        if isinstance(event, Student.Registered):
            await conn.execute(
                "INSERT INTO dir_students VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, NULL)"
                # Only a replay is ignored: a hall pass ID clash is damage to report, not to hide.
                " ON CONFLICT (student_id) DO NOTHING",
                event.originator_id,
                event.school_id,
                event.first_name,
                event.last_name,
                event.grade,
                event.homeroom_id,
                event.hall_pass_id,
                event.external_id,
                fold(f"{event.first_name} {event.last_name}"),
            )
            return None
        if isinstance(event, (Student.PassOpened, Student.PassClosed)):
            opened = event.pass_id if isinstance(event, Student.PassOpened) else None
            await conn.execute(
                "UPDATE dir_students SET open_pass_id = $2 WHERE student_id = $1",
                event.originator_id,
                opened,
            )
        return None
