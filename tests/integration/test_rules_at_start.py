"""Hallway rules when a pass starts later than it was asked for: a teacher approving a portal
request is checked against the limits as they are at approval (the request itself not counted),
refused with the rule named and overridable with a reason that the pass records; a Scheduled
pass whose start is over a limit starts at its time, the refusal recorded as the override of the
member of staff who planned it (docs/decisions/088)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest

from hallpass.acting import Acting
from hallpass.aggregates.passes import Pass, Status
from hallpass.bootstrap import Runtime
from hallpass.commands.messages import CompletePass, Override
from hallpass.commands.portal import ApproveRequest, ChangePortalSettings, RequestPortalPass
from hallpass.errors import Forbidden, NotFound
from hallpass.messages import say
from hallpass.policies import RuleRefused
from support.rules import set_rules
from support.school import SchoolFixture, make_school, open_portal, plan_out, send_out, status_of

NOW = datetime(2030, 3, 4, 15, 0, tzinfo=UTC)  # 9 in the morning in the school's zone (Chicago)


@pytest.fixture
async def school(runtime: Runtime) -> SchoolFixture:
    made = await open_portal(runtime, await make_school(runtime, students=6), NOW)
    settings = ChangePortalSettings(enabled=True, needs_approval=True)
    await runtime.app.change_portal_settings(Acting(made.admin(), NOW), settings)
    return made


async def had_a_pass(runtime: Runtime, school: SchoolFixture, student: UUID) -> None:
    (out,) = await send_out(runtime, school, "Library", [student], NOW - timedelta(hours=1))
    await runtime.app.complete_pass(
        Acting(school.teacher(), NOW - timedelta(minutes=50)), out, CompletePass()
    )


async def request(runtime: Runtime, school: SchoolFixture, student: UUID) -> UUID:
    room, library = school.rooms["Room 101"], school.rooms["Library"]
    asked = await runtime.app.request_portal_pass(
        Acting(school.student(student), NOW), RequestPortalPass(origin_id=room, destination_id=library)
    )
    assert asked.refusal is None
    return UUID(asked.body["pass"]["id"])


async def test_approval_is_held_to_the_limit_as_it_is_then_and_a_teacher_overrides_with_a_reason(
    runtime: Runtime, school: SchoolFixture
) -> None:
    s = school.students
    await had_a_pass(runtime, school, s[0])
    over = await request(runtime, school, s[0])  # asked before the school set a limit
    fresh = await request(runtime, school, s[1])
    await set_rules(runtime, school.admin(), school.id, limits={"per_day": 1})
    ada = Acting(school.teacher(), NOW + timedelta(minutes=1))

    with pytest.raises(RuleRefused) as refused:
        await runtime.app.approve_request(ada, over, ApproveRequest())
    assert refused.value.details["rule"] == "daily_limit" and refused.value.details["overridable"] is True
    assert say("rules.override_hint") in refused.value.message
    assert await status_of(runtime, over) == (Status.REQUESTED, None)

    # The request is not counted against itself: a student with no pass today is approved.
    approved = await runtime.app.approve_request(ada, fresh, ApproveRequest())
    assert approved.body["pass"]["status"] == "active"

    with pytest.raises(Forbidden):  # a student cannot approve, let alone override
        await runtime.app.approve_request(
            Acting(school.student(s[0]), NOW), over, ApproveRequest(override=Override(reason="please"))
        )
    overridden = await runtime.app.approve_request(
        ada, over, ApproveRequest(note="Be quick", override=Override(reason="  test make-up in the library "))
    )
    assert overridden.body["pass"]["status"] == "active"
    hall_pass = await runtime.app.repository.find(over, Pass)
    assert hall_pass is not None
    assert hall_pass.overrides == ((("daily_limit",), "test make-up in the library", school.teachers["Ada"]),)
    fresh_pass = await runtime.app.repository.find(fresh, Pass)
    assert fresh_pass is not None and fresh_pass.overrides == ()


async def test_another_schools_request_is_not_found_for_approval(
    runtime: Runtime, school: SchoolFixture
) -> None:
    other = await make_school(runtime, students=1, label="Other")
    asked = await request(runtime, school, school.students[2])
    with pytest.raises(NotFound):
        await runtime.app.approve_request(
            Acting(other.admin(), NOW), asked, ApproveRequest(override=Override(reason="x"))
        )


async def test_a_scheduled_pass_over_a_limit_starts_with_the_planner_named_on_the_override(
    runtime: Runtime, school: SchoolFixture
) -> None:
    s = school.students
    planned = await plan_out(runtime, school, "Library", [s[3], s[4]], NOW + timedelta(minutes=5), NOW)
    by_student = {p["student"]["id"]: UUID(p["id"]) for p in planned.body["passes"]}
    await had_a_pass(runtime, school, s[3])
    await set_rules(runtime, school.admin(), school.id, limits={"per_day": 1})

    for pass_id in by_student.values():
        await runtime.app.activate_pass(pass_id, now=NOW + timedelta(minutes=5))
    over = await runtime.app.repository.find(by_student[str(s[3])], Pass)
    within = await runtime.app.repository.find(by_student[str(s[4])], Pass)
    assert over is not None and within is not None
    assert (over.status, within.status) == (Status.ACTIVE, Status.ACTIVE)
    assert over.overrides == ((("daily_limit",), say("rules.scheduled_ahead"), school.teachers["Ada"]),)
    assert within.overrides == ()
