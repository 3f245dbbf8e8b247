"""The School aggregate: a tenant of one district, with its time zone and settings."""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from eventsourcing.domain import Aggregate

from hallpass.aggregates.administration import Registration, Revision, unattributed
from hallpass.aggregates.base import Fields
from hallpass.errors import Invalid
from hallpass.messages import say


def check_timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as e:
        raise Invalid(say("schedule.time_zone", name=name), field="timezone") from e
    return name


class SchoolFields(Fields):
    """What administrators say of a school, written once: the fields of `School.Registered` and
    `School.Changed`, and the aggregate's attributes."""

    name: str
    timezone: str


class School(SchoolFields, Aggregate):
    district_id: UUID

    class Registered(SchoolFields, Registration):
        """Version 2 says who made it and why (`cause`: a roster import's file and line)."""

        class_version = 2

        district_id: UUID

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            unattributed(state)

    def __init__(self) -> None:
        """Every attribute of a school comes from its events; its settings start as declared."""

    class Changed(SchoolFields, Revision):
        """A new name or time zone (a dismissal time set keeps its local time of day)."""

    dismissal_time: time | None = None
    dismissed_on: date | None = None

    class DismissalTimeSet(Aggregate.Event):
        """The school day ends at `dismissal_time` local time; `next_at` is the next dismissal."""

        dismissal_time: time
        next_at: datetime

        def apply(self, aggregate: Any) -> None:
            aggregate.dismissal_time = self.dismissal_time

    class Dismissed(Aggregate.Event):
        """The school day `day` ended; `next_at` is the next dismissal."""

        day: date
        next_at: datetime

        def apply(self, aggregate: Any) -> None:
            aggregate.dismissed_on = self.day

    def set_dismissal_time(self, *, at: time, now: datetime) -> None:
        self.trigger_event(
            self.DismissalTimeSet, timestamp=now, dismissal_time=at, next_at=self._next_dismissal(at, now)
        )

    def dismissal_due(self, now: datetime) -> date | None:
        """The local day whose dismissal has come and not yet happened, if any."""
        if self.dismissal_time is None:
            return None
        zone = ZoneInfo(self.timezone)
        today = now.astimezone(zone).date()
        if self.dismissed_on == today or now < _instant(today, self.dismissal_time, zone):
            return None
        return today

    def dismiss(self, *, now: datetime) -> bool:
        """Record the end of today's school day once its dismissal time has come."""
        day = self.dismissal_due(now)
        if day is None or self.dismissal_time is None:
            return False
        tomorrow = _instant(day + timedelta(days=1), self.dismissal_time, ZoneInfo(self.timezone))
        self.trigger_event(self.Dismissed, timestamp=now, day=day, next_at=tomorrow)
        return True

    def _next_dismissal(self, at: time, now: datetime) -> datetime:
        zone = ZoneInfo(self.timezone)
        today = now.astimezone(zone).date()
        if self.dismissed_on != today and _instant(today, at, zone) > now:
            return _instant(today, at, zone)
        return _instant(today + timedelta(days=1), at, zone)

    portal_enabled: bool = False
    portal_needs_approval: bool = False
    portal_approval_destinations: tuple[UUID, ...] = ()

    class PortalSettingsChanged(Aggregate.Event):
        """The administrator changed the Student Portal settings."""

        enabled: bool
        needs_approval: bool
        approval_destination_ids: list[UUID]
        actor_id: UUID | None

        def apply(self, aggregate: Any) -> None:
            aggregate.portal_enabled = self.enabled
            aggregate.portal_needs_approval = self.needs_approval
            aggregate.portal_approval_destinations = tuple(self.approval_destination_ids)

    def change_portal_settings(
        self,
        *,
        enabled: bool,
        needs_approval: bool,
        approval_destination_ids: list[UUID],
        now: datetime,
        actor_id: UUID | None,
    ) -> None:
        self.trigger_event(
            self.PortalSettingsChanged,
            timestamp=now,
            enabled=enabled,
            needs_approval=needs_approval,
            approval_destination_ids=sorted(set(approval_destination_ids), key=str),
            actor_id=actor_id,
        )

    def portal_approval_needed(self, destination_id: UUID, destination_needs_approval: bool) -> bool:
        return approval_needed(
            self.portal_needs_approval,
            self.portal_approval_destinations,
            destination_id,
            destination_needs_approval,
        )


def approval_needed(
    school_wide: bool, destinations: Collection[UUID], destination_id: UUID, destination_needs_approval: bool
) -> bool:
    """Approval applies school-wide, or to this destination (its own flag or the settings)."""
    return school_wide or destination_needs_approval or destination_id in destinations


def _instant(day: date, at: time, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, at.replace(tzinfo=None, fold=0), tzinfo=zone).astimezone(UTC)
