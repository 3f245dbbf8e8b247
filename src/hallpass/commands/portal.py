"""Student Portal commands: settings, student requests, and the teacher's approval or denial."""

from __future__ import annotations

import asyncio
from typing import Any, Protocol, TypeVar
from uuid import UUID, uuid4

from eventsourcing.domain import Aggregate

from hallpass.acting import Acting, Actor
from hallpass.aggregates.locations import Location
from hallpass.aggregates.passes import Pass, Source
from hallpass.aggregates.schools import School
from hallpass.aggregates.staff import Role, Staff
from hallpass.aggregates.students import Student
from hallpass.aggregates.wait_lines import WaitLine, wait_line_id
from hallpass.bounds import Note, PlaceIds
from hallpass.commands.base import Decided, created, done, handler, pass_summary, staff_only, trip
from hallpass.commands.keep_apart import guard_keep_apart
from hallpass.commands.lines import admit
from hallpass.commands.messages import Command, Override
from hallpass.commands.passes import PassCommands, record_overrides
from hallpass.errors import Forbidden, Invalid, NotFound
from hallpass.messages import say
from hallpass.policies import override_reason, settle

PORTAL_OFF = (
    "the Student Portal is turned off for this school; an administrator can turn it on in the school settings"
)


class ChangePortalSettings(Command, frozen=True):
    """Turn the Student Portal on or off, and say which student passes need teacher approval."""

    enabled: bool
    needs_approval: bool = False
    approval_destination_ids: PlaceIds = []


class RequestPortalPass(Command, frozen=True):
    """Create Pass in the Student Portal: Active at once, or Requested when approval is needed."""

    origin_id: UUID
    destination_id: UUID


class DecideRequest(Command, frozen=True):
    """Approve or deny a Requested pass, with an optional note for the student."""

    note: Note = ""


class ApproveRequest(DecideRequest, frozen=True):
    """Approve a Requested pass. Hallway rules are checked again at approval; with `override`,
    the member of staff approves it even where they refuse (docs/decisions/088)."""

    override: Override | None = None


class PortalSettings(Protocol):
    """The Student Portal settings of a school: the `School` itself, or its read model."""

    @property
    def id(self) -> UUID: ...
    @property
    def portal_enabled(self) -> bool: ...
    @property
    def portal_needs_approval(self) -> bool: ...
    @property
    def portal_approval_destinations(self) -> tuple[UUID, ...]: ...


S = TypeVar("S", bound=PortalSettings)


def portal_open(school: S | None, school_id: UUID) -> S:
    """The school, if its Student Portal is on: NotFound or Forbidden otherwise."""
    if school is None:
        raise NotFound(say("http.school_not_found", id=school_id))
    if not school.portal_enabled:
        raise Forbidden(PORTAL_OFF)
    return school


def settings_body(school: PortalSettings) -> dict[str, Any]:
    return {
        "school_id": str(school.id),
        "enabled": school.portal_enabled,
        "needs_approval": school.portal_needs_approval,
        "approval_destination_ids": [str(d) for d in school.portal_approval_destinations],
        "portal_path": f"/portal/{school.id}",
    }


