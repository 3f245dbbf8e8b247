"""DirectoryView: schools, locations, staff and students, for pick lists, search and names."""

from __future__ import annotations

import unicodedata
from collections.abc import Awaitable, Callable
from typing import Any
from uuid import UUID

import asyncpg

from hallpass.aggregates import ids
from hallpass.aggregates.administration import Deactivation, Reactivation, Revision
from hallpass.aggregates.districts import District
from hallpass.aggregates.locations import Location
from hallpass.aggregates.rules import SchoolRules
from hallpass.aggregates.schools import School
from hallpass.aggregates.staff import Staff, ordered_roles
from hallpass.aggregates.students import Student
from hallpass.projections import trigrams
from hallpass.projections.base import Statement, Straight, TableProjection, run_statement

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
CREATE TABLE IF NOT EXISTS dir_districts (
    district_id uuid PRIMARY KEY,
    name text NOT NULL
);
-- Added with the administration pages (decision 072); earlier rows get the defaults they imply.
ALTER TABLE dir_locations ADD COLUMN IF NOT EXISTS active boolean NOT NULL DEFAULT true;
ALTER TABLE dir_staff ADD COLUMN IF NOT EXISTS roles text[];
UPDATE dir_staff SET roles = ARRAY[role] WHERE roles IS NULL;
ALTER TABLE dir_staff ADD COLUMN IF NOT EXISTS active boolean NOT NULL DEFAULT true;
ALTER TABLE dir_staff ADD COLUMN IF NOT EXISTS sourced_id text;
ALTER TABLE dir_students ADD COLUMN IF NOT EXISTS active boolean NOT NULL DEFAULT true;
ALTER TABLE dir_students ADD COLUMN IF NOT EXISTS sourced_id text;
-- The school's hallway rules stream and its version (decision 119): 0 before the stream has an
-- event, NULL for a row projected before these columns (not known: the rules are read from the log).
ALTER TABLE dir_schools ADD COLUMN IF NOT EXISTS rules_id uuid;
ALTER TABLE dir_schools ADD COLUMN IF NOT EXISTS rules_version integer;
CREATE INDEX IF NOT EXISTS dir_schools_district ON dir_schools (district_id, name);
CREATE INDEX IF NOT EXISTS dir_schools_rules ON dir_schools (rules_id);
CREATE INDEX IF NOT EXISTS dir_staff_page ON dir_staff (school_id, name, staff_id);
CREATE INDEX IF NOT EXISTS dir_staff_email ON dir_staff (email);
CREATE INDEX IF NOT EXISTS dir_students_page ON dir_students (school_id, last_name, first_name, student_id);
CREATE INDEX IF NOT EXISTS dir_students_external_id ON dir_students (school_id, external_id);
CREATE INDEX IF NOT EXISTS dir_students_sourced_id ON dir_students (school_id, sourced_id);
"""


def fold(text: str) -> str:
    """Lower case without accents, for searching names."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def _location_values(event: Location.Added | Location.Changed) -> tuple[Any, ...]:
    """What the event that adds or changes a location says of it, in dir_locations' order."""
    return (
        event.name,
        event.kind,
        event.allotted_minutes,
        event.capacity,
        event.kiosk_allowed,
        event.portal_allowed,
        event.needs_approval,
    )


def _student_values(event: Student.Registered | Student.Changed) -> tuple[Any, ...]:
    """What the event that registers or changes a student says of them, with the folded name
    kiosk search matches: dir_students' columns from first_name to search_name."""
    return (
        event.first_name,
        event.last_name,
        event.grade,
        event.homeroom_id,
        event.hall_pass_id,
        event.external_id,
        event.sourced_id,
        fold(f"{event.first_name} {event.last_name}"),
    )


def _staff_values(event: Staff.Hired | Staff.Changed) -> tuple[Any, ...]:
    """What the event that hires or changes a member of staff says of them, from name to
    sourced_id in dir_staff; their first role is the one shown where one is shown."""
    roles = [r.value for r in ordered_roles(event.roles)]
    return (event.name, event.email, roles[0], event.room_id, roles, event.sourced_id)


