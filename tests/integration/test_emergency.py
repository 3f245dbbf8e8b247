"""Emergency mode against a real database: the switch ends every open pass with reason
"emergency" and records who was out; while it is on no pass is created or started, from any
source; confirmed-safe marks are events; the second switch lets passes be created again."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest

from hallpass.acting import Acting, Actor
from hallpass.aggregates import ids
from hallpass.aggregates.emergencies import Emergency, EmergencyInProgress, NoEmergency
from hallpass.aggregates.passes import Status
from hallpass.bootstrap import Runtime
from hallpass.commands.portal import RequestPortalPass
from hallpass.errors import Forbidden, NotFound
from support.runtime import with_projections
from support.school import SchoolFixture, make_school, open_portal, plan_out, send_out, status_of

NOW = datetime(2030, 3, 4, 15, 0, tzinfo=UTC)


@pytest.fixture
async def school(runtime: Runtime) -> SchoolFixture:
    return await open_portal(runtime, await make_school(runtime, students=8), NOW)


async def test_the_switch_ends_open_passes_records_who_was_out_and_refuses_every_source_until_ended(
    runtime: Runtime, school: SchoolFixture
) -> None:
    s = school.students
    out = await send_out(runtime, school, "Library", s[0:3], NOW)
    planned = await plan_out(runtime, school, "Library", [s[7]], NOW + timedelta(minutes=10), NOW)
    scheduled = UUID(planned.body["passes"][0]["id"])

    declared = await with_projections(
        runtime, runtime.app.declare_emergency(Acting(school.admin(), NOW), school.id, batch_size=2)
    )

    assert sorted(declared.body["ended"]) == sorted(str(p) for p in out)
    for pass_id in out:
        assert await status_of(runtime, pass_id) == (Status.TERMINATED, "emergency")
    emergency = await runtime.app.emergency(school.id)
    assert emergency is not None and emergency.on
    assert set(emergency.out) == set(s[0:3])
    assert all(seen["since"] == NOW for seen in emergency.out.values())

    kiosk = Actor("kiosk", school.rooms["Room 101"], school.id, None, "Kiosk")
    refusals = [
        send_out(runtime, school, "Library", [s[3]], NOW),
        send_out(runtime, school, "Restroom", [s[4]], NOW, actor=kiosk),
        runtime.app.request_portal_pass(
            Acting(school.student(s[5]), NOW),
            RequestPortalPass(origin_id=school.rooms["Room 101"], destination_id=school.rooms["Library"]),
        ),
    ]
    for attempt in refusals:
        with pytest.raises(EmergencyInProgress):
            await attempt
    started = await runtime.app.activate_pass(scheduled, now=NOW + timedelta(minutes=10))
    assert started is not None
    assert await status_of(runtime, scheduled) == (Status.CANCELLED, "emergency")

    await runtime.app.mark_safe(Acting(school.admin(), NOW), s[1])
    emergency = await runtime.app.emergency(school.id)
    assert emergency is not None and set(emergency.safe) == {s[1]}
    topics = await runtime.pool.fetch(
        "SELECT topic FROM hallpass_events WHERE originator_id = $1 ORDER BY originator_version",
        ids.emergency_id(school.id),
    )
    assert [t["topic"].rsplit(".", 1)[-1] for t in topics] == [
        "Opened",
        "Declared",
        "WasOut",
        "WasOut",
        "WasOut",
        "MarkedSafe",
    ]

    await runtime.app.end_emergency(Acting(school.admin(), NOW), school.id)
    again = await send_out(runtime, school, "Library", [s[3]], NOW)
    assert await status_of(runtime, again[0]) == (Status.ACTIVE, None)
    with pytest.raises(NoEmergency):
        await runtime.app.end_emergency(Acting(school.admin(), NOW), school.id)


async def test_a_teacher_may_not_switch_and_another_school_is_not_found(
    runtime: Runtime, school: SchoolFixture
) -> None:
    other = await make_school(runtime, students=1, label="Other")
    with pytest.raises(Forbidden):
        await runtime.app.declare_emergency(Acting(school.teacher(), NOW), school.id)
    with pytest.raises(NotFound):
        await runtime.app.declare_emergency(Acting(school.admin(), NOW), other.id)
    with pytest.raises(NotFound):
        await runtime.app.mark_safe(Acting(school.admin(), NOW), other.students[0])
    assert await runtime.app.repository.find(ids.emergency_id(school.id), Emergency) is None
    assert await runtime.app.repository.find(ids.emergency_id(other.id), Emergency) is None


async def test_creations_racing_the_switch_are_either_refused_or_ended(
    runtime: Runtime, school: SchoolFixture
) -> None:
    async def create(student_id: UUID) -> UUID | None:
        try:
            (made,) = await send_out(runtime, school, "Library", [student_id], NOW)
        except EmergencyInProgress:
            return None
        return made

    for _ in range(5):
        declare = runtime.app.declare_emergency(Acting(school.admin(), NOW), school.id, batch_size=3)
        results = await with_projections(
            runtime, asyncio.gather(declare, *(create(s) for s in school.students))
        )
        made = [p for p in results[1:] if isinstance(p, UUID)]
        for pass_id in made:
            assert await status_of(runtime, pass_id) == (Status.TERMINATED, "emergency")
        await runtime.app.end_emergency(Acting(school.admin(), NOW), school.id)
