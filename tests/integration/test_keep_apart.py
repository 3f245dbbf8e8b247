"""Keep-apart groups against a real database: a pass that would put two members out together is
refused from every source with the same neutral words, the prevented encounter is recorded for
administrators, concurrent passes for two members never both start, and another school's
students and groups are not found."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest

from hallpass.acting import Acting, Actor
from hallpass.aggregates.keep_apart import NEUTRAL, KeepApart
from hallpass.aggregates.passes import Pass, Status
from hallpass.aggregates.students import Student
from hallpass.bootstrap import Runtime
from hallpass.commands.base import Outcome
from hallpass.commands.keep_apart import KeepApartFields
from hallpass.commands.messages import CompletePass, CreatePasses, Override
from hallpass.commands.portal import ApproveRequest, ChangePortalSettings, RequestPortalPass
from hallpass.errors import Forbidden, Invalid, NotFound
from support.school import SchoolFixture, make_school, open_portal, plan_out, send_out, status_of

NOW = datetime(2030, 3, 4, 15, 0, tzinfo=UTC)


@pytest.fixture
async def school(runtime: Runtime) -> SchoolFixture:
    return await open_portal(runtime, await make_school(runtime, students=8), NOW)


async def form(runtime: Runtime, school: SchoolFixture, members: list[UUID], reason: str = "fight") -> UUID:
    outcome = await runtime.app.form_keep_apart(
        Acting(school.admin(), NOW),
        school.id,
        KeepApartFields(name="Lunch group", student_ids=members, reason=reason),
    )
    return UUID(outcome.body["group"]["id"])


def refused_by_keep_apart(outcome: Outcome) -> bool:
    refusal = outcome.refusal
    return (
        isinstance(refusal, KeepApart)
        and refusal.message == NEUTRAL
        and refusal.details == {"rule": "keep_apart", "overridable": refusal.details["overridable"]}
    )


async def test_every_source_is_refused_in_the_same_words_and_the_encounter_is_recorded(
    runtime: Runtime, school: SchoolFixture
) -> None:
    s = school.students
    await form(runtime, school, [s[0], s[1], s[2]], reason="private: the fight in March")
    (out,) = await send_out(runtime, school, "Library", [s[0]], NOW)
    room, library = school.rooms["Room 101"], school.rooms["Library"]
    kiosk = Actor("kiosk", room, school.id, None, "Kiosk")
    attempts = [
        runtime.app.create_passes(
            Acting(school.teacher(), NOW),
            CreatePasses(origin_id=room, destination_id=library, student_ids=[s[1]]),
        ),
        runtime.app.create_passes(
            Acting(kiosk, NOW),
            CreatePasses(origin_id=room, destination_id=school.rooms["Nurse"], student_ids=[s[2]]),
        ),
        runtime.app.request_portal_pass(
            Acting(school.student(s[1]), NOW),
            RequestPortalPass(origin_id=room, destination_id=library),
        ),
    ]
    for attempt in attempts:
        outcome = await attempt
        assert refused_by_keep_apart(outcome)
        assert "passes" not in outcome.body and "pass" not in outcome.body
    # Someone in no group goes; the refused students have no pass open.
    assert len(await send_out(runtime, school, "Library", [s[3]], NOW)) == 1
    for student_id in (s[1], s[2]):
        student = await runtime.app.repository.find(student_id, Student)
        assert student is not None and student.open_pass_id is None

    listing = await runtime.app.keep_apart_listing(Acting(school.admin(), NOW), school.id)
    (group,) = listing["groups"]
    assert group["reason"] == "private: the fight in March"
    assert [m["name"] for m in group["students"]] == [school.student_names[m] for m in s[:3]]
    encounters = listing["encounters"]
    assert len(encounters) == 3
    assert {(e["student"]["id"], e["source"]) for e in encounters} == {
        (str(s[1]), "staff"),
        (str(s[2]), "kiosk"),
        (str(s[1]), "portal"),
    }
    assert all(e["out"] == [{"id": str(s[0]), "name": school.student_names[s[0]]}] for e in encounters)

    # Once the member is back, the others may go.
    await runtime.app.complete_pass(Acting(school.teacher(), NOW), out, CompletePass())
    assert len(await send_out(runtime, school, "Library", [s[1]], NOW)) == 1


async def test_two_members_in_one_command_are_refused_together(
    runtime: Runtime, school: SchoolFixture
) -> None:
    s = school.students
    await form(runtime, school, [s[0], s[1]])
    outcome = await runtime.app.create_passes(
        Acting(school.teacher(), NOW),
        CreatePasses(
            origin_id=school.rooms["Room 101"],
            destination_id=school.rooms["Library"],
            student_ids=[s[4], s[0], s[1]],
        ),
    )
    assert refused_by_keep_apart(outcome)
    listing = await runtime.app.keep_apart_listing(Acting(school.admin(), NOW), school.id)
    assert {e["student"]["id"] for e in listing["encounters"]} == {str(s[0]), str(s[1])}
    for student_id in (s[4], s[0], s[1]):
        student = await runtime.app.repository.find(student_id, Student)
        assert student is not None and student.open_pass_id is None
    assert len(await send_out(runtime, school, "Library", [s[4], s[0]], NOW)) == 2


async def test_concurrent_passes_for_members_never_both_start(
    runtime: Runtime, school: SchoolFixture
) -> None:
    s = school.students
    members = s[:4]
    await form(runtime, school, members)

    async def create(student_id: UUID) -> Outcome:
        return await runtime.app.create_passes(
            Acting(school.teacher(), NOW),
            CreatePasses(
                origin_id=school.rooms["Room 101"],
                destination_id=school.rooms["Library"],
                student_ids=[student_id],
            ),
        )

    for _ in range(4):
        outcomes = await asyncio.gather(*(create(m) for m in members))
        made = [o for o in outcomes if o.refusal is None]
        assert len(made) == 1
        assert all(refused_by_keep_apart(o) for o in outcomes if o.refusal is not None)
        (hall_pass,) = made[0].body["passes"]
        await runtime.app.complete_pass(Acting(school.teacher(), NOW), UUID(hall_pass["id"]), CompletePass())


async def test_a_request_approved_and_a_scheduled_pass_starting_are_held_to_the_group(
    runtime: Runtime, school: SchoolFixture
) -> None:
    s = school.students
    await form(runtime, school, [s[0], s[1], s[2]])
    admin = Acting(school.admin(), NOW)
    await runtime.app.change_portal_settings(admin, ChangePortalSettings(enabled=True, needs_approval=True))
    room, library = school.rooms["Room 101"], school.rooms["Library"]
    asked = await runtime.app.request_portal_pass(
        Acting(school.student(s[1]), NOW), RequestPortalPass(origin_id=room, destination_id=library)
    )
    assert asked.refusal is None  # a request is not out of the room
    requested = UUID(asked.body["pass"]["id"])
    planned = await plan_out(runtime, school, "Library", [s[2]], NOW + timedelta(minutes=5), NOW)
    scheduled = UUID(planned.body["passes"][0]["id"])
    await send_out(runtime, school, "Nurse", [s[0]], NOW)

    approved = await runtime.app.approve_request(admin, requested, ApproveRequest())
    assert refused_by_keep_apart(approved)
    assert await status_of(runtime, requested) == (Status.REQUESTED, None)
    await runtime.app.activate_pass(scheduled, now=NOW + timedelta(minutes=5))
    assert await status_of(runtime, scheduled) == (Status.CANCELLED, "keep_apart")
    listing = await runtime.app.keep_apart_listing(admin, school.id)
    assert {e["source"] for e in listing["encounters"]} == {"portal", "staff"}


async def test_removed_groups_and_changed_members_apply_at_once(
    runtime: Runtime, school: SchoolFixture
) -> None:
    s = school.students
    admin = Acting(school.admin(), NOW)
    group = await form(runtime, school, [s[0], s[1]])
    await send_out(runtime, school, "Library", [s[0]], NOW)
    changed = await runtime.app.change_keep_apart(
        admin, group, KeepApartFields(name="Renamed", student_ids=[s[0], s[2]], reason="")
    )
    assert [m["id"] for m in changed.body["group"]["students"]] == [str(s[0]), str(s[2])]
    assert len(await send_out(runtime, school, "Library", [s[1]], NOW)) == 1
    refused = await runtime.app.create_passes(
        Acting(school.teacher(), NOW),
        CreatePasses(
            origin_id=school.rooms["Room 101"], destination_id=school.rooms["Nurse"], student_ids=[s[2]]
        ),
    )
    assert refused_by_keep_apart(refused)
    await runtime.app.remove_keep_apart(admin, group)
    assert len(await send_out(runtime, school, "Library", [s[2]], NOW)) == 1
    listing = await runtime.app.keep_apart_listing(admin, school.id)
    assert listing["groups"] == []


async def test_another_school_bad_members_and_teachers_are_refused(
    runtime: Runtime, school: SchoolFixture
) -> None:
    other = await make_school(runtime, students=2, label="Other")
    s = school.students
    admin = Acting(school.admin(), NOW)
    with pytest.raises(NotFound):
        await runtime.app.form_keep_apart(
            admin, school.id, KeepApartFields(name="x", student_ids=[s[0], other.students[0]])
        )
    with pytest.raises(NotFound):
        await runtime.app.form_keep_apart(
            admin, other.id, KeepApartFields(name="x", student_ids=other.students)
        )
    with pytest.raises(Invalid):
        await runtime.app.form_keep_apart(
            admin, school.id, KeepApartFields(name="x", student_ids=[s[0], s[0]])
        )
    with pytest.raises(Forbidden):
        await runtime.app.form_keep_apart(
            Acting(school.teacher(), NOW), school.id, KeepApartFields(name="x", student_ids=s[:2])
        )
    theirs = await form(runtime, other, other.students)
    with pytest.raises(NotFound):
        await runtime.app.change_keep_apart(admin, theirs, KeepApartFields(name="x", student_ids=s[:2]))
    with pytest.raises(NotFound):
        await runtime.app.remove_keep_apart(admin, theirs)
    with pytest.raises(NotFound):
        await runtime.app.keep_apart_listing(admin, other.id)


async def test_staff_override_with_a_reason_is_recorded_on_the_pass(
    runtime: Runtime, school: SchoolFixture
) -> None:
    s = school.students
    group = await form(runtime, school, [s[0], s[1]])
    await send_out(runtime, school, "Library", [s[0]], NOW)
    room, nurse = school.rooms["Room 101"], school.rooms["Nurse"]
    plain = await runtime.app.create_passes(
        Acting(school.teacher(), NOW), CreatePasses(origin_id=room, destination_id=nurse, student_ids=[s[1]])
    )
    assert refused_by_keep_apart(plain) and plain.refusal is not None
    assert plain.refusal.details["overridable"] is True
    overridden = await runtime.app.create_passes(
        Acting(school.teacher(), NOW),
        CreatePasses(
            origin_id=room,
            destination_id=nurse,
            student_ids=[s[1], s[2]],
            override=Override(reason="the nurse asked for both"),
        ),
    )
    assert overridden.refusal is None
    by_student = {p["student"]["id"]: p for p in overridden.body["passes"]}
    assert by_student[str(s[1])]["overridden"] == ["keep_apart"]
    assert by_student[str(s[2])]["overridden"] == []
    hall_pass = await runtime.app.repository.find(UUID(by_student[str(s[1])]["id"]), Pass)
    assert hall_pass is not None
    (rules, reason, actor_id) = hall_pass.overrides[0]
    assert (rules, reason, actor_id) == (("keep_apart",), "the nurse asked for both", school.teachers["Ada"])
    listing = await runtime.app.keep_apart_listing(Acting(school.admin(), NOW), school.id)
    (only,) = [e for e in listing["encounters"] if e["group_id"] == str(group)]
    assert only["student"]["id"] == str(s[1])  # the refusal before the override, not the override

    with pytest.raises(Forbidden):
        await runtime.app.create_passes(
            Acting(Actor("kiosk", room, school.id, None, "Kiosk"), NOW),
            CreatePasses(
                origin_id=room, destination_id=nurse, student_ids=[s[3]], override=Override(reason="x")
            ),
        )
