"""The value kinds OneRoster files hold, read leniently the way real exports write them.

Each reader returns the value or raises `ValueError` with a reason a person can act on.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

from hallpass.bounds import LINE_PATTERN, MAX_GRADE, MAX_NAME, MIN_GRADE

_LINE = re.compile(LINE_PATTERN)
_ISO_DAY = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_SLASH_DAY = re.compile(r"^(\d{1,2})[/.](\d{1,2})[/.](\d{4})$")
_YEAR_SLASH_DAY = re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})$")
_LIST_SEPARATOR = re.compile(r"\s*,\s*")

GRADE_WORDS = {"PK": -1, "PR": -1, "IT": -1, "TK": -1, "KG": 0, "K": 0, "13": 13, "PS": 14, "UG": 14}
"""OneRoster's grade codes (CEDS) that are not numbers, as Hallpass grades (-1 is pre-K)."""


def text(raw: str, *, max_length: int = MAX_NAME) -> str:
    value = raw.strip()
    if len(value) > max_length:
        raise ValueError(f"longer than {max_length} characters")
    if not _LINE.match(value):
        raise ValueError("holds control characters")
    return value


def day(raw: str) -> date:
    """A calendar date: 2023-05-01, 1/05/2023 (day first, as most exports outside the US write
    it; month first when the first number cannot be a month's day order), or 2023/05/01.
    An ISO date-time names its date."""
    value = raw.strip()
    if "T" in value or " " in value:
        return instant(value).date()
    try:
        if m := _ISO_DAY.match(value) or _YEAR_SLASH_DAY.match(value):
            return date(int(m[1]), int(m[2]), int(m[3]))
        if m := _SLASH_DAY.match(value):
            first, second, year = int(m[1]), int(m[2]), int(m[3])
            if second > 12 >= first:  # 06/15/2023 can only be month first
                return date(year, first, second)
            return date(year, second, first)
    except ValueError as e:
        raise ValueError(f"{value!r} is not a date ({e})") from e
    raise ValueError(f"{value!r} is not a date (use YYYY-MM-DD)")


def instant(raw: str) -> datetime:
    """A moment: an ISO 8601 date-time (`Z` or an offset; none is UTC) or a date (its midnight UTC)."""
    value = raw.strip()
    if "T" not in value and " " not in value:
        return datetime.combine(day(value), datetime.min.time(), tzinfo=UTC)
    try:
        moment = datetime.fromisoformat(value.replace("z", "Z"))
    except ValueError as e:
        raise ValueError(f"{value!r} is not a date and time (use 2023-05-01T18:25:43Z)") from e
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def flag(raw: str) -> bool:
    value = raw.strip().lower()
    if value in {"true", "t", "yes", "y", "1"}:
        return True
    if value in {"false", "f", "no", "n", "0"}:
        return False
    raise ValueError(f"{raw.strip()!r} is neither true nor false")


def id_list(raw: str) -> tuple[str, ...]:
    """A comma-separated list of sourcedIds (or grades, subjects), blanks dropped."""
    return tuple(part for part in _LIST_SEPARATOR.split(raw.strip()) if part)


def grade(raw: str) -> int:
    """One OneRoster grade (`09`, `KG`, `PK`) as a Hallpass grade."""
    value = raw.strip().upper()
    if value in GRADE_WORDS:
        return GRADE_WORDS[value]
    if value.isascii() and value.isdigit() and MIN_GRADE <= int(value) <= MAX_GRADE:
        return int(value)
    raise ValueError(f"{raw.strip()!r} is not a grade (01-12, KG, PK...)")
