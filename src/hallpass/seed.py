"""A realistic demo school for a fresh installation, made as any school is: set up, then its roster."""

from __future__ import annotations

import random
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID, uuid5

from hallpass.acting import Acting, Actor
from hallpass.aggregates import ids
from hallpass.aggregates.locations import LocationKind
from hallpass.aggregates.staff import Role, ordered_roles
from hallpass.bootstrap import Runtime
from hallpass.commands.directory import NewLocation, NewStaff, NewStudent
from hallpass.commands.portal import ChangePortalSettings
from hallpass.credentials import hash_password
from hallpass.demo_names import FIRST_NAMES, LAST_NAMES
from hallpass.roster.outcome import Change, Kind
from hallpass.roster.source import RosterFiles
from hallpass.roster.writer import RosterWriter
from hallpass.rows import from_row

DEMO_NAMESPACE = UUID("0d7f3c52-6a8e-4f0b-b3a1-5c2e9d4b7a61")
SCHOOL_NAME = "Lincoln Middle School"
DISTRICT_NAME = "Springfield Public Schools"
TIMEZONE = "America/New_York"
EMAIL_DOMAIN = "lincoln.example.org"
DEMO_PASSWORD = "hallpass-demo"
DISTRICT_ID = uuid5(DEMO_NAMESPACE, f"district:{DISTRICT_NAME}")
SCHOOL_ID = uuid5(DEMO_NAMESPACE, f"school:{SCHOOL_NAME}")
ORG_ID = "lms-org"
"""The school's org `sourcedId` in the demo roster."""
RANDOM_SEED = 2026

CLASSROOM_FLOORS = {6: range(101, 111), 7: range(201, 213), 8: range(301, 311)}
STUDENTS_PER_GRADE = 400
FIRST_HALL_PASS_ID = 100001
CO_TEACHERS = 12
FEATURED_TEACHERS = (("José", "Álvarez"), ("Zoë", "Brontë"))

PLACES = (
    NewLocation("Restroom - Boys A", LocationKind.RESTROOM, 5, capacity=3),
    NewLocation("Restroom - Boys B", LocationKind.RESTROOM, 7, capacity=2),
    NewLocation("Restroom - Girls A", LocationKind.RESTROOM, 5, capacity=3),
    NewLocation("Restroom - Girls B", LocationKind.RESTROOM, 7, capacity=2),
    NewLocation("Restroom - All Gender", LocationKind.RESTROOM, 6, capacity=1),
    NewLocation("Nurse", LocationKind.NURSE, 15, capacity=4),
    NewLocation("Main Office", LocationKind.OFFICE, 10),
    NewLocation("Front Desk", LocationKind.OFFICE, 10),
    NewLocation("Attendance Office", LocationKind.OFFICE, 10),
    NewLocation("Library", LocationKind.LIBRARY, 20, capacity=10),
    NewLocation("Counselor", LocationKind.COUNSELOR, 20, capacity=2),
    NewLocation("Gym", LocationKind.OTHER, 10),
    NewLocation("Cafeteria", LocationKind.OTHER, 10),
    NewLocation("Water Fountain", LocationKind.OTHER, 3),
    NewLocation("Locker", LocationKind.OTHER, 3),
)

SUPPORT_STAFF: tuple[tuple[Role, str, int], ...] = (
    (Role.TEACHER, "Gym", 3),
    (Role.TEACHER, "Library", 2),
    (Role.OFFICE, "Main Office", 2),
    (Role.OFFICE, "Front Desk", 2),
    (Role.OFFICE, "Attendance Office", 1),
    (Role.OFFICE, "Counselor", 2),
    (Role.OFFICE, "Nurse", 1),
    (Role.OFFICE, "Cafeteria", 2),
    (Role.ADMIN, "Main Office", 2),
    (Role.COMPLIANCE, "Main Office", 1),
    (Role.ANALYST, "Main Office", 1),
)

_FOLD_EXTRA = str.maketrans({"ø": "o", "æ": "ae", "ß": "ss", "ł": "l", "đ": "d", "\u0131": "i"})


@dataclass(frozen=True)
class DemoStudent:
    name: str
    grade: int
    hall_pass_id: int
    external_id: str | None


@dataclass(frozen=True)
class DemoAdmin:
    """The demo's school and district administrator, whom the README and the first run name."""

    name: str
    email: str


@dataclass(frozen=True)
class DemoSchool:
    school_id: UUID
    name: str
    locations: int
    staff: int
    students: int
    teacher_email: str
    admin: DemoAdmin
    sample_student: DemoStudent


