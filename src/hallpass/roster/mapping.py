"""The OneRoster CSV mapping, field by field: which column goes where in Hallpass.

Every file's columns are listed with whether the header must have them and every row must fill
them (`required`), and what Hallpass makes of them (`to`). Columns not listed (`ext_...`, and
the ones of files Hallpass does not read) are ignored. Status `tobedeleted` (and the older
`inactive`) deactivates a record: history stays. A blank status in a bulk file is `active`.

| OneRoster                       | Hallpass                                                     |
|---------------------------------|--------------------------------------------------------------|
| orgs.csv, type `school`         | a School of the district (matched by sourcedId)              |
| orgs.csv, other types           | a School only when users, classes or enrolments name it      |
|                                 | as theirs; a district/state/national org is the district     |
| users.csv, role student         | a Student                                                    |
| users.csv, teacher, aide...     | a member of Staff with the role `STAFF_ROLES` gives          |
| users.csv, parent, guardian...  | skipped: Hallpass keeps no accounts for families             |
| roles.csv (1.2)                 | the user's role (the primary one) and their schools          |
| courses.csv                     | the class's course title                                     |
| academicSessions.csv            | the class's terms (checked, and their dates kept)            |
| classes.csv                     | a Class of a school                                          |
| enrollments.csv                 | an Enrolment: a student or a teacher in a class              |
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from hallpass.aggregates.staff import Role, ordered_roles
from hallpass.bounds import hall_pass_id
from hallpass.roster import values
from hallpass.roster.table import Column, Row


class Status(StrEnum):
    ACTIVE = "active"
    TOBEDELETED = "tobedeleted"


class Mode(StrEnum):
    """How manifest.csv says a file is given."""

    BULK = "bulk"
    """The whole of that kind: a record the district holds and the file does not is left alone
    (Hallpass deactivates only what a file marks `tobedeleted`)."""
    DELTA = "delta"
    """Only the records that changed; status and dateLastModified are required."""
    ABSENT = "absent"


def status(raw: str) -> Status:
    value = raw.strip().lower()
    if value == "active":
        return Status.ACTIVE
    if value in {"tobedeleted", "inactive"}:
        return Status.TOBEDELETED
    raise ValueError(f"{raw.strip()!r} is not a status (active or tobedeleted)")


# -- who a user is in Hallpass ----------------------------------------------------------------

STUDENT = "student"
STAFF_ROLES: dict[str, Role] = {
    "teacher": Role.TEACHER,
    "aide": Role.TEACHER,
    "proctor": Role.TEACHER,
    "counselor": Role.OFFICE,
    "administrator": Role.ADMIN,
    "siteadministrator": Role.ADMIN,
    "principal": Role.ADMIN,
    "districtadministrator": Role.DISTRICT_ADMIN,
    "systemadministrator": Role.ADMIN,
}
NOT_KEPT = frozenset({"parent", "guardian", "relative"})
"""Roles OneRoster knows and Hallpass keeps no account for: such users are skipped."""

TEACHING_ROLES = frozenset({"teacher", "aide", "proctor", "administrator"})
"""Enrolment roles that make a member of staff a teacher of the class."""

SCHOOL_ORG_TYPES = frozenset({"school"})
DISTRICT_ORG_TYPES = frozenset({"district", "local", "state", "national"})
ORG_TYPES = SCHOOL_ORG_TYPES | DISTRICT_ORG_TYPES | {"department"}


def user_role(raw: str) -> str:
    value = raw.strip()
    if value.lower() == STUDENT or value.lower() in STAFF_ROLES or value.lower() in NOT_KEPT:
        return value.lower()
    raise ValueError(f"{value!r} is not a role Hallpass knows (student, teacher, administrator...)")


# -- the files ----------------------------------------------------------------------------

_COMMON = (
    Column("sourcedId", True, "matches the record on every later import"),
    Column("status", False, "tobedeleted deactivates"),
    Column("dateLastModified", False, "checked only", aliases=("dataLastModified",)),
)

MANIFEST = (
    Column("propertyName", True, "oneroster.version and file.<name> (bulk, delta or absent)"),
    Column("value", True, ""),
)
ORGS = (
    *_COMMON,
    Column("name", True, "School.name"),
    Column("type", True, "school: a School; district, local, state, national: the district"),
    Column("identifier", False, ""),
    Column("parentSourcedId", False, ""),
)
_USER_COMMON = (
    *_COMMON,
    Column("enabledUser", True, "false deactivates, as tobedeleted does"),
    Column("username", True, ""),
    Column("userIds", False, ""),
    Column("givenName", True, "Student.first_name; Staff.name, first part"),
    Column("familyName", True, "Student.last_name; Staff.name, last part"),
    Column("middleName", False, ""),
    Column("identifier", False, "Student.external_id: the school ID typed as #123456 at a kiosk"),
    Column("email", False, "Staff.email, their sign-in (required for staff)"),
    Column("sms", False, ""),
    Column("phone", False, ""),
    Column("agentSourcedIds", False, ""),
    Column("grades", False, "Student.grade (the first; required for students)"),
    Column("password", False, "never read"),
    Column(
        "metadata.hallpass.hallPassId",
        False,
        "Student.hall_pass_id when first imported (else the next free number of the school)",
        aliases=("ext_hallpass_id",),
    ),
    Column(
        "metadata.hallpass.room", False, "Staff.room_id: a location's name", aliases=("ext_hallpass_room",)
    ),
    Column(
        "metadata.hallpass.roles",
        False,
        "Staff.roles, Hallpass's own (compliance, analyst...), in place of those the role gives",
        aliases=("ext_hallpass_roles",),
    ),
)
USERS_V1P1 = (
    *_USER_COMMON,
    Column("orgSourcedIds", True, "the user's school (the first that is a school)"),
    Column("role", True, "student: a Student; teacher, administrator...: Staff (see STAFF_ROLES)"),
)
USERS_V1P2 = (
    *_USER_COMMON,
    Column("primaryOrgSourcedId", False, "the user's school, before those roles.csv names"),
    Column(
        "preferredGivenName", False, "replaces givenName as the name shown", aliases=("prefferedGivenName",)
    ),
    Column("preferredFamilyName", False, "replaces familyName", aliases=("prefferedFamilyName",)),
)
ROLES = (
    *_COMMON,
    Column("userSourcedId", True, "the user this role belongs to"),
    Column("roleType", True, "primary gives the user's role; secondary ones only their schools"),
    Column("role", True, "as users.csv role in 1.1"),
    Column("orgSourcedId", True, "one of the user's schools"),
    Column("beginDate", False, "checked only"),
    Column("endDate", False, "checked only"),
)
COURSES = (
    *_COMMON,
    Column("title", True, "Class.course_title"),
    Column("courseCode", False, ""),
    Column("orgSourcedId", True, "checked against orgs"),
    Column("schoolYearSourcedId", False, ""),
)
ACADEMIC_SESSIONS = (
    *_COMMON,
    Column("title", True, "the term's title"),
    Column("type", True, ""),
    Column("startDate", True, "the term's first day"),
    Column("endDate", True, "the term's last day"),
    Column("parentSourcedId", False, ""),
    Column("schoolYear", False, ""),
)
CLASSES = (
    *_COMMON,
    Column("title", True, "Class.title"),
    Column("courseSourcedId", True, "Class.course_title (from courses.csv when present)"),
    Column("classCode", False, "Class.code"),
    Column("classType", True, "homeroom: the class's room is its students' homeroom"),
    Column("location", False, "Class.room: the school's location of that name, if any"),
    Column("schoolSourcedId", True, "Class.school_id"),
    Column("termSourcedIds", True, "Class.terms"),
    Column("periods", False, "Class.periods"),
    Column("grades", False, ""),
    Column("subjects", False, ""),
)
ENROLLMENTS = (
    *_COMMON,
    Column("classSourcedId", True, "Enrolment.class_id"),
    Column("schoolSourcedId", True, "checked: the class's school"),
    Column("userSourcedId", True, "Enrolment.person_id: a Student or Staff"),
    Column("role", True, "student: a student of the class; teacher, aide...: a teacher of it"),
    Column("primary", False, "Enrolment.primary (a teacher's own class)"),
    Column("beginDate", False, "Enrolment.begins"),
    Column("endDate", False, "Enrolment.ends"),
)

FILES: dict[str, tuple[Column, ...]] = {
    "orgs.csv": ORGS,
    "users.csv": USERS_V1P1,
    "roles.csv": ROLES,
    "courses.csv": COURSES,
    "academicsessions.csv": ACADEMIC_SESSIONS,
    "classes.csv": CLASSES,
    "enrollments.csv": ENROLLMENTS,
}
"""The files Hallpass reads (1.1 column sets; `columns_for` gives 1.2's users.csv)."""


def columns_for(file: str, version: str) -> tuple[Column, ...]:
    if file == "users.csv" and version != "1.1":
        return USERS_V1P2
    return FILES[file]


# -- the records ------------------------------------------------------------------------


@dataclass(frozen=True)
class Record:
    sourced_id: str
    status: Status
    file: str
    line: int


@dataclass(frozen=True)
class OrgRecord(Record):
    name: str
    type: str


@dataclass(frozen=True)
class UserRecord(Record):
    given_name: str
    family_name: str
    identifier: str | None
    email: str | None
    grades: tuple[int, ...]
    orgs: tuple[str, ...]
    role: str | None
    """A `user_role` value; in 1.2 it comes from roles.csv (None until then)."""
    roles: tuple[str, ...]
    """Every role the user holds, `role` first (1.2: every active role in roles.csv)."""
    hall_pass_id: int | None
    room: str | None
    hallpass_roles: tuple[Role, ...]


@dataclass(frozen=True)
class RoleRecord(Record):
    user: str
    primary: bool
    role: str
    org: str


@dataclass(frozen=True)
class CourseRecord(Record):
    title: str
    org: str


@dataclass(frozen=True)
class SessionRecord(Record):
    title: str
    starts: date
    ends: date


@dataclass(frozen=True)
class ClassRecord(Record):
    title: str
    code: str | None
    homeroom: bool
    room: str | None
    school: str
    course: str
    terms: tuple[str, ...]
    periods: tuple[str, ...]


@dataclass(frozen=True)
class EnrollmentRecord(Record):
    class_: str
    school: str
    user: str
    role: str
    primary: bool
    begins: date | None
    ends: date | None


def _common(row: Row, delta: bool) -> tuple[str, Status]:
    sourced_id = row.need("sourcedId", lambda v: values.text(v, max_length=255), "")
    if delta:
        state = row.need("status", status, Status.ACTIVE)
        row.need("dateLastModified", values.instant, datetime.min)
    else:
        state = row.optional("status", status) or Status.ACTIVE
        row.optional("dateLastModified", values.instant)
    return sourced_id, state


def org(row: Row, delta: bool) -> OrgRecord | None:
    sourced_id, state = _common(row, delta)
    name = row.need("name", values.text, "")
    kind = row.need("type", _org_type, "")
    return None if row.failed else OrgRecord(sourced_id, state, row.file, row.line, name, kind)


def _org_type(raw: str) -> str:
    value = raw.strip().lower()
    if value not in ORG_TYPES:
        raise ValueError(f"{raw.strip()!r} is not an org type ({', '.join(sorted(ORG_TYPES))})")
    return value


def user(row: Row, delta: bool, version: str) -> UserRecord | None:
    sourced_id, state = _common(row, delta)
    enabled = row.need("enabledUser", values.flag, True)
    row.need("username", values.text, "")
    given = row.optional("preferredGivenName", values.text) or row.need("givenName", values.text, "")
    family = row.optional("preferredFamilyName", values.text) or row.need("familyName", values.text, "")
    identifier = row.optional("identifier", values.text)
    email = row.optional("email", lambda v: values.text(v, max_length=254).lower())
    grades = tuple(
        values.grade(g) for g in (row.optional("grades", values.id_list) or ()) if _grade_ok(row, g)
    )
    if version == "1.1":
        orgs: tuple[str, ...] = row.need("orgSourcedIds", values.id_list, ())
        role: str | None = row.need("role", user_role, "")
    else:
        primary = row.optional("primaryOrgSourcedId", values.text)
        orgs = (primary,) if primary else ()
        role = None
    if role is not None and role != STUDENT and role in STAFF_ROLES and not email:
        row.fail("email", "staff need an email address to sign in")
    if role == STUDENT and not grades:
        row.fail("grades", "a student needs a grade")
    number = row.optional("metadata.hallpass.hallPassId", _hall_pass_id)
    room = row.optional("metadata.hallpass.room", values.text)
    own_roles = row.optional("metadata.hallpass.roles", _hallpass_roles) or ()
    if row.failed:
        return None
    if not enabled:
        state = Status.TOBEDELETED
    return UserRecord(
        sourced_id,
        state,
        row.file,
        row.line,
        given,
        family,
        identifier,
        email,
        grades,
        orgs,
        role,
        (role,) if role else (),
        number,
        room,
        own_roles,
    )


def _hall_pass_id(raw: str) -> int:
    number = hall_pass_id(raw)
    if number is None:
        raise ValueError(f"{raw.strip()!r} is not a hall pass ID (a positive number)")
    return number


def _hallpass_roles(raw: str) -> tuple[Role, ...]:
    try:
        return ordered_roles(values.id_list(raw))
    except ValueError as e:
        raise ValueError(f"{raw.strip()!r} names a role Hallpass does not have ({', '.join(Role)})") from e


def _grade_ok(row: Row, raw: str) -> bool:
    try:
        values.grade(raw)
    except ValueError as e:
        row.fail("grades", str(e))
        return False
    return True


def role(row: Row, delta: bool) -> RoleRecord | None:
    sourced_id, state = _common(row, delta)
    user_id = row.need("userSourcedId", values.text, "")
    kind = row.need("roleType", _role_type, "")
    value = row.need("role", user_role, "")
    org_id = row.need("orgSourcedId", values.text, "")
    row.optional("beginDate", values.day)
    row.optional("endDate", values.day)
    if row.failed:
        return None
    return RoleRecord(sourced_id, state, row.file, row.line, user_id, kind == "primary", value, org_id)


def _role_type(raw: str) -> str:
    value = raw.strip().lower()
    if value not in {"primary", "secondary"}:
        raise ValueError(f"{raw.strip()!r} is neither primary nor secondary")
    return value


def course(row: Row, delta: bool) -> CourseRecord | None:
    sourced_id, state = _common(row, delta)
    title = row.need("title", values.text, "")
    org_id = row.need("orgSourcedId", values.text, "")
    return None if row.failed else CourseRecord(sourced_id, state, row.file, row.line, title, org_id)


def session(row: Row, delta: bool) -> SessionRecord | None:
    sourced_id, state = _common(row, delta)
    title = row.need("title", values.text, "")
    row.need("type", values.text, "")
    starts = row.need("startDate", values.day, date.min)
    ends = row.need("endDate", values.day, date.min)
    if not row.failed and ends < starts:
        row.fail("endDate", f"ends ({ends}) before it starts ({starts})")
    return None if row.failed else SessionRecord(sourced_id, state, row.file, row.line, title, starts, ends)


def class_(row: Row, delta: bool) -> ClassRecord | None:
    sourced_id, state = _common(row, delta)
    title = row.need("title", values.text, "")
    course_id = row.need("courseSourcedId", values.text, "")
    code = row.optional("classCode", values.text)
    kind = row.need("classType", _class_type, "")
    room = row.optional("location", values.text)
    school = row.need("schoolSourcedId", values.text, "")
    terms: tuple[str, ...] = row.need("termSourcedIds", values.id_list, ())
    periods = row.optional("periods", values.id_list) or ()
    if row.failed:
        return None
    return ClassRecord(
        sourced_id,
        state,
        row.file,
        row.line,
        title,
        code,
        kind == "homeroom",
        room,
        school,
        course_id,
        terms,
        periods,
    )


def _class_type(raw: str) -> str:
    value = raw.strip().lower()
    if value not in {"homeroom", "scheduled"}:
        raise ValueError(f"{raw.strip()!r} is neither homeroom nor scheduled")
    return value


def enrollment(row: Row, delta: bool) -> EnrollmentRecord | None:
    sourced_id, state = _common(row, delta)
    class_id = row.need("classSourcedId", values.text, "")
    school = row.need("schoolSourcedId", values.text, "")
    user_id = row.need("userSourcedId", values.text, "")
    kind = row.need("role", _enrolment_role, "")
    primary = row.optional("primary", values.flag) or False
    begins = row.optional("beginDate", values.day)
    ends = row.optional("endDate", values.day)
    if row.failed:
        return None
    return EnrollmentRecord(
        sourced_id, state, row.file, row.line, class_id, school, user_id, kind, primary, begins, ends
    )


def _enrolment_role(raw: str) -> str:
    value = raw.strip().lower()
    if value != STUDENT and value not in TEACHING_ROLES:
        raise ValueError(f"{raw.strip()!r} is not an enrolment role (student, teacher, aide...)")
    return value
