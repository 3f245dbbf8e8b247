"""The domain's value types and their bounds, checked once where a request comes in.

Every JSON body, form and query parameter is read through this module: text without control
characters and of a bounded length, instants with an offset within a window around `now`
(normalised to UTC), dates within the same window, times of day without an offset, ids, counts,
grades and time zones. Past the edge the code trusts them, so nothing a projection or
PostgreSQL cannot store is ever appended to the log (see docs/decisions/030).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any, TypeVar
from uuid import UUID

import msgspec

from hallpass.errors import Invalid
from hallpass.messages import say

S = TypeVar("S", bound=msgspec.Struct)

# A line of text: no C0/C1 control characters (NUL included) and no lone surrogates, which
# PostgreSQL and the JSON encoders refuse. A note may also hold tabs and line breaks.
# `(?!\n)$` ends at the very end in Python's `re` too (a bare `$` also matches before a final
# newline) and stays a plain ECMA pattern in the OpenAPI document.
LINE_PATTERN = r"^[^\x00-\x1f\x7f-\x9f\ud800-\udfff]*(?!\n)$"
TEXT_PATTERN = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]*$"
ZONE_PATTERN = r"^[A-Za-z][A-Za-z0-9_+\-]*(/[A-Za-z0-9_+\-]+){0,2}(?!\n)$"

MAX_NAME = 100
MAX_NOTE = 500
MAX_SEARCH = 100
MAX_LOGIN = 254
MAX_SECRET = 1024
MAX_STUDENTS = 500
"""Students one pass command may name (and passes one request may plan, see MAX_PLANNED)."""
MAX_KIOSK_STUDENTS = 5000
MAX_PLANNED = 500
MAX_GRADE = 14
MIN_GRADE = -1
MAX_HALL_PASS_ID = 2**63 - 1

COMMAND_WINDOW = timedelta(days=366)
"""How far before or after `now` an instant or date in a command may be."""
QUERY_EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
QUERY_LATEST = datetime(2100, 12, 31, tzinfo=UTC)
"""A filter may reach over the whole history (kept for years) and any plan, but not to the
edges of the calendar, where a day added to a bound no longer exists."""

Line = Annotated[str, msgspec.Meta(max_length=MAX_NAME, pattern=LINE_PATTERN)]
Name = Line
Note = Annotated[str, msgspec.Meta(max_length=MAX_NOTE, pattern=TEXT_PATTERN)]
Search = Annotated[str, msgspec.Meta(max_length=MAX_SEARCH, pattern=LINE_PATTERN)]
Login = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_LOGIN, pattern=LINE_PATTERN)]
Username = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=LINE_PATTERN)]
"""A student's portal username: a hall pass ID, or `#` and the external school ID."""
Secret = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_SECRET, pattern=LINE_PATTERN)]
NewSecret = Annotated[str, msgspec.Meta(max_length=MAX_SECRET, pattern=LINE_PATTERN)]
TimeZone = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=ZONE_PATTERN)]

Moment = Annotated[
    datetime, msgspec.Meta(tz=True, description="an instant with its offset, within a year of now")
]
Day = Annotated[date, msgspec.Meta(description="a date within a year of today")]
TimeOfDay = Annotated[time, msgspec.Meta(tz=False, description="a local time of day, HH:MM:SS, no offset")]
Id = UUID

Minutes = Annotated[int, msgspec.Meta(ge=1, le=999)]
Capacity = Annotated[int, msgspec.Meta(ge=1, le=10_000)]
RecordName = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_NAME, pattern=LINE_PATTERN)]
"""A name a record must have (a school, a place, a person): not blank, one line."""
Email = Annotated[
    str,
    msgspec.Meta(
        min_length=3, max_length=MAX_LOGIN, pattern=r"^[^\x00-\x20\x7f-\x9f@]+@[^\x00-\x20\x7f-\x9f@]+$"
    ),
]
ExternalId = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=LINE_PATTERN)]
"""A student's school ID (typed as `#` and the ID) or a roster `sourcedId`: one line, not blank."""
Grade = Annotated[int, msgspec.Meta(ge=MIN_GRADE, le=MAX_GRADE)]
Weekday = Annotated[int, msgspec.Meta(ge=0, le=6)]
HallPassId = Annotated[int, msgspec.Meta(ge=1, le=MAX_HALL_PASS_ID)]
StudentIds = Annotated[list[UUID], msgspec.Meta(min_length=1, max_length=MAX_STUDENTS)]
PlaceIds = Annotated[list[UUID], msgspec.Meta(max_length=200)]


def decode(raw: bytes, struct: type[S], *, now: datetime) -> S:
    """A JSON body as `struct`, every bound checked; empty means `{}`."""
    if not raw.strip():
        raw = b"{}"
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise Invalid(say("http.body_not_utf8"), field="") from e
    try:
        value = msgspec.json.decode(raw, type=struct)
    except (msgspec.ValidationError, msgspec.DecodeError) as e:
        raise invalid(e) from e
    return settle(value, now=now)


