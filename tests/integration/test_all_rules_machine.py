"""Every hallway rule at once, against a real database: a state machine of generated steps.

Hypothesis draws a program of steps (each example plays a school day of its own, on a clock it
moves): passes created by staff (sometimes overriding with a reason), at a kiosk and in the
portal; bursts of conflicting creations sent together (`asyncio.gather`); returns; joining,
leaving and jumping the wait lines of full places; offers lapsing; emergencies declared and
ended. The school has a daily limit (the Nurse exempt), a blackout window for the Library,
two keep-apart groups and two places with a capacity. After every step the invariants are
checked against the aggregates and the log:

- no student over the daily limit without a recorded override naming it;
- no pass to the Library started in its blackout window without a recorded override;
- no two members of a keep-apart group out together, unless the later one's pass records a
  `keep_apart` override;
- no place over its capacity (students in it and slots held for its line);
- each line serves in order: every offer goes to the first waiting, as the line's own events
  replay, and those still waiting are in the order they joined (jumps to the front);
- nothing created while an emergency is on.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hallpass.acting import Acting, Actor
from hallpass.aggregates.keep_apart import KeepApart
from hallpass.aggregates.locations import Location
from hallpass.aggregates.passes import Pass, Status
from hallpass.aggregates.students import Student
from hallpass.aggregates.wait_lines import OFFER_SECONDS, WaitLine, wait_line_id
from hallpass.bootstrap import Runtime
from hallpass.commands.admin_messages import ChangeLocation
from hallpass.commands.keep_apart import KeepApartFields
from hallpass.commands.lines import JoinLine, JumpLine, LeaveLine
from hallpass.commands.messages import CompletePass, CreatePasses, Override
from hallpass.commands.portal import ChangePortalSettings, RequestPortalPass
from hallpass.errors import DomainError
from support.rules import set_rules
from support.runtime import runtime_on
from support.school import SchoolFixture, make_school

DAY_ONE = datetime(2030, 1, 7, 14, 25, tzinfo=UTC)  # a Monday, 08:25 in Chicago
DAILY = 1
BLACKOUT = ("08:30", "08:45")  # the Library's, in the school's time (America/Chicago, UTC-6)
ZONE = ZoneInfo("America/Chicago")  # the school's
PLACES = ("Restroom", "Library", "Nurse", "Room 102")
LINED = ("Restroom", "Library")
CAPACITY = {"Restroom": 1, "Library": 2}
SOURCES = ("staff", "kiosk", "portal")
STUDENTS = 8
GROUPS = ((0, 1, 2), (3, 4))
days = itertools.count()


@dataclass
class School:
    runtime: Runtime
    fixture: SchoolFixture
    groups: list[UUID]


@pytest.fixture(scope="module")
async def rules_school(make_database: Callable[[], AbstractContextManager[str]]) -> AsyncIterator[School]:
    """One school with every rule on, for the module's examples (each plays a day of its own)."""
    with make_database() as url:
        async with runtime_on(url) as runtime:
            school = await make_school(runtime, label="AllRules", students=STUDENTS)
            admin = Acting(school.admin(), DAY_ONE)
            for where, capacity in CAPACITY.items():
                place = await runtime.app.repository.find(school.rooms[where], Location)
                await runtime.app.change_location(admin, school.rooms[where], _with_capacity(place, capacity))
            await runtime.app.change_portal_settings(admin, ChangePortalSettings(enabled=True))
            await set_rules(
                runtime,
                school.admin(),
                school.id,
                limits={"per_day": DAILY, "exempt_destination_ids": [str(school.rooms["Nurse"])]},
                blackouts=[
                    {
                        "kind": "window",
                        "name": "Library closed",
                        "start": BLACKOUT[0],
                        "end": BLACKOUT[1],
                        "destination_ids": [str(school.rooms["Library"])],
                    }
                ],
            )
            groups = []
            for members in GROUPS:
                formed = await runtime.app.form_keep_apart(
                    admin,
                    school.id,
                    KeepApartFields(name="Group", student_ids=[school.students[m] for m in members]),
                )
                groups.append(UUID(formed.body["group"]["id"]))
            for runner in runtime.runners:
                await runner.catch_up()
            yield School(runtime, school, groups)


