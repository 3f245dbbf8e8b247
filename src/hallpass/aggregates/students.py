"""The Student aggregate: who the student is, and which pass (if any) they have open."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import msgspec
from eventsourcing.domain import Aggregate

from hallpass.aggregates.administration import (
    Deactivation,
    Reactivation,
    Registration,
    Revision,
    unattributed,
)
from hallpass.aggregates.base import Fields, InSchool
from hallpass.bounds import ExternalId, Grade, HallPassId, RecordName
from hallpass.errors import StudentAlreadyOut, StudentInactive
from hallpass.messages import say
from hallpass.policies.limits import Opening, kept


class StudentFields(Fields):
    """What the roster and administrators say of a student, written once: the fields of
    `Student.Registered` and `Student.Changed`, and the aggregate's attributes."""

    first_name: str
    last_name: str
    grade: int
    homeroom_id: UUID | None
    hall_pass_id: int
    external_id: str | None
    sourced_id: str | None = None

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


class StudentRecord(msgspec.Struct, frozen=True):
    """A student's `StudentFields` as one value, bounded as the API takes them: the body of an
    administrator's Add and Change Student (`commands.admin_messages.StudentFields`) and a
    student a kiosk may find (`projections.kiosk_search.Candidate`)."""

    first_name: RecordName
    last_name: RecordName
    grade: Grade
    hall_pass_id: HallPassId
    homeroom_id: UUID | None = None
    external_id: ExternalId | None = None
    sourced_id: ExternalId | None = None

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


class Student(InSchool, StudentFields, Aggregate):
    class Registered(InSchool, StudentFields, Registration):
        """Version 2 adds the roster's `sourced_id` (OneRoster `sourcedId`, unique per district);
        version 3 who registered the student and why (`cause`: a roster import's file and line)."""

        class_version = 3

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["sourced_id"] = None

        @staticmethod
        def upcast_v2_v3(state: dict[str, Any]) -> None:
            unattributed(state)

    class Changed(StudentFields, Revision):
        """New values of what administrators may change."""

    class Deactivated(Deactivation):
        """The student gets no new pass; an open one runs its course."""

    class Reactivated(Reactivation):
        """The student may get passes again."""

    active: bool = True

    openings: tuple[Opening, ...] = ()
    """The passes opened in the last days, with their sources, for the limits (decision 088)."""

    class PassOpened(Aggregate.Event):
        """Version 2 records the pass's `source` (staff, kiosk, portal), which the limits count."""

        class_version = 2

        pass_id: UUID
        destination_id: UUID
        source: str | None = None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["source"] = None

        def apply(self, aggregate: Any) -> None:
            aggregate.open_pass_id = self.pass_id
            aggregate.open_pass_destination_id = self.destination_id
            opened = (self.pass_id, self.timestamp, self.source, self.destination_id)
            aggregate.openings = (*kept(aggregate.openings, self.timestamp), opened)

    class PassClosed(Aggregate.Event):
        """Version 2: `uncounted`, a pass that never started (a request denied or withdrawn)
        no longer counts towards the limits."""

        class_version = 2

        pass_id: UUID
        uncounted: bool = False

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["uncounted"] = False

        def apply(self, aggregate: Any) -> None:
            aggregate.open_pass_id = None
            aggregate.open_pass_destination_id = None
            if self.uncounted:
                aggregate.openings = tuple(o for o in aggregate.openings if o[0] != self.pass_id)

    class EmergencyNoted(Aggregate.Event):
        """An emergency was declared in the student's school (docs/decisions/081): the event moves
        the student's stream on, so a pass decided before the declaration cannot be appended after."""

        def apply(self, aggregate: Any) -> None:
            return None

    keep_apart_groups: tuple[UUID, ...] = ()
    """The keep-apart groups the student belongs to (docs/decisions/091); a new pass reads each."""

    class KeepApartGroupsSet(Aggregate.Event):
        """The student joined or left a keep-apart group: the groups they belong to now."""

        group_ids: list[UUID]

        def apply(self, aggregate: Any) -> None:
            aggregate.keep_apart_groups = tuple(self.group_ids)

    def join_keep_apart(self, group_id: UUID, *, now: Any) -> None:
        if group_id not in self.keep_apart_groups:
            self.trigger_event(
                self.KeepApartGroupsSet, timestamp=now, group_ids=[*self.keep_apart_groups, group_id]
            )

    def leave_keep_apart(self, group_id: UUID, *, now: Any) -> None:
        if group_id in self.keep_apart_groups:
            kept = [g for g in self.keep_apart_groups if g != group_id]
            self.trigger_event(self.KeepApartGroupsSet, timestamp=now, group_ids=kept)

    def note_emergency(self, *, now: Any) -> None:
        self.trigger_event(self.EmergencyNoted, timestamp=now)

    def __init__(self) -> None:
        """What a new student has besides their `Registered` fields: no open pass."""
        self.open_pass_id: UUID | None = None
        self.open_pass_destination_id: UUID | None = None

    def open_pass(self, *, pass_id: UUID, destination_id: UUID, now: Any, source: str | None = None) -> None:
        """At most one open pass per student (invariant 1), and none for a deactivated student."""
        if not self.active:
            raise StudentInactive(say("pass.student_inactive", name=self.full_name), student_id=str(self.id))
        if self.open_pass_id is not None:
            raise StudentAlreadyOut(
                say("pass.already_out", name=self.full_name),
                student_id=str(self.id),
                pass_id=str(self.open_pass_id),
                destination_id=str(self.open_pass_destination_id),
            )
        self.trigger_event(
            self.PassOpened, timestamp=now, pass_id=pass_id, destination_id=destination_id, source=source
        )

    def close_pass(self, *, pass_id: UUID, now: Any, uncounted: bool = False) -> None:
        """The pass is no longer open; `uncounted`: it never started, so it does not count."""
        if self.open_pass_id == pass_id:
            self.trigger_event(self.PassClosed, timestamp=now, pass_id=pass_id, uncounted=uncounted)
