"""Administration, one record at a time: schools, locations, staff and students, by an
administrator of the school (or of its district), each change naming who made it and why.

A member of staff who is not an administrator is refused (Forbidden); a record of a school the
administrator does not administer is not found, exactly as one that does not exist.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID, uuid4

import msgspec
from eventsourcing.domain import Aggregate

from hallpass.acting import Acting, Actor
from hallpass.aggregates import ids
from hallpass.aggregates.administration import Cause, Claim, Provenance, revise, switch
from hallpass.aggregates.locations import Location
from hallpass.aggregates.schools import School, check_timezone
from hallpass.aggregates.staff import ADMINISTRATORS, Role, Staff
from hallpass.aggregates.students import Student
from hallpass.commands.admin_messages import (
    AddLocation,
    AddSchool,
    AddStaff,
    AddStudent,
    ChangeLocation,
    ChangeSchool,
    ChangeStaff,
    ChangeStudent,
    SchoolFields,
    external,
    location_body,
    school_body,
    staff_body,
    student_body,
)
from hallpass.commands.base import Decided, Outcome, created, done, handler
from hallpass.commands.directory import DirectoryCommands, new_location, sourced_claims
from hallpass.credentials import student_login
from hallpass.errors import Conflict, Forbidden, NotFound
from hallpass.messages import say

ADMIN_CAUSE: Cause = {"kind": "admin"}
R = TypeVar("R", Location, Staff, Student)


def may_grant(actor: Actor, before: Iterable[str], after: Iterable[str]) -> None:
    """Only a district administrator gives or takes the district administrator's role."""
    moved = set(before) ^ set(after)
    if Role.DISTRICT_ADMIN in moved and not actor.has_role(Role.DISTRICT_ADMIN):
        raise Forbidden(say("admin.district_role"))


def provenance(acting: Acting, cause: Cause | None) -> Provenance:
    """When, by whom and why an administered change is made."""
    return {"now": acting.now, "by": acting.by, "cause": cause}


def portal(acting: Acting, school: School, command: SchoolFields) -> bool:
    """The Student Portal's switches, where given; its approval destinations stay as they are."""
    enabled = school.portal_enabled if command.portal_enabled is None else command.portal_enabled
    needs = (
        school.portal_needs_approval
        if command.portal_needs_approval is None
        else command.portal_needs_approval
    )
    if (enabled, needs) == (school.portal_enabled, school.portal_needs_approval):
        return False
    school.change_portal_settings(
        enabled=enabled,
        needs_approval=needs,
        approval_destination_ids=list(school.portal_approval_destinations),
        now=acting.now,
        actor_id=acting.actor.id,
    )
    return True


