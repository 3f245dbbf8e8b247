"""Keep-apart groups: the administrators' commands, and the guard every pass that starts passes.

See docs/decisions/091. `guard_keep_apart` is called by each way a student leaves the room
(staff, kiosk and portal creation, a request approved, a Scheduled pass starting) with the
students about to leave, in the command's unit of work; it answers the groups to append with
the pass, or a refusal that records the prevented encounter.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.domain import Aggregate

from hallpass.acting import Acting
from hallpass.aggregates.keep_apart import (
    NEUTRAL,
    KeepApart,
    KeepApartGroup,
    KeepApartIndex,
    keep_apart_index_id,
)
from hallpass.aggregates.locations import Location
from hallpass.aggregates.passes import Pass
from hallpass.aggregates.students import Student
from hallpass.bounds import Note, RecordName, StudentIds
from hallpass.commands.administration import AdministrationCommands
from hallpass.commands.base import Decided, created, done, handler, not_read_only, refused
from hallpass.commands.messages import Command
from hallpass.commands.repository import Repository
from hallpass.errors import NotFound
from hallpass.messages import say
from hallpass.policies import Refusal


class KeepApartFields(Command, frozen=True):
    """A keep-apart group: a name for administrators, its students, and a private reason."""

    name: RecordName
    student_ids: StudentIds
    reason: Note = ""


def is_out(hall_pass: Pass | None) -> bool:
    """Out of the room: Active, or Expired and not back. A pass not stored yet (None) is one
    this very command is starting, so it is out too."""
    return hall_pass is None or hall_pass.is_out


@dataclass(frozen=True)
class Apart:
    """What the keep-apart groups say of students about to leave."""

    changed: list[Aggregate]
    """The groups told of each member's pass, to append with it."""
    refusal: Decided | None = None
    """Refused: the encounter is recorded on the group (`changed` of the refusal)."""
    overridden: dict[UUID, list[UUID]] = field(default_factory=dict)
    """With an override: each student let out although a member of these groups was out."""

    def refusal_for(self, student_id: UUID) -> Refusal | None:
        """The rule staff overrode for `student_id`, as the shared override records it."""
        groups = self.overridden.get(student_id)
        if not groups:
            return None
        return Refusal("keep_apart", NEUTRAL, NEUTRAL, {"group_ids": [str(g) for g in groups]})


async def groups_and_out(
    repository: Repository, school_id: UUID, students: Sequence[Student]
) -> tuple[dict[UUID, KeepApartGroup], set[UUID]]:
    """The active groups of `students`, and which of their other members are out now."""
    wanted = list(dict.fromkeys(g for student in students for g in student.keep_apart_groups))
    found = await asyncio.gather(*(repository.find(g, KeepApartGroup) for g in wanted))
    groups = {g.id: g for g in found if g is not None and g.active and g.school_id == school_id}
    others = list(
        dict.fromkeys(
            m
            for student in students
            for g in student.keep_apart_groups
            if g in groups
            for m in groups[g].others(student.id)
        )
    )
    members = await asyncio.gather(*(repository.find(m, Student) for m in others))
    holding = [m for m in members if m is not None and m.open_pass_id is not None]
    passes = await asyncio.gather(*(repository.find(m.open_pass_id, Pass) for m in holding if m.open_pass_id))
    return groups, {m.id for m, p in zip(holding, passes, strict=True) if is_out(p)}


async def kept_apart(repository: Repository, school_id: UUID, students: Sequence[Student]) -> set[UUID]:
    """For a preview: the students a keep-apart group would refuse now, because a member is out
    or is among `students` too. Nothing is recorded and no one else is named."""
    if not any(student.keep_apart_groups for student in students):
        return set()
    groups, out = await groups_and_out(repository, school_id, students)
    going = out | {s.id for s in students}
    return {
        s.id
        for s in students
        for g in s.keep_apart_groups
        if g in groups and any(m in going for m in groups[g].others(s.id))
    }


