"""A small school for tests, created through the same commands as the real one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TypedDict
from uuid import UUID, uuid4

from hallpass.acting import Acting, Actor
from hallpass.aggregates.locations import LocationKind
from hallpass.aggregates.passes import Pass, Status
from hallpass.aggregates.staff import Role
from hallpass.bootstrap import Runtime
from hallpass.commands.base import Outcome
from hallpass.commands.directory import NewLocation, NewStaff, NewStudent
from hallpass.commands.messages import CreatePasses
from hallpass.commands.portal import ChangePortalSettings
from hallpass.commands.schedules import SchedulePasses, ScheduleRepeating
from hallpass.credentials import hash_password

PASSWORD = "correct horse battery"


@dataclass(frozen=True)
class SchoolFixture:
    id: UUID
    district_id: UUID
    rooms: dict[str, UUID]
    teachers: dict[str, UUID]
    emails: dict[str, str]
    students: list[UUID]
    student_names: dict[UUID, str]

    def teacher(self, name: str = "Ada") -> Actor:
        return Actor("staff", self.teachers[name], self.id, "teacher", name, roles=("teacher",))

    def admin(self, *, district: bool = False) -> Actor:
        """Cleo, the school's administrator; `district`: as if she administered the district."""
        role = "district_admin" if district else "admin"
        return Actor("staff", self.teachers["Cleo"], self.id, role, "Cleo", roles=(role,))

    def student_and_name(self, index: int) -> tuple[UUID, str]:
        """The student at `index` in `students`, and their name."""
        student = self.students[index]
        return student, self.student_names[student]

    def student(self, student_id: UUID) -> Actor:
        """A student of the school, signed in to the Student Portal."""
        return Actor("student", student_id, self.id, "student", "student")


FIRST = ["Ana", "Ben", "Chloé", "Dev", "Eli", "Fatima", "Gus", "Hana", "Ivan", "Jo", "Kai", "Lena"]


async def give_password(
    runtime: Runtime,
    email: str,
    staff_id: UUID,
    school_id: UUID,
    now: datetime,
    password_hash: str | None = None,
) -> None:
    """`PASSWORD` for the member of staff signing in as `email`, as if they had chosen it."""
    await runtime.credentials.set_password_hash(
        login=email,
        principal_kind="staff",
        principal_id=staff_id,
        school_id=school_id,
        password_hash=password_hash or await hash_password(PASSWORD),
        now=now,
    )


async def make_school(
    runtime: Runtime, *, label: str = "Test", students: int = 12, district_id: UUID | None = None
) -> SchoolFixture:
    """A school with five places, three staff (Ada and Bo teach, Cleo administers) and
    `students` students; in a district of its own unless `district_id` names one."""
    now = datetime.now(UTC)
    app = runtime.app
    if district_id is None:
        district_id = (await app.found_district(name=f"{label} District", now=now)).id
    school = await app.register_school(
        name=f"{label} School", timezone="America/Chicago", district_id=district_id, now=now
    )
    places = await app.add_locations(
        school.id,
        [
            NewLocation("Room 101", LocationKind.CLASSROOM, 10),
            NewLocation("Room 102", LocationKind.CLASSROOM, 10),
            NewLocation("Restroom", LocationKind.RESTROOM, 5, capacity=2),
            NewLocation("Nurse", LocationKind.NURSE, 15),
            NewLocation("Library", LocationKind.LIBRARY, 20, capacity=30),
        ],
        now=now,
    )
    rooms = {p.name: p.id for p in places}
    tag = uuid4().hex[:8]
    staff = await app.hire_staff(
        school.id,
        [
            NewStaff("Ada", f"ada.{tag}@{label.lower()}.example.org", (Role.TEACHER,), rooms["Room 101"]),
            NewStaff("Bo", f"bo.{tag}@{label.lower()}.example.org", (Role.TEACHER,), rooms["Room 102"]),
            NewStaff("Cleo", f"cleo.{tag}@{label.lower()}.example.org", (Role.ADMIN,), None),
        ],
        now=now,
    )
    password_hash = await hash_password(PASSWORD)
    for member in staff:
        await give_password(runtime, member.email, member.id, school.id, now, password_hash)
    base = (1_000_000 + uuid4().int % 9_000_000) * 100  # nine-digit IDs, never shorter than a password
    new_students = [
        NewStudent(
            FIRST[i % len(FIRST)],
            f"Tester{i:03d}",
            6 + i % 3,
            base + i + 1,
            homeroom_id=rooms["Room 101"] if i % 2 == 0 else rooms["Room 102"],
            external_id=f"{base + i + 1:09d}",
        )
        for i in range(students)
    ]
    registered = await app.register_students(school.id, new_students, now=now)
    for runner in runtime.runners:
        await runner.catch_up()
    return SchoolFixture(
        id=school.id,
        district_id=district_id,
        rooms=rooms,
        teachers={m.name: m.id for m in staff},
        emails={m.name: m.email for m in staff},
        students=[s.id for s in registered],
        student_names={s.id: s.full_name for s in registered},
    )