class AdministrationCommands(DirectoryCommands):
    """Mixed into `Hallpass`."""

    # -- who may administer what ---------------------------------------------------------------

    async def _may_administer(self, actor: Actor, school: School) -> bool:
        if school.id == actor.school_id:
            return True
        if not actor.has_role(Role.DISTRICT_ADMIN):
            return False
        home = await self.repository.find(actor.school_id, School)
        return home is not None and home.district_id == school.district_id

    async def administered_school(self, actor: Actor, school_id: UUID) -> School:
        """The school, if `actor` administers it: Forbidden for others than administrators,
        NotFound for a school outside their reach."""
        if not actor.administers:
            raise Forbidden(say("admin.only"))
        school = await self.repository.find(school_id, School)
        if school is None or not await self._may_administer(actor, school):
            raise NotFound(say("http.school_not_found", id=school_id), id=str(school_id))
        return school

    async def administered(self, actor: Actor, record_id: UUID, cls: type[R], what: str) -> R:
        """A location, member of staff or student of a school `actor` administers."""
        if not actor.administers:
            raise Forbidden(say("admin.only"))
        record = await self.repository.find(record_id, cls)
        school = await self.repository.find(record.school_id, School) if record is not None else None
        if record is None or school is None or not await self._may_administer(actor, school):
            raise NotFound(say("http.record_not_found", what=what, id=record_id), id=str(record_id))
        return record

    async def _room_of(self, school_id: UUID, room_id: UUID | None, field: str) -> None:
        if room_id is None:
            return
        room = await self.repository.find(room_id, Location)
        if room is None or room.school_id != school_id:
            raise NotFound(say("admin.room_not_found", id=room_id), field=field, id=str(room_id))

    # -- index streams -------------------------------------------------------------------------

    async def _claim(
        self, claim_id: UUID, key: str, owner_id: UUID, now: datetime, what: str
    ) -> list[Aggregate]:
        """Hold `key` for `owner_id`; Conflict if another record holds it."""
        found = await self.repository.find(claim_id, Aggregate)
        if found is None:
            return [Claim._create(Claim.Made, id=claim_id, timestamp=now, key=key, owner_id=owner_id)]
        if found.id == owner_id:
            return []  # the record's first value: its own id follows from it
        if isinstance(found, Claim) and found.take(owner_id, now=now):
            return [found] if found.pending_events else []
        raise Conflict(say("admin.taken", what=what, value=key), value=key)

    async def _release(self, claim_id: UUID, owner_id: UUID, now: datetime) -> list[Aggregate]:
        found = await self.repository.find(claim_id, Claim)
        if found is None or found.owner_id != owner_id:
            return []
        found.release(now=now)
        return [found]

    async def _swap(
        self,
        old: tuple[UUID, str] | None,
        new: tuple[UUID, str] | None,
        owner_id: UUID,
        now: datetime,
        what: str,
    ) -> list[Aggregate]:
        """Move a unique value from `old` to `new` (index id and key); nothing if they are equal."""
        if old == new:
            return []
        taken = await self._claim(new[0], new[1], owner_id, now, what) if new else []
        released = await self._release(old[0], owner_id, now) if old else []
        return [*taken, *released]

    async def _unclaimed(self, record_id: UUID, message: str, field: str) -> None:
        """A new record's id follows from a unique value: refuse if something holds it."""
        if await self.repository.find(record_id, Aggregate) is not None:
            raise Conflict(message, field=field)

    async def _new_sourced(
        self, school: School, owner_id: UUID, sourced_id: str | None, now: datetime
    ) -> list[Claim]:
        claims = sourced_claims(school.district_id, owner_id, sourced_id, now)
        for claim in claims:
            await self._unclaimed(claim.id, f"sourcedId {sourced_id!r} is already taken", "sourced_id")
        return claims

    async def _school_of(self, record: Location | Staff | Student) -> School:
        school = await self.repository.find(record.school_id, School)
        if school is None:
            raise NotFound(say("http.school_not_found", id=record.school_id))
        return school

    def _sourced(self, school: School, sourced_id: str | None) -> tuple[UUID, str] | None:
        return (
            None if sourced_id is None else (ids.sourced_id_index(school.district_id, sourced_id), sourced_id)
        )

    async def _move_sourced(
        self, school: School, owner: Staff | Student, sourced_id: str | None, now: datetime
    ) -> list[Aggregate]:
        """The owner's roster sourcedId index moves to `sourced_id` (None: the old one is let go)."""
        old, new = self._sourced(school, owner.sourced_id), self._sourced(school, sourced_id)
        return await self._swap(old, new, owner.id, now, "sourcedId")

    async def _revised_person(
        self,
        acting: Acting,
        cause: Cause | None,
        school: School,
        person: Staff | Student,
        command: ChangeStaff | ChangeStudent,
        claims: list[Aggregate],
        **fields: Any,
    ) -> list[Aggregate]:
        """The end of a person's change: their sourcedId index follows the command's, `fields`
        are recorded if any differs, and they are deactivated or reactivated as it says."""
        moved = await self._move_sourced(school, person, command.sourced_id, acting.now)
        stamp = provenance(acting, cause)
        kind = type(person)
        changed = revise(person, kind.Changed, **stamp, **fields, sourced_id=command.sourced_id)
        changed |= switch(
            person, command.active, deactivated=kind.Deactivated, reactivated=kind.Reactivated, **stamp
        )
        return [*([person] if changed else []), *claims, *moved]

    # -- schools -------------------------------------------------------------------------------

    @handler()
    async def add_school(self, acting: Acting, command: AddSchool) -> Decided:
        actor = acting.actor
        if not actor.has_role(Role.DISTRICT_ADMIN):
            raise Forbidden(say("admin.add_school"))
        home = await self.administered_school(actor, actor.school_id)
        check_timezone(command.timezone)
        school = School._create(
            School.Registered,
            id=uuid4(),
            timestamp=acting.now,
            district_id=home.district_id,
            name=command.name.strip(),
            timezone=command.timezone,
        )
        if command.dismissal_time is not None:
            school.set_dismissal_time(at=command.dismissal_time, now=acting.now)
        portal(acting, school, command)
        return created({"school": school_body(school)}, [school])

    @handler(keyed=False)
    async def change_school(self, acting: Acting, school_id: UUID, command: ChangeSchool) -> Decided:
        school = await self.administered_school(acting.actor, school_id)
        changed = self.revise_school(acting, school, command, ADMIN_CAUSE)
        return done({"school": school_body(school)}, changed)

    def revise_school(
        self, acting: Acting, school: School, command: SchoolFields, cause: Cause | None
    ) -> list[Aggregate]:
        check_timezone(command.timezone)
        zone_changed = school.timezone != command.timezone
        changed = revise(
            school,
            School.Changed,
            now=acting.now,
            by=acting.by,
            cause=cause,
            name=command.name.strip(),
            timezone=command.timezone,
        )
        at = command.dismissal_time or (school.dismissal_time if zone_changed else None)
        if at is not None and (zone_changed or at != school.dismissal_time):
            school.set_dismissal_time(at=at, now=acting.now)  # the next dismissal, in the new zone
            changed = True
        if portal(acting, school, command):
            changed = True
        return [school] if changed else []

    # -- locations -----------------------------------------------------------------------------

    @handler()
    async def add_location(self, acting: Acting, school_id: UUID, command: AddLocation) -> Decided:
        school = await self.administered_school(acting.actor, school_id)
        location = new_location(school.id, command, acting.now)
        return created({"location": location_body(location)}, [location])

    @handler(keyed=False)
    async def change_location(self, acting: Acting, location_id: UUID, command: ChangeLocation) -> Decided:
        location = await self.administered(acting.actor, location_id, Location, "location")
        changed = self.revise_location(acting, location, command, ADMIN_CAUSE)
        return done({"location": location_body(location)}, changed)

    def revise_location(
        self, acting: Acting, location: Location, command: ChangeLocation, cause: Cause | None
    ) -> list[Aggregate]:
        fields = msgspec.structs.asdict(command)
        archived = fields.pop("archived")
        fields["name"] = fields["name"].strip()
        fields["kind"] = command.kind.value
        stamp = provenance(acting, cause)
        changed = revise(location, Location.Changed, **stamp, **fields)
        changed |= switch(
            location, not archived, deactivated=Location.Archived, reactivated=Location.Restored, **stamp
        )
        return [location] if changed else []

    # -- staff ---------------------------------------------------------------------------------

    @handler()
    async def add_staff(self, acting: Acting, school_id: UUID, command: AddStaff) -> Decided:
        school = await self.administered_school(acting.actor, school_id)
        may_grant(acting.actor, (), command.roles)
        await self._room_of(school.id, command.room_id, "room_id")
        email = command.email.strip().lower()
        staff = Staff._create(
            Staff.Hired,
            id=ids.staff_email_index(email),
            timestamp=acting.now,
            school_id=school.id,
            name=command.name.strip(),
            email=email,
            roles=tuple(r.value for r in command.roles),
            room_id=command.room_id,
            sourced_id=command.sourced_id,
        )
        await self._unclaimed(staff.id, f"a member of staff with the email {email!r} already exists", "email")
        claims = await self._new_sourced(school, staff.id, command.sourced_id, acting.now)
        return created({"staff": staff_body(staff)}, [staff, *claims])

    @handler(keyed=False)
    async def _change_staff(self, acting: Acting, staff_id: UUID, command: ChangeStaff) -> Decided:
        staff = await self.administered(acting.actor, staff_id, Staff, "member of staff")
        may_grant(acting.actor, staff.roles, command.roles)
        if staff.id == acting.actor.id and not (command.active and ADMINISTRATORS & set(command.roles)):
            raise Conflict(say("admin.not_yourself"))
        changed = await self.revise_staff(acting, staff, command, ADMIN_CAUSE)
        return done({"staff": staff_body(staff)}, changed)

    async def change_staff(self, acting: Acting, staff_id: UUID, command: ChangeStaff) -> Outcome:
        """Change a member of staff. Deactivated: every session of theirs ends at once."""
        before = await self.administered(acting.actor, staff_id, Staff, "member of staff")
        outcome = await self._change_staff(acting, staff_id, command)
        if before.email != command.email.strip().lower():
            await self.credentials.rename_login(before.email, command.email)
        if not command.active:
            await self.credentials.sessions.revoke_principal(staff_id, now=acting.now)
        return outcome

    async def revise_staff(
        self, acting: Acting, staff: Staff, command: ChangeStaff, cause: Cause | None
    ) -> list[Aggregate]:
        """The change's events and index streams (email, sourcedId); sessions are the caller's."""
        school = await self._school_of(staff)
        await self._room_of(staff.school_id, command.room_id, "room_id")
        email = command.email.strip().lower()
        claims = await self._swap(
            (ids.staff_email_index(staff.email), staff.email),
            (ids.staff_email_index(email), email),
            staff.id,
            acting.now,
            "the email",
        )
        return await self._revised_person(
            acting,
            cause,
            school,
            staff,
            command,
            claims,
            name=command.name.strip(),
            email=email,
            roles=tuple(r.value for r in command.roles),
            room_id=command.room_id,
        )

    async def reset_staff_password(self, acting: Acting, staff_id: UUID) -> dict[str, Any]:
        """A one-time token for the member of staff to choose a password (shown once, to pass on)."""
        staff = await self.administered(acting.actor, staff_id, Staff, "member of staff")
        if not staff.active:
            raise Conflict(say("admin.staff_inactive", name=staff.name))
        token, expires_at = await self.credentials.issue_reset(
            login=staff.email, principal_id=staff.id, school_id=staff.school_id, now=acting.now
        )
        return {"staff_id": str(staff.id), "token": token, "expires_at": expires_at.isoformat()}

    # -- students ------------------------------------------------------------------------------

    @handler()
    async def add_student(self, acting: Acting, school_id: UUID, command: AddStudent) -> Decided:
        school = await self.administered_school(acting.actor, school_id)
        await self._room_of(school.id, command.homeroom_id, "homeroom_id")
        student = Student._create(
            Student.Registered,
            id=ids.student_id(school.id, command.hall_pass_id),
            timestamp=acting.now,
            school_id=school.id,
            first_name=command.first_name.strip(),
            last_name=command.last_name.strip(),
            grade=command.grade,
            homeroom_id=command.homeroom_id,
            hall_pass_id=command.hall_pass_id,
            external_id=external(command.external_id),
            sourced_id=command.sourced_id,
        )
        await self._unclaimed(
            student.id, f"hall pass ID {command.hall_pass_id} is already taken", "hall_pass_id"
        )
        claims = await self._new_sourced(school, student.id, command.sourced_id, acting.now)
        return created({"student": student_body(student)}, [student, *claims])

    async def change_student(self, acting: Acting, student_id: UUID, command: ChangeStudent) -> Outcome:
        """Change a student. Deactivated: their Student Portal sessions end at once."""
        outcome = await self._change_student(acting, student_id, command)
        if not command.active:
            await self.credentials.sessions.revoke_principal(student_id, now=acting.now)
        return outcome

    @handler(keyed=False)
    async def _change_student(self, acting: Acting, student_id: UUID, command: ChangeStudent) -> Decided:
        student = await self.administered(acting.actor, student_id, Student, "student")
        changed = await self.revise_student(acting, student, command, ADMIN_CAUSE)
        return done({"student": student_body(student)}, changed)

    async def revise_student(
        self, acting: Acting, student: Student, command: ChangeStudent, cause: Cause | None
    ) -> list[Aggregate]:
        """The change's events and index streams (hall pass ID, sourcedId)."""
        school = await self._school_of(student)
        await self._room_of(student.school_id, command.homeroom_id, "homeroom_id")
        number = command.hall_pass_id
        claims = await self._swap(
            (ids.student_id(school.id, student.hall_pass_id), str(student.hall_pass_id)),
            (ids.student_id(school.id, number), str(number)),
            student.id,
            acting.now,
            "hall pass ID",
        )
        return await self._revised_person(
            acting,
            cause,
            school,
            student,
            command,
            claims,
            first_name=command.first_name.strip(),
            last_name=command.last_name.strip(),
            grade=command.grade,
            homeroom_id=command.homeroom_id,
            hall_pass_id=number,
            external_id=external(command.external_id),
        )

    async def reset_student_password(self, acting: Acting, student_id: UUID) -> dict[str, Any]:
        """The student's portal password is dropped: their next sign-in is with their ID, and
        they choose a new password then. Their sessions end."""
        student = await self.administered(acting.actor, student_id, Student, "student")
        await self.credentials.forget(student_login(student.id), student.id, now=acting.now)
        return {"student_id": str(student.id), "sign_in_with": "hall pass ID"}