# A new district, school, location, member of staff or student: a new row. Only a replay is
# ignored; a student's hall pass ID clash is damage to report, not to hide.
INSERTS: dict[type, Statement] = {
    District.Founded: (
        "INSERT INTO dir_districts VALUES ($1, $2) ON CONFLICT DO NOTHING",
        lambda e: (e.originator_id, e.name),
    ),
    School.Registered: (
        "INSERT INTO dir_schools (school_id, district_id, name, timezone, rules_id, rules_version)"
        " VALUES ($1, $2, $3, $4, $5, 0) ON CONFLICT DO NOTHING",
        lambda e: (e.originator_id, e.district_id, e.name, e.timezone, ids.rules_id(e.originator_id)),
    ),
    Location.Added: (
        "INSERT INTO dir_locations VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 0) ON CONFLICT DO NOTHING",
        lambda e: (e.originator_id, e.school_id, *_location_values(e)),
    ),
    Staff.Hired: (
        "INSERT INTO dir_staff (staff_id, school_id, name, email, role, room_id, roles, sourced_id)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING",
        lambda e: (e.originator_id, e.school_id, *_staff_values(e)),
    ),
    Student.Registered: (
        "INSERT INTO dir_students (student_id, school_id, first_name, last_name, grade, homeroom_id,"
        " hall_pass_id, external_id, sourced_id, search_name)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (student_id) DO NOTHING",
        lambda e: (e.originator_id, e.school_id, *_student_values(e)),
    ),
}


# A change made by an administrator or an import: the row takes the event's values, and the
# school whose views changed is the answer.
CHANGES: dict[type, Statement] = {
    School.Changed: (
        "UPDATE dir_schools SET name = $2, timezone = $3 WHERE school_id = $1 RETURNING school_id",
        lambda e: (e.originator_id, e.name, e.timezone),
    ),
    Location.Changed: (
        "UPDATE dir_locations SET name = $2, kind = $3, allotted_minutes = $4, capacity = $5,"
        " kiosk_allowed = $6, portal_allowed = $7, needs_approval = $8 WHERE location_id = $1"
        " RETURNING school_id",
        lambda e: (e.originator_id, *_location_values(e)),
    ),
    Staff.Changed: (
        "UPDATE dir_staff SET name = $2, email = $3, role = $4, room_id = $5, roles = $6,"
        " sourced_id = $7 WHERE staff_id = $1 RETURNING school_id",
        lambda e: (e.originator_id, *_staff_values(e)),
    ),
    Student.Changed: (
        "UPDATE dir_students SET first_name = $2, last_name = $3, grade = $4, homeroom_id = $5,"
        " hall_pass_id = $6, external_id = $7, sourced_id = $8, search_name = $9"
        " WHERE student_id = $1 RETURNING school_id",
        lambda e: (e.originator_id, *_student_values(e)),
    ),
}


# A student's row as a bulk load fills it (the benches and tests that load many students at once).
STUDENT_ROW = (
    "student_id",
    "school_id",
    "first_name",
    "last_name",
    "grade",
    "homeroom_id",
    "hall_pass_id",
    "external_id",
    "search_name",
    "open_pass_id",
)


