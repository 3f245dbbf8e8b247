"""A school's emergency state: declared, who was out when it began, who is confirmed safe, ended.

One stream per school (`ids.emergency_id`). Every pass creation reads it in the same unit of work
as the student and the place (docs/decisions/081); every change is an event naming who acted.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from hallpass.acting import ActedBy
from hallpass.aggregates import ids
from hallpass.aggregates.base import Acted, Copied, InSchool, Sets
from hallpass.aggregates.passes import Pass
from hallpass.errors import Conflict
from hallpass.messages import say


class EmergencyInProgress(Conflict):
    """The school is in emergency mode: no pass may be created or started."""


class NoEmergency(Conflict):
    """There is no emergency to end, or to mark a student safe in."""


class Emergency(InSchool, Aggregate):
    class Opened(InSchool, Copied):
        """The school's stream begins."""

    def __init__(self) -> None:
        self.on = False
        self.declared_at: datetime | None = None
        self.out: dict[UUID, dict[str, Any]] = {}
        self.safe: dict[UUID, dict[str, Any]] = {}

    @classmethod
    def open(cls, school_id: UUID, now: datetime) -> Emergency:
        return cls._create(cls.Opened, id=ids.emergency_id(school_id), timestamp=now, school_id=school_id)

    class Declared(Acted):
        def apply(self, aggregate: Any) -> None:
            aggregate.on = True
            aggregate.declared_at = self.timestamp
            aggregate.out = {}
            aggregate.safe = {}

    class WasOut(Aggregate.Event):
        """A student whose pass the emergency ended: where they were and since when."""

        student_id: UUID
        pass_id: UUID
        destination_id: UUID
        since: datetime

        def apply(self, aggregate: Any) -> None:
            aggregate.out[self.student_id] = {
                "pass_id": self.pass_id,
                "destination_id": self.destination_id,
                "since": self.since,
            }

    class MarkedSafe(Acted):
        student_id: UUID

        def apply(self, aggregate: Any) -> None:
            aggregate.safe[self.student_id] = {
                "at": self.timestamp,
                "actor_kind": self.actor_kind,
                "actor_id": self.actor_id,
            }

    class Ended(Sets, Acted):
        attribute, to = "on", False

    def declare(self, *, now: datetime, by: ActedBy) -> bool:
        """Switch emergency mode on; False if it already is."""
        if self.on:
            return False
        self.trigger_event(self.Declared, timestamp=now, **by)
        return True

    def record_out(self, hall_pass: Pass, *, now: datetime) -> None:
        """The emergency ended `hall_pass`: its student was out, at its destination since it started."""
        self.trigger_event(
            self.WasOut,
            timestamp=now,
            student_id=hall_pass.student_id,
            pass_id=hall_pass.id,
            destination_id=hall_pass.destination_id,
            since=hall_pass.start_at,
        )

    def mark_safe(self, *, student_id: UUID, now: datetime, by: ActedBy) -> bool:
        """Confirm a student safe; False if already confirmed."""
        if not self.on:
            raise NoEmergency("there is no emergency in progress")
        if student_id in self.safe:
            return False
        self.trigger_event(self.MarkedSafe, timestamp=now, student_id=student_id, **by)
        return True

    def end(self, *, now: datetime, by: ActedBy) -> None:
        if not self.on:
            raise NoEmergency("there is no emergency in progress")
        self.trigger_event(self.Ended, timestamp=now, **by)

    def refuse_passes(self) -> None:
        if self.on:
            raise EmergencyInProgress(say("emergency.on"))
