"""Commands that set up a school in bulk: the district, the school, its locations, staff and students.

The demo and the tests use them; one record at a time, with who acted and why, is
`commands/administration.py`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID, uuid4

import msgspec
from eventsourcing.domain import Aggregate

from hallpass.aggregates import ids
from hallpass.aggregates.administration import Claim
from hallpass.aggregates.districts import District
from hallpass.aggregates.locations import Location
from hallpass.aggregates.schools import School, check_timezone
from hallpass.aggregates.staff import Role, Staff
from hallpass.aggregates.students import Student
from hallpass.commands.admin_messages import AddLocation, AddStudent, LocationFields
from hallpass.commands.base import CommandBase
from hallpass.commands.repository import ConcurrentChange
from hallpass.errors import Conflict, Invalid, NotFound
from hallpass.messages import say

NewLocation = AddLocation
"""A location to add in bulk: what an administrator adds one at a time."""


@dataclass(frozen=True)
class NewStaff:
    name: str
    email: str
    roles: tuple[Role, ...]
    room_id: UUID | None
    sourced_id: str | None = None


NewStudent = AddStudent
"""A student to register in bulk: what an administrator's Add Student sends."""


def new_location(school_id: UUID, new: LocationFields, now: datetime) -> Location:
    """A location added to the school, as set up in bulk or by an administrator."""
    return Location._create(
        Location.Added,
        id=uuid4(),
        timestamp=now,
        school_id=school_id,
        name=new.name.strip(),
        kind=new.kind.value,
        allotted_minutes=new.allotted_minutes,
        capacity=new.capacity,
        kiosk_allowed=new.kiosk_allowed,
        portal_allowed=new.portal_allowed,
        needs_approval=new.needs_approval,
    )


def sourced_claims(district_id: UUID, owner_id: UUID, sourced_id: str | None, now: datetime) -> list[Claim]:
    """The index stream that keeps a roster `sourcedId` with one person in the district."""
    if sourced_id is None:
        return []
    claim_id = ids.sourced_id_index(district_id, sourced_id)
    return [Claim._create(Claim.Made, id=claim_id, timestamp=now, key=sourced_id, owner_id=owner_id)]


class DirectoryCommands(CommandBase):
    """Setting up a school: the school, its locations, staff and students."""

    async def found_district(self, *, name: str, now: datetime, district_id: UUID | None = None) -> District:
        if not name.strip():
            raise Invalid(say("admin.district_name"), field="name")
        district = District._create(
            District.Founded, id=district_id or uuid4(), timestamp=now, name=name.strip()
        )
        await self._save_new(district, what="that district")
        return district

    async def register_school(
        self,
        *,
        name: str,
        timezone: str,
        district_id: UUID,
        now: datetime,
        school_id: UUID | None = None,
    ) -> School:
        check_timezone(timezone)
        if await self.repository.find(district_id, District) is None:
            raise NotFound(say("admin.district_not_found", id=district_id), field="district_id")
        school = School._create(
            School.Registered,
            id=school_id or uuid4(),
            timestamp=now,
            district_id=district_id,
            name=name,
            timezone=timezone,
        )
        await self._save_new(school)
        return school

    async def add_locations(
        self, school_id: UUID, locations: Sequence[NewLocation], *, now: datetime
    ) -> list[Location]:
        added = []
        for new in locations:
            if not new.name.strip():
                raise Invalid(say("admin.location_name"), field="name")
            if not 1 <= new.allotted_minutes <= 999:
                raise Invalid(say("pass.minutes_range"), field="allotted_minutes")
            if new.capacity is not None and new.capacity < 1:
                raise Invalid(say("admin.capacity"), field="capacity")
            added.append(new_location(school_id, new, now))
        await self._save_new(*added)
        return added

    async def hire_staff(self, school_id: UUID, people: Sequence[NewStaff], *, now: datetime) -> list[Staff]:
        district_id = await self._district_of(school_id)
        hired: list[Staff] = []
        claims: list[Aggregate] = []
        for new in people:
            email = new.email.strip().lower()
            if "@" not in email:
                raise Invalid(say("admin.email", value=new.email), field="email")
            if not new.roles:
                raise Invalid(say("admin.roles"), field="roles")
            staff = Staff._create(
                Staff.Hired,
                id=ids.staff_email_index(email),
                timestamp=now,
                school_id=school_id,
                name=new.name,
                email=email,
                roles=tuple(r.value for r in new.roles),
                room_id=new.room_id,
                sourced_id=new.sourced_id,
            )
            hired.append(staff)
            claims += sourced_claims(district_id, staff.id, new.sourced_id, now)
        await self._save_new(*hired, *claims, what="a member of staff with that email or sourcedId")
        return hired

    async def register_students(
        self, school_id: UUID, students: Sequence[NewStudent], *, now: datetime
    ) -> list[Student]:
        district_id = await self._district_of(school_id)
        registered: list[Student] = []
        claims: list[Aggregate] = []
        for new in students:
            if new.hall_pass_id < 1:
                raise Invalid(say("admin.hall_pass_id"), field="hall_pass_id")
            registered.append(
                Student._create(
                    Student.Registered,
                    id=ids.student_id(school_id, new.hall_pass_id),
                    timestamp=now,
                    school_id=school_id,
                    **msgspec.structs.asdict(new),
                )
            )
            claims += sourced_claims(district_id, registered[-1].id, new.sourced_id, now)
        await self._save_new(*registered, *claims, what="a student with that hall pass ID or sourcedId")
        return registered

    async def _district_of(self, school_id: UUID) -> UUID:
        school = await self.repository.find(school_id, School)
        if school is None:
            raise NotFound(say("http.school_not_found", id=school_id), field="school_id")
        return school.district_id

    async def _save_new(self, *aggregates: Aggregate, what: str = "that record") -> None:
        if len({a.id for a in aggregates}) != len(aggregates):
            raise Conflict(say("admin.listed_twice", what=what))
        for start in range(0, len(aggregates), 500):
            try:
                await self.repository.save(*aggregates[start : start + 500])
            except ConcurrentChange as e:
                raise Conflict(say("admin.exists", what=what)) from e
