"""Administration commands against the real event store: who may change what, the index
streams that keep emails, hall pass IDs and sourcedIds unique, and what deactivation stops."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TypeVar
from uuid import UUID

import pytest

from hallpass.acting import Acting, Actor
from hallpass.aggregates.locations import LocationKind
from hallpass.aggregates.staff import Role, Staff
from hallpass.aggregates.students import Student
from hallpass.bootstrap import Runtime
from hallpass.commands import admin_messages
from hallpass.commands.messages import CreatePasses
from hallpass.errors import Conflict, Forbidden, Invalid, NotFound, StudentInactive
from hallpass.sessions import COOKIE, SESSION_LIFETIME
from support.school import PASSWORD, SchoolFixture, make_school

C = TypeVar("C", admin_messages.ChangeStaff, admin_messages.ChangeStudent)


def now() -> datetime:
    return datetime.now(UTC)


def by(actor: Actor) -> Acting:
    return Acting(actor, now())


async def student(runtime: Runtime, student_id: UUID) -> Student:
    found = await runtime.app.repository.find(student_id, Student)
    assert found is not None
    return found


def change_of(kind: type[C], record: Staff | Student, **changes: object) -> C:
    """The change command that leaves `record` as it is, but for `changes`."""
    return kind(**{name: getattr(record, name) for name in kind.__struct_fields__} | changes)


def as_change(s: Student, **changes: object) -> admin_messages.ChangeStudent:
    return change_of(admin_messages.ChangeStudent, s, **changes)


async def test_an_administrator_adds_and_changes_a_location_a_teacher_may_not(runtime: Runtime) -> None:
    school = await make_school(runtime, label="Places", students=1)
    body = admin_messages.AddLocation(name="Room 303", kind=LocationKind.CLASSROOM, allotted_minutes=8)
    with pytest.raises(Forbidden):
        await runtime.app.add_location(by(school.teacher()), school.id, body)
    added = await runtime.app.add_location(by(school.admin()), school.id, body)
    location_id = UUID(added.body["location"]["id"])
    change = admin_messages.ChangeLocation(
        name="Room 303", kind=LocationKind.CLASSROOM, allotted_minutes=9, capacity=2, archived=True
    )
    changed = await runtime.app.change_location(by(school.admin()), location_id, change)
    assert changed.body["location"]["archived"] and changed.body["location"]["capacity"] == 2
    again = await runtime.app.change_location(by(school.admin()), location_id, change)
    assert again.notification_id is None, "the same values again append nothing"


async def test_records_of_another_school_are_not_found_unless_a_district_administrator_asks(
    runtime: Runtime,
) -> None:
    first = await make_school(runtime, label="First", students=1)
    neighbour = await make_school(runtime, label="Neighbour", students=1, district_id=first.district_id)
    elsewhere = await make_school(runtime, label="Elsewhere", students=1)
    change = admin_messages.ChangeLocation(name="Renamed", kind=LocationKind.CLASSROOM, allotted_minutes=10)
    with pytest.raises(NotFound):
        await runtime.app.change_location(by(first.admin()), neighbour.rooms["Room 101"], change)
    await runtime.app.change_location(by(first.admin(district=True)), neighbour.rooms["Room 101"], change)
    with pytest.raises(NotFound):
        await runtime.app.change_location(by(first.admin(district=True)), elsewhere.rooms["Room 101"], change)
    student_id = elsewhere.students[0]
    with pytest.raises(NotFound):
        await runtime.app.change_student(
            by(first.admin(district=True)), student_id, as_change(await student(runtime, student_id))
        )


async def test_a_new_hall_pass_id_is_claimed_and_the_old_one_stays_with_the_student(runtime: Runtime) -> None:
    school = await make_school(runtime, label="Numbers", students=2)
    ada, bo = [await student(runtime, s) for s in school.students]
    with pytest.raises(Conflict):
        await runtime.app.change_student(
            by(school.admin()), ada.id, as_change(ada, hall_pass_id=bo.hall_pass_id)
        )
    fresh = ada.hall_pass_id + 500
    await runtime.app.change_student(by(school.admin()), ada.id, as_change(ada, hall_pass_id=fresh))
    assert (await student(runtime, ada.id)).hall_pass_id == fresh
    taken = admin_messages.AddStudent(first_name="Cy", last_name="New", grade=7, hall_pass_id=fresh)
    with pytest.raises(Conflict):
        await runtime.app.add_student(by(school.admin()), school.id, taken)
    # Changing again gives the claimed number back for another student to take.
    await runtime.app.change_student(by(school.admin()), ada.id, as_change(ada, hall_pass_id=fresh + 1))
    bo_now = await student(runtime, bo.id)
    await runtime.app.change_student(by(school.admin()), bo.id, as_change(bo_now, hall_pass_id=fresh))
    assert (await student(runtime, bo.id)).hall_pass_id == fresh


async def test_a_sourced_id_is_unique_in_the_district(runtime: Runtime) -> None:
    first = await make_school(runtime, label="Roster", students=1)
    neighbour = await make_school(runtime, label="RosterToo", students=1, district_id=first.district_id)
    other = await make_school(runtime, label="OtherDistrict", students=1)
    body = admin_messages.AddStudent(
        first_name="Di", last_name="Source", grade=8, hall_pass_id=424242, sourced_id="stu-1"
    )
    await runtime.app.add_student(by(first.admin()), first.id, body)
    with pytest.raises(Conflict):
        await runtime.app.add_student(by(neighbour.admin()), neighbour.id, body)
    await runtime.app.add_student(by(other.admin()), other.id, body)


async def test_a_deactivated_student_gets_no_pass(runtime: Runtime) -> None:
    school = await make_school(runtime, label="Inactive", students=1)
    s = await student(runtime, school.students[0])
    await runtime.app.change_student(by(school.admin()), s.id, as_change(s, active=False))
    passes = CreatePasses(
        origin_id=school.rooms["Room 101"], destination_id=school.rooms["Nurse"], student_ids=[s.id]
    )
    with pytest.raises(StudentInactive):
        await runtime.app.create_passes(by(school.teacher()), passes)


async def staff_change(runtime: Runtime, staff_id: UUID, **changes: object) -> admin_messages.ChangeStaff:
    staff = await runtime.app.repository.find(staff_id, Staff)
    assert staff is not None
    return change_of(admin_messages.ChangeStaff, staff, **changes)


async def test_a_deactivated_teacher_is_signed_out_and_cannot_sign_in(runtime: Runtime) -> None:
    school = await make_school(runtime, label="Leaving", students=1)
    ada = school.teachers["Ada"]
    raw, _ = await runtime.sessions.start(school.teacher(), via=COOKIE, now=now(), lifetime=SESSION_LIFETIME)
    await runtime.app.change_staff(by(school.admin()), ada, await staff_change(runtime, ada, active=False))
    assert await runtime.sessions.find(raw, via=COOKIE, now=now()) is None
    assert await runtime.app.sign_in_staff(school.emails["Ada"], PASSWORD, now=now()) is None
    await runtime.app.change_staff(by(school.admin()), ada, await staff_change(runtime, ada, active=True))
    assert await runtime.app.sign_in_staff(school.emails["Ada"], PASSWORD, now=now()) is not None


async def test_a_new_email_signs_in_and_a_taken_one_is_refused(runtime: Runtime) -> None:
    school: SchoolFixture = await make_school(runtime, label="Emails", students=1)
    ada, bo = school.teachers["Ada"], school.teachers["Bo"]
    with pytest.raises(Conflict):
        await runtime.app.change_staff(
            by(school.admin()), ada, await staff_change(runtime, ada, email=school.emails["Bo"])
        )
    new_email = f"ada.new.{school.id.hex[:6]}@example.org"
    await runtime.app.change_staff(by(school.admin()), ada, await staff_change(runtime, ada, email=new_email))
    assert await runtime.app.sign_in_staff(new_email, PASSWORD, now=now()) is not None
    hire = admin_messages.AddStaff(name="Bo Two", email=school.emails["Bo"], roles=[Role.TEACHER])
    with pytest.raises(Conflict):
        await runtime.app.add_staff(by(school.admin()), school.id, hire)
    assert bo  # Bo keeps his address


async def test_a_one_time_link_sets_a_password_once(runtime: Runtime) -> None:
    school = await make_school(runtime, label="Reset", students=1)
    answer = await runtime.app.reset_staff_password(by(school.admin()), school.teachers["Bo"])
    token = answer["token"]
    assert await runtime.app.choose_staff_password(token, "a brand new secret", now=now())
    assert not await runtime.app.choose_staff_password(token, "another new secret", now=now())
    assert await runtime.app.sign_in_staff(school.emails["Bo"], "a brand new secret", now=now()) is not None


async def test_set_up_happens_once_on_an_empty_instance(runtime: Runtime) -> None:
    body = admin_messages.SetUp(
        district_name="Maple District",
        school_name="Maple High",
        timezone="America/Denver",
        name="Pat Admin",
        email="pat@maple.example.org",
        password="maple syrup season",
    )
    assert await runtime.app.needs_set_up()
    actor, _ = await runtime.app.set_up(body, now=now())
    assert actor.has_role(Role.DISTRICT_ADMIN)
    assert (
        await runtime.app.sign_in_staff("pat@maple.example.org", "maple syrup season", now=now()) is not None
    )
    with pytest.raises(Conflict):
        await runtime.app.set_up(body, now=now())


async def test_a_school_administrator_cannot_make_a_district_administrator_nor_unmake_themself(
    runtime: Runtime,
) -> None:
    school = await make_school(runtime, label="Grants", students=1)
    bo, cleo = school.teachers["Bo"], school.teachers["Cleo"]
    promote = await staff_change(runtime, bo, roles=[Role.DISTRICT_ADMIN])
    with pytest.raises(Forbidden):
        await runtime.app.change_staff(by(school.admin()), bo, promote)
    await runtime.app.change_staff(by(school.admin(district=True)), bo, promote)
    with pytest.raises(Conflict):
        await runtime.app.change_staff(
            by(school.admin()), cleo, await staff_change(runtime, cleo, roles=[Role.TEACHER])
        )
    hire = admin_messages.AddStaff(
        name="Dee", email=f"dee.{school.id.hex[:6]}@example.org", roles=[Role.DISTRICT_ADMIN]
    )
    with pytest.raises(Forbidden):
        await runtime.app.add_staff(by(school.admin()), school.id, hire)


async def test_a_deactivated_student_is_signed_out_of_the_portal(runtime: Runtime) -> None:
    school = await make_school(runtime, label="PortalOut", students=1)
    s = await student(runtime, school.students[0])
    pupil = Actor("student", s.id, school.id, name=s.full_name)
    raw, _ = await runtime.sessions.start(pupil, via=COOKIE, now=now(), lifetime=SESSION_LIFETIME)
    await runtime.app.change_student(by(school.admin()), s.id, as_change(s, active=False))
    assert await runtime.sessions.find(raw, via=COOKIE, now=now()) is None


async def test_an_archived_place_takes_no_new_pass(runtime: Runtime) -> None:
    school = await make_school(runtime, label="Archive", students=1)
    nurse = school.rooms["Nurse"]
    archive = admin_messages.ChangeLocation(
        name="Nurse", kind=LocationKind.NURSE, allotted_minutes=15, archived=True
    )
    await runtime.app.change_location(by(school.admin()), nurse, archive)
    passes = CreatePasses(
        origin_id=school.rooms["Room 101"], destination_id=nurse, student_ids=school.students
    )
    with pytest.raises(Invalid, match="archived"):
        await runtime.app.create_passes(by(school.teacher()), passes)


async def test_read_only_roles_make_no_pass(runtime: Runtime) -> None:
    school = await make_school(runtime, label="ReadOnly", students=1)
    auditor = Actor(
        "staff", school.teachers["Bo"], school.id, "compliance", "Bo", roles=("compliance", "analyst")
    )
    passes = CreatePasses(
        origin_id=school.rooms["Room 101"], destination_id=school.rooms["Nurse"], student_ids=school.students
    )
    with pytest.raises(Forbidden, match="read-only"):
        await runtime.app.create_passes(by(auditor), passes)


async def test_a_school_change_answers_with_the_new_values_and_turns_the_portal_on(runtime: Runtime) -> None:
    school = await make_school(runtime, label="Portal", students=1)
    body = admin_messages.ChangeSchool(
        name="Portal Academy", timezone="America/New_York", portal_enabled=True
    )
    changed = await runtime.app.change_school(by(school.admin()), school.id, body)
    answer = changed.body["school"]
    assert (answer["name"], answer["timezone"], answer["portal_enabled"]) == (
        "Portal Academy",
        "America/New_York",
        True,
    )
    assert answer["portal_needs_approval"] is False
    again = await runtime.app.change_school(by(school.admin()), school.id, body)
    assert again.notification_id is None


async def test_a_student_signs_in_to_the_portal_with_a_changed_hall_pass_id(runtime: Runtime) -> None:
    school = await make_school(runtime, label="NewNumber", students=1)
    await runtime.app.change_school(
        by(school.admin()),
        school.id,
        admin_messages.ChangeSchool(name="NewNumber School", timezone="America/Chicago", portal_enabled=True),
    )
    s = await student(runtime, school.students[0])
    fresh = s.hall_pass_id + 77
    await runtime.app.change_student(by(school.admin()), s.id, as_change(s, hall_pass_id=fresh))
    actor, must_change = await runtime.app.sign_in_student(school.id, str(fresh), str(fresh), now=now())
    assert actor.id == s.id and must_change
