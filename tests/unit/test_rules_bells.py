"""The bell schedule and blackout windows as pure functions: which period an instant falls in,
in any school's zone and across daylight-saving days, and when a blackout refuses."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from hallpass.errors import Invalid
from hallpass.policies import Policy, Proposal, evaluate
from hallpass.policies.bells import BellSchedule, bell_schedule, instant
from hallpass.policies.blackouts import Blackout, blackout_window
from support.builders import ZONES

NY = ZoneInfo("America/New_York")
PLACE, OTHER = uuid4(), uuid4()


def regular(*periods: tuple[str, time, time], weekdays: int = 5) -> BellSchedule:
    return bell_schedule(
        day_types=[("Regular", list(periods))],
        weekdays=["Regular"] * weekdays + [None] * (7 - weekdays),
        dates=[],
    )


SCHOOL_DAY = regular(
    ("Period 1", time(8, 0), time(8, 50)),
    ("Period 2", time(8, 55), time(9, 45)),
    ("Lunch", time(11, 30), time(12, 0)),
    ("Night class", time(1, 0), time(3, 0)),
)


def asking(now: datetime, place: UUID | None = PLACE, source: str = "staff") -> Proposal:
    """A pass for Ana to the Library (None: before a destination is chosen) at `now`."""
    return Proposal(uuid4(), "Ana Test", [], place, "Library" if place else "", source, now)


# -- periods -----------------------------------------------------------------------------------

instants = st.datetimes(
    min_value=datetime(2024, 1, 1), max_value=datetime(2030, 12, 31), timezones=st.just(UTC)
)


@given(zone=st.sampled_from(ZONES), now=instants)
def test_the_period_found_holds_now_and_no_other_period_of_the_day_does(zone: str, now: datetime) -> None:
    tz = ZoneInfo(zone)
    found = SCHOOL_DAY.period_at(now, tz)
    today = now.astimezone(tz).date()
    holding = [p for p in SCHOOL_DAY.periods_on(today, tz) if p.start_at <= now < p.end_at]
    if found is None:
        assert holding == [] or today.weekday() >= 5
    else:
        assert found.start_at <= now < found.end_at
        assert found.day == today and holding[0] == found
        start_local = found.start_at.astimezone(tz)
        assert start_local.date() == today


@given(zone=st.sampled_from(ZONES), day=st.dates(min_value=date(2024, 1, 1), max_value=date(2030, 12, 31)))
def test_a_period_lasts_its_length_on_days_the_clocks_do_not_change(zone: str, day: date) -> None:
    tz = ZoneInfo(zone)
    midnight, next_midnight = instant(day, time(0), tz), instant(day + timedelta(days=1), time(0), tz)
    assume(next_midnight - midnight == timedelta(days=1))
    assume(day.weekday() < 5)
    periods = {p.name: p for p in SCHOOL_DAY.periods_on(day, tz)}
    first = periods["Period 1"]
    assert first.end_at - first.start_at == timedelta(minutes=50)
    assert first.start_at.astimezone(tz).time() == time(8, 0)


def test_on_the_spring_forward_day_a_period_over_the_skipped_hour_is_an_hour_shorter() -> None:
    # 2026-03-08, a Sunday: New York skips 02:00-03:00. A Sunday class from 01:00 to 03:00.
    sunday = regular(("Night class", time(1, 0), time(3, 0)), weekdays=7)
    (night,) = sunday.periods_on(date(2026, 3, 8), NY)
    assert night.end_at - night.start_at == timedelta(hours=1)
    inside = datetime(2026, 3, 8, 6, 30, tzinfo=UTC)  # 01:30 EST
    assert sunday.period_at(inside, NY) == night
    after = datetime(2026, 3, 8, 7, 0, tzinfo=UTC)  # 03:00 EDT: the class is over
    assert sunday.period_at(after, NY) is None


def test_on_the_fall_back_day_a_period_over_the_repeated_hour_is_an_hour_longer() -> None:
    # 2026-11-01, a Sunday: New York repeats 01:00-02:00.
    sunday = regular(("Night class", time(1, 0), time(3, 0)), weekdays=7)
    (night,) = sunday.periods_on(date(2026, 11, 1), NY)
    assert night.end_at - night.start_at == timedelta(hours=3)
    for utc_hour in (5, 6, 7):  # 01:xx EDT, 01:xx EST, 02:xx EST
        assert sunday.period_at(datetime(2026, 11, 1, utc_hour, 30, tzinfo=UTC), NY) == night


def test_a_date_may_use_another_day_type_or_none() -> None:
    bells = bell_schedule(
        day_types=[
            ("Regular", [("Period 1", time(8), time(9))]),
            ("Late start", [("Period 1", time(10), time(11))]),
        ],
        weekdays=["Regular"] * 5 + [None, None],
        dates=[(date(2026, 12, 2), "Late start"), (date(2026, 12, 3), None), (date(2026, 12, 5), "Regular")],
    )

    def at(day: date, hour: int) -> datetime:
        return instant(day, time(hour, 30), NY)

    assert bells.period_at(at(date(2026, 12, 1), 8), NY) is not None
    assert bells.period_at(at(date(2026, 12, 2), 8), NY) is None
    late = bells.period_at(at(date(2026, 12, 2), 10), NY)
    assert late is not None and late.day_type == "Late start"
    assert bells.period_at(at(date(2026, 12, 3), 8), NY) is None  # no school
    assert bells.period_at(at(date(2026, 12, 5), 8), NY) is not None  # a Saturday made a school day
    assert BellSchedule.from_json(bells.as_json()) == bells


@pytest.mark.parametrize(
    ("day_types", "weekdays"),
    [
        ([("Regular", [("P1", time(9), time(8))])], ["Regular"] + [None] * 6),
        ([("Regular", [("P1", time(8), time(9)), ("P2", time(8, 30), time(10))])], [None] * 7),
        ([("Regular", [("", time(8), time(9))])], [None] * 7),
        ([("Regular", []), ("Regular", [])], [None] * 7),
        ([(" ", [])], [None] * 7),
        ([("Regular", [])], ["Holiday"] + [None] * 6),
        ([("Regular", [])], [None] * 6),
    ],
)
def test_a_bell_schedule_is_checked(day_types: list, weekdays: list) -> None:  # type: ignore[type-arg]
    with pytest.raises(Invalid):
        bell_schedule(day_types=day_types, weekdays=weekdays, dates=[])


# -- blackouts ---------------------------------------------------------------------------------

EDGES = blackout_window(kind="edges", first_minutes=10, last_minutes=5)


@given(zone=st.sampled_from(ZONES), now=instants)
def test_the_edges_refuse_exactly_in_the_first_and_last_minutes_of_a_period(zone: str, now: datetime) -> None:
    policy = Policy(zone, bells=SCHOOL_DAY, blackouts=(EDGES,))
    period = SCHOOL_DAY.period_at(now, policy.zone)
    refusals = evaluate(policy, asking(now))
    if period is None:
        assert refusals == []
        return
    in_first = now < period.start_at + timedelta(minutes=10)
    in_last = now >= period.end_at - timedelta(minutes=5)
    assert [r.rule for r in refusals] == (["blackout"] if in_first or in_last else [])
    if refusals:
        assert refusals[0].details["period"] == period.name


def test_the_edges_say_when_passes_may_start_again() -> None:
    policy = Policy("America/New_York", bells=SCHOOL_DAY, blackouts=(EDGES,))
    tuesday = date(2026, 12, 1)
    (first,) = evaluate(policy, asking(instant(tuesday, time(8, 3), NY)))
    assert first.message == "No passes to Library in the first 10 minutes of Period 1, until 08:10."
    assert first.plain == "Passes are not allowed in the first 10 minutes of Period 1. Try again at 08:10."
    assert evaluate(policy, asking(instant(tuesday, time(8, 10), NY))) == []
    (last,) = evaluate(policy, asking(instant(tuesday, time(8, 45), NY)))
    assert last.message == "No passes to Library in the last 5 minutes of Period 1."
    assert evaluate(policy, asking(instant(tuesday, time(8, 52), NY))) == []  # between periods
    assert evaluate(policy, asking(instant(date(2026, 12, 5), time(8, 3), NY))) == []  # Saturday


@given(
    zone=st.sampled_from(ZONES),
    now=instants,
    start=st.times(),
    minutes=st.integers(min_value=1, max_value=600),
    weekdays=st.frozensets(st.integers(min_value=0, max_value=6)),
)
def test_a_window_refuses_exactly_at_its_local_times_on_its_days(
    zone: str, now: datetime, start: time, minutes: int, weekdays: frozenset[int]
) -> None:
    begin = start.replace(second=0, microsecond=0)
    end_dt = datetime.combine(date(2000, 1, 1), begin) + timedelta(minutes=minutes)
    assume(end_dt.date() == date(2000, 1, 1))
    window = blackout_window(kind="window", start=begin, end=end_dt.time(), weekdays=weekdays)
    local = now.astimezone(ZoneInfo(zone))
    expected = (not weekdays or local.weekday() in weekdays) and begin <= local.time() < end_dt.time()
    refused = evaluate(Policy(zone, blackouts=(window,)), asking(now))
    assert bool(refused) == expected


def test_a_window_on_chosen_dates_for_chosen_destinations() -> None:
    window = blackout_window(
        kind="window",
        name="Assembly",
        start=time(10),
        end=time(11),
        dates=[date(2026, 12, 2)],
        destination_ids=[PLACE],
    )
    policy = Policy("America/New_York", blackouts=(window,))
    during = instant(date(2026, 12, 2), time(10, 15), NY)
    (refused,) = evaluate(policy, asking(during))
    assert refused.message == "No passes to Library between 10:00 and 11:00."
    assert refused.plain == "Passes to Library are not allowed between 10:00 and 11:00."
    assert evaluate(policy, asking(during, OTHER)) == []
    assert evaluate(policy, asking(instant(date(2026, 12, 3), time(10, 15), NY))) == []
    (anywhere,) = evaluate(
        Policy("America/New_York", blackouts=(blackout_window(kind="window", start=time(10), end=time(11)),)),
        asking(during, None),
    )
    assert anywhere.message == "No passes between 10:00 and 11:00."
    assert Blackout.from_json(window.as_json()) == window


@pytest.mark.parametrize(
    "fields",
    [
        {"kind": "sometimes"},
        {"kind": "edges"},
        {"kind": "edges", "first_minutes": 121},
        {"kind": "window"},
        {"kind": "window", "start": time(11), "end": time(10)},
        {"kind": "window", "start": time(10), "end": time(11), "weekdays": [7]},
    ],
)
def test_a_blackout_is_checked(fields: dict) -> None:  # type: ignore[type-arg]
    with pytest.raises(Invalid):
        blackout_window(**fields)