async def guard_keep_apart(
    repository: Repository,
    acting: Acting,
    leaving: Sequence[tuple[Student, UUID]],
    destination_id: UUID,
    source: str,
    *,
    overriding: bool = False,
) -> Apart:
    """The groups of the students `leaving` (each with the pass they leave on), each told of
    the member's pass; or, when a member of one of them is out, a refusal naming no one, with
    the prevented encounter recorded on that group. `overriding` (staff gave an override
    reason): nobody is refused, and `Apart.overridden` says who met whom's group, for the
    override the pass records (docs/decisions/088).

    Every member of each group is read in one round trip, then their open passes in one more;
    a student in no group costs nothing.
    """
    if not any(student.keep_apart_groups for student, _ in leaving):
        return Apart([])
    groups, out = await groups_and_out(repository, acting.school_id, [s for s, _ in leaving])
    met: dict[UUID, list[UUID]] = {}
    prevented: list[Aggregate] = []
    for student, _ in leaving:
        for group_id in student.keep_apart_groups:
            group = groups.get(group_id)
            if group is None or not [m for m in group.others(student.id) if m in out]:
                continue
            met.setdefault(student.id, []).append(group.id)
            if not overriding:
                group.prevent(
                    student_id=student.id,
                    out_ids=[m for m in group.others(student.id) if m in out],
                    destination_id=destination_id,
                    source=source,
                    now=acting.now,
                    by=acting.by,
                )
                prevented.append(group)
    if prevented:
        refusal = KeepApart(overridable=acting.actor.is_staff)
        return Apart([], refused(refusal, list({id(g): g for g in prevented}.values())))
    changed: list[Aggregate] = []
    for student, pass_id in leaving:
        for group_id in student.keep_apart_groups:
            if group_id in groups:
                groups[group_id].member_left(student_id=student.id, pass_id=pass_id, now=acting.now)
                changed.append(groups[group_id])
    return Apart(list({id(g): g for g in changed}.values()), overridden=met)


def group_body(group: KeepApartGroup, names: dict[UUID, str]) -> dict[str, Any]:
    return {
        "id": str(group.id),
        "school_id": str(group.school_id),
        "name": group.name,
        "reason": group.reason,
        "removed": not group.active,
        "students": [{"id": str(m), "name": names.get(m, "")} for m in group.member_ids],
        "encounters_prevented": len(group.encounters),
    }


