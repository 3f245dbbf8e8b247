"""Student Portal commands: settings, student requests, and the teacher's approval or denial."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.domain import Aggregate

from hallpass.acting import Actor
from hallpass.aggregates.locations import Location
from hallpass.aggregates.passes import Pass, Source
from hallpass.aggregates.schools import School
from hallpass.aggregates.staff import Role, Staff
from hallpass.aggregates.students import Student
from hallpass.bounds import Note, PlaceIds
from hallpass.commands.base import Decision, Outcome, fingerprint, pass_summary, staff_only
from hallpass.commands.messages import Command
from hallpass.commands.passes import PassCommands
from hallpass.errors import Forbidden, Invalid, NotFound

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


def settings_body(school: School) -> dict[str, Any]:
    return {
        "school_id": str(school.id),
        "enabled": school.portal_enabled,
        "needs_approval": school.portal_needs_approval,
        "approval_destination_ids": [str(d) for d in school.portal_approval_destinations],
        "portal_path": f"/portal/{school.id}",
    }


class PortalCommands(PassCommands):
    """Mixed into `Hallpass`."""

    async def school_settings(self, school_id: UUID) -> School:
        school = await self.repository.find(school_id, School)
        if school is None:
            raise NotFound(f"school {school_id} not found")
        return school

    async def change_portal_settings(
        self, actor: Actor, command: ChangePortalSettings, *, now: datetime
    ) -> Outcome:
        if not actor.is_staff or actor.role != Role.ADMIN.value:
            raise Forbidden("only an administrator may change the Student Portal settings")

        async def decide() -> Decision:
            school = await self.school_settings(actor.school_id)
            for destination_id in command.approval_destination_ids:
                await self._location(actor, destination_id, "destination")
            school.change_portal_settings(
                enabled=command.enabled,
                needs_approval=command.needs_approval,
                approval_destination_ids=list(command.approval_destination_ids),
                now=now,
                actor_id=actor.id,
            )
            return 200, settings_body(school), [school]

        return await self._run(actor, now=now, idempotency_key=None, fingerprint="", decide=decide)

    async def request_portal_pass(
        self,
        actor: Actor,
        command: RequestPortalPass,
        *,
        now: datetime,
        idempotency_key: str | None = None,
    ) -> Outcome:
        if actor.kind != "student" or actor.id is None:
            raise Forbidden("only a student signed in to the Student Portal may do this")
        student_id = actor.id

        async def decide() -> Decision:
            school = await self.school_settings(actor.school_id)
            if not school.portal_enabled:
                raise Forbidden(PORTAL_OFF)
            origin = await self._location(actor, command.origin_id, "origin")
            destination = await self._location(actor, command.destination_id, "destination")
            if not destination.portal_allowed:
                raise Invalid(
                    f"{destination.name} cannot be chosen in the Student Portal", field="destination_id"
                )
            student = await self.repository.find(student_id, Student)
            if student is None or student.school_id != actor.school_id:
                raise NotFound("student not found")
            pass_id = uuid4()
            fields: dict[str, Any] = {
                "pass_id": pass_id,
                "school_id": actor.school_id,
                "student_id": student.id,
                "origin_id": origin.id,
                "destination_id": destination.id,
                "allotted_minutes": destination.allotted_minutes,
                "now": now,
                "actor_kind": actor.kind,
                "actor_id": actor.id,
                "idempotency_key": idempotency_key,
            }
            changed: list[Aggregate]
            if school.portal_approval_needed(destination.id, destination.needs_approval):
                hall_pass = Pass.request(**fields)
                await self._check_student_free(student, pass_id, destination, now)
                changed = [hall_pass, student]
            else:
                hall_pass = Pass.start(source=Source.PORTAL, **fields)
                await self._check_student_free(student, pass_id, destination, now)
                destination.admit(pass_id=pass_id, now=now)
                changed = [hall_pass, student]
                if destination.counts_occupants:
                    changed.append(destination)
            return 201, {"pass": await self._body(hall_pass, student, origin, destination)}, changed

        return await self._run(
            actor,
            now=now,
            idempotency_key=idempotency_key,
            fingerprint=fingerprint("request_portal_pass", command),
            decide=decide,
        )

    async def approve_request(
        self,
        actor: Actor,
        pass_id: UUID,
        command: DecideRequest,
        *,
        now: datetime,
        idempotency_key: str | None = None,
    ) -> Outcome:
        async def decide() -> Decision:
            hall_pass = await self._pass(actor, pass_id)
            await self._may_decide(actor, hall_pass)
            hall_pass.approve(
                note=command.note,
                now=now,
                actor_kind=actor.kind,
                actor_id=actor.id,
                idempotency_key=idempotency_key,
            )
            changed: list[Aggregate] = [hall_pass]
            destination = await self._location(actor, hall_pass.destination_id, "destination")
            destination.admit(pass_id=hall_pass.id, now=now)
            if destination.counts_occupants:
                changed.append(destination)
            return 200, {"pass": await self._decided(hall_pass)}, changed

        return await self._run(
            actor,
            now=now,
            idempotency_key=idempotency_key,
            fingerprint=fingerprint("approve_request", command, pass_id),
            decide=decide,
        )

    async def deny_request(
        self,
        actor: Actor,
        pass_id: UUID,
        command: DecideRequest,
        *,
        now: datetime,
        idempotency_key: str | None = None,
    ) -> Outcome:
        async def decide() -> Decision:
            hall_pass = await self._pass(actor, pass_id)
            await self._may_decide(actor, hall_pass)
            hall_pass.deny(
                note=command.note,
                now=now,
                actor_kind=actor.kind,
                actor_id=actor.id,
                idempotency_key=idempotency_key,
            )
            changed = await self._close(hall_pass, now)
            return 200, {"pass": await self._decided(hall_pass)}, changed

        return await self._run(
            actor,
            now=now,
            idempotency_key=idempotency_key,
            fingerprint=fingerprint("deny_request", command, pass_id),
            decide=decide,
        )

    async def cancel_request(
        self, actor: Actor, pass_id: UUID, *, now: datetime, idempotency_key: str | None = None
    ) -> Outcome:
        if actor.kind != "student":
            raise Forbidden("only the student who asked may cancel a request; staff deny it")

        async def decide() -> Decision:
            hall_pass = await self._pass(actor, pass_id)
            self._may_act_on(actor, hall_pass)
            hall_pass.cancel_request(
                now=now, actor_kind=actor.kind, actor_id=actor.id, idempotency_key=idempotency_key
            )
            changed = await self._close(hall_pass, now)
            return 200, {"pass": await self._decided(hall_pass)}, changed

        return await self._run(
            actor,
            now=now,
            idempotency_key=idempotency_key,
            fingerprint=fingerprint("cancel_request", None, pass_id),
            decide=decide,
        )

    async def _may_decide(self, actor: Actor, hall_pass: Pass) -> None:
        """The teacher of the room the student is leaving, or an administrator or the office."""
        staff_only(actor, "approve or deny a request")
        if actor.role in (Role.ADMIN.value, Role.OFFICE.value):
            return
        staff = await self.repository.find(actor.id, Staff) if actor.id else None
        if staff is None or staff.room_id != hall_pass.origin_id:
            origin = await self.repository.find(hall_pass.origin_id, Location)
            where = origin.name if origin else "the room the student is leaving"
            raise Forbidden(f"only the teacher of {where} may approve or deny this request")

    async def _decided(self, hall_pass: Pass) -> dict[str, Any]:
        return {**await self._summary(hall_pass), "decision_note": hall_pass.decision_note}

    async def _body(
        self, hall_pass: Pass, student: Student, origin: Location, destination: Location
    ) -> dict[str, Any]:
        return {**pass_summary(hall_pass, student, origin, destination), "decision_note": ""}
