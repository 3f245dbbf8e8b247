"""Per-student limits as pure functions: counting in the school's zone (daylight saving days
included), the sources that count, exempt destinations, and the refusals they give."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hallpass.errors import Invalid
from hallpass.policies import Policy, Proposal, evaluate
from hallpass.policies.bells import instant
from hallpass.policies.limits import KEPT, Limits, Opening, count, limits, week_start
from support import builders
from support.builders import ZONES, fresh

PLACE = uuid4()
NURSE = uuid4()
NY = ZoneInfo("America/New_York")


def opened(at: datetime, source: str | None = "staff", place: UUID = PLACE) -> Opening:
    return (uuid4(), at, source, place)


def proposal(
    openings: list[Opening], now: datetime, *, source: str = "staff", place: UUID = PLACE
) -> Proposal:
    return Proposal(uuid4(), "Ana Test", openings, place, "Library", source, now)


instants = st.datetimes(
    min_value=datetime(2024, 1, 1), max_value=datetime(2030, 12, 31), timezones=st.just(UTC)
)


@given(
    zone=st.sampled_from(ZONES),
    now=instants,
    ago=st.lists(st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=9)), max_size=30),
)
def test_counts_are_the_passes_since_local_midnight_and_since_monday(
    zone: str, now: datetime, ago: list[timedelta]
) -> None:
    tz = ZoneInfo(zone)
    openings = [opened(now - a) for a in ago]
    today = now.astimezone(tz).date()
    midnight = instant(today, time(0), tz)
    monday = instant(week_start(today), time(0), tz)

    counts = count(openings, Limits(), tz, now)

    assert counts.today == sum(1 for o in openings if midnight <= o[1] <= now)
    assert counts.week == sum(1 for o in openings if monday <= o[1] <= now)
    assert counts.today <= counts.week


@given(
    zone=st.sampled_from(ZONES),
    now=instants,
    ago=st.lists(st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=2)), max_size=12),
    per_day=st.integers(min_value=1, max_value=6),
    source=st.sampled_from(["staff", "kiosk", "portal"]),
)
def test_the_daily_limit_refuses_exactly_when_the_count_has_reached_it(
    zone: str, now: datetime, ago: list[timedelta], per_day: int, source: str
) -> None:
    policy = Policy(zone, Limits(per_day=per_day))
    openings = [opened(now - a, source) for a in ago]
    used = count(openings, policy.limits, policy.zone, now).today

    refusals = evaluate(policy, proposal(openings, now, source=source))

    assert [r.rule for r in refusals] == (["daily_limit"] if used >= per_day else [])
    if refusals:
        assert refusals[0].details == {"count": used, "limit": per_day}


@given(
    now=instants,
    ago=st.lists(st.timedeltas(min_value=timedelta(0), max_value=timedelta(hours=3)), min_size=3, max_size=8),
)
def test_an_exempt_destination_is_never_refused_nor_counted(now: datetime, ago: list[timedelta]) -> None:
    policy = Policy("UTC", Limits(per_day=1, per_week=1, exempt_destination_ids=frozenset({NURSE})))
    to_nurse = [opened(now - a, place=NURSE) for a in ago]

    assert evaluate(policy, proposal(to_nurse, now, place=NURSE)) == []
    assert evaluate(policy, proposal(to_nurse, now)) == []
    assert count(to_nurse, policy.limits, policy.zone, now).today == 0


def test_only_the_sources_that_count_are_counted_and_refused() -> None:
    now = datetime(2026, 12, 2, 17, 0, tzinfo=UTC)
    policy = Policy("America/Chicago", Limits(per_day=1, sources=frozenset({"kiosk", "portal"})))
    staff_only = [opened(now - timedelta(hours=1), "staff"), opened(now - timedelta(hours=2), "staff")]

    assert evaluate(policy, proposal(staff_only, now, source="kiosk")) == []
    at_kiosk = [*staff_only, opened(now - timedelta(minutes=5), "kiosk")]
    (refused,) = evaluate(policy, proposal(at_kiosk, now, source="portal"))
    assert refused.rule == "daily_limit"
    assert refused.plain == "You have reached today's limit of 1 pass. Ask your teacher."
    assert evaluate(policy, proposal(at_kiosk, now, source="staff")) == []


def test_a_pass_recorded_before_sources_were_kept_always_counts() -> None:
    now = datetime(2026, 12, 2, 17, 0, tzinfo=UTC)
    policy = Policy("UTC", Limits(per_day=1, sources=frozenset({"kiosk"})))
    assert [r.rule for r in evaluate(policy, proposal([opened(now, None)], now, source="kiosk"))] == [
        "daily_limit"
    ]


def test_the_spring_forward_day_counts_every_pass_of_the_local_day() -> None:
    # 2026-03-08: New York's clocks go from 02:00 EST to 03:00 EDT; the day has 23 hours.
    early = datetime(2026, 3, 8, 0, 30, tzinfo=NY)  # 05:30 UTC
    late = datetime(2026, 3, 8, 23, 30, tzinfo=NY)  # 03:30 UTC the next day
    before = datetime(2026, 3, 7, 23, 59, tzinfo=NY)
    now = datetime(2026, 3, 8, 23, 45, tzinfo=NY)
    openings = [opened(t.astimezone(UTC)) for t in (before, early, late)]

    assert count(openings, Limits(), NY, now.astimezone(UTC)).today == 2


def test_the_fall_back_day_counts_both_passes_at_the_repeated_hour() -> None:
    # 2026-11-01: 01:30 happens twice in New York, at 05:30 and 06:30 UTC.
    first = datetime(2026, 11, 1, 5, 30, tzinfo=UTC)
    second = datetime(2026, 11, 1, 6, 30, tzinfo=UTC)
    assert first.astimezone(NY).time() == second.astimezone(NY).time() == time(1, 30)
    now = datetime(2026, 11, 2, 4, 59, tzinfo=UTC)  # 23:59 EST, still 1 November

    assert count([opened(first), opened(second)], Limits(), NY, now).today == 2
    assert count([opened(first), opened(second)], Limits(), NY, now + timedelta(minutes=2)).today == 0


def test_the_week_starts_on_monday_in_the_school_zone() -> None:
    sunday_night = datetime(2026, 12, 6, 23, 0, tzinfo=NY)
    monday = datetime(2026, 12, 7, 9, 0, tzinfo=NY)
    assert week_start(date(2026, 12, 6)) == date(2026, 11, 30)
    counts = count([opened(sunday_night.astimezone(UTC))], Limits(), NY, monday.astimezone(UTC))
    assert (counts.today, counts.week) == (0, 0)


def test_limits_are_checked() -> None:
    with pytest.raises(Invalid):
        limits(per_day=0, per_week=None, sources=["staff"], exempt_destination_ids=[])
    with pytest.raises(Invalid):
        limits(per_day=None, per_week=101, sources=["staff"], exempt_destination_ids=[])
    with pytest.raises(Invalid):
        limits(per_day=1, per_week=None, sources=["bus"], exempt_destination_ids=[])
    made = limits(per_day=3, per_week=None, sources=["kiosk"], exempt_destination_ids=[NURSE])
    assert Limits.from_json(made.as_json()) == made


# -- the Student keeps its recent passes -----------------------------------------------------------


def test_the_student_keeps_the_passes_of_the_last_days_with_their_sources() -> None:
    student = fresh(builders.student())
    start = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
    old, recent = uuid4(), uuid4()
    student.open_pass(pass_id=old, destination_id=PLACE, now=start, source="kiosk")
    student.close_pass(pass_id=old, now=start + timedelta(minutes=5))
    later = start + KEPT + timedelta(hours=1)
    student.open_pass(pass_id=recent, destination_id=NURSE, now=later, source="portal")

    assert student.openings == ((recent, later, "portal", NURSE),)


def test_a_request_that_never_started_no_longer_counts() -> None:
    student = fresh(builders.student())
    denied, taken = uuid4(), uuid4()
    now = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)
    student.open_pass(pass_id=taken, destination_id=PLACE, now=now, source="portal")
    student.close_pass(pass_id=taken, now=now + timedelta(minutes=4))
    student.open_pass(pass_id=denied, destination_id=PLACE, now=now + timedelta(minutes=5), source="portal")
    student.close_pass(pass_id=denied, now=now + timedelta(minutes=6), uncounted=True)

    assert [o[0] for o in student.openings] == [taken]
