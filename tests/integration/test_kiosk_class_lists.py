"""A kiosk set up for a classroom serves the students of every class taught there (the roster's
class lists), not only those whose homeroom it is: its search finds them and its passes admit them."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

import pytest

from hallpass.acting import Acting, Actor
from hallpass.aggregates import ids
from hallpass.aggregates.kiosks import StudentMode, StudentNotAllowed, StudentScope
from hallpass.aggregates.locations import LocationKind
from hallpass.bootstrap import Runtime
from hallpass.commands.directory import NewLocation
from hallpass.commands.kiosk import KioskCreatePass, KioskSetUp, StudentsAllowed
from support.oneroster import CLASSES, ENROLLMENTS, roster

NOW = datetime.now(UTC)


async def test_a_classroom_kiosk_serves_the_classes_taught_there(runtime: Runtime) -> None:
    app = runtime.app
    district = await app.found_district(name="Kiosk District", now=NOW)
    art = dict(CLASSES[0], sourcedId="c-2", title="Art", classType="scheduled", location="Art Room")
    enrollments = [
        *ENROLLMENTS,
        dict(ENROLLMENTS[1], sourcedId="e-art1", classSourcedId="c-2", userSourcedId="s-1"),
    ]
    files = roster(classes=[*CLASSES, art], enrollments=enrollments)
    outcome = await app.import_roster(
        files, district_id=district.id, now=NOW, by={"actor_kind": "system", "actor_id": None}
    )
    assert outcome.applied
    for runner in runtime.runners:
        await runner.catch_up()
    rows = await runtime.pool.fetch("SELECT student_id, sourced_id, school_id FROM dir_students")
    students: dict[str, UUID] = {r["sourced_id"]: r["student_id"] for r in rows}
    school_id = rows[0]["school_id"]
    art_room = ids.roster_room_id(school_id, "Art Room")
    (restroom,) = await app.add_locations(
        school_id, [NewLocation("Restroom", LocationKind.RESTROOM, 5)], now=NOW
    )
    for runner in runtime.runners:
        await runner.catch_up()

    scope = StudentScope(StudentMode.CLASSROOM, homeroom_ids=frozenset({art_room}))
    found = await runtime.kiosks.find_students(school_id, scope, "Pupil")
    assert [c.student_id for c in found] == [students["s-1"]]  # in Art; no one's homeroom is there

    teacher = await runtime.pool.fetchval("SELECT staff_id FROM dir_staff WHERE school_id = $1", school_id)
    staff = Actor("staff", teacher, school_id, "teacher", "Ada", ("teacher",))
    setup = KioskSetUp(
        room_id=art_room,
        destination_ids=[restroom.id],
        students=StudentsAllowed(mode="classroom", homeroom_ids=[art_room]),
        exit_password="2468",
    )
    _, kiosk_id, _ = await app.set_up_kiosk(Acting(staff, NOW), setup)
    device = Acting(Actor("kiosk", kiosk_id, school_id, name="Art kiosk"), datetime.now(UTC))
    with pytest.raises(StudentNotAllowed):
        await app.kiosk_create_pass(
            device, KioskCreatePass(student_id=students["s-2"], destination_id=restroom.id)
        )
    made = await app.kiosk_create_pass(
        device, KioskCreatePass(student_id=students["s-1"], destination_id=restroom.id)
    )
    assert made.body["passes"][0]["student"]["id"] == str(students["s-1"])


def test_a_classroom_scope_admits_a_class_taught_there() -> None:
    room, elsewhere = ids.roster_room_id(ids.NAMESPACE, "A"), ids.roster_room_id(ids.NAMESPACE, "B")
    scope = StudentScope(StudentMode.CLASSROOM, homeroom_ids=frozenset({room}))
    student = ids.NAMESPACE
    assert scope.allows(student_id=student, grade=7, homeroom_id=None, class_rooms={elsewhere, room})
    assert not scope.allows(student_id=student, grade=7, homeroom_id=elsewhere, class_rooms={elsewhere})
    assert scope.allows(student_id=student, grade=7, homeroom_id=room)
