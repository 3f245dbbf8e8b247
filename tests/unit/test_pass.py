"""The Pass aggregate's decisions: given a pass, when a command arrives, then these events."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest

from hallpass.aggregates.passes import Pass, Source, Status, TerminationReason
from hallpass.errors import IllegalTransition, Invalid
from support import builders
from support.builders import fresh, only_event

NOW = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
TEACHER = uuid4()


def start(now: datetime = NOW, **overrides: Any) -> Pass:
    return builders.started(**({"now": now, "actor_id": TEACHER} | overrides))


def given_active() -> Pass:
    return fresh(start())


def given_expired() -> Pass:
    hall_pass = given_active()
    assert hall_pass.expire(now=hall_pass.due_at)
    hall_pass.collect_events()
    return hall_pass


def given_completed() -> Pass:
    hall_pass = given_active()
    hall_pass.complete(now=NOW + timedelta(minutes=2), actor_kind="staff", actor_id=TEACHER)
    hall_pass.collect_events()
    return hall_pass


# -- start -----------------------------------------------------------------------------


def test_start_records_one_started_event_with_an_active_pass() -> None:
    pass_id = uuid4()

    hall_pass = start(pass_id=pass_id, allotted_minutes=7)

    event = only_event(hall_pass)
    assert type(event) is Pass.Started
    assert event.originator_id == pass_id
    assert "status" not in vars(event) and "start_at" not in vars(event)
    assert hall_pass.status is Status.ACTIVE
    assert hall_pass.start_at == NOW
    assert hall_pass.due_at == NOW + timedelta(minutes=7)
    assert hall_pass.is_open


def test_start_to_the_place_the_student_is_leaving_is_invalid() -> None:
    room = uuid4()

    with pytest.raises(Invalid) as refused:
        start(origin_id=room, destination_id=room)

    assert refused.value.details["field"] == "destination_id"


@pytest.mark.parametrize("minutes", [0, -1])
def test_start_with_less_than_a_minute_allotted_is_invalid(minutes: int) -> None:
    with pytest.raises(Invalid) as refused:
        start(allotted_minutes=minutes)

    assert refused.value.details["field"] == "allotted_minutes"


def test_start_with_one_minute_allotted_is_allowed() -> None:
    assert start(allotted_minutes=1).due_at == NOW + timedelta(minutes=1)


# -- complete --------------------------------------------------------------------------


def test_completing_an_active_pass_records_the_return() -> None:
    hall_pass = given_active()
    back = NOW + timedelta(minutes=3)

    hall_pass.complete(now=back, actor_kind="staff", actor_id=TEACHER)

    assert isinstance(only_event(hall_pass), Pass.Completed)
    assert hall_pass.status is Status.COMPLETED
    assert hall_pass.returned_at == back
    assert hall_pass.ended_at == back
    assert hall_pass.ended_by == ("staff", TEACHER)
    assert not hall_pass.is_open


def test_completing_twice_is_refused_with_the_current_status() -> None:
    hall_pass = given_completed()
    version = hall_pass.version

    with pytest.raises(IllegalTransition) as refused:
        hall_pass.complete(now=NOW + timedelta(minutes=4), actor_kind="staff", actor_id=TEACHER)

    assert refused.value.details["status"] == "completed"
    assert refused.value.details["pass_id"] == str(hall_pass.id)
    assert hall_pass.version == version
    assert hall_pass.collect_events() == []


# -- expire ----------------------------------------------------------------------------


def test_expiring_before_the_due_time_does_nothing() -> None:
    hall_pass = given_active()

    expired = hall_pass.expire(now=hall_pass.due_at - timedelta(microseconds=1))

    assert expired is False
    assert hall_pass.collect_events() == []
    assert hall_pass.status is Status.ACTIVE


@pytest.mark.parametrize("late", [timedelta(0), timedelta(minutes=30)])
def test_expiring_at_or_after_the_due_time_records_expired(late: timedelta) -> None:
    hall_pass = given_active()
    when = hall_pass.due_at + late

    expired = hall_pass.expire(now=when)

    event = only_event(hall_pass)
    assert expired is True
    assert isinstance(event, Pass.Expired)
    assert event.due_at == hall_pass.due_at
    assert event.timestamp == when
    assert (event.actor_kind, event.actor_id) == ("system", None)
    assert hall_pass.status is Status.EXPIRED
    assert hall_pass.returned_at is None
    assert hall_pass.is_open


def test_expiring_an_expired_pass_again_does_nothing() -> None:
    hall_pass = given_expired()

    assert hall_pass.expire(now=hall_pass.due_at + timedelta(hours=1)) is False
    assert hall_pass.collect_events() == []


def test_expiring_a_completed_pass_does_nothing() -> None:
    hall_pass = given_completed()

    assert hall_pass.expire(now=hall_pass.due_at + timedelta(hours=1)) is False
    assert hall_pass.status is Status.COMPLETED


def test_completing_an_expired_pass_records_the_return_and_stays_expired() -> None:
    hall_pass = given_expired()
    back = hall_pass.due_at + timedelta(minutes=4)

    hall_pass.complete(now=back, actor_kind="staff", actor_id=TEACHER)

    assert isinstance(only_event(hall_pass), Pass.ReturnRecorded)
    assert hall_pass.status is Status.EXPIRED
    assert hall_pass.returned_at == back
    assert hall_pass.ended_at == back
    assert hall_pass.is_open is False


def test_completing_an_expired_pass_twice_is_refused() -> None:
    hall_pass = given_expired()
    hall_pass.complete(now=hall_pass.due_at, actor_kind="staff", actor_id=TEACHER)
    hall_pass.collect_events()

    with pytest.raises(IllegalTransition) as refused:
        hall_pass.complete(now=hall_pass.due_at, actor_kind="staff", actor_id=TEACHER)

    assert refused.value.details["status"] == "expired"
    assert "expired (returned)" in refused.value.message
    assert hall_pass.collect_events() == []


# -- terminate -------------------------------------------------------------------------


@pytest.mark.parametrize("given", [given_active, given_expired], ids=["active", "expired"])
def test_terminating_an_open_pass_records_the_reason(given: Callable[[], Pass]) -> None:
    hall_pass = given()
    when = NOW + timedelta(minutes=20)

    hall_pass.terminate(
        reason=TerminationReason.LEFT_EARLY,
        note="picked up by parent",
        now=when,
        actor_kind="staff",
        actor_id=TEACHER,
    )

    event = only_event(hall_pass)
    assert isinstance(event, Pass.Terminated)
    assert (event.reason, event.note) == ("left_early", "picked up by parent")
    assert hall_pass.status is Status.TERMINATED
    assert hall_pass.end_reason == "left_early"
    assert hall_pass.end_note == "picked up by parent"
    assert hall_pass.ended_at == when
    assert hall_pass.returned_at is None
    assert not hall_pass.is_open


def test_terminating_a_completed_pass_is_refused() -> None:
    hall_pass = given_completed()

    with pytest.raises(IllegalTransition) as refused:
        builders.dismiss(hall_pass, now=NOW + timedelta(hours=6))

    assert refused.value.details["status"] == "completed"
    assert hall_pass.status is Status.COMPLETED
    assert hall_pass.collect_events() == []


def test_terminating_an_expired_pass_after_the_return_is_refused() -> None:
    hall_pass = given_expired()
    hall_pass.complete(now=hall_pass.due_at, actor_kind="staff", actor_id=TEACHER)

    with pytest.raises(IllegalTransition):
        hall_pass.terminate(
            reason=TerminationReason.OTHER, note="x", now=NOW, actor_kind="staff", actor_id=None
        )


# -- who acted, and through what ---------------------------------------------------------


def test_every_event_carries_the_actor_and_no_idempotency_key() -> None:
    student: UUID = uuid4()
    hall_pass = start(actor_kind="student", actor_id=student)
    hall_pass.complete(now=NOW + timedelta(minutes=1), actor_kind="staff", actor_id=TEACHER)

    started, completed = hall_pass.collect_events()

    assert isinstance(started, Pass.Started)
    assert isinstance(completed, Pass.Completed)
    assert (started.actor_kind, started.actor_id) == ("student", student)
    assert (completed.actor_kind, completed.actor_id) == ("staff", TEACHER)
    assert not any("idempotency_key" in vars(e) for e in (started, completed))
    assert hall_pass.created_by == ("student", student)
    assert hall_pass.ended_by == ("staff", TEACHER)


def test_terminated_event_carries_the_actor() -> None:
    hall_pass = given_active()

    hall_pass.terminate(
        reason=TerminationReason.EMERGENCY, note="", now=NOW, actor_kind="system", actor_id=None
    )

    event = only_event(hall_pass)
    assert (event.actor_kind, event.actor_id) == ("system", None)


@pytest.mark.parametrize(
    ("source", "marker"),
    [(Source.PORTAL, "(S)"), (Source.KIOSK, "(K)"), (Source.STAFF, "")],
)
def test_source_markers(source: Source, marker: str) -> None:
    hall_pass = start(source=source)

    assert hall_pass.source is source
    assert hall_pass.source.marker == marker