def ascii_fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold().translate(_FOLD_EXTRA))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def email_for(first: str, last: str, taken: set[str]) -> str:
    """``first.last@domain`` in plain ASCII, numbered when the address is already taken."""
    local = ".".join(re.sub(r"[^a-z0-9]", "", ascii_fold(part)) for part in (first, last))
    email, n = f"{local}@{EMAIL_DOMAIN}", 1
    while email in taken:
        n += 1
        email = f"{local}{n}@{EMAIL_DOMAIN}"
    taken.add(email)
    return email


DEMO_TEACHER_EMAIL = email_for(*FEATURED_TEACHERS[0], set())
DEMO_TEACHER_NAME = " ".join(FEATURED_TEACHERS[0])


def classroom_names() -> list[str]:
    return [f"Room {n}" for rooms in CLASSROOM_FLOORS.values() for n in rooms]


def staff_names(rng: random.Random, count: int) -> list[tuple[str, str]]:
    names = list(FEATURED_TEACHERS)
    seen = set(names)
    while len(names) < count:
        name = (rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES))
        if name not in seen:
            seen.add(name)
            names.append(name)
    return names


def staff_posts(rng: random.Random) -> list[tuple[Role, str]]:
    """Each member of staff's role and default room, lead classroom teachers first."""
    classrooms = classroom_names()
    posts = [(Role.TEACHER, room) for room in classrooms]
    posts += [(Role.TEACHER, room) for room in rng.sample(classrooms[2:], CO_TEACHERS)]
    posts += [(role, room) for role, room, count in SUPPORT_STAFF for _ in range(count)]
    return posts


def demo_staff(rng: random.Random) -> list[tuple[NewStaff, str]]:
    """Each member of staff with their default room's name."""
    posts = staff_posts(rng)
    taken: set[str] = set()
    names = staff_names(rng, len(posts))
    return [
        (NewStaff(f"{first} {last}", email_for(first, last, taken), demo_roles(role, n, posts), None), room)
        for n, ((role, room), (first, last)) in enumerate(zip(posts, names, strict=True))
    ]


def demo_roles(role: Role, n: int, posts: Sequence[tuple[Role, str]]) -> tuple[Role, ...]:
    """The first school administrator also administers the district, so the demo can add
    schools and import rosters."""
    first_admin = next(i for i, (r, _) in enumerate(posts) if r is Role.ADMIN)
    return ordered_roles((role, Role.DISTRICT_ADMIN)) if n == first_admin else (role,)


def demo_students(rng: random.Random) -> list[tuple[NewStudent, str]]:
    """Each student with their homeroom's name."""
    total = STUDENTS_PER_GRADE * len(CLASSROOM_FLOORS)
    external_ids = rng.sample(range(100000), total)
    grades = [grade for grade in CLASSROOM_FLOORS for _ in range(STUDENTS_PER_GRADE)]
    rng.shuffle(grades)
    return [
        (
            NewStudent(
                first_name=rng.choice(FIRST_NAMES),
                last_name=rng.choice(LAST_NAMES),
                grade=grade,
                homeroom_id=None,
                hall_pass_id=FIRST_HALL_PASS_ID + i,
                external_id=f"2{external_ids[i]:05d}",
            ),
            f"Room {rng.choice(CLASSROOM_FLOORS[grade])}",
        )
        for i, grade in enumerate(grades)
    ]


ONEROSTER_ROLES = {Role.TEACHER: "teacher", Role.ADMIN: "administrator", Role.DISTRICT_ADMIN: "administrator"}
"""The OneRoster role each demo post is exported with (others are aides, with Hallpass's role
in the `metadata.hallpass.roles` extension column)."""


