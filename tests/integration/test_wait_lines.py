"""Wait lines against a real database: a full place lets students join its line; a slot freed
goes to the first in line, held for them so nobody else takes it; an offer not taken lapses
through the timers table and the next is offered; staff let someone jump the line (recorded);
a full place never blocks another; another school's place is not found."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest

from hallpass.acting import Acting, Actor
from hallpass.aggregates.locations import Location
from hallpass.aggregates.wait_lines import OFFER_SECONDS, AlreadyInLine, WaitLine, wait_line_id
from hallpass.bootstrap import Runtime
from hallpass.commands.base import Outcome
from hallpass.commands.lines import JoinLine, JumpLine, LeaveLine
from hallpass.commands.messages import CompletePass, CreatePasses
from hallpass.commands.portal import RequestPortalPass
from hallpass.errors import DestinationFull, Forbidden, Invalid, NotFound
from support.school import SchoolFixture, make_school, open_portal, send_out

NOW = datetime(2030, 3, 4, 15, 0, tzinfo=UTC)


@pytest.fixture
async def school(runtime: Runtime) -> SchoolFixture:
    return await open_portal(runtime, await make_school(runtime, students=10), NOW)


def kiosk(school: SchoolFixture) -> Actor:
    return Actor("kiosk", school.rooms["Room 101"], school.id, None, "Kiosk")


async def line_of(runtime: Runtime, school: SchoolFixture) -> tuple[WaitLine, Location]:
    line = await runtime.app.repository.find(wait_line_id(school.rooms["Restroom"]), WaitLine)
    place = await runtime.app.repository.find(school.rooms["Restroom"], Location)
    assert line is not None and place is not None
    return line, place


async def join(runtime: Runtime, school: SchoolFixture, who: UUID, at: datetime = NOW) -> Outcome:
    return await runtime.app.join_line(
        Acting(school.student(who), at),
        school.rooms["Restroom"],
        JoinLine(origin_id=school.rooms["Room 101"]),
    )


async def portal_pass(runtime: Runtime, school: SchoolFixture, who: UUID, at: datetime = NOW) -> Outcome:
    return await runtime.app.request_portal_pass(
        Acting(school.student(who), at),
        RequestPortalPass(origin_id=school.rooms["Room 101"], destination_id=school.rooms["Restroom"]),
    )


async def test_a_freed_slot_is_offered_in_order_held_and_lapses_to_the_next(
    runtime: Runtime, school: SchoolFixture
) -> None:
    s = school.students
    first, second = await send_out(runtime, school, "Restroom", s[0:2], NOW)
    with pytest.raises(DestinationFull):
        await portal_pass(runtime, school, s[2])
    joined = await join(runtime, school, s[2])
    assert joined.body["line"] == {
        "location_id": str(school.rooms["Restroom"]),
        "offered_until": None,
        "position": 1,
    }
    await runtime.app.join_line(
        Acting(kiosk(school), NOW),
        school.rooms["Restroom"],
        JoinLine(origin_id=school.rooms["Room 101"], student_id=s[3]),
    )
    with pytest.raises(AlreadyInLine):
        await join(runtime, school, s[2])
    # A full place blocks no other place.
    assert len(await send_out(runtime, school, "Library", [s[4]], NOW)) == 1

    await runtime.app.complete_pass(Acting(school.teacher(), NOW), first, CompletePass())
    line, place = await line_of(runtime, school)
    assert list(line.offers) == [s[2]] and [e["student_id"] for e in line.waiting] == [s[3]]
    assert place.holds == (s[2],) and place.free_slots == 0
    until = line.offers[s[2]]["until"]
    assert until == NOW + timedelta(seconds=OFFER_SECONDS)
    # The held slot is nobody else's, staff's passes included.
    with pytest.raises(DestinationFull):
        await send_out(runtime, school, "Restroom", [s[5]], NOW)
    for runner in runtime.runners:
        await runner.catch_up()
    timer = await runtime.pool.fetchrow(
        "SELECT due_at, school_id FROM pass_timers WHERE pass_id = $1 AND kind = 'offer'", line.id
    )
    assert timer is not None and (timer["due_at"], timer["school_id"]) == (until, school.id)

    # The offered student takes it in the portal: the hold becomes their place.
    taken = await portal_pass(runtime, school, s[2], NOW + timedelta(seconds=30))
    assert taken.body["pass"]["status"] == "active"
    line, place = await line_of(runtime, school)
    assert line.offers == {} and place.holds == () and len(place.occupants) == 2

    # The next offer is not taken: it lapses when the timer comes, and the slot is free again.
    await runtime.app.complete_pass(Acting(school.teacher(), NOW), second, CompletePass())
    line, _ = await line_of(runtime, school)
    assert list(line.offers) == [s[3]]
    assert await runtime.app.expire_offers(line.id, now=NOW + timedelta(seconds=OFFER_SECONDS - 1)) == 0
    assert await runtime.app.expire_offers(line.id, now=NOW + timedelta(seconds=OFFER_SECONDS)) == 1
    line, place = await line_of(runtime, school)
    assert line.offers == {} and line.waiting == () and place.holds == ()
    for runner in runtime.runners:
        await runner.catch_up()
    gone = await runtime.pool.fetchval("SELECT count(*) FROM pass_timers WHERE pass_id = $1", line.id)
    assert gone == 0
    assert len(await send_out(runtime, school, "Restroom", [s[5]], NOW)) == 1


async def test_staff_let_a_student_jump_the_line_and_students_leave_it(
    runtime: Runtime, school: SchoolFixture
) -> None:
    s = school.students
    out = await send_out(runtime, school, "Restroom", s[0:2], NOW)
    for who in s[2:5]:
        await join(runtime, school, who)
    restroom = school.rooms["Restroom"]
    with pytest.raises(Invalid):
        await runtime.app.jump_line(Acting(school.teacher(), NOW), restroom, JumpLine(student_id=s[4]))
    with pytest.raises(Forbidden):
        await runtime.app.jump_line(
            Acting(school.student(s[4]), NOW), restroom, JumpLine(student_id=s[4], reason="me")
        )
    jumped = await runtime.app.jump_line(
        Acting(school.teacher(), NOW), restroom, JumpLine(student_id=s[4], reason="medical")
    )
    assert [w["student_id"] for w in jumped.body["line"]["waiting"]] == [str(s[4]), str(s[2]), str(s[3])]
    topics = await runtime.pool.fetch(
        "SELECT topic, state FROM hallpass_events WHERE originator_id = $1 ORDER BY originator_version",
        wait_line_id(restroom),
    )
    jump = [t for t in topics if t["topic"].endswith("Jumped")]
    assert len(jump) == 1 and b"medical" in bytes(jump[0]["state"])

    await runtime.app.leave_line(Acting(school.student(s[2]), NOW), restroom, LeaveLine())
    with pytest.raises(Forbidden):
        await runtime.app.leave_line(Acting(school.student(s[2]), NOW), restroom, LeaveLine(student_id=s[3]))
    await runtime.app.complete_pass(Acting(school.teacher(), NOW), out[0], CompletePass())
    line, _ = await line_of(runtime, school)
    assert list(line.offers) == [s[4]] and [e["student_id"] for e in line.waiting] == [s[3]]
    # Leaving with an offer passes the slot on.
    await runtime.app.leave_line(Acting(school.student(s[4]), NOW), restroom, LeaveLine())
    line, place = await line_of(runtime, school)
    assert list(line.offers) == [s[3]] and place.holds == (s[3],)


async def test_an_offered_slot_goes_to_its_holder_alone_under_a_burst(
    runtime: Runtime, school: SchoolFixture
) -> None:
    s = school.students
    out = await send_out(runtime, school, "Restroom", s[0:2], NOW)
    await join(runtime, school, s[2])
    await runtime.app.complete_pass(Acting(school.teacher(), NOW), out[0], CompletePass())

    async def create(who: UUID) -> str:
        try:
            await runtime.app.create_passes(
                Acting(school.teacher(), NOW),
                CreatePasses(
                    origin_id=school.rooms["Room 101"],
                    destination_id=school.rooms["Restroom"],
                    student_ids=[who],
                ),
            )
        except DestinationFull:
            return "full"
        return "made"

    results = await asyncio.gather(*(create(who) for who in [*s[3:8], s[2]]))
    assert results == ["full"] * 5 + ["made"]
    _, place = await line_of(runtime, school)
    assert len(place.occupants) == 2 and place.holds == ()


async def test_lines_need_a_capacity_and_another_schools_place_is_not_found(
    runtime: Runtime, school: SchoolFixture
) -> None:
    other = await make_school(runtime, students=1, label="Other")
    s = school.students
    with pytest.raises(NotFound):
        await runtime.app.join_line(
            Acting(school.student(s[0]), NOW),
            other.rooms["Restroom"],
            JoinLine(origin_id=school.rooms["Room 101"]),
        )
    with pytest.raises(Invalid):
        await runtime.app.join_line(
            Acting(school.student(s[0]), NOW),
            school.rooms["Nurse"],
            JoinLine(origin_id=school.rooms["Room 101"]),
        )
    with pytest.raises(Invalid):
        await runtime.app.join_line(
            Acting(school.teacher(), NOW),
            school.rooms["Restroom"],
            JoinLine(origin_id=school.rooms["Room 101"]),
        )
    with pytest.raises(NotFound):
        await runtime.app.join_line(
            Acting(school.teacher(), NOW),
            school.rooms["Restroom"],
            JoinLine(origin_id=school.rooms["Room 101"], student_id=other.students[0]),
        )
    # A place with room offers the slot at once.
    joined = await join(runtime, school, s[0])
    assert joined.body["line"]["offered_until"] is not None
