"""ClassesView: each school's classes and who is in them, from the roster (decision 077).

Pages read it for "my classes" (a teacher's own classes first), the Create Hall Pass filter by
class, and the kiosk's students by classroom.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import asyncpg

from hallpass.aggregates.classes import Enrolment, Member, SchoolClass
from hallpass.projections.base import Rows, StatementProjection, View

SCHEMA = """
CREATE TABLE IF NOT EXISTS roster_classes (
    class_id uuid PRIMARY KEY,
    school_id uuid NOT NULL,
    sourced_id text NOT NULL,
    title text NOT NULL,
    code text,
    homeroom boolean NOT NULL,
    room_id uuid,
    periods text[] NOT NULL,
    active boolean NOT NULL DEFAULT true
);
CREATE INDEX IF NOT EXISTS roster_classes_school ON roster_classes (school_id, title);
CREATE TABLE IF NOT EXISTS roster_enrolments (
    enrolment_id uuid PRIMARY KEY,
    school_id uuid NOT NULL,
    class_id uuid NOT NULL,
    person_id uuid NOT NULL,
    member text NOT NULL,
    is_primary boolean NOT NULL,
    active boolean NOT NULL DEFAULT true
);
CREATE INDEX IF NOT EXISTS roster_enrolments_class ON roster_enrolments (class_id, member);
CREATE INDEX IF NOT EXISTS roster_enrolments_person ON roster_enrolments (person_id);
"""

CLASSES = Rows("roster_classes", "class_id", tells=True)
ENROLMENTS = Rows("roster_enrolments", "enrolment_id", tells=True)


class ClassesProjection(StatementProjection):
    name = "classes"
    schema = SCHEMA
    tables: tuple[str, ...] = ("roster_classes", "roster_enrolments")
    statements = {
        SchoolClass.Registered: CLASSES.insert(
            "school_id, sourced_id, title, code, homeroom, room_id, periods",
            lambda e: (e.school_id, e.sourced_id, e.title, e.code, e.homeroom, e.room_id, list(e.periods)),
        ),
        SchoolClass.Changed: CLASSES.update(
            "title, code, homeroom, room_id, periods",
            lambda e: (e.title, e.code, e.homeroom, e.room_id, list(e.periods)),
        ),
        SchoolClass.Deactivated: CLASSES.update("active", lambda e: (False,)),
        SchoolClass.Reactivated: CLASSES.update("active", lambda e: (True,)),
        Enrolment.Registered: ENROLMENTS.insert(
            "school_id, class_id, person_id, member, is_primary",
            lambda e: (e.school_id, e.class_id, e.person_id, e.member, e.primary),
        ),
        Enrolment.Changed: ENROLMENTS.update(
            "class_id, person_id, member, is_primary",
            lambda e: (e.class_id, e.person_id, e.member, e.primary),
        ),
        Enrolment.Deactivated: ENROLMENTS.update("active", lambda e: (False,)),
        Enrolment.Reactivated: ENROLMENTS.update("active", lambda e: (True,)),
    }


_CLASSES = """
SELECT c.class_id, c.title, c.code, c.homeroom, c.room_id, l.name AS room_name,
    coalesce(mine.teaches, false) AS mine,
    (SELECT count(*) FROM roster_enrolments e
        WHERE e.class_id = c.class_id AND e.member = 'student' AND e.active) AS students,
    (SELECT string_agg(s.name, ', ' ORDER BY e.is_primary DESC, s.name) FROM roster_enrolments e
        JOIN dir_staff s ON s.staff_id = e.person_id
        WHERE e.class_id = c.class_id AND e.member = 'teacher' AND e.active) AS teachers
FROM roster_classes c
LEFT JOIN dir_locations l ON l.location_id = c.room_id
LEFT JOIN LATERAL (
    SELECT true AS teaches FROM roster_enrolments e
    WHERE e.class_id = c.class_id AND e.person_id = $2 AND e.member = 'teacher' AND e.active LIMIT 1
) mine ON true
WHERE c.school_id = $1 AND c.active
ORDER BY mine.teaches IS NULL, c.homeroom DESC, c.title
"""


class ClassesView(View):
    async def classes(self, school_id: UUID, *, teacher_id: UUID | None = None) -> list[dict[str, Any]]:
        """The school's classes, the teacher's own first (`mine`), homerooms before the rest."""
        return await self.rows(_CLASSES, school_id, teacher_id)

    async def student_ids(self, class_id: UUID) -> list[UUID]:
        rows = await self.pool.fetch(
            "SELECT person_id FROM roster_enrolments WHERE class_id = $1 AND member = $2 AND active",
            class_id,
            Member.STUDENT.value,
        )
        return [r["person_id"] for r in rows]


async def class_rooms(pool: asyncpg.Pool, student_id: UUID) -> frozenset[UUID]:
    """The rooms a student's active classes meet in: a kiosk set up for a classroom serves them."""
    rows = await pool.fetch(
        "SELECT c.room_id FROM roster_enrolments e JOIN roster_classes c ON c.class_id = e.class_id"
        " WHERE e.person_id = $1 AND e.member = $2 AND e.active AND c.active AND c.room_id IS NOT NULL",
        student_id,
        Member.STUDENT.value,
    )
    return frozenset(r["room_id"] for r in rows)
