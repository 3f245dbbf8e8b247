"""Student Portal sign-in and the forced new password, shared by the portal API and pages."""

from __future__ import annotations

from uuid import UUID

from starlette.requests import Request

from hallpass.acting import Actor
from hallpass.http.auth import portal_session, sign_in_student
from hallpass.http.common import acting, now, runtime


async def sign_in(request: Request, school_id: UUID, username: str, password: str) -> tuple[Actor, bool, str]:
    """Sign a student in: (actor, must choose a new password, CSRF token).

    Raises Forbidden when the portal is off, Unauthenticated on a wrong ID or password, and
    TooManyAttempts while the account is locked.
    """
    actor, must_change = await runtime(request).app.sign_in_student(
        school_id, username, password, now=now(request)
    )
    return actor, must_change, await sign_in_student(request, actor, must_change=must_change)


async def choose_password(request: Request, actor: Actor, new_password: str) -> None:
    """Set the student's own password; from now on the ID alone no longer signs in.

    Every other session of the student ends; this one goes on, no longer waiting for a password.
    """
    rt = runtime(request)
    record = portal_session(request)
    keep = record.id_hash if record is not None else None
    await rt.app.choose_student_password(acting(request, actor), new_password, keep_session=keep)
    if record is not None:
        await rt.sessions.password_chosen(record.id_hash)
        record.must_change = False
