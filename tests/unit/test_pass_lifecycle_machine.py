"""Stateful property test: Pass and Student aggregates driven as the application drives them.

The machine keeps a small model of each pass (status, returned) and checks, after every
step, the invariants of DESIGN.md section 4 that one school's passes and students must keep.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.domain import Aggregate
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    precondition,
    rule,
)

from hallpass.aggregates.passes import Pass, Source, Status, TerminationReason
from hallpass.aggregates.students import Student
from hallpass.errors import IllegalTransition, StudentAlreadyOut
from support import builders

START = datetime(2025, 3, 3, 8, 0, tzinfo=UTC)
SCHOOL = uuid4()
PLACES = [uuid4() for _ in range(3)]
STAFF = uuid4()


@dataclass
class Model:
    """What the pass should be, according to DESIGN.md section 3."""

    status: Status = Status.ACTIVE
    returned: bool = False

    @property
    def is_open(self) -> bool:
        return self.status is Status.ACTIVE or (self.status is Status.EXPIRED and not self.returned)


def snapshot(aggregate: Aggregate) -> dict[str, Any]:
    return dict(vars(aggregate))


def replay(events: list[Any]) -> Any:
    aggregate = None
    for event in events:
        aggregate = event.mutate(aggregate)
    return aggregate


@settings(max_examples=100, stateful_step_count=40, deadline=None)
class PassLifecycle(RuleBasedStateMachine):
    passes = Bundle("passes")

    def __init__(self) -> None:
        super().__init__()
        self.now = START
        self.students: list[Student] = []
        self.hall_passes: dict[UUID, Pass] = {}
        self.models: dict[UUID, Model] = {}
        self.history: dict[UUID, list[Any]] = {}

    def _record(self, aggregate: Aggregate) -> None:
        self.history.setdefault(aggregate.id, []).extend(aggregate.collect_events())

    @initialize()
    def register_students(self) -> None:
        for number in range(3):
            student = builders.student(
                timestamp=self.now,
                school_id=SCHOOL,
                first_name="Student",
                last_name=str(number),
                homeroom_id=PLACES[0],
                hall_pass_id=number + 1,
            )
            self._record(student)
            self.students.append(student)

    # -- rules -----------------------------------------------------------------------------

    @rule(seconds=st.integers(0, 20 * 60))
    def advance_clock(self, seconds: int) -> None:
        self.now += timedelta(seconds=seconds)

    @rule(
        target=passes,
        who=st.integers(0, 2),
        trip=st.permutations(PLACES).map(lambda places: places[:2]),
        minutes=st.integers(1, 10),
        source=st.sampled_from(Source),
    )
    def create(self, who: int, trip: list[UUID], minutes: int, source: Source) -> Any:
        student = self.students[who]
        origin, destination = trip
        before = snapshot(student)
        already_out = student.open_pass_id
        hall_pass = builders.started(
            school_id=SCHOOL,
            student_id=student.id,
            origin_id=origin,
            destination_id=destination,
            source=source,
            allotted_minutes=minutes,
            now=self.now,
            actor_id=STAFF,
        )
        try:
            student.open_pass(pass_id=hall_pass.id, destination_id=destination, now=self.now)
        except StudentAlreadyOut as refused:
            assert already_out is not None
            assert refused.details["pass_id"] == str(already_out)
            assert snapshot(student) == before
            return multiple()  # the new pass is never saved
        assert already_out is None
        self._record(hall_pass)
        self._record(student)
        self.hall_passes[hall_pass.id] = hall_pass
        self.models[hall_pass.id] = Model()
        return hall_pass.id

    def _allowed(self, pass_id: UUID, end: Callable[[], None]) -> bool:
        """Ends the pass if the model says an open pass may end; a closed one refuses and is
        left exactly as it was."""
        hall_pass, model = self.hall_passes[pass_id], self.models[pass_id]
        before = snapshot(hall_pass)
        try:
            end()
        except IllegalTransition as refused:
            assert not model.is_open
            assert refused.details["status"] == model.status.value
            assert snapshot(hall_pass) == before
            return False
        assert model.is_open
        return True

    @rule(pass_id=passes)
    def complete(self, pass_id: UUID) -> None:
        hall_pass, model = self.hall_passes[pass_id], self.models[pass_id]
        if not self._allowed(
            pass_id, partial(hall_pass.complete, now=self.now, actor_kind="staff", actor_id=STAFF)
        ):
            return
        if model.status is Status.ACTIVE:
            model.status = Status.COMPLETED
        model.returned = True
        self._close(hall_pass)

    @rule(pass_id=passes)
    def expire(self, pass_id: UUID) -> None:
        self._expire(pass_id)

    @rule()
    def expiry_sweep(self) -> None:
        for pass_id in self.hall_passes:
            self._expire(pass_id)

    @rule(pass_id=passes, reason=st.sampled_from(TerminationReason), note=st.text(max_size=5))
    def terminate(self, pass_id: UUID, reason: TerminationReason, note: str) -> None:
        hall_pass, model = self.hall_passes[pass_id], self.models[pass_id]
        end = partial(
            hall_pass.terminate, reason=reason, note=note, now=self.now, actor_kind="staff", actor_id=STAFF
        )
        if not self._allowed(pass_id, end):
            return
        assert (hall_pass.end_reason, hall_pass.end_note) == (reason.value, note)
        model.status = Status.TERMINATED
        self._close(hall_pass)

    @precondition(lambda self: any(s.open_pass_id for s in self.students))
    @rule(who=st.integers(0, 2))
    def close_someone_elses_pass(self, who: int) -> None:
        """Closing a pass the student does not hold changes nothing."""
        student = self.students[who]
        before = snapshot(student)
        student.close_pass(pass_id=uuid4(), now=self.now)
        assert snapshot(student) == before

    def _expire(self, pass_id: UUID) -> None:
        hall_pass, model = self.hall_passes[pass_id], self.models[pass_id]
        before = snapshot(hall_pass)
        due = model.status is Status.ACTIVE and self.now >= hall_pass.due_at
        assert hall_pass.expire(now=self.now) is due
        if due:
            model.status = Status.EXPIRED
            self._record(hall_pass)
        else:
            assert snapshot(hall_pass) == before

    def _close(self, hall_pass: Pass) -> None:
        """As the application does when a pass ends: the student lets go of it."""
        student = next(s for s in self.students if s.id == hall_pass.student_id)
        student.close_pass(pass_id=hall_pass.id, now=self.now)
        self._record(hall_pass)
        self._record(student)

    # -- invariants ------------------------------------------------------------------------

    @invariant()
    def passes_match_the_model(self) -> None:
        for pass_id, hall_pass in self.hall_passes.items():
            model = self.models[pass_id]
            assert hall_pass.status is model.status
            assert hall_pass.is_open is model.is_open
            assert (hall_pass.returned_at is not None) is model.returned

    @invariant()
    def one_open_pass_per_student(self) -> None:
        for student in self.students:
            open_ids = [p.id for p in self.hall_passes.values() if p.student_id == student.id and p.is_open]
            assert len(open_ids) <= 1
            assert student.open_pass_id == (open_ids[0] if open_ids else None)

    @invariant()
    def timestamps_are_consistent(self) -> None:
        for hall_pass in self.hall_passes.values():
            assert hall_pass.start_at <= hall_pass.due_at
            if hall_pass.ended_at is not None:
                assert hall_pass.start_at <= hall_pass.ended_at <= self.now
            assert (hall_pass.ended_at is None) is hall_pass.is_open
            returned = hall_pass.status is Status.COMPLETED or (
                hall_pass.status is Status.EXPIRED and not hall_pass.is_open
            )
            assert (hall_pass.returned_at is not None) is returned
            if hall_pass.returned_at is not None:
                assert hall_pass.returned_at == hall_pass.ended_at

    @invariant()
    def expired_passes_were_expired_when_due(self) -> None:
        for pass_id, hall_pass in self.hall_passes.items():
            expiries = [e for e in self.history[pass_id] if isinstance(e, Pass.Expired)]
            assert len(expiries) <= 1
            if hall_pass.status is Status.EXPIRED:
                (expired,) = expiries
                assert expired.due_at == hall_pass.due_at
                assert expired.timestamp >= hall_pass.due_at

    @invariant()
    def replaying_the_events_rebuilds_each_aggregate(self) -> None:
        aggregates: list[Aggregate] = [*self.students, *self.hall_passes.values()]
        for aggregate in aggregates:
            assert aggregate.collect_events() == []
            rebuilt = replay(self.history[aggregate.id])
            assert rebuilt == aggregate
            assert rebuilt.version == len(self.history[aggregate.id])


TestPassLifecycle = PassLifecycle.TestCase