def demo_roster(
    staff: Sequence[tuple[NewStaff, str]], students: Sequence[tuple[NewStudent, str]]
) -> RosterFiles:
    """The demo school as its student information system would export it: OneRoster 1.1, one
    homeroom class per classroom, taught by its lead teacher (and a co-teacher in some)."""
    roster = RosterWriter(modified="2026-08-15T08:00:00Z")
    roster.orgs.append({"sourcedId": ORG_ID, "name": SCHOOL_NAME, "type": "school", "identifier": "LMS"})
    roster.sessions.append(
        {
            "sourcedId": "lms-2026",
            "title": "2026-27",
            "type": "schoolYear",
            "startDate": "2026-08-24",
            "endDate": "2027-06-18",
        }
    )
    for room in classroom_names():
        roster.classes.append(
            {
                "sourcedId": homeroom_class(room),
                "title": f"Homeroom {room.removeprefix('Room ')}",
                "courseSourcedId": "lms-homeroom",
                "classType": "homeroom",
                "location": room,
                "schoolSourcedId": ORG_ID,
                "termSourcedIds": "lms-2026",
            }
        )
    leads: set[str] = set()
    for n, (person, room) in enumerate(staff):
        sourced_id = f"lms-staff-{n + 1:03d}"
        first, _, last = person.name.partition(" ")
        role = person.roles[0]
        roster.users.append(
            {
                "sourcedId": sourced_id,
                "enabledUser": "true",
                "orgSourcedIds": ORG_ID,
                "role": ONEROSTER_ROLES.get(role, "aide"),
                "username": person.email.partition("@")[0],
                "givenName": first,
                "familyName": last,
                "email": person.email,
                "metadata.hallpass.roles": ",".join(r.value for r in person.roles),
                "metadata.hallpass.room": "" if room in classroom_names() else room,
            }
        )
        if role is Role.TEACHER and room in classroom_names():
            roster.enrollments.append(
                {
                    "sourcedId": f"{sourced_id}-{homeroom_class(room)}",
                    "classSourcedId": homeroom_class(room),
                    "schoolSourcedId": ORG_ID,
                    "userSourcedId": sourced_id,
                    "role": "teacher",
                    "primary": "false" if room in leads else "true",
                }
            )
            leads.add(room)
    for student, room in students:
        sourced_id = f"lms-{student.hall_pass_id}"
        roster.users.append(
            {
                "sourcedId": sourced_id,
                "enabledUser": "true",
                "orgSourcedIds": ORG_ID,
                "role": "student",
                "username": f"s{student.hall_pass_id}",
                "givenName": student.first_name,
                "familyName": student.last_name,
                "identifier": student.external_id or "",
                "grades": f"{student.grade:02d}",
                "metadata.hallpass.hallPassId": str(student.hall_pass_id),
            }
        )
        roster.enrollments.append(
            {
                "sourcedId": f"{sourced_id}-{homeroom_class(room)}",
                "classSourcedId": homeroom_class(room),
                "schoolSourcedId": ORG_ID,
                "userSourcedId": sourced_id,
                "role": "student",
            }
        )
    return roster.files("demo roster")


def homeroom_class(room: str) -> str:
    return f"lms-hr-{room.removeprefix('Room ')}"


async def set_demo_passwords(runtime: Runtime, school_id: UUID, emails: Iterable[str], now: datetime) -> None:
    password_hash = await hash_password(DEMO_PASSWORD)
    for email in emails:
        await runtime.credentials.set_password_hash(
            login=email,
            principal_kind="staff",
            principal_id=ids.staff_email_index(email),
            school_id=school_id,
            password_hash=password_hash,
            now=now,
        )


async def seed_demo_school(runtime: Runtime, *, now: datetime) -> DemoSchool | None:
    """Create the demo school in an empty event store; do nothing if anything is recorded.

    As a real school starts: the district and the school are set up, the places that are not
    classrooms added by hand, and then the roster is imported (`demo_roster`), which adds the
    classrooms, staff, students, homeroom classes and enrolments."""
    if await runtime.store.max_notification_id() is not None:
        return None
    rng = random.Random(RANDOM_SEED)
    app = runtime.app
    await app.found_district(name=DISTRICT_NAME, now=now, district_id=DISTRICT_ID)
    school = await app.register_school(
        name=SCHOOL_NAME, timezone=TIMEZONE, district_id=DISTRICT_ID, now=now, school_id=SCHOOL_ID
    )
    places = await app.add_locations(school.id, list(PLACES), now=now)
    for runner in runtime.runners:  # the import finds the school and its places by name
        await runner.catch_up()
    staff, students = demo_staff(rng), demo_students(rng)
    outcome = await app.import_roster(
        demo_roster(staff, students),
        district_id=DISTRICT_ID,
        now=now,
        by={"actor_kind": "system", "actor_id": None},
        timezone=TIMEZONE,
    )
    if not (outcome.applied and outcome.report.ok):
        raise RuntimeError(f"the demo roster did not import: {[str(p) for p in outcome.report.errors[:5]]}")
    await set_demo_passwords(runtime, school.id, (person.email for person, _ in staff), now)
    admin = next(person for person, _ in staff if Role.DISTRICT_ADMIN in person.roles)
    await turn_the_portal_on(runtime, school.id, admin.email, now)
    first, _ = students[0]
    return DemoSchool(
        school_id=school.id,
        name=school.name,
        locations=len(places) + outcome.counts[Kind.ROOMS][Change.ADDED],
        staff=outcome.counts[Kind.STAFF][Change.ADDED],
        students=outcome.counts[Kind.STUDENTS][Change.ADDED],
        teacher_email=DEMO_TEACHER_EMAIL,
        admin=DemoAdmin(admin.name, admin.email),
        sample_student=DemoStudent(
            f"{first.first_name} {first.last_name}", first.grade, first.hall_pass_id, first.external_id
        ),
    )


