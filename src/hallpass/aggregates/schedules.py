"""The Schedule aggregate (a repeating schedule of passes) and its occurrences.

Occurrences are reckoned in the school's time zone, across daylight-saving changes. Until
December 2026 `Schedule` lived in `hallpass.aggregates.passes`; its stored events name it there,
and `hallpass.aggregates.encoding` resolves that old topic to this class.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Unpack
from uuid import UUID
from zoneinfo import ZoneInfo

from eventsourcing.domain import Aggregate

from hallpass.acting import ActedBy
from hallpass.aggregates.base import Acted, Copied, InSchool
from hallpass.errors import IllegalTransition
from hallpass.messages import say

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


class ScheduleFields(InSchool):
    """A repeating schedule as planned, written once: the fields of `Schedule.Created` and the
    aggregate's attributes."""

    student_ids: list[UUID]
    origin_id: UUID
    destination_id: UUID
    weekdays: list[int]
    at: time
    first_date: date
    last_date: date
    timezone: str
    allotted_minutes: int
    pass_ids: list[UUID]


class Schedule(ScheduleFields, Aggregate):
    """A repeating schedule: it planned one Scheduled pass per occurrence and student."""

    class Created(ScheduleFields, Acted, Copied):
        """The schedule and the Scheduled passes it planned, and who planned them."""

    class Cancelled(Acted):
        def apply(self, aggregate: Any) -> None:
            aggregate.cancelled_at = self.timestamp

    def __init__(self, *, actor_kind: str, actor_id: UUID | None) -> None:
        self.created_by = (actor_kind, actor_id)
        self.cancelled_at: datetime | None = None

    def cancel(self, *, now: datetime, **by: Unpack[ActedBy]) -> None:
        if self.cancelled_at is not None:
            raise IllegalTransition(
                say("schedule.cancelled_already"), status="cancelled", schedule_id=str(self.id)
            )
        self.trigger_event(self.Cancelled, timestamp=now, **by)
