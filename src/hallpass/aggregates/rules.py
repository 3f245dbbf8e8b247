"""A school's hallway rules: its per-student limits, bell schedule and blackout windows.

One stream per school (`ids.rules_id`), read by every pass creation in its unit of work and
never appended by one, so passes never contend on it (docs/decisions/088). Each setting is
replaced whole by an event naming who set it; the events hold plain JSON, which
`hallpass.policies` reads into its checked values.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from hallpass.acting import ActedBy
from hallpass.aggregates import ids
from hallpass.aggregates.base import Acted, Copied, InSchool
from hallpass.policies import Policy
from hallpass.policies.bells import BellSchedule
from hallpass.policies.blackouts import Blackout
from hallpass.policies.limits import Limits


class SchoolRules(InSchool, Aggregate):
    class Opened(InSchool, Copied):
        """The school's stream begins."""

    def __init__(self) -> None:
        self.limits = Limits()
        self.bells = BellSchedule()
        self.blackouts: tuple[Blackout, ...] = ()

    @classmethod
    def open(cls, school_id: UUID, now: datetime) -> SchoolRules:
        return cls._create(cls.Opened, id=ids.rules_id(school_id), timestamp=now, school_id=school_id)

    class LimitsSet(Acted):
        limits: dict[str, Any]

        def apply(self, aggregate: Any) -> None:
            aggregate.limits = Limits.from_json(self.limits)

    class BellScheduleSet(Acted):
        schedule: dict[str, Any]

        def apply(self, aggregate: Any) -> None:
            aggregate.bells = BellSchedule.from_json(self.schedule)

    class BlackoutsSet(Acted):
        blackouts: list[dict[str, Any]]

        def apply(self, aggregate: Any) -> None:
            aggregate.blackouts = tuple(Blackout.from_json(b) for b in self.blackouts)

    def set_limits(self, limits: Limits, *, now: datetime, by: ActedBy) -> bool:
        """Replace the limits; False (no event) if they are as asked."""
        if limits == self.limits:
            return False
        self.trigger_event(self.LimitsSet, timestamp=now, limits=limits.as_json(), **by)
        return True

    def set_bell_schedule(self, bells: BellSchedule, *, now: datetime, by: ActedBy) -> bool:
        if bells == self.bells:
            return False
        self.trigger_event(self.BellScheduleSet, timestamp=now, schedule=bells.as_json(), **by)
        return True

    def set_blackouts(self, blackouts: tuple[Blackout, ...], *, now: datetime, by: ActedBy) -> bool:
        if blackouts == self.blackouts:
            return False
        self.trigger_event(self.BlackoutsSet, timestamp=now, blackouts=[b.as_json() for b in blackouts], **by)
        return True

    def policy(self, timezone: str) -> Policy:
        return Policy(timezone, self.limits, self.bells, self.blackouts)
