"""The words a page shows for a code the data holds (who acted, where from); exports keep the codes."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

ACTOR_KINDS = {
    "staff": "Staff",
    "student": "Student Portal",
    "kiosk": "Kiosk",
    "system": "Hallpass",
}
"""What a page calls each kind of actor when it has no name to show."""


PASS_SOURCES = {"staff": "Staff", "portal": "Student Portal", "kiosk": "Kiosk"}
"""What a page calls the place a pass was asked for from (`Pass.source`)."""


def pass_source(source: str | None) -> str:
    return PASS_SOURCES.get(source or "", "Unknown")


def actor_kind(kind: str | None) -> str:
    return ACTOR_KINDS.get(kind or "", "Unknown")


def created_by(creator: Mapping[str, Any]) -> str:
    """Who created a pass, in words: the member of staff's name, the kiosk's name, or "Student
    Portal" (the student is already named on the row)."""
    return creator_words(creator.get("kind"), creator.get("name"))


def creator_words(kind: str | None, name: str | None) -> str:
    """`created_by` of a creator's kind and name."""
    if kind == "student" or not name:
        return actor_kind(kind)
    return str(name)


def local(value: datetime | None, tz: str | ZoneInfo = "UTC", fmt: str = "%-I:%M %p") -> str:
    """A moment in the school's time zone, as `fmt` writes it."""
    if value is None:
        return ""
    return value.astimezone(tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz)).strftime(fmt)


def moment(value: datetime | None, tz: str | ZoneInfo, today: date | None) -> str:
    """A time of day, with its date when that is not `today` (both in the school's time zone)."""
    if value is None:
        return ""
    here = value.astimezone(tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz))
    if here.date() == today:
        return here.strftime("%-I:%M %p")
    return here.strftime("%a %-d %b, %-I:%M %p")
