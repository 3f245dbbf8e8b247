"""Signing in, and the secrets behind it: staff and student sign-in, a student's own password.

Secrets live in `hallpass.credentials`, apart from the log (decision 004); every try is counted
by its one limiter (decision 035), so a wrong try is itself a change, and signing in a command.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from eventsourcing.domain import Aggregate

from hallpass.acting import Acting, Actor
from hallpass.aggregates import ids
from hallpass.aggregates.administration import Claim
from hallpass.aggregates.schools import School
from hallpass.aggregates.staff import Staff
from hallpass.aggregates.students import Student
from hallpass.commands.base import CommandBase
from hallpass.commands.password_rules import check_new_password
from hallpass.commands.portal import portal_open
from hallpass.commands.setup import staff_actor
from hallpass.credentials import StudentSignIns, hash_password, student_login
from hallpass.errors import NotFound, Unauthenticated
from hallpass.messages import say
from hallpass.projections.queries import DirectoryView
from hallpass.text import is_number

MAX_ID_LENGTH = 64


class SignInCommands(CommandBase):
    """Mixed into `Hallpass`."""

    async def sign_in_staff(self, email: str, password: str, *, now: datetime) -> Actor | None:
        """The member of staff an email and password name, or None. Raises TooManyAttempts."""
        credential = await self.credentials.verify(email, password, now=now)
        if credential is None or credential.principal_kind != "staff":
            return None
        staff = await self.repository.find(credential.principal_id, Staff)
        if staff is None or not staff.active:
            return None
        return staff_actor(staff)

    async def sign_in_student(
        self, school_id: UUID, username: str, password: str, *, now: datetime
    ) -> tuple[Actor, bool]:
        """A student signs in to the portal: (the student, whether a new password must be chosen).

        Raises Forbidden when the portal is off, Unauthenticated on a wrong ID or password, and
        TooManyAttempts while the account is locked.
        """
        portal_open(await self.repository.find(school_id, School), school_id)
        student = await self._student_named(school_id, username)
        signins = StudentSignIns(self.credentials)
        if student is None or student.school_id != school_id or not student.active:
            login = f"student-unknown:{school_id}:{username.strip().lower()[:MAX_ID_LENGTH]}"
            await signins.verify(login, password, initial=set(), now=now)
            raise Unauthenticated(say("portal.wrong_id_or_password"))
        must_change = await signins.verify(
            student_login(student.id), password, initial={username.strip()}, now=now
        )
        if must_change is None:
            raise Unauthenticated(say("portal.wrong_id_or_password"))
        return Actor(kind="student", id=student.id, school_id=school_id, name=student.full_name), must_change

    async def _student_named(self, school_id: UUID, username: str) -> Student | None:
        """The student a username names: a hall pass ID, or `#` and the external school ID."""
        name = username.strip()
        if not name or len(name) > MAX_ID_LENGTH:
            return None
        if is_number(name):
            found = await self.repository.find(ids.student_id(school_id, int(name)), Aggregate)
            if isinstance(found, Claim) and found.owner_id is not None:  # a hall pass ID changed to
                found = await self.repository.find(found.owner_id, Student)
            return found if isinstance(found, Student) else None
        if name.startswith("#") and len(name) > 1:
            rows = await DirectoryView(self.store.pool).students(school_id, name=name, limit=2)
            if len(rows) == 1:
                return await self.repository.find(rows[0]["student_id"], Student)
        return None

    async def choose_student_password(
        self, acting: Acting, new_password: str, *, keep_session: str | None
    ) -> None:
        """The student sets their own password; the ID alone no longer signs in.

        Every session of the student but `keep_session` ends.
        """
        student = await self.repository.find(acting.actor.id, Student) if acting.actor.id else None
        if student is None:
            raise NotFound(say("admin.student_not_found"))
        known = {str(student.hall_pass_id)}
        if student.external_id:
            known |= {student.external_id, f"#{student.external_id}"}
        check_new_password(new_password, ids=known)
        await self.credentials.set_password_hash(
            login=student_login(student.id),
            principal_kind="student",
            principal_id=student.id,
            school_id=student.school_id,
            password_hash=await hash_password(new_password),
            now=acting.now,
            keep_session=keep_session,
        )

    async def staff_reset_login(self, token: str, *, now: datetime) -> str | None:
        """The email a one-time password link is for, while it is good; None otherwise."""
        reset = await self.credentials.reset_for(token, now=now)
        return None if reset is None else str(reset["login"])

    async def choose_staff_password(self, token: str, new_password: str, *, now: datetime) -> bool:
        """A member of staff chooses a password through a one-time link; False if the link is
        used, replaced or expired. Every session of theirs ends."""
        login = await self.staff_reset_login(token, now=now)
        if login is None:
            return False
        check_new_password(new_password, ids={login, login.split("@")[0]})
        password_hash = await hash_password(new_password)
        redeemed = await self.credentials.redeem_reset(token, password_hash, principal_kind="staff", now=now)
        return redeemed is not None
