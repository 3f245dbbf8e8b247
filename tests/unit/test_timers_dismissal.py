"""The school day's end: once per local day, at the dismissal time in the school's time zone."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from uuid import uuid4

from hallpass.aggregates.schools import School


def school(now: datetime, timezone: str = "America/New_York") -> School:
    registered = School._create(
        School.Registered, id=uuid4(), timestamp=now, district_id=uuid4(), name="S", timezone=timezone
    )
    registered.collect_events()
    return registered


def test_the_next_dismissal_is_today_if_still_ahead_else_tomorrow() -> None:
    morning = datetime(2025, 3, 7, 14, 0, tzinfo=UTC)
    s = school(morning)
    s.set_dismissal_time(at=time(15, 30), now=morning)
    (event,) = s.collect_events()
    assert isinstance(event, School.DismissalTimeSet)
    assert event.next_at == datetime(2025, 3, 7, 20, 30, tzinfo=UTC)
    evening = datetime(2025, 3, 7, 21, 0, tzinfo=UTC)
    s.set_dismissal_time(at=time(15, 30), now=evening)
    (later,) = s.collect_events()
    assert isinstance(later, School.DismissalTimeSet)
    assert later.next_at == datetime(2025, 3, 8, 20, 30, tzinfo=UTC)


def test_dismissal_happens_once_a_day_and_not_early() -> None:
    now = datetime(2025, 3, 7, 14, 0, tzinfo=UTC)
    s = school(now)
    s.set_dismissal_time(at=time(15, 30), now=now)
    s.collect_events()
    at = datetime(2025, 3, 7, 20, 30, tzinfo=UTC)
    assert s.dismiss(now=at - timedelta(seconds=1)) is False
    assert s.dismiss(now=at + timedelta(milliseconds=200)) is True
    assert s.dismiss(now=at + timedelta(minutes=5)) is False
    (event,) = s.collect_events()
    assert isinstance(event, School.Dismissed)
    assert event.day == date(2025, 3, 7)


def test_the_next_dismissal_keeps_the_local_time_across_a_clock_change() -> None:
    friday = datetime(2025, 3, 7, 20, 30, tzinfo=UTC)
    s = school(friday - timedelta(hours=6))
    s.set_dismissal_time(at=time(15, 30), now=friday - timedelta(hours=6))
    s.collect_events()
    days = []
    now = friday
    for _ in range(3):
        assert s.dismiss(now=now)
        (event,) = s.collect_events()
        assert isinstance(event, School.Dismissed)
        days.append(event.next_at)
        now = event.next_at
    assert days == [
        datetime(2025, 3, 8, 20, 30, tzinfo=UTC),
        datetime(2025, 3, 9, 19, 30, tzinfo=UTC),
        datetime(2025, 3, 10, 19, 30, tzinfo=UTC),
    ]


def test_a_school_without_a_dismissal_time_is_never_dismissed() -> None:
    now = datetime(2025, 3, 7, 23, 0, tzinfo=UTC)
    assert school(now).dismiss(now=now) is False