class KeepApartCommands(AdministrationCommands):
    """Mixed into `Hallpass`: administrators form, change and remove keep-apart groups."""

    async def _members(self, acting: Acting, school_id: UUID, student_ids: Sequence[UUID]) -> list[Student]:
        found = await asyncio.gather(*(self.repository.find(s, Student) for s in student_ids))
        missing = [
            str(sid)
            for sid, s in zip(student_ids, found, strict=True)
            if s is None or s.school_id != school_id
        ]
        if missing:
            raise NotFound(
                say("pass.students_not_found", ids=", ".join(missing)), field="student_ids", ids=missing
            )
        return [s for s in found if s is not None]

    async def _names(self, member_ids: Sequence[UUID]) -> dict[UUID, str]:
        found = await asyncio.gather(*(self.repository.find(m, Student) for m in member_ids))
        return {s.id: s.full_name for s in found if s is not None}

    @handler()
    async def form_keep_apart(self, acting: Acting, school_id: UUID, command: KeepApartFields) -> Decided:
        not_read_only(acting.actor, "form a keep-apart group")
        await self.administered_school(acting.actor, school_id)
        members = await self._members(acting, school_id, command.student_ids)
        index = await self.repository.find(keep_apart_index_id(school_id), KeepApartIndex)
        index = index or KeepApartIndex.open(school_id, acting.now)
        group = KeepApartGroup.form(
            group_id=uuid4(),
            school_id=school_id,
            name=command.name,
            member_ids=list(command.student_ids),
            reason=command.reason,
            now=acting.now,
            by=acting.by,
        )
        index.add_group(group.id, acting.now)
        for student in members:
            student.join_keep_apart(group.id, now=acting.now)
        names = {s.id: s.full_name for s in members}
        return created({"group": group_body(group, names)}, [group, index, *members])

    async def _administered_group(self, acting: Acting, group_id: UUID) -> KeepApartGroup:
        group = await self.repository.find(group_id, KeepApartGroup)
        if group is None:
            raise NotFound(
                say("http.record_not_found", what="keep-apart group", id=group_id), id=str(group_id)
            )
        try:
            await self.administered_school(acting.actor, group.school_id)
        except NotFound as e:
            raise NotFound(
                say("http.record_not_found", what="keep-apart group", id=group_id), id=str(group_id)
            ) from e
        return group

    @handler(keyed=False)
    async def change_keep_apart(self, acting: Acting, group_id: UUID, command: KeepApartFields) -> Decided:
        not_read_only(acting.actor, "change a keep-apart group")
        group = await self._administered_group(acting, group_id)
        members = await self._members(acting, group.school_id, command.student_ids)
        before = set(group.member_ids)
        group.change(
            name=command.name,
            member_ids=list(command.student_ids),
            reason=command.reason,
            now=acting.now,
            by=acting.by,
        )
        changed: list[Aggregate] = [group]
        for student in members:
            student.join_keep_apart(group.id, now=acting.now)
            changed.append(student)
        for gone in await asyncio.gather(
            *(self.repository.find(m, Student) for m in before - set(group.member_ids))
        ):
            if gone is not None:
                gone.leave_keep_apart(group.id, now=acting.now)
                changed.append(gone)
        return done({"group": group_body(group, await self._names(group.member_ids))}, changed)

    @handler(keyed=False)
    async def remove_keep_apart(self, acting: Acting, group_id: UUID) -> Decided:
        not_read_only(acting.actor, "remove a keep-apart group")
        group = await self._administered_group(acting, group_id)
        group.disband(now=acting.now, by=acting.by)
        index = await self.repository.find(keep_apart_index_id(group.school_id), KeepApartIndex)
        changed: list[Aggregate] = [group]
        if index is not None:
            index.drop_group(group.id, acting.now)
            changed.append(index)
        for student in await asyncio.gather(*(self.repository.find(m, Student) for m in group.member_ids)):
            if student is not None:
                student.leave_keep_apart(group.id, now=acting.now)
                changed.append(student)
        return done({"group": group_body(group, await self._names(group.member_ids))}, changed)

    async def keep_apart_groups(self, acting: Acting, school_id: UUID) -> list[KeepApartGroup]:
        """The school's groups, for an administrator of it (403, else 404)."""
        await self.administered_school(acting.actor, school_id)
        index = await self.repository.find(keep_apart_index_id(school_id), KeepApartIndex)
        if index is None:
            return []
        found = await asyncio.gather(*(self.repository.find(g, KeepApartGroup) for g in index.group_ids))
        return [g for g in found if g is not None]

    async def keep_apart_listing(self, acting: Acting, school_id: UUID) -> dict[str, Any]:
        """Groups with their members' names and reasons, and every prevented encounter, newest
        first: what administrators (and only they) see."""
        groups = await self.keep_apart_groups(acting, school_id)
        ids = {m for g in groups for m in g.member_ids} | {
            m for g in groups for e in g.encounters for m in (e["student_id"], *e["out_ids"])
        }
        names = await self._names(sorted(ids, key=str))
        places = {e["destination_id"] for g in groups for e in g.encounters}
        place_names = await self._place_names(sorted(places, key=str))
        encounters = sorted(
            (
                {
                    "at": e["at"].isoformat(),
                    "group_id": str(g.id),
                    "group_name": g.name,
                    "student": {"id": str(e["student_id"]), "name": names.get(e["student_id"], "")},
                    "out": [{"id": str(m), "name": names.get(m, "")} for m in e["out_ids"]],
                    "destination": {
                        "id": str(e["destination_id"]),
                        "name": place_names.get(e["destination_id"], ""),
                    },
                    "source": e["source"],
                    "actor_kind": e["actor_kind"],
                    "actor_id": str(e["actor_id"]) if e["actor_id"] else None,
                }
                for g in groups
                for e in g.encounters
            ),
            key=lambda row: row["at"],
            reverse=True,
        )
        return {"groups": [group_body(g, names) for g in groups], "encounters": encounters}

    async def _place_names(self, place_ids: Sequence[UUID]) -> dict[UUID, str]:
        found = await asyncio.gather(*(self.repository.find(p, Location) for p in place_ids))
        return {p.id: p.name for p in found if p is not None}