class PortalCommands(PassCommands):
    """Mixed into `Hallpass`."""

    async def _school(self, school_id: UUID) -> School:
        school = await self.repository.find(school_id, School)
        if school is None:
            raise NotFound(say("http.school_not_found", id=school_id))
        return school

    @handler(keyed=False)
    async def change_portal_settings(self, acting: Acting, command: ChangePortalSettings) -> Decided:
        if not acting.actor.administers:
            raise Forbidden(say("admin.portal_settings"))
        school = await self._school(acting.school_id)
        for destination_id in command.approval_destination_ids:
            await self._location(acting.actor, destination_id, "destination")
        school.change_portal_settings(
            enabled=command.enabled,
            needs_approval=command.needs_approval,
            approval_destination_ids=list(command.approval_destination_ids),
            now=acting.now,
            actor_id=acting.actor.id,
        )
        return done(settings_body(school), [school])

    @handler()
    async def request_portal_pass(self, acting: Acting, command: RequestPortalPass) -> Decided:
        actor = acting.actor
        if actor.kind != "student" or actor.id is None:
            raise Forbidden(say("portal.students_only"))
        school = await self._school(actor.school_id)
        if not school.portal_enabled:
            raise Forbidden(PORTAL_OFF)
        origin = await self._offered(actor, command.origin_id, "origin")
        destination = await self._offered(actor, command.destination_id, "destination")
        if not destination.portal_allowed:
            raise Invalid(
                say("portal.destination_not_offered", place=destination.name), field="destination_id"
            )
        student = await self.repository.find(actor.id, Student)
        if student is None or student.school_id != actor.school_id:
            raise NotFound(say("admin.student_not_found"))
        pass_id = uuid4()
        going = trip(acting, student, origin, destination, destination.allotted_minutes)
        changed: list[Aggregate]
        refusals = await self._refusals(student, destination, Source.PORTAL, acting.now)
        if school.portal_approval_needed(destination.id, destination.needs_approval):
            hall_pass = Pass.request(pass_id=pass_id, now=acting.now, **going)
            await self._check_student_free(student, pass_id, destination, acting.now, Source.PORTAL)
            settle([(student.id, r) for r in refusals], None, actor)
            changed = [hall_pass, student]
        else:
            hall_pass = Pass.start(pass_id=pass_id, source=Source.PORTAL, now=acting.now, **going)
            await self._check_student_free(student, pass_id, destination, acting.now, Source.PORTAL)
            settle([(student.id, r) for r in refusals], None, actor)
            line = await self.repository.find(wait_line_id(destination.id), WaitLine)
            taken = admit(destination, line, student.id, pass_id, acting)
            apart = await guard_keep_apart(
                self.repository, acting, [(student, pass_id)], destination.id, Source.PORTAL.value
            )
            if apart.refusal is not None:
                return apart.refusal
            changed = [hall_pass, student, *taken, *apart.changed]
            if destination.counts_occupants:
                changed.append(destination)
        summary = pass_summary(hall_pass, student, origin, destination)
        return created({"pass": {**summary, "decision_note": ""}}, changed)

    @handler()
    async def approve_request(self, acting: Acting, pass_id: UUID, command: ApproveRequest) -> Decided:
        hall_pass = await self._pass(acting.actor, pass_id)
        await self._may_decide(acting.actor, hall_pass)
        reason = override_reason(command.override.reason if command.override else None, acting.actor)
        await self._refuse_in_emergency(hall_pass.school_id)
        hall_pass.approve(note=command.note, **acting.stamp)
        changed: list[Aggregate] = [hall_pass]
        destination, line = await asyncio.gather(
            self._location(acting.actor, hall_pass.destination_id, "destination"),
            self.repository.find(wait_line_id(hall_pass.destination_id), WaitLine),
        )
        changed += admit(destination, line, hall_pass.student_id, hall_pass.id, acting)
        if destination.counts_occupants:
            changed.append(destination)
        student = await self.repository.find(hall_pass.student_id, Student)
        if student is not None:
            # Checked again now: the limits and blackouts are those of the moment it starts,
            # not counting the request itself (opened on the student when it was asked).
            refused = [
                (hall_pass, r)
                for r in await self._refusals(
                    student, destination, Source.PORTAL, acting.now, pass_id=hall_pass.id
                )
            ]
            apart = await guard_keep_apart(
                self.repository,
                acting,
                [(student, hall_pass.id)],
                destination.id,
                Source.PORTAL.value,
                overriding=reason is not None,
            )
            if apart.refusal is not None:
                return apart.refusal
            changed += apart.changed
            if (r := apart.refusal_for(student.id)) is not None:
                refused.append((hall_pass, r))
            settle([(student.id, r) for _, r in refused], reason, acting.actor)
            record_overrides(refused, reason or "", acting)
        return done({"pass": await self._decided(hall_pass)}, changed)

    @handler()
    async def deny_request(self, acting: Acting, pass_id: UUID, command: DecideRequest) -> Decided:
        hall_pass = await self._pass(acting.actor, pass_id)
        await self._may_decide(acting.actor, hall_pass)
        hall_pass.deny(note=command.note, **acting.stamp)
        return done({"pass": await self._decided(hall_pass)}, await self._close(hall_pass, acting.now))

    @handler()
    async def cancel_request(self, acting: Acting, pass_id: UUID) -> Decided:
        if acting.actor.kind != "student":
            raise Forbidden(say("portal.cancel_own_request"))
        hall_pass = await self._pass(acting.actor, pass_id)
        self._may_act_on(acting.actor, hall_pass)
        hall_pass.cancel_request(**acting.stamp)
        return done({"pass": await self._decided(hall_pass)}, await self._close(hall_pass, acting.now))

    async def _may_decide(self, actor: Actor, hall_pass: Pass) -> None:
        """The teacher of the room the student is leaving, or an administrator or the office."""
        staff_only(actor, "approve or deny a request")
        if actor.has_role(Role.ADMIN, Role.DISTRICT_ADMIN, Role.OFFICE):
            return
        staff = await self.repository.find(actor.id, Staff) if actor.id else None
        if staff is None or staff.room_id != hall_pass.origin_id:
            origin = await self.repository.find(hall_pass.origin_id, Location)
            if origin is None:
                raise Forbidden(say("portal.decide_origin_teacher_only"))
            raise Forbidden(say("portal.decide_teacher_only", place=origin.name))

    async def _decided(self, hall_pass: Pass) -> dict[str, Any]:
        return {**await self._summary(hall_pass), "decision_note": hall_pass.decision_note}