def convert(data: Mapping[str, Any], struct: type[S], *, now: datetime) -> S:
    """Values read from a form, as `struct`, every bound checked (strings are parsed as JSON would)."""
    try:
        value = msgspec.convert(data, struct, strict=False)
    except msgspec.ValidationError as e:
        raise invalid(e) from e
    return settle(value, now=now)


def value(raw: Any, kind: Any, *, field: str) -> Any:
    """One value from a query parameter or form field (text, or already parsed), as the type `kind`."""
    try:
        return msgspec.convert(raw, kind, strict=False)
    except msgspec.ValidationError as e:
        raise Invalid(say("http.value_invalid", field=field, reason=_reason(str(e))), field=field) from e


def invalid(error: msgspec.ValidationError | msgspec.DecodeError) -> Invalid:
    text = str(error)
    field = ""
    if "`$." in text:
        field = text.split("`$.", 1)[1].split("`", 1)[0]
    message = text.split(" - at `", 1)[0]
    if field:
        return Invalid(say("http.body_invalid_at", reason=_reason(message), field=field), field=field)
    return Invalid(say("http.body_invalid", reason=_reason(message)), field=field)


def _reason(message: str) -> str:
    """msgspec's message, without the regular expressions that only a developer can read."""
    if "matching regex" in message:
        if "@]+@" in message:
            return "must be an email address"
        if "A-Za-z" in message:
            return "must be an IANA time zone name, e.g. America/Chicago"
        return "must not contain control characters"
    if message.startswith("Expected `time` with no timezone"):
        return "must be a local time of day without an offset, e.g. 10:00:00"
    return message[:1].lower() + message[1:]


def settle(value: S, *, now: datetime) -> S:
    """Check every instant and date of a decoded command against the window around `now`.

    Instants come back in UTC; times of day lose any `fold`.
    """
    return _settle(value, now, "")  # type: ignore[no-any-return]


def _settle(value: Any, now: datetime, path: str) -> Any:
    if isinstance(value, msgspec.Struct):
        changes = {}
        for name in value.__struct_fields__:
            old = getattr(value, name)
            new = _settle(old, now, f"{path}.{name}" if path else name)
            if new is not old:
                changes[name] = new
        return msgspec.structs.replace(value, **changes) if changes else value
    if isinstance(value, list):
        settled = [_settle(item, now, f"{path}[{i}]") for i, item in enumerate(value)]
        return settled if any(a is not b for a, b in zip(settled, value, strict=True)) else value
    if isinstance(value, datetime):
        return moment(value, now=now, field=path)
    if isinstance(value, date):
        return day(value, now=now, field=path)
    if isinstance(value, time):
        return time_of_day(value, field=path)
    return value


def moment(value: datetime, *, now: datetime, field: str) -> datetime:
    """An instant with an offset, within the command window around now, in UTC."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise Invalid(say("http.offset_example", field=field), field=field)
    # Comparing aware datetimes never overflows; converting one near year 1 or 9999 may.
    _within(value, now, field=field, centre="now")
    return value.astimezone(UTC)


def filter_moment(value: datetime, *, field: str) -> datetime:
    """A bound of a filter over the history, with an offset, within this century, in UTC."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise Invalid(say("http.offset", field=field), field=field)
    if not QUERY_EARLIEST <= value <= QUERY_LATEST:
        raise Invalid(say("http.years", field=field), field=field)
    return value.astimezone(UTC)


def day(value: date, *, now: datetime, field: str) -> date:
    """A date within the command window around today."""
    _within(value, now.date(), field=field, centre="today")
    return value


def _within(value: date, around: date, *, field: str, centre: str) -> None:
    """`value` lies within `COMMAND_WINDOW` either side of `around` (now, or today)."""
    if not around - COMMAND_WINDOW <= value <= around + COMMAND_WINDOW:
        span = _span(COMMAND_WINDOW)
        raise Invalid(say("http.within", field=field, past=span, future=span, centre=centre), field=field)


def time_of_day(value: time, *, field: str) -> time:
    if value.tzinfo is not None:
        raise Invalid(say("http.local_time", field=field), field=field)
    return value.replace(fold=0) if value.fold else value


def _span(delta: timedelta) -> str:
    years = delta.days // 366
    return f"{years} year{'s' if years != 1 else ''}" if years else f"{delta.days} days"


def hall_pass_id(text: str) -> int | None:
    """The hall pass ID that typed digits name, or None when they cannot name one."""
    digits = text.strip()
    if not (digits and digits.isascii() and digits.isdigit()) or len(digits) > 19:
        return None
    number = int(digits)
    return number if 1 <= number <= MAX_HALL_PASS_ID else None


def grade(text: str, *, field: str = "grade") -> int | None:
    """A grade typed in a form or query (blank is none); -1 is pre-K, 0 kindergarten."""
    raw = text.strip()
    if not raw:
        return None
    return value(raw, Grade, field=field)  # type: ignore[no-any-return]
