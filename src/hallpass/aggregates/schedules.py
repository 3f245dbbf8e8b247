"""Occurrences of a repeating schedule, in the school's time zone, across daylight-saving changes."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class Recurrence:
    """Every listed weekday (0 = Monday) at `at` local time, from `first` to `last` inclusive.

    `at` is a reading of the school's wall clock, the same on every date: it carries no offset
    and no `fold` (which of a repeated hour is meant depends on the date, so it is decided per
    date in `to_instant`). Both are dropped here, so the rule's own `at` is what it schedules.
    """

    weekdays: frozenset[int]
    at: time
    first: date
    last: date
    timezone: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "at", wall_clock(self.at))

    def local_dates(self) -> Iterator[date]:
        day = self.first
        while day <= self.last:
            if day.weekday() in self.weekdays:
                yield day
            day += timedelta(days=1)

    def occurrences(self) -> list[datetime]:
        """Each occurrence as a UTC instant.

        A local time that does not exist that day (the clocks jump forward over it) becomes
        the instant as many minutes after the jump; a local time that happens twice (the clocks
        go back) is the first of the two.
        """
        zone = ZoneInfo(self.timezone)
        return [to_instant(day, self.at, zone) for day in self.local_dates()]


def wall_clock(at: time) -> time:
    """A time of day as a wall-clock reading: no offset, and `fold` 0."""
    return at.replace(tzinfo=None, fold=0)


def to_instant(day: date, at: time, zone: ZoneInfo) -> datetime:
    local = datetime.combine(day, wall_clock(at), tzinfo=zone)
    return local.astimezone(UTC)