def _with_capacity(place: Location | None, capacity: int) -> ChangeLocation:
    assert place is not None
    return ChangeLocation(
        name=place.name, kind=place.kind, allotted_minutes=place.allotted_minutes, capacity=capacity
    )


@dataclass
class Made:
    pass_id: UUID
    student: UUID
    place: str
    at: datetime
    overridden: tuple[str, ...]


@dataclass
class Model:
    """What the steps did: the passes made, the emergency, and each line as the commands left it."""

    now: datetime
    made: list[Made] = field(default_factory=list)
    emergency: bool = False
    emergency_steps: int = 0
    emergencies: list[tuple[datetime, datetime | None]] = field(default_factory=list)
    queues: dict[str, list[UUID]] = field(default_factory=lambda: {p: [] for p in LINED})


Step = tuple[Any, ...]
student = st.integers(0, STUDENTS - 1)
place = st.sampled_from((*PLACES, *LINED))  # the places with a line, twice as often
source = st.sampled_from(SOURCES)
CREATE = st.tuples(st.just("create"), source, student, place, st.booleans())
BURST = st.tuples(
    st.just("burst"),
    st.lists(st.tuples(source, student, place), min_size=2, max_size=5, unique_by=lambda t: t[1]),
)
COMPLETE = st.tuples(st.just("complete"), student)
JOIN = st.tuples(st.just("join"), source, student, st.sampled_from(LINED))
STEP = st.one_of(  # a strategy named twice is drawn twice as often
    CREATE,
    CREATE,
    CREATE,
    CREATE,
    BURST,
    BURST,
    COMPLETE,
    COMPLETE,
    COMPLETE,
    COMPLETE,
    JOIN,
    JOIN,
    st.tuples(st.just("leave"), student, st.sampled_from(LINED)),
    st.tuples(st.just("jump"), student, st.sampled_from(LINED)),
    st.tuples(st.just("lapse"), st.sampled_from(LINED)),
    st.tuples(st.just("tick"), st.integers(1, 9)),
    st.tuples(st.just("emergency"), st.integers(1, 4)),
)


