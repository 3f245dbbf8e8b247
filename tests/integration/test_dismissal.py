"""Dismissal against a real database, without a worker: every pass the log holds open at the
dismissal moment ends, in batches, and only then is the school day marked done."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, time, timedelta
from uuid import UUID

import pytest

from hallpass.acting import Acting
from hallpass.aggregates.locations import Location, LocationKind
from hallpass.aggregates.passes import Status
from hallpass.aggregates.schools import School
from hallpass.aggregates.students import Student
from hallpass.bootstrap import Runtime
from hallpass.commands import OutcomeKind
from hallpass.commands.directory import NewLocation
from support.school import SchoolFixture, make_school, plan_out, send_out, status_of

DISMISSED_TOPIC = "hallpass.aggregates.schools:School.Dismissed"
MORNING = datetime(2030, 3, 4, 15, 0, tzinfo=UTC)
DISMISSAL = datetime(2030, 3, 4, 21, 0, tzinfo=UTC)  # 15:00 in America/Chicago


@pytest.fixture
async def school(runtime: Runtime) -> SchoolFixture:
    fixture = await make_school(runtime, students=12)
    (big,) = await runtime.app.add_locations(
        fixture.id, [NewLocation("Restroom B", LocationKind.RESTROOM, 5, capacity=4)], now=MORNING
    )
    fixture.rooms["Restroom B"] = big.id
    await runtime.app.set_dismissal_time(Acting(fixture.teacher(), MORNING), time(15, 0))
    return fixture


async def catch_up(runtime: Runtime) -> None:
    for runner in runtime.runners:
        await runner.catch_up()


async def days_done(runtime: Runtime, school: SchoolFixture) -> int:
    value = await runtime.pool.fetchval(
        "SELECT count(*) FROM hallpass_events WHERE originator_id = $1 AND topic = $2",
        school.id,
        DISMISSED_TOPIC,
    )
    return int(value)


async def test_dismissal_ends_several_passes_to_one_restroom_and_the_rest_in_batches_and_marks_the_day_once(
    runtime: Runtime, school: SchoolFixture
) -> None:
    earlier = DISMISSAL - timedelta(minutes=4)
    s = school.students
    restroom_b = await send_out(runtime, school, "Restroom B", s[0:4], earlier)
    restroom = await send_out(runtime, school, "Restroom", s[4:6], earlier)
    library = await send_out(runtime, school, "Library", s[6:9], earlier)
    (nurse,) = await send_out(runtime, school, "Nurse", s[9:10], DISMISSAL - timedelta(minutes=20))
    (done,) = await send_out(runtime, school, "Nurse", s[10:11], earlier)
    await runtime.app.expire_pass(nurse, now=DISMISSAL - timedelta(minutes=4))
    await runtime.app.complete_pass(Acting(school.teacher(), DISMISSAL - timedelta(minutes=1)), done)
    tomorrow = await plan_out(runtime, school, "Library", [s[11]], DISMISSAL + timedelta(hours=18), earlier)
    await catch_up(runtime)
    open_passes = [*restroom_b, *restroom, *library, nurse]

    early = await runtime.app.dismiss_school(school.id, now=DISMISSAL - timedelta(seconds=1))
    assert early is not None and (early.body["dismissed"], early.body["day_done"]) == ([], False)
    outcome = await runtime.app.dismiss_school(school.id, now=DISMISSAL, batch_size=3)
    again = await runtime.app.dismiss_school(school.id, now=DISMISSAL + timedelta(seconds=2))

    assert outcome is not None and outcome.kind is OutcomeKind.DONE
    assert sorted(outcome.body["dismissed"]) == sorted(str(p) for p in open_passes)
    assert outcome.body["day_done"] is True
    assert again is not None and (again.body["dismissed"], again.body["day_done"]) == ([], False)
    for pass_id in open_passes:
        assert await status_of(runtime, pass_id) == (Status.TERMINATED, "dismissed")
    assert await status_of(runtime, done) == (Status.COMPLETED, None)
    assert await status_of(runtime, UUID(tomorrow.body["passes"][0]["id"])) == (Status.SCHEDULED, None)
    for student_id in s[:11]:
        student = await runtime.app.repository.find(student_id, Student)
        assert student is not None and student.open_pass_id is None
    for place in ("Restroom B", "Restroom", "Library"):
        location = await runtime.app.repository.find(school.rooms[place], Location)
        assert location is not None and location.occupants == ()
    assert await days_done(runtime, school) == 1


async def test_dismissal_waits_for_a_lagging_pass_list_and_leaves_the_day_open_until_it_has_caught_up(
    runtime: Runtime, school: SchoolFixture
) -> None:
    await catch_up(runtime)
    passes = await send_out(
        runtime, school, "Restroom B", school.students[:3], DISMISSAL - timedelta(minutes=2)
    )

    behind = await runtime.app.dismiss_school(school.id, now=DISMISSAL, catch_up_timeout=0.2)
    assert behind is not None and behind.kind is OutcomeKind.WAITING
    assert (behind.body["dismissed"], behind.body["day_done"]) == ([], False)
    assert [await status_of(runtime, p) for p in passes] == [(Status.ACTIVE, None)] * 3
    school_now = await runtime.app.repository.find(school.id, School)
    assert school_now is not None and school_now.dismissal_due(DISMISSAL) is not None

    outcome, _ = await asyncio.gather(
        runtime.app.dismiss_school(school.id, now=DISMISSAL + timedelta(seconds=5), catch_up_timeout=60),
        catch_up(runtime),
    )
    assert outcome is not None and sorted(outcome.body["dismissed"]) == sorted(str(p) for p in passes)
    assert outcome.body["day_done"] is True
    assert await days_done(runtime, school) == 1


async def test_a_pass_the_log_records_after_the_dismissal_moment_stays_open(
    runtime: Runtime, school: SchoolFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    await catch_up(runtime)
    before = await send_out(runtime, school, "Library", school.students[:2], DISMISSAL - timedelta(minutes=2))
    moment_taken = asyncio.Event()
    has_tracking_id = runtime.store.has_tracking_id

    async def watched(application_name: str, notification_id: int | None) -> bool:
        moment_taken.set()
        return await has_tracking_id(application_name, notification_id)

    monkeypatch.setattr(runtime.store, "has_tracking_id", watched)
    dismissal = asyncio.create_task(runtime.app.dismiss_school(school.id, now=DISMISSAL, catch_up_timeout=60))
    await asyncio.wait_for(moment_taken.wait(), timeout=30)
    (after,) = await send_out(
        runtime, school, "Library", school.students[2:3], DISMISSAL + timedelta(seconds=1)
    )
    await catch_up(runtime)
    outcome = await dismissal

    assert outcome is not None and sorted(outcome.body["dismissed"]) == sorted(str(p) for p in before)
    assert outcome.body["day_done"] is True
    assert await status_of(runtime, after) == (Status.ACTIVE, None)
    assert [await status_of(runtime, p) for p in before] == [(Status.TERMINATED, "dismissed")] * 2
