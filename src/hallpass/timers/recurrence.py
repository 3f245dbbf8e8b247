"""Occurrences of a repeating schedule, in the school's time zone, across daylight-saving changes."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class Recurrence:
    """Every listed weekday (0 = Monday) at `at` local time, from `first` to `last` inclusive."""

    weekdays: frozenset[int]
    at: time
    first: date
    last: date
    timezone: str

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


def to_instant(day: date, at: time, zone: ZoneInfo) -> datetime:
    local = datetime.combine(day, at.replace(tzinfo=None, fold=0), tzinfo=zone)
    return local.astimezone(UTC)
