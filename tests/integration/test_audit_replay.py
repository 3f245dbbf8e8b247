"""Audit histories and the hallway at a past moment, replayed from the log.

Hypothesis: for random sequences of pass commands over a simulated school day, the hallway at
every sampled instant equals what a simple model of the same commands says, and equals a replay
of every pass of the school from the start.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hallpass.acting import Acting
from hallpass.aggregates.passes import TerminationReason
from hallpass.audit.history import AuditLog, HistoryFilter
from hallpass.audit.moment import hallway_at, hallway_replayed_in_full
from hallpass.bootstrap import Runtime
from hallpass.commands.messages import CreatePasses, TerminatePass
from support.school import SchoolFixture, make_school

DAY_ONE = datetime(2027, 1, 11, 14, 0, tzinfo=UTC)  # 08:00 in Chicago, a Monday
DESTINATIONS = ("Nurse", "Library", "Room 102")  # none of them full with a handful out


async def caught_up(runtime: Runtime) -> None:
    for runner in runtime.runners:
        await runner.catch_up()


async def start(runtime: Runtime, school: SchoolFixture, student: UUID, place: str, at: datetime) -> UUID:
    command = CreatePasses(
        origin_id=school.rooms["Room 101"], destination_id=school.rooms[place], student_ids=[student]
    )
    outcome = await runtime.app.create_passes(Acting(school.teacher(), at), command)
    return UUID(outcome.body["passes"][0]["id"])


async def test_a_students_history_has_every_event_in_order_with_who_and_why(runtime: Runtime) -> None:
    school = await make_school(runtime, label="History", students=2)
    ana = school.students[0]
    first = await start(runtime, school, ana, "Nurse", DAY_ONE)
    await runtime.app.complete_pass(Acting(school.teacher("Bo"), DAY_ONE + timedelta(minutes=4)), first)
    second = await start(runtime, school, ana, "Library", DAY_ONE + timedelta(minutes=30))
    terminate = TerminatePass(reason=TerminationReason.OTHER, note="went home sick")
    await runtime.app.terminate_pass(
        Acting(school.admin(), DAY_ONE + timedelta(minutes=31)), second, terminate
    )
    await caught_up(runtime)
    log = AuditLog(runtime.pool)

    subject = await log.subject("student", ana)
    assert subject is not None and subject.school_id == school.id
    history = await log.history(subject)
    passes = [(e.stream_id, e.kind) for e in history if e.stream == "Pass"]
    assert passes == [(first, "Started"), (first, "Completed"), (second, "Started"), (second, "Terminated")]
    assert [e.notification_id for e in history] == sorted(e.notification_id for e in history)
    ended = [e for e in history if e.stream == "Pass"][-1]
    assert (ended.actor_kind, ended.actor_id) == ("staff", school.teachers["Cleo"])
    assert ended.why == {"reason": "other", "note": "went home sick"} and ended.at == DAY_ONE + timedelta(
        minutes=31
    )

    only_starts = await log.history(subject, HistoryFilter(kinds=frozenset({"Started"})))
    assert [e.stream_id for e in only_starts] == [first, second]
    later = await log.history(subject, HistoryFilter(start=DAY_ONE + timedelta(minutes=10)))
    assert [e.kind for e in later] == ["Started", "PassOpened", "Terminated", "PassClosed"]

    bo = await log.subject("staff", school.teachers["Bo"])
    assert bo is not None
    assert [(e.stream_id, e.kind) for e in await log.history(bo) if e.stream == "Pass"] == [
        (first, "Completed")
    ]
    nurse = await log.subject("location", school.rooms["Nurse"])
    assert nurse is not None
    assert {e.stream_id for e in await log.history(nurse) if e.stream == "Pass"} == {first}
    assert await log.subject("pass", ana) is None  # a student is not a pass


@dataclass
class Model:
    """What the commands say: each student's open trip (since, destination, due) at any time."""

    trips: dict[UUID, list[tuple[datetime, datetime | None, str, datetime]]]

    def out_at(self, at: datetime) -> set[tuple[UUID, str, datetime]]:
        return {
            (student, place, since)
            for student, trips in self.trips.items()
            for since, ended, place, _ in trips
            if since <= at and (ended is None or ended > at)
        }


Step = tuple[
    int, int, int, int
]  # minutes later, action (0 start, 1 complete, 2 end, 3 expire), student, place
STEPS = st.lists(
    st.tuples(st.integers(0, 25), st.integers(0, 3), st.integers(0, 3), st.integers(0, 2)),
    min_size=1,
    max_size=14,
)
days = itertools.count()


@settings(max_examples=12, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=STEPS, samples=st.lists(st.integers(0, 400), min_size=3, max_size=8))
async def test_the_hallway_at_any_instant_is_what_the_commands_said(
    audit_school: tuple[Runtime, SchoolFixture], steps: list[Step], samples: list[int]
) -> None:
    runtime, school = audit_school
    morning = DAY_ONE + timedelta(days=next(days))
    model = Model({s: [] for s in school.students[:4]})
    open_passes: dict[UUID, UUID] = {}
    now = morning
    for minutes, action, who, place in steps:
        now += timedelta(minutes=minutes, seconds=1)
        student = school.students[who]
        trip = model.trips[student][-1] if model.trips[student] else None
        is_open = trip is not None and trip[1] is None
        if action == 0 and not is_open:
            open_passes[student] = await start(runtime, school, student, DESTINATIONS[place], now)
            allotted = {"Nurse": 15, "Library": 20, "Room 102": 10}[DESTINATIONS[place]]
            model.trips[student].append((now, None, DESTINATIONS[place], now + timedelta(minutes=allotted)))
        elif action in (1, 2) and is_open and trip is not None:
            acting = Acting(school.teacher(), now)
            if action == 1:
                await runtime.app.complete_pass(acting, open_passes[student])
            else:
                ending = TerminatePass(reason=TerminationReason.OTHER, note="left early")
                await runtime.app.terminate_pass(acting, open_passes[student], ending)
            model.trips[student][-1] = (trip[0], now, trip[2], trip[3])
        elif action == 3 and is_open:
            await runtime.app.expire_pass(open_passes[student], now=now)  # does nothing before it is due
    # End the day: everyone still out is sent back, so the next day starts with an empty hallway.
    evening = now + timedelta(minutes=1)
    for student, trips in model.trips.items():
        if trips and trips[-1][1] is None:
            await runtime.app.complete_pass(Acting(school.teacher(), evening), open_passes[student])
            trips[-1] = (trips[-1][0], evening, trips[-1][2], trips[-1][3])
    await caught_up(runtime)

    log = AuditLog(runtime.pool)
    names = {v: k for k, v in school.rooms.items()}
    for offset in [*samples, 0, (evening - morning) // timedelta(minutes=1)]:
        at = morning + timedelta(minutes=offset, seconds=30)
        hallway = await hallway_at(log, school.id, at)
        assert {(o.student_id, names[o.destination_id], o.since) for o in hallway} == model.out_at(at)
        for o in hallway:
            due = next(t[3] for t in model.trips[o.student_id] if t[0] == o.since)
            assert (o.due_at, o.overdue) == (due, due <= at)
        assert hallway == await hallway_replayed_in_full(log, school.id, at)
