"""Kiosk commands: set a kiosk up, revoke it, and the passes students make and end at it."""

from __future__ import annotations

import secrets
from dataclasses import replace
from typing import Annotated, Any, Literal
from uuid import UUID, uuid4

import msgspec

from hallpass.acting import Acting, Actor
from hallpass.aggregates.kiosks import (
    Kiosk,
    KioskLocked,
    KioskStatus,
    StudentMode,
    StudentScope,
    lock_minutes,
)
from hallpass.aggregates.students import Student
from hallpass.bounds import LINE_PATTERN, MAX_KIOSK_STUDENTS, Grade, Name, PlaceIds
from hallpass.commands.base import Decided, Outcome, created, done, handler, refused, staff_only
from hallpass.commands.messages import Command, CreatePasses
from hallpass.commands.passes import PassCommands
from hallpass.credentials import KIOSK_EXIT_LIMIT, TooManyAttempts, hash_password, kiosk_login
from hallpass.errors import Conflict, Forbidden, Invalid, NotFound, Unauthenticated
from hallpass.messages import count, say
from hallpass.projections.classes import class_rooms
from hallpass.text import is_number

MANAGERS = ("admin", "district_admin", "office")


class StudentsAllowed(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """All students, those of some classrooms, of some grades, or a hand-picked list."""

    mode: Literal["all", "classroom", "grade", "list"] = "all"
    homeroom_ids: PlaceIds = msgspec.field(default_factory=list)
    grades: Annotated[list[Grade], msgspec.Meta(max_length=20)] = msgspec.field(default_factory=list)
    student_ids: Annotated[list[UUID], msgspec.Meta(max_length=MAX_KIOSK_STUDENTS)] = msgspec.field(
        default_factory=list
    )


class ConfigureKiosk(Command, frozen=True):
    """Turn a device into a kiosk for a room: what may be chosen there and by whom."""

    room_id: UUID
    destination_ids: Annotated[PlaceIds, msgspec.Meta(min_length=1)]
    students: StudentsAllowed = msgspec.field(default_factory=StudentsAllowed)
    name: Name = ""


class KioskSetUp(ConfigureKiosk, frozen=True, kw_only=True):
    """The set-up request: the kiosk, and the numeric password that ends kiosk mode."""

    exit_password: Annotated[str, msgspec.Meta(pattern=r"^[0-9]{4,8}(?!\n)$")]


class KioskCreatePass(Command, frozen=True):
    """Create Pass at a kiosk: the student leaves the kiosk's room for an allowed destination."""

    student_id: UUID
    destination_id: UUID


class KioskCompletePass(Command, frozen=True):
    """Complete Pass at a kiosk: the student is back."""

    student_id: UUID


class KioskExit(Command, frozen=True):
    password: Annotated[str, msgspec.Meta(max_length=64, pattern=LINE_PATTERN)]


def kiosk_summary(kiosk: Kiosk) -> dict[str, Any]:
    return {
        "id": str(kiosk.id),
        "name": kiosk.name,
        "room_id": str(kiosk.room_id),
        "status": kiosk.status.value,
        "destination_ids": [str(d) for d in kiosk.destination_ids],
        "students": {
            "mode": kiosk.scope.mode.value,
            "homeroom_ids": sorted(str(h) for h in kiosk.scope.homeroom_ids),
            "grades": sorted(kiosk.scope.grades),
            "student_count": len(kiosk.scope.student_ids),
        },
        "locked_until": kiosk.locked_until.isoformat() if kiosk.locked_until else None,
    }


def _scope(students: StudentsAllowed) -> StudentScope:
    mode = StudentMode(students.mode)
    if mode is StudentMode.CLASSROOM and not students.homeroom_ids:
        raise Invalid(say("kiosk.choose_classroom"), field="students.homeroom_ids")
    if mode is StudentMode.GRADE and not students.grades:
        raise Invalid(say("kiosk.choose_grade"), field="students.grades")
    if mode is StudentMode.LIST and not students.student_ids:
        raise Invalid(say("kiosk.choose_listed_student"), field="students.student_ids")
    return StudentScope(
        mode,
        frozenset(students.homeroom_ids) if mode is StudentMode.CLASSROOM else frozenset(),
        frozenset(students.grades) if mode is StudentMode.GRADE else frozenset(),
        frozenset(students.student_ids) if mode is StudentMode.LIST else frozenset(),
    )


class KioskCommands(PassCommands):
    """Mixed into `Hallpass`."""

    async def kiosk(self, kiosk_id: UUID, secret: str) -> Kiosk:
        """The kiosk a device token names, if the token is still good."""
        kiosk = await self.repository.find(kiosk_id, Kiosk)
        if kiosk is None:
            raise Unauthenticated(say("kiosk.token_invalid"))
        kiosk.authenticate(secret)
        return kiosk

    async def _acting_kiosk(self, actor: Actor) -> Kiosk:
        if actor.kind != "kiosk" or actor.id is None:
            raise Forbidden(say("kiosk.only_a_kiosk"))
        kiosk = await self.repository.find(actor.id, Kiosk)
        if kiosk is None or kiosk.school_id != actor.school_id:
            raise Unauthenticated(say("kiosk.token_invalid"))
        if kiosk.status is not KioskStatus.ACTIVE:
            raise Unauthenticated(say("kiosk.status", status=kiosk.status.value))
        return kiosk

    @handler(keyed=False)
    async def configure_kiosk(
        self, acting: Acting, command: ConfigureKiosk, *, kiosk_id: UUID, secret: str
    ) -> Decided:
        """A member of staff turns a device into a kiosk. The caller keeps the exit password."""
        actor = acting.actor
        staff_only(actor, "set up a kiosk")
        scope = _scope(command.students)
        if len(set(command.destination_ids)) != len(command.destination_ids):
            raise Invalid(say("rules.place_twice"), field="destination_ids")
        room = await self._offered(actor, command.room_id, "room")
        for destination_id in command.destination_ids:
            destination = await self._offered(actor, destination_id, "destination")
            if destination.id == room.id or not destination.kiosk_allowed:
                raise Invalid(
                    say("kiosk.destination_not_offered", place=destination.name, room=room.name),
                    field="destination_ids",
                )
        for homeroom_id in scope.homeroom_ids:
            await self._location(actor, homeroom_id, "classroom")
        if scope.student_ids:
            await self._students(actor, sorted(scope.student_ids, key=str))
        kiosk = Kiosk.configure(
            kiosk_id=kiosk_id,
            school_id=actor.school_id,
            name=command.name.strip() or f"{room.name} kiosk",
            room_id=room.id,
            destination_ids=list(command.destination_ids),
            scope=scope,
            secret=secret,
            now=acting.now,
            actor_id=actor.id,
        )
        return created({"kiosk": kiosk_summary(kiosk)}, [kiosk])

    @handler(keyed=False)
    async def revoke_kiosk(self, acting: Acting, kiosk_id: UUID) -> Decided:
        staff_only(acting.actor, "revoke a kiosk")
        kiosk = await self.repository.find(kiosk_id, Kiosk)
        if kiosk is None or kiosk.school_id != acting.school_id:
            raise NotFound(say("http.record_not_found", what="kiosk", id=kiosk_id), id=str(kiosk_id))
        if kiosk.created_by != acting.actor.id and not acting.actor.has_role(*MANAGERS):
            raise Forbidden(say("kiosk.revoke_own"))
        kiosk.revoke(now=acting.now, **acting.by)
        return done({"kiosk": kiosk_summary(kiosk)}, [kiosk])

    async def kiosk_create_pass(self, acting: Acting, command: KioskCreatePass) -> Outcome:
        """Create Pass at a kiosk: allowed student, allowed destination, from the kiosk's room."""
        kiosk = await self._acting_kiosk(acting.actor)
        student = await self._kiosk_student(acting.actor, kiosk, command.student_id)
        kiosk.check_destination(command.destination_id)
        create = CreatePasses(
            origin_id=kiosk.room_id, destination_id=command.destination_id, student_ids=[student.id]
        )
        return await self.create_passes(acting, create)

    @handler()
    async def kiosk_complete_pass(self, acting: Acting, command: KioskCompletePass) -> Decided:
        """Complete Pass at a kiosk: ends the student's open pass and records the return time."""
        kiosk = await self._acting_kiosk(acting.actor)
        student = await self._kiosk_student(acting.actor, kiosk, command.student_id)
        if student.open_pass_id is None:
            raise NoOpenPass(f"{student.full_name} has no open pass", student_id=str(student.id))
        hall_pass = await self._pass(acting.actor, student.open_pass_id)
        hall_pass.complete(**acting.stamp)
        changed = await self._close(hall_pass, acting.now)
        return done({"pass": await self._summary(hall_pass)}, changed)

    async def _kiosk_student(self, actor: Actor, kiosk: Kiosk, student_id: UUID) -> Student:
        (student,) = await self._students(actor, [student_id])
        kiosk.check_student(
            student_id=student.id,
            grade=student.grade,
            homeroom_id=student.homeroom_id,
            name=student.full_name,
            # The roster's class lists, as the read model has them (as dismissal reads pass_list).
            class_rooms=await class_rooms(self.store.pool, student.id),
        )
        return student

    async def set_up_kiosk(self, acting: Acting, setup: KioskSetUp) -> tuple[Outcome, UUID, str]:
        """Record the kiosk, then keep its exit password's hash apart from the log.

        Returns the outcome, the kiosk's id and the secret its device token carries. The hash is
        stored only once the kiosk is recorded, so a refused set-up leaves no credential behind.
        """
        kiosk_id, secret = uuid4(), secrets.token_urlsafe(32)
        password_hash = await hash_password(setup.exit_password)
        command = ConfigureKiosk(
            room_id=setup.room_id,
            destination_ids=setup.destination_ids,
            students=setup.students,
            name=setup.name,
        )
        outcome = await self.configure_kiosk(acting, command, kiosk_id=kiosk_id, secret=secret)
        await self.credentials.set_password_hash(
            login=kiosk_login(kiosk_id),
            principal_kind="kiosk",
            principal_id=kiosk_id,
            school_id=acting.school_id,
            password_hash=password_hash,
            now=acting.now,
        )
        return outcome, kiosk_id, secret

    async def exit_kiosk(self, acting: Acting, password: str) -> Outcome:
        """Leave kiosk mode with the password. Wrong tries are recorded; five in a row lock it.

        The password is checked once, through the shared limiter (at most five tries are ever
        checked per lockout), however often a concurrent change makes the decision run.
        """
        verdict: list[bool] = []

        async def password_ok() -> bool:
            try:
                found = await self.credentials.verify(
                    kiosk_login(acting.actor.id or uuid4()), password, now=acting.now, limit=KIOSK_EXIT_LIMIT
                )
            except TooManyAttempts as e:
                raise KioskLocked(say("kiosk.too_many_exits"), retry_after=e.retry_after) from e
            return found is not None and is_number(password)

        async def decide() -> Decided:
            kiosk = await self._acting_kiosk(acting.actor)
            kiosk.ensure_unlocked(acting.now)
            if not verdict:
                verdict.append(await password_ok())
            if verdict[0]:
                kiosk.exit(acting.now)
                return done({"kiosk": kiosk_summary(kiosk)}, [kiosk])
            if kiosk.fail_exit(acting.now):
                try:
                    kiosk.ensure_unlocked(acting.now)
                except KioskLocked as e:
                    locked = count("kiosk.wrong_exit_locked", lock_minutes(e.retry_after))
                    return refused(KioskLocked(locked, **e.details), [kiosk])
            left = kiosk.tries_left
            message = count("kiosk.wrong_exit_password", left)
            return refused(WrongExitPassword(message, tries_left=left), [kiosk])

        return await self._run(replace(acting, idempotency_key=None), fingerprint="", decide=decide)


class NoOpenPass(Conflict):
    """The student has no open pass to complete."""


class WrongExitPassword(Forbidden):
    """The kiosk's exit password was wrong; `tries_left` says how many remain."""