class DirectoryProjection(TableProjection):
    name = "directory"
    schema = SCHEMA
    tables: tuple[str, ...] = ("dir_districts", "dir_schools", "dir_locations", "dir_staff", "dir_students")
    events = (
        Revision,
        Deactivation,
        Reactivation,
        *INSERTS,
        Location.Entered,
        Location.Left,
        Student.PassOpened,
        Student.PassClosed,
        SchoolRules.Event,
    )

    def __init__(self) -> None:
        self._routes: dict[type, Route] = {}

    async def create_schema(self, conn: asyncpg.Connection) -> None:
        await super().create_schema(conn)
        # Rows projected before the rules' columns learn their stream; their version stays
        # unknown until the rules next change (decision 119).
        unnamed = await conn.fetch("SELECT school_id FROM dir_schools WHERE rules_id IS NULL")
        if unnamed:
            await conn.executemany(
                "UPDATE dir_schools SET rules_id = $2 WHERE school_id = $1",
                [(r["school_id"], ids.rules_id(r["school_id"])) for r in unnamed],
            )
        if await trigrams.enable(conn):
            # Kiosk search and the dashboard's student filter: LIKE and word similarity.
            await conn.execute(
                "CREATE INDEX IF NOT EXISTS dir_students_search ON dir_students"
                " USING gin (search_name gin_trgm_ops)"
            )

    async def handle(self, conn: asyncpg.Connection, event: Any, notification_id: int) -> UUID | None:
        kind = type(event)
        route = self._routes.get(kind)
        if route is None:  # worked out once per class: most of a log is trips in and out
            route = self._routes[kind] = self._route(kind)
        return await route(conn, event)

    def _route(self, kind: type) -> Route:
        """What `handle` does with an event of class `kind`."""
        if issubclass(kind, Revision | Deactivation | Reactivation):
            return self._administered
        if kind in INSERTS:
            return _inserted
        trip = self.straight(kind)
        if trip is not None:
            return _tripped(trip)
        if issubclass(kind, SchoolRules.Event):
            return _rules_changed
        return _nothing

    def straight(self, kind: type) -> Straight | None:
        """The statement an event of class `kind` makes from its stream and fields alone, where it
        is one of those most of a log is (`TRIPS`): a rebuild makes it from the stored fields
        without an event object (decision 128), `handle` from the event's."""
        return next((TRIPS[k] for k in kind.__mro__ if k in TRIPS), None)

    async def _administered(self, conn: asyncpg.Connection, event: Any) -> UUID | None:
        """A change made by an administrator or an import: the row takes the event's values."""
        record: UUID = event.originator_id
        if isinstance(event, Deactivation | Reactivation):
            active = isinstance(event, Reactivation)
            place = ACTIVE_TABLES.get(type(event).__qualname__.split(".")[0])
            if place is None:  # classes and enrolments have a read model of their own
                return None
            table, key = place
            return await conn.fetchval(  # type: ignore[no-any-return]
                f"UPDATE {table} SET active = $2 WHERE {key} = $1 RETURNING school_id", record, active
            )
        if isinstance(event, District.Changed):
            await conn.execute(
                "UPDATE dir_districts SET name = $2 WHERE district_id = $1", record, event.name
            )
            return None
        change = CHANGES.get(type(event))
        if change is None:
            return None
        sql, values = change
        return await conn.fetchval(sql, *values(event))  # type: ignore[no-any-return]


Route = Callable[[Any, Any], Awaitable[UUID | None]]


async def _inserted(conn: asyncpg.Connection, event: Any) -> None:
    sql, values = INSERTS[type(event)]
    await conn.execute(sql, *values(event))


_OCCUPANTS = "UPDATE dir_locations SET occupants = occupants + $2 WHERE location_id = $1 RETURNING school_id"


def _tripped(trip: Straight) -> Route:
    """`handle`'s way with an event of `TRIPS`: its statement from the event's stream and fields."""
    sql, values = trip

    async def tripped(conn: asyncpg.Connection, event: Any) -> UUID | None:
        return await run_statement(conn, sql, values(event.originator_id, vars(event)))

    return tripped


async def _rules_changed(conn: asyncpg.Connection, event: Any) -> UUID | None:
    # Any change of the rules: the row names the version, so a web process's kept policy is known
    # to be current or not without reading the log (decision 119).
    return await conn.fetchval(  # type: ignore[no-any-return]
        "UPDATE dir_schools SET rules_version = $2 WHERE rules_id = $1 RETURNING school_id",
        event.originator_id,
        event.originator_version,
    )


_OPEN_PASS = "UPDATE dir_students SET open_pass_id = $2 WHERE student_id = $1"

# Most of a log: trips in and out of places, and students' passes opened and closed. Each is one
# statement, its arguments from the event's stream and fields: a place's occupants, a student's
# open pass.
TRIPS: dict[type, Straight] = {
    Location.Entered: (_OCCUPANTS, lambda stream, _: (stream, 1)),
    Location.Left: (_OCCUPANTS, lambda stream, _: (stream, -1)),
    Student.PassOpened: (_OPEN_PASS, lambda stream, fields: (stream, fields["pass_id"])),
    Student.PassClosed: (_OPEN_PASS, lambda stream, _: (stream, None)),
}


async def _nothing(conn: asyncpg.Connection, event: Any) -> None:
    return None


ACTIVE_TABLES = {
    "Student": ("dir_students", "student_id"),
    "Staff": ("dir_staff", "staff_id"),
    "Location": ("dir_locations", "location_id"),
}
"""Where each aggregate that can be deactivated (or archived) keeps its `active` flag."""