async def open_portal(runtime: Runtime, school: SchoolFixture, now: datetime) -> SchoolFixture:
    """`school` with its Student Portal on, passes starting without approval."""
    settings = ChangePortalSettings(enabled=True, needs_approval=False)
    await runtime.app.change_portal_settings(Acting(school.admin(), now), settings)
    return school


class Trip(TypedDict):
    """Where the passes these helpers make go: from Room 101 to a place, for some students."""

    origin_id: UUID
    destination_id: UUID
    student_ids: list[UUID]


def trip(school: SchoolFixture, place: str, students: list[UUID]) -> Trip:
    return Trip(origin_id=school.rooms["Room 101"], destination_id=school.rooms[place], student_ids=students)


async def send_out(
    runtime: Runtime,
    school: SchoolFixture,
    place: str,
    students: list[UUID],
    now: datetime,
    actor: Actor | None = None,
    minutes: int | None = None,
) -> list[UUID]:
    """`students` sent from Room 101 to `place` at `now` (by Ada unless `actor` says; for
    `minutes` where given): their passes."""
    outcome = await runtime.app.create_passes(
        Acting(actor or school.teacher(), now),
        CreatePasses(**trip(school, place, students), allotted_minutes=minutes),
    )
    return [UUID(p["id"]) for p in outcome.body["passes"]]


async def plan_out(
    runtime: Runtime,
    school: SchoolFixture,
    place: str,
    students: list[UUID],
    start_at: datetime,
    now: datetime,
    minutes: int | None = None,
) -> Outcome:
    """`students` planned by Ada at `now` to go from Room 101 to `place` at `start_at` (for
    `minutes` where given): the outcome, as the app decided it."""
    return await runtime.app.schedule_passes(
        Acting(school.teacher(), now),
        SchedulePasses(**trip(school, place, students), start_at=start_at, allotted_minutes=minutes),
    )


async def schedule_series(
    runtime: Runtime,
    school: SchoolFixture,
    place: str,
    students: list[UUID],
    *,
    weekdays: list[int],
    at: time,
    first: date,
    last: date,
) -> Outcome:
    """A repeating pass by Ada from Room 101 to `place` for `students`, on `weekdays` at `at` from
    `first` to `last`: the outcome, as the app decided it."""
    return await runtime.app.schedule_repeating(
        Acting(school.teacher("Ada"), datetime.now(UTC)),
        ScheduleRepeating(
            **trip(school, place, students),
            weekdays=weekdays,
            at=at,
            first_date=first,
            last_date=last,
        ),
    )


async def weekly_series(
    runtime: Runtime, school: SchoolFixture, place: str, student: UUID, *, first: date, at: time, days: int
) -> Outcome:
    """A pass for `student` to `place` at `at` on `first`'s weekday, from `first` for `days` days
    (see `schedule_series`), once the read models show it."""
    outcome = await schedule_series(
        runtime,
        school,
        place,
        [student],
        weekdays=[first.weekday()],
        at=at,
        first=first,
        last=first + timedelta(days=days),
    )
    assert await runtime.watcher.wait_for(outcome.notification_id, timeout=15)
    return outcome


async def status_of(runtime: Runtime, pass_id: UUID) -> tuple[Status, str | None]:
    """A pass's status and, once it ended, why."""
    hall_pass = await runtime.app.repository.find(pass_id, Pass)
    assert hall_pass is not None
    return hall_pass.status, hall_pass.end_reason
