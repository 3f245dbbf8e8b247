"""Repeating schedules across time zones and daylight-saving changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import example, given
from hypothesis import strategies as st

from hallpass.aggregates.schedules import Recurrence

ZONES = [
    "America/New_York",
    "America/Chicago",
    "America/Phoenix",
    "Europe/London",
    "Australia/Sydney",
    "Australia/Lord_Howe",
    "Asia/Kolkata",
    "Pacific/Auckland",
    "UTC",
]

recurrences = st.builds(
    lambda days, at, first, length, zone: Recurrence(days, at, first, first + timedelta(days=length), zone),
    st.frozensets(st.integers(0, 6), min_size=1),
    st.times(),
    st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 1, 1)),
    st.integers(0, 120),
    st.sampled_from(ZONES),
)


# Found by hypothesis: a time of day with fold=1 (the second 02:00 of a night whose clocks go
# back) on the Sunday the clocks jump forward over 02:00.
SPRING_FORWARD_FOLD = Recurrence(
    frozenset({6}), time(2, 0, fold=1), date(2025, 3, 9), date(2025, 3, 9), "America/Chicago"
)


@given(recurrences)
@example(SPRING_FORWARD_FOLD)
def test_one_occurrence_per_matching_day_at_the_local_time(rule: Recurrence) -> None:
    zone = ZoneInfo(rule.timezone)
    occurrences = rule.occurrences()
    days = [rule.first + timedelta(days=n) for n in range((rule.last - rule.first).days + 1)]
    assert len(occurrences) == sum(1 for d in days if d.weekday() in rule.weekdays)
    assert occurrences == sorted(set(occurrences))
    for moment in occurrences:
        assert moment.tzinfo is UTC
        local = moment.astimezone(zone)
        wanted = datetime.combine(local.date(), rule.at.replace(tzinfo=None))
        shift = local.replace(tzinfo=None) - wanted
        if shift:
            assert timedelta(0) < shift <= timedelta(hours=1)
            assert zone.utcoffset(wanted) != zone.utcoffset(wanted + timedelta(hours=1))
        else:
            assert local.date().weekday() in rule.weekdays
            assert rule.first <= local.date() <= rule.last


@given(recurrences)
@example(SPRING_FORWARD_FOLD)
def test_an_existing_local_time_round_trips(rule: Recurrence) -> None:
    zone = ZoneInfo(rule.timezone)
    for moment in rule.occurrences():
        local = moment.astimezone(zone)
        naive = local.replace(tzinfo=None)
        back = naive.replace(tzinfo=zone).astimezone(UTC)
        if naive.time() == rule.at.replace(tzinfo=None):
            assert back == moment


def test_the_same_school_time_is_a_different_utc_time_after_clocks_change() -> None:
    rule = Recurrence(frozenset({4, 0}), time(8, 0), date(2025, 3, 7), date(2025, 3, 10), "America/New_York")
    assert rule.occurrences() == [
        datetime(2025, 3, 7, 13, 0, tzinfo=UTC),
        datetime(2025, 3, 10, 12, 0, tzinfo=UTC),
    ]


def test_a_skipped_local_time_moves_past_the_gap_and_a_repeated_one_is_the_first() -> None:
    spring = Recurrence(frozenset({6}), time(2, 30), date(2025, 3, 9), date(2025, 3, 9), "America/Chicago")
    autumn = Recurrence(frozenset({6}), time(1, 30), date(2025, 11, 2), date(2025, 11, 2), "America/Chicago")
    assert spring.occurrences() == [datetime(2025, 3, 9, 8, 30, tzinfo=UTC)]
    assert autumn.occurrences() == [datetime(2025, 11, 2, 6, 30, tzinfo=UTC)]


def test_southern_hemisphere_dates_follow_their_own_changes() -> None:
    rule = Recurrence(frozenset({0}), time(9, 0), date(2025, 3, 31), date(2025, 4, 7), "Australia/Sydney")
    assert rule.occurrences() == [
        datetime(2025, 3, 30, 22, 0, tzinfo=UTC),
        datetime(2025, 4, 6, 23, 0, tzinfo=UTC),
    ]


def test_a_time_of_day_is_a_wall_clock_reading_without_fold_or_offset() -> None:
    rule = SPRING_FORWARD_FOLD
    assert (rule.at, rule.at.fold, rule.at.tzinfo) == (time(2, 0), 0, None)
    assert rule.occurrences() == [datetime(2025, 3, 9, 8, 0, tzinfo=UTC)]
    plain = Recurrence(rule.weekdays, time(2, 0), rule.first, rule.last, rule.timezone)
    assert (rule, rule.occurrences()) == (plain, plain.occurrences())