class Run:
    def __init__(self, school: School, model: Model) -> None:
        self.school = school
        self.runtime = school.runtime
        self.app = school.runtime.app
        self.fixture = school.fixture
        self.model = model

    def actor(self, source: str, student_id: UUID) -> Actor:
        if source == "kiosk":
            return Actor("kiosk", self.fixture.rooms["Room 101"], self.fixture.id, None, "Kiosk")
        if source == "portal":
            return Actor("student", student_id, self.fixture.id, "student", "student")
        return self.fixture.teacher()

    def by_teacher(self) -> Acting:
        """Ada, acting now."""
        return Acting(self.fixture.teacher(), self.model.now)

    async def create(self, source: str, who: int, where: str, override: bool) -> None:
        student_id = self.fixture.students[who]
        at = self.model.now
        room, destination = self.fixture.rooms["Room 101"], self.fixture.rooms[where]
        try:
            if source == "portal":
                asked = RequestPortalPass(origin_id=room, destination_id=destination)
                outcome = await self.app.request_portal_pass(
                    Acting(self.actor(source, student_id), at), asked
                )
                made = [outcome.body["pass"]] if outcome.refusal is None else []
            else:
                reason = Override(reason="staff decided") if override and source == "staff" else None
                command = CreatePasses(
                    origin_id=room, destination_id=destination, student_ids=[student_id], override=reason
                )
                outcome = await self.app.create_passes(Acting(self.actor(source, student_id), at), command)
                made = outcome.body.get("passes", []) if outcome.refusal is None else []
        except DomainError:
            return  # refused: nothing to record (a keep-apart refusal is checked below)
        if outcome.refusal is not None:
            assert isinstance(outcome.refusal, KeepApart)
            return
        assert not self.model.emergency, "a pass was created during an emergency"
        for summary in made:
            self.model.made.append(
                Made(UUID(summary["id"]), student_id, where, at, tuple(summary.get("overridden", ())))
            )

    async def burst(self, items: list[tuple[str, int, str]]) -> None:
        await asyncio.gather(*(self.create(s, w, p, False) for s, w, p in items))

    async def complete(self, who: int) -> None:
        found = await self.app.repository.find(self.fixture.students[who], Student)
        assert found is not None
        if found.open_pass_id is not None:
            await self.app.complete_pass(self.by_teacher(), found.open_pass_id, CompletePass())

    async def join(self, source: str, who: int, where: str) -> None:
        student_id = self.fixture.students[who]
        actor = self.actor(source, student_id)
        join = JoinLine(
            origin_id=self.fixture.rooms["Room 101"], student_id=None if source == "portal" else student_id
        )
        try:
            await self.app.join_line(Acting(actor, self.model.now), self.fixture.rooms[where], join)
        except DomainError:
            return
        assert not self.model.emergency, "a line was joined during an emergency"
        self.model.queues[where].append(student_id)

    async def leave(self, who: int, where: str) -> None:
        student_id = self.fixture.students[who]
        try:
            await self.app.leave_line(
                self.by_teacher(), self.fixture.rooms[where], LeaveLine(student_id=student_id)
            )
        except DomainError:
            return
        if student_id in self.model.queues[where]:
            self.model.queues[where].remove(student_id)

    async def jump(self, who: int, where: str) -> None:
        student_id = self.fixture.students[who]
        try:
            jump = JumpLine(student_id=student_id, reason="staff said so")
            await self.app.jump_line(self.by_teacher(), self.fixture.rooms[where], jump)
        except DomainError:
            return
        queue = self.model.queues[where]
        queue.remove(student_id)
        queue.insert(0, student_id)

    async def lapse(self, where: str) -> None:
        self.model.now += timedelta(seconds=OFFER_SECONDS)
        await self.app.expire_offers(wait_line_id(self.fixture.rooms[where]), now=self.model.now)

    async def emergency(self, steps: int) -> None:
        """Declare an emergency that the administrator ends `steps` steps later."""
        if not self.model.emergency:
            await self.app.declare_emergency(Acting(self.fixture.admin(), self.model.now), self.fixture.id)
            self.model.emergency = True
            self.model.emergencies.append((self.model.now, None))
        self.model.emergency_steps = steps

    async def end_emergency(self) -> None:
        if self.model.emergency:
            await self.app.end_emergency(Acting(self.fixture.admin(), self.model.now), self.fixture.id)
            self.model.emergency = False
            start, _ = self.model.emergencies[-1]
            self.model.emergencies[-1] = (start, self.model.now)

    async def step(self, step: Step) -> None:
        self.model.now += timedelta(seconds=7)
        if self.model.emergency:
            self.model.emergency_steps -= 1
            if self.model.emergency_steps < 0:
                await self.end_emergency()
        kind, *args = step
        if kind == "tick":
            self.model.now += timedelta(minutes=args[0])
        else:
            await getattr(self, kind)(*args)

    # -- invariants -----------------------------------------------------------------------

    async def check(self) -> None:
        await self.check_capacity()
        await self.check_keep_apart()
        self.check_limits_and_blackout()
        self.check_emergency()
        for where in LINED:
            await self.check_line(where)

    async def check_capacity(self) -> None:
        for where, capacity in CAPACITY.items():
            place = await self.app.repository.find(self.fixture.rooms[where], Location)
            assert place is not None
            assert len(place.occupants) + len(place.holds) <= capacity, f"{where} over capacity"
            passes = await asyncio.gather(*(self.app.repository.find(p, Pass) for p in place.occupants))
            assert all(p is not None and p.is_open for p in passes)

    async def check_keep_apart(self) -> None:
        by_id = {m.pass_id: m for m in self.model.made}
        for members in GROUPS:
            out = []
            for index in members:
                found = await self.app.repository.find(self.fixture.students[index], Student)
                assert found is not None
                if found.open_pass_id is None:
                    continue
                hall_pass = await self.app.repository.find(found.open_pass_id, Pass)
                if hall_pass is not None and (
                    hall_pass.status is Status.ACTIVE
                    or (hall_pass.status is Status.EXPIRED and hall_pass.returned_at is None)
                ):
                    out.append(by_id[hall_pass.id])
            out.sort(key=lambda m: m.at)
            for later in out[1:]:
                assert "keep_apart" in later.overridden, "two keep-apart students out together"

    def check_limits_and_blackout(self) -> None:
        counted: dict[UUID, int] = {}
        for made in self.model.made:
            if made.place != "Nurse":
                counted[made.student] = counted.get(made.student, 0) + 1
                if counted[made.student] > DAILY:
                    assert "daily_limit" in made.overridden, "over the daily limit without an override"
            local = made.at.astimezone(ZONE).strftime("%H:%M")
            if made.place == "Library" and BLACKOUT[0] <= local < BLACKOUT[1]:
                assert "blackout" in made.overridden, "a pass in the Library's blackout"

    def check_emergency(self) -> None:
        for made in self.model.made:
            for start, end in self.model.emergencies:
                assert not (start <= made.at and (end is None or made.at < end)), "created in an emergency"

    async def check_line(self, where: str) -> None:
        line_id = wait_line_id(self.fixture.rooms[where])
        line = await self.app.repository.find(line_id, WaitLine)
        if line is None:
            return
        # The line's own log: every offer goes to the first waiting.
        events = await _events(self.app, line_id)
        queue: list[UUID] = []
        for event in events:
            if isinstance(event, WaitLine.Joined):
                queue.append(event.student_id)
            elif isinstance(event, WaitLine.Jumped):
                queue.remove(event.student_id)
                queue.insert(0, event.student_id)
            elif isinstance(event, WaitLine.Offered):
                assert queue and queue[0] == event.student_id, "an offer skipped the first in line"
                queue.pop(0)
            elif isinstance(event, WaitLine.Left) and event.student_id in queue:
                queue.remove(event.student_id)
        waiting = [e["student_id"] for e in line.waiting]
        assert waiting == queue
        # Those still waiting are in the order the commands put them.
        model = [s for s in self.model.queues[where] if s in waiting]
        assert waiting == model, "the line is not in the order students joined"
        self.model.queues[where] = [s for s in self.model.queues[where] if s in waiting or s in line.offers]

    # -- the end of the day ---------------------------------------------------------------

    async def end_day(self) -> None:
        self.model.now += timedelta(minutes=1)
        await self.end_emergency()
        teacher = self.by_teacher()
        for where in LINED:
            line = await self.app.repository.find(wait_line_id(self.fixture.rooms[where]), WaitLine)
            for student_id in [e["student_id"] for e in line.waiting] + list(line.offers) if line else []:
                await self.app.leave_line(
                    teacher, self.fixture.rooms[where], LeaveLine(student_id=student_id)
                )
        for student_id in self.fixture.students:
            found = await self.app.repository.find(student_id, Student)
            if found is not None and found.open_pass_id is not None:
                await self.app.complete_pass(teacher, found.open_pass_id, CompletePass())


async def _events(app: Any, aggregate_id: UUID) -> list[Any]:
    stored = await app.store.read_stream(aggregate_id)
    return [app.repository.mapper.to_domain_event(record) for record in stored]


@settings(max_examples=35, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(STEP, min_size=15, max_size=40))
async def test_every_rule_holds_whatever_the_sources_and_the_races(
    rules_school: School, steps: list[Step]
) -> None:
    run = Run(rules_school, Model(now=DAY_ONE + timedelta(days=9 * next(days))))
    try:
        for step in steps:
            await run.step(step)
            await run.check()
    finally:
        await run.end_day()
    # Nothing is left over for the next day.
    for student_id in rules_school.fixture.students:
        found = await rules_school.runtime.app.repository.find(student_id, Student)
        assert found is not None and found.open_pass_id is None