async def turn_the_portal_on(runtime: Runtime, school_id: UUID, admin_email: str, now: datetime) -> None:
    """The demo's administrator turns the Student Portal on (no approval), as a school would on
    its first day, so the portal address the first run prints opens a sign-in page."""
    for runner in runtime.runners:  # the administrator is read from the directory
        await runner.catch_up()
    row = await runtime.pool.fetchrow(
        "SELECT staff_id, name, role, roles FROM dir_staff WHERE school_id = $1 AND email = $2",
        school_id,
        admin_email,
    )
    if row is None:
        raise RuntimeError(f"the demo administrator {admin_email} is not in the directory")
    actor = Actor("staff", row["staff_id"], school_id, row["role"], row["name"], tuple(row["roles"]))
    outcome = await runtime.app.change_portal_settings(Acting(actor, now), ChangePortalSettings(enabled=True))
    if outcome.refusal is not None:
        raise RuntimeError(f"the demo could not turn the Student Portal on: {outcome.refusal.message}")


_DESCRIBE_SQL = """
SELECT s.name,
    (SELECT count(*) FROM dir_locations WHERE school_id = s.school_id) AS locations,
    (SELECT count(*) FROM dir_staff WHERE school_id = s.school_id) AS staff,
    (SELECT count(*) FROM dir_students WHERE school_id = s.school_id) AS students,
    st.first_name, st.last_name, st.grade, st.hall_pass_id, st.external_id,
    a.name AS admin_name, a.email AS admin_email
FROM dir_schools s
JOIN LATERAL (
    SELECT * FROM dir_students WHERE school_id = s.school_id ORDER BY hall_pass_id LIMIT 1
) st ON true
JOIN LATERAL (
    SELECT name, email FROM dir_staff
    WHERE school_id = s.school_id AND 'district_admin' = ANY(roles) AND active ORDER BY email LIMIT 1
) a ON true
WHERE s.school_id = $1
"""


async def describe_demo_school(runtime: Runtime) -> DemoSchool | None:
    """The demo school as the read models show it, if it exists and has been projected."""
    row = await runtime.pool.fetchrow(_DESCRIBE_SQL, SCHOOL_ID)
    if row is None:
        return None
    return from_row(
        DemoSchool,
        row,
        school_id=SCHOOL_ID,
        teacher_email=DEMO_TEACHER_EMAIL,
        admin=DemoAdmin(row["admin_name"], row["admin_email"]),
        sample_student=DemoStudent(
            f"{row['first_name']} {row['last_name']}",
            row["grade"],
            row["hall_pass_id"],
            row["external_id"],
        ),
    )


def welcome(demo: DemoSchool | None, url: str) -> str:
    """Whom to sign in as at `url`, and where the Student Portal and the kiosks are: what the
    first run prints once the server answers, and `hallpass seed` after seeding."""
    if demo is None:
        return (
            f"Sign in with your staff email and password; a new, empty database is set up at {url}/setup.\n"
        )
    student = demo.sample_student
    return (
        f"Demo school: {demo.name} ({demo.locations} locations, {demo.staff} staff, "
        f"{demo.students:,} students)\n"
        f"Sign in at {url}/sign-in (every demo password is {DEMO_PASSWORD}):\n"
        f"  a teacher:        {DEMO_TEACHER_NAME}, {demo.teacher_email}\n"
        f"  an administrator: {demo.admin.name}, {demo.admin.email}\n"
        f"Student Portal: {url}/portal/{demo.school_id}\n"
        f"  a student to try: {student.name} (grade {student.grade}); the first sign-in uses the "
        f"hall pass ID {student.hall_pass_id} as both ID and password\n"
        f"Kiosk: a teacher opens {url}/hall-pass/kiosk on the shared device; it then shows {url}/kiosk\n"
    )


def print_welcome(demo: DemoSchool | None, url: str) -> None:
    print(f"\nHall Pass is running at {url}\n{welcome(demo, url)}", flush=True)
