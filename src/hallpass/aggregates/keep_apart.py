"""Keep-apart groups: students an administrator says must not be out of class at the same time.

One stream per group (docs/decisions/091). A member's pass that starts appends `MemberLeft` to
each of the member's groups in the pass's own transaction, so two passes for two members of a
group, decided at once, clash on the group's stream and the second is decided again (and
refused). A refusal appends `EncounterPrevented`, for administrators only: the refused side is
told nothing about the other student. The school keeps an index of its groups
(`KeepApartIndex`), which only administrators' changes append to.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypedDict, Unpack
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate

from hallpass.acting import ActedBy
from hallpass.aggregates.base import Acted, AddsTo, Copied, Fields, InSchool, RemovesFrom, Sets, copy_state
from hallpass.errors import Conflict, Invalid
from hallpass.messages import say

NEUTRAL = say("pass.keep_apart")
"""What every source is told when a keep-apart group refuses a pass: nothing about anyone else."""


class KeepApart(Conflict):
    """A keep-apart group refuses the pass; the message names no one (`NEUTRAL`)."""

    code = "keep_apart"

    def __init__(self, message: str = NEUTRAL, **details: Any) -> None:
        super().__init__(message, **{"rule": "keep_apart", **details})


def keep_apart_index_id(school_id: UUID) -> UUID:
    return uuid5(school_id, "keep-apart-index")


class GroupFields(Fields):
    """What an administrator says of a keep-apart group, written once: the fields of
    `KeepApartGroup.Formed` and `KeepApartGroup.Changed`, and the aggregate's attributes."""

    name: str
    member_ids: list[UUID]
    reason: str

    held_as = {"member_ids": tuple}


class Group(TypedDict):
    """What forming or changing a group is given: its `GroupFields`."""

    name: str
    member_ids: list[UUID]
    reason: str


class KeepApartGroup(InSchool, GroupFields, Aggregate):
    member_ids: tuple[UUID, ...]  # type: ignore[assignment]  # held as a tuple (`restore`)

    class Formed(InSchool, GroupFields, Acted, Copied):
        """The group, who formed it, and why it keeps its members apart."""

    class Changed(GroupFields, Acted):
        def apply(self, aggregate: Any) -> None:
            copy_state(self, aggregate)

    class Disbanded(Sets, Acted):
        attribute, to = "active", False

    class MemberLeft(Aggregate.Event):
        """A member's pass started (or was approved): the fact that orders members' passes."""

        student_id: UUID
        pass_id: UUID

        def apply(self, aggregate: Any) -> None:
            return None

    class EncounterPrevented(Acted):
        """A pass for `student_id` was refused because `out_ids` (members) were out then."""

        student_id: UUID
        out_ids: list[UUID]
        destination_id: UUID
        source: str

        def apply(self, aggregate: Any) -> None:
            aggregate.encounters = (
                *aggregate.encounters,
                {
                    "at": self.timestamp,
                    "student_id": self.student_id,
                    "out_ids": tuple(self.out_ids),
                    "destination_id": self.destination_id,
                    "source": self.source,
                    "actor_kind": self.actor_kind,
                    "actor_id": self.actor_id,
                },
            )

    active: bool = True

    def __init__(self, *, actor_kind: str, actor_id: UUID | None) -> None:
        self.formed_by = (actor_kind, actor_id)
        self.encounters: tuple[dict[str, Any], ...] = ()

    @staticmethod
    def _checked(group: Group) -> Group:
        """A group keeps at least two students apart, each named once."""
        checked = group.copy()
        checked["member_ids"] = list(dict.fromkeys(group["member_ids"]))
        if len(checked["member_ids"]) < 2:
            raise Invalid(say("keep_apart.too_few"), field="student_ids")
        return checked

    @classmethod
    def form(
        cls, *, group_id: UUID, school_id: UUID, now: datetime, by: ActedBy, **group: Unpack[Group]
    ) -> KeepApartGroup:
        return cls._create(
            cls.Formed, id=group_id, timestamp=now, school_id=school_id, **cls._checked(group), **by
        )

    def change(self, *, now: datetime, by: ActedBy, **group: Unpack[Group]) -> None:
        if not self.active:
            raise Conflict(say("keep_apart.removed"), group_id=str(self.id))
        self.trigger_event(self.Changed, timestamp=now, **self._checked(group), **by)

    def disband(self, *, now: datetime, by: ActedBy) -> None:
        if not self.active:
            raise Conflict(say("keep_apart.removed"), group_id=str(self.id))
        self.trigger_event(self.Disbanded, timestamp=now, **by)

    def others(self, student_id: UUID) -> tuple[UUID, ...]:
        """The members a pass for `student_id` must not coincide with (none once disbanded)."""
        if not self.active or student_id not in self.member_ids:
            return ()
        return tuple(m for m in self.member_ids if m != student_id)

    def member_left(self, *, student_id: UUID, pass_id: UUID, now: datetime) -> None:
        self.trigger_event(self.MemberLeft, timestamp=now, student_id=student_id, pass_id=pass_id)

    def prevent(
        self,
        *,
        student_id: UUID,
        out_ids: list[UUID],
        destination_id: UUID,
        source: str,
        now: datetime,
        by: ActedBy,
    ) -> None:
        self.trigger_event(
            self.EncounterPrevented,
            timestamp=now,
            student_id=student_id,
            out_ids=out_ids,
            destination_id=destination_id,
            source=source,
            **by,
        )


class KeepApartIndex(InSchool, Aggregate):
    """The groups of one school (`keep_apart_index_id`), for the administrators' list."""

    class Opened(InSchool, Copied):
        """The school's stream begins."""

    class Listed(AddsTo):
        into, item = "group_ids", "group_id"
        group_id: UUID

    class Unlisted(RemovesFrom):
        into, item = "group_ids", "group_id"
        group_id: UUID

    def __init__(self) -> None:
        self.group_ids: tuple[UUID, ...] = ()

    @classmethod
    def open(cls, school_id: UUID, now: datetime) -> KeepApartIndex:
        return cls._create(cls.Opened, id=keep_apart_index_id(school_id), timestamp=now, school_id=school_id)

    def add_group(self, group_id: UUID, now: datetime) -> None:
        self.trigger_event(self.Listed, timestamp=now, group_id=group_id)

    def drop_group(self, group_id: UUID, now: datetime) -> None:
        if group_id in self.group_ids:
            self.trigger_event(self.Unlisted, timestamp=now, group_id=group_id)
