"""Student Portal sign-in and the forced new password, shared by the portal API and pages."""

from __future__ import annotations

from uuid import UUID

from starlette.requests import Request

from hallpass.acting import Actor
from hallpass.aggregates import ids
from hallpass.aggregates.schools import School
from hallpass.aggregates.students import Student
from hallpass.commands.password_rules import check_new_password
from hallpass.commands.portal import PORTAL_OFF
from hallpass.credentials import StudentSignIns, hash_password
from hallpass.errors import Forbidden, NotFound, Unauthenticated
from hallpass.http.auth import portal_session, sign_in_student
from hallpass.http.common import now, runtime
from hallpass.text import is_number

MAX_ID_LENGTH = 64


def student_login(student_id: UUID) -> str:
    return f"student:{student_id}"


async def portal_school(request: Request, school_id: UUID) -> School:
    school = await runtime(request).app.repository.find(school_id, School)
    if school is None:
        raise NotFound(f"school {school_id} not found")
    if not school.portal_enabled:
        raise Forbidden(PORTAL_OFF)
    return school


async def find_student(request: Request, school_id: UUID, username: str) -> Student | None:
    """The student a username names: a hall pass ID, or `#` and the external school ID."""
    rt = runtime(request)
    name = username.strip()
    if not name or len(name) > MAX_ID_LENGTH:
        return None
    if is_number(name):
        return await rt.app.repository.find(ids.student_id(school_id, int(name)), Student)
    if name.startswith("#") and len(name) > 1:
        rows = await rt.directory.students(school_id, name=name, limit=2)
        if len(rows) == 1:
            return await rt.app.repository.find(rows[0]["student_id"], Student)
    return None


async def sign_in(request: Request, school_id: UUID, username: str, password: str) -> tuple[Actor, bool, str]:
    """Sign a student in: (actor, must choose a new password, CSRF token).

    Raises Forbidden when the portal is off, Unauthenticated on a wrong ID or password, and
    TooManyAttempts while the account is locked.
    """
    await portal_school(request, school_id)
    student = await find_student(request, school_id, username)
    signins = StudentSignIns(runtime(request).credentials)
    if student is None or student.school_id != school_id:
        login = f"student-unknown:{school_id}:{username.strip().lower()[:MAX_ID_LENGTH]}"
        await signins.verify(login, password, initial=set(), now=now(request))
        raise Unauthenticated("wrong ID or password")
    must_change = await signins.verify(
        student_login(student.id), password, initial={username.strip()}, now=now(request)
    )
    if must_change is None:
        raise Unauthenticated("wrong ID or password")
    actor = Actor(kind="student", id=student.id, school_id=school_id, name=student.full_name)
    return actor, must_change, await sign_in_student(request, actor, must_change=must_change)


async def choose_password(request: Request, actor: Actor, new_password: str) -> None:
    """Set the student's own password; from now on the ID alone no longer signs in.

    Every other session of the student ends; this one goes on, no longer waiting for a password.
    """
    rt = runtime(request)
    student = await rt.app.repository.find(actor.id, Student) if actor.id else None
    if student is None:
        raise NotFound("student not found")
    known = {str(student.hall_pass_id)}
    if student.external_id:
        known |= {student.external_id, f"#{student.external_id}"}
    check_new_password(new_password, ids=known)
    record = portal_session(request)
    await rt.credentials.set_password_hash(
        login=student_login(student.id),
        principal_kind="student",
        principal_id=student.id,
        school_id=student.school_id,
        password_hash=await hash_password(new_password),
        now=now(request),
        keep_session=record.id_hash if record is not None else None,
    )
    if record is not None:
        await rt.sessions.password_chosen(record.id_hash)
        record.must_change = False
