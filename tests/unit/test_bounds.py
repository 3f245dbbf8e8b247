"""The value types at the edge: whatever arrives, the answer is a value within bounds or Invalid."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hallpass import bounds
from hallpass.commands.kiosk import KioskSetUp
from hallpass.commands.messages import CreatePasses
from hallpass.commands.schedules import ReschedulePass, SchedulePasses, ScheduleRepeating
from hallpass.errors import Invalid

NOW = datetime(2026, 3, 1, 15, 0, tzinfo=UTC)
COMMANDS = [CreatePasses, SchedulePasses, ReschedulePass, ScheduleRepeating, KioskSetUp]

offsets = st.integers(-(24 * 60 - 1), 24 * 60 - 1).map(lambda m: timezone(timedelta(minutes=m)))


FIELDS = sorted({f for c in COMMANDS for f in c.__struct_fields__} | {"mode", "grades"})
scalars = st.one_of(
    st.text(max_size=20),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.none(),
    st.booleans(),
    st.uuids().map(str),
    st.datetimes(timezones=offsets).map(datetime.isoformat),
    st.dates().map(date.isoformat),
    st.times(timezones=st.one_of(st.none(), offsets)).map(time.isoformat),
)
json_values = st.one_of(scalars, st.lists(scalars, max_size=3))
bodies = st.one_of(
    st.binary(max_size=200), st.dictionaries(st.sampled_from(FIELDS), json_values).map(msgspec.json.encode)
)


@given(raw=bodies, command=st.sampled_from(COMMANDS))
def test_any_body_decodes_to_a_command_within_bounds_or_is_invalid(
    raw: bytes, command: type[msgspec.Struct]
) -> None:
    try:
        decoded = bounds.decode(raw, command, now=NOW)
    except Invalid:
        return
    for name in decoded.__struct_fields__:
        value = getattr(decoded, name)
        if isinstance(value, datetime):
            assert value.tzinfo is UTC and abs(value - NOW) <= bounds.COMMAND_WINDOW
        elif isinstance(value, time):
            assert value.tzinfo is None


@given(moment=st.datetimes(timezones=offsets))
def test_an_instant_is_within_a_year_of_now_in_utc_or_invalid(moment: datetime) -> None:
    try:
        settled = bounds.moment(moment, now=NOW, field="start_at")
    except Invalid as e:
        assert e.details["field"] == "start_at"
        assert abs(moment - NOW) > bounds.COMMAND_WINDOW
    else:
        assert settled.tzinfo is UTC
        assert settled == moment
        assert abs(settled - NOW) <= bounds.COMMAND_WINDOW


def test_the_instant_of_finding_1_is_refused() -> None:
    body = (
        b'{"origin_id": "00000000-0000-0000-0000-000000000001",'
        b' "destination_id": "00000000-0000-0000-0000-000000000002",'
        b' "student_ids": ["00000000-0000-0000-0000-000000000003"],'
        b' "start_at": "9999-12-31T23:00:00-23:59"}'
    )
    with pytest.raises(Invalid) as refused:
        bounds.decode(body, SchedulePasses, now=NOW)
    assert refused.value.details["field"] == "start_at"


def _control(c: str) -> bool:
    return ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F


@given(text=st.text(max_size=120))
def test_a_name_has_no_control_characters(text: str) -> None:
    try:
        name = bounds.value(text, bounds.Name, field="name")
    except Invalid:
        assert len(text) > bounds.MAX_NAME or any(_control(c) for c in text)
    else:
        assert name == text
        assert not any(_control(c) for c in name)


@pytest.mark.parametrize("text", ["a\x00b", "abc\n", "\x1b[31m", "x" * 101])
def test_hostile_names_are_refused(text: str) -> None:
    with pytest.raises(Invalid):
        bounds.value(text, bounds.Name, field="name")


def test_a_note_may_hold_line_breaks_but_not_nul() -> None:
    assert bounds.value("back\nsoon\t!", bounds.Note, field="note") == "back\nsoon\t!"
    with pytest.raises(Invalid):
        bounds.value("back\x00soon", bounds.Note, field="note")


def test_a_schedule_outside_the_window_or_with_an_offset_is_refused() -> None:
    def schedule(**extra: object) -> bytes:
        body = {
            "origin_id": "00000000-0000-0000-0000-000000000001",
            "destination_id": "00000000-0000-0000-0000-000000000002",
            "student_ids": ["00000000-0000-0000-0000-000000000003"],
            "weekdays": [0],
            "at": "10:00:00",
            "first_date": "2026-03-02",
            "last_date": "2026-03-09",
            **extra,
        }
        return msgspec.json.encode(body)

    settled = bounds.decode(schedule(), ScheduleRepeating, now=NOW)
    assert settled.at == time(10) and settled.last_date == date(2026, 3, 9)
    for bad in ({"first_date": "0001-01-01"}, {"last_date": "9999-12-31"}, {"at": "10:00:00+05:00"}):
        with pytest.raises(Invalid):
            bounds.decode(schedule(**bad), ScheduleRepeating, now=NOW)


@pytest.mark.parametrize(("text", "expected"), [("", None), ("7", 7), ("-1", -1), ("14", 14), (" 9 ", 9)])
def test_grades(text: str, expected: int | None) -> None:
    assert bounds.grade(text) == expected


@pytest.mark.parametrize("text", ["--5", "-5", "15", "99999999999999999999", "²", "five"])
def test_bad_grades_are_refused(text: str) -> None:
    with pytest.raises(Invalid):
        bounds.grade(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("42", 42),
        ("9223372036854775807", 2**63 - 1),
        ("9223372036854775808", None),
        ("0", None),
        ("٤٢", None),
    ],
)
def test_hall_pass_ids_fit_a_bigint(text: str, expected: int | None) -> None:
    assert bounds.hall_pass_id(text) == expected


def test_filter_bounds_stay_inside_the_century() -> None:
    assert bounds.filter_moment(datetime(2001, 1, 1, tzinfo=UTC), field="from").year == 2001
    for moment in (datetime(9999, 12, 31, tzinfo=UTC), datetime(1, 1, 1, tzinfo=UTC)):
        with pytest.raises(Invalid):
            bounds.filter_moment(moment, field="to")
