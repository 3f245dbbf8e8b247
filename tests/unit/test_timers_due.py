"""Due times, and the Expire and Activate decisions: idempotent, and deaf to stale deadlines."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

from hypothesis import given
from hypothesis import strategies as st

from hallpass.aggregates.passes import Pass, Status
from hallpass.projections.timers import TimerKind, due_at
from hallpass.timers.messages import message_for
from hallpass.timers.sweep import Due
from support import builders
from support.builders import fresh

NOW = datetime(2025, 3, 9, 6, 59, 30, tzinfo=UTC)


def active(now: datetime = NOW, minutes: int = 5) -> Pass:
    return fresh(builders.started(now=now, allotted_minutes=minutes))


def scheduled(start_at: datetime, now: datetime = NOW) -> Pass:
    return fresh(builders.scheduled(start_at=start_at, allotted_minutes=7, now=now))


@given(
    start=st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
    ),
    minutes=st.integers(min_value=1, max_value=999),
)
def test_due_time_is_start_plus_allotted_minutes_in_both_models(start: datetime, minutes: int) -> None:
    hall_pass = active(start, minutes)
    assert hall_pass.due_at == due_at(start, minutes) == start + timedelta(seconds=60 * minutes)
    assert (hall_pass.due_at - hall_pass.start_at).total_seconds() == 60 * minutes


def test_due_time_is_an_instant_unaffected_by_a_daylight_saving_change() -> None:
    hall_pass = active(NOW, minutes=1)
    assert hall_pass.due_at == datetime(2025, 3, 9, 7, 0, 30, tzinfo=UTC)


def test_expire_before_the_due_time_does_nothing() -> None:
    hall_pass = active()
    assert hall_pass.expire(now=hall_pass.due_at - timedelta(microseconds=1)) is False
    assert hall_pass.collect_events() == [] and hall_pass.status is Status.ACTIVE


def test_expire_is_idempotent_and_records_the_due_time() -> None:
    hall_pass = active()
    late = hall_pass.due_at + timedelta(milliseconds=40)
    assert hall_pass.expire(now=late) is True
    assert hall_pass.expire(now=late + timedelta(seconds=1)) is False
    (event,) = hall_pass.collect_events()
    assert isinstance(event, Pass.Expired)
    assert (event.due_at, event.timestamp) == (hall_pass.due_at, late)


def test_a_stale_expire_after_the_pass_ended_does_nothing() -> None:
    hall_pass = active()
    hall_pass.complete(now=NOW + timedelta(minutes=1), actor_kind="staff", actor_id=None)
    hall_pass.collect_events()
    assert hall_pass.expire(now=hall_pass.due_at + timedelta(hours=1)) is False
    assert hall_pass.collect_events() == [] and hall_pass.status is Status.COMPLETED


def test_activate_waits_for_the_start_time_and_happens_once() -> None:
    start_at = NOW + timedelta(minutes=10)
    hall_pass = scheduled(start_at)
    assert hall_pass.activate(now=start_at - timedelta(seconds=1)) is False
    late = start_at + timedelta(milliseconds=300)
    assert hall_pass.activate(now=late) is True
    assert hall_pass.activate(now=late) is False
    (event,) = hall_pass.collect_events()
    assert isinstance(event, Pass.Activated)
    assert hall_pass.status is Status.ACTIVE
    assert (hall_pass.start_at, hall_pass.due_at) == (late, late + timedelta(minutes=7))


def test_activate_after_a_reschedule_ignores_the_old_start_time() -> None:
    old_start = NOW + timedelta(minutes=10)
    hall_pass = scheduled(old_start)
    new_start = NOW + timedelta(minutes=30)
    hall_pass.reschedule(
        start_at=new_start, allotted_minutes=3, note="", now=NOW, actor_kind="staff", actor_id=None
    )
    hall_pass.collect_events()
    assert hall_pass.activate(now=old_start) is False
    assert hall_pass.activate(now=new_start) is True


def test_a_cancelled_scheduled_pass_never_activates() -> None:
    start_at = NOW + timedelta(minutes=10)
    hall_pass = scheduled(start_at)
    hall_pass.cancel(reason="cancelled", note="", now=NOW, actor_kind="staff", actor_id=None)
    hall_pass.collect_events()
    assert hall_pass.activate(now=start_at) is False
    assert hall_pass.status is Status.CANCELLED


def test_a_timer_message_names_its_actor_and_carries_the_due_time() -> None:
    pass_id, due = uuid4(), NOW + timedelta(minutes=5)
    expire = message_for(Due(pass_id, TimerKind.EXPIRE, uuid4(), due, 10))
    activate = message_for(Due(pass_id, TimerKind.ACTIVATE, uuid4(), due, 0))
    assert (expire.actor_name, activate.actor_name) == ("expire_pass", "activate_pass")
    assert expire.args == (str(pass_id), due.isoformat())
