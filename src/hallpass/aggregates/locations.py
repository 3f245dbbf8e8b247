"""The Location aggregate: a room or place, its time allotted, capacity and who is in it."""

from __future__ import annotations

from enum import StrEnum
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from hallpass.aggregates.administration import (
    Deactivation,
    Reactivation,
    Registration,
    Revision,
    unattributed,
)
from hallpass.aggregates.base import AddsTo, Fields, InSchool, RemovesFrom
from hallpass.errors import DestinationFull
from hallpass.messages import say


class LocationKind(StrEnum):
    CLASSROOM = "classroom"
    RESTROOM = "restroom"
    NURSE = "nurse"
    OFFICE = "office"
    LIBRARY = "library"
    COUNSELOR = "counselor"
    OTHER = "other"


class LocationFields(Fields):
    """What administrators say of a room or place, written once: the fields of `Location.Added`
    and `Location.Changed`, and the aggregate's attributes (`kind` as a `LocationKind`).

    A new capacity below the students inside admits nobody until enough have left."""

    name: str
    kind: str
    allotted_minutes: int
    capacity: int | None
    kiosk_allowed: bool
    portal_allowed: bool
    needs_approval: bool

    held_as = {"kind": LocationKind}


class Location(InSchool, LocationFields, Aggregate):
    kind: LocationKind

    class Added(InSchool, LocationFields, Registration):
        """Version 2 says who made it and why (`cause`: a roster import's file and line)."""

        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            unattributed(state)

    class Changed(LocationFields, Revision):
        """New values of what administrators may change."""

    class Archived(Deactivation):
        """No longer offered for new passes; passes to it and its history stay."""

    class Restored(Reactivation):
        """Offered again."""

    active: bool = True

    @property
    def archived(self) -> bool:
        return not self.active

    class Entered(AddsTo):
        """A pass's student takes a slot (only places with a capacity count them)."""

        into, item = "occupants", "pass_id"
        pass_id: UUID

    class Left(RemovesFrom):
        into, item = "occupants", "pass_id"
        pass_id: UUID

    def __init__(self) -> None:
        """A new place has nobody in it."""
        self.occupants: tuple[UUID, ...] = ()

    @property
    def counts_occupants(self) -> bool:
        """Only places with a capacity keep a count, so other places never contend."""
        return self.capacity is not None

    holds: tuple[UUID, ...] = ()
    """Students offered a slot by the place's wait line (docs/decisions/092): each counts
    against the capacity until they take it or the offer lapses."""

    class Held(AddsTo):
        into, item = "holds", "student_id"
        student_id: UUID

    class HoldEnded(RemovesFrom):
        into, item = "holds", "student_id"
        student_id: UUID

    @property
    def free_slots(self) -> int:
        """Slots neither taken nor held; a place without a capacity always has one."""
        if self.capacity is None:
            return 1
        return max(0, self.capacity - len(self.occupants) - len(self.holds))

    def hold(self, *, student_id: UUID, now: Any) -> None:
        self.trigger_event(self.Held, timestamp=now, student_id=student_id)

    def unhold(self, *, student_id: UUID, now: Any) -> None:
        if student_id in self.holds:
            self.trigger_event(self.HoldEnded, timestamp=now, student_id=student_id)

    def admit(self, *, pass_id: UUID, now: Any, student_id: UUID | None = None) -> None:
        """A destination never holds more students than its capacity (invariant 3), slots held
        for the wait line included; a student holding one takes it."""
        if self.capacity is None:
            return
        if student_id is not None and student_id in self.holds:
            self.trigger_event(self.HoldEnded, timestamp=now, student_id=student_id)
        elif self.free_slots <= 0:
            raise DestinationFull(
                say("pass.destination_full", name=self.name, capacity=self.capacity),
                location_id=str(self.id),
                capacity=self.capacity,
            )
        self.trigger_event(self.Entered, timestamp=now, pass_id=pass_id)

    def release(self, *, pass_id: UUID, now: Any) -> None:
        if pass_id in self.occupants:
            self.trigger_event(self.Left, timestamp=now, pass_id=pass_id)
