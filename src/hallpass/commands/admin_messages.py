"""What administrators send and get back: the bodies of the administration commands (their
fields are the API's request bodies, bounded by `hallpass.bounds`) and the records' answers."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import msgspec

from hallpass.aggregates import students
from hallpass.aggregates.base import declared
from hallpass.aggregates.locations import Location, LocationKind
from hallpass.aggregates.schools import School
from hallpass.aggregates.staff import Role, Staff
from hallpass.bounds import (
    LINE_PATTERN,
    MAX_SECRET,
    Capacity,
    Email,
    ExternalId,
    Minutes,
    RecordName,
    TimeOfDay,
    TimeZone,
)
from hallpass.commands.messages import Command

Roles = Annotated[list[Role], msgspec.Meta(min_length=1, max_length=len(Role))]


class SchoolFields(Command, frozen=True):
    """A school's name and time zone; the dismissal time and the Student Portal's switches are
    left as they are when not given."""

    name: RecordName
    timezone: TimeZone
    dismissal_time: TimeOfDay | None = None
    portal_enabled: bool | None = None
    portal_needs_approval: bool | None = None


class AddSchool(SchoolFields, frozen=True):
    """A new school in the administrator's district (district administrators only)."""


class ChangeSchool(SchoolFields, frozen=True):
    """A school's name, time zone and dismissal time (none: leave the dismissal time as it is)."""


class LocationFields(Command, frozen=True):
    name: RecordName
    kind: LocationKind
    allotted_minutes: Minutes
    capacity: Capacity | None = None
    kiosk_allowed: bool = True
    portal_allowed: bool = True
    needs_approval: bool = False


class AddLocation(LocationFields, frozen=True):
    """A room or place of the school."""


class ChangeLocation(LocationFields, frozen=True):
    """Every field of a location as it is to be; `archived` takes it out of every pick list."""

    archived: bool = False


class StaffFields(Command, frozen=True):
    name: RecordName
    email: Email
    roles: Roles
    room_id: UUID | None = None
    sourced_id: ExternalId | None = None


class AddStaff(StaffFields, frozen=True):
    """A member of staff; they choose a password through a one-time link (`reset_staff_password`)."""


class ChangeStaff(StaffFields, frozen=True):
    """Every field of a member of staff as it is to be; `active` false ends their sessions at once."""

    active: bool = True


class StudentFields(students.StudentRecord, Command, frozen=True):
    """A student's fields as a request body: `StudentRecord`, decoded strictly."""


class AddStudent(StudentFields, frozen=True):
    """A student; their first portal sign-in is with their ID."""


class ChangeStudent(StudentFields, frozen=True):
    """Every field of a student as it is to be; `active` false: no new pass, no portal sign-in."""

    active: bool = True


def record_body(record: Any, *names: str) -> dict[str, Any]:
    """A record's id, the named fields and its version, as JSON values (ids as text, kinds and
    roles by their value, times in ISO 8601)."""
    values = {"id": record.id, **{name: getattr(record, name) for name in names}, "version": record.version}
    body: dict[str, Any] = msgspec.json.decode(msgspec.json.encode(values))
    return body


# A record's answer holds its school (or district) and every field a change of it sets.


def location_body(location: Location) -> dict[str, Any]:
    return record_body(location, "school_id", *ChangeLocation.__struct_fields__)


def staff_body(staff: Staff) -> dict[str, Any]:
    return record_body(staff, "school_id", *ChangeStaff.__struct_fields__)


def student_body(student: students.Student) -> dict[str, Any]:
    return record_body(student, "school_id", *declared(students.StudentFields), "active")


def school_body(school: School) -> dict[str, Any]:
    return record_body(school, "district_id", *ChangeSchool.__struct_fields__)


def external(value: str | None) -> str | None:
    """A school ID as kept: without the `#` it is typed with, and without outer spaces."""
    if value is None:
        return None
    kept = value.strip().lstrip("#").strip()
    return kept or None


class SetUp(Command, frozen=True):
    """The first run of an empty instance: the district, its first school and its first
    district administrator, who signs in with `email` and the `password` they choose."""

    district_name: RecordName
    school_name: RecordName
    timezone: TimeZone
    name: RecordName
    email: Email
    password: Annotated[str, msgspec.Meta(max_length=MAX_SECRET, pattern=LINE_PATTERN)]
