"""The Kiosk aggregate: a shared classroom screen where students make and end their own passes.

A kiosk belongs to a room. It allows some destinations and some students, holds the digest of
the secret in its device token, and locks its exit after repeated wrong passwords.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, TypedDict, Unpack
from uuid import UUID

from eventsourcing.domain import Aggregate

from hallpass.aggregates.base import Acted, InSchool, Sets, copy_state
from hallpass.errors import Forbidden, IllegalTransition, TryLater, Unauthenticated
from hallpass.messages import count, say

MAX_EXIT_FAILURES = 5
LOCKOUT = timedelta(minutes=5)


class StudentMode(StrEnum):
    ALL = "all"
    CLASSROOM = "classroom"
    GRADE = "grade"
    LIST = "list"


class KioskStatus(StrEnum):
    ACTIVE = "active"
    REVOKED = "revoked"
    EXITED = "exited"


class StudentNotAllowed(Forbidden):
    """The kiosk does not serve this student."""


class DestinationNotAllowed(Forbidden):
    """The kiosk's room may not send students there."""


class KioskLocked(TryLater):
    """Too many wrong exit passwords: leaving kiosk mode waits `retry_after` seconds."""


def lock_minutes(seconds: int) -> int:
    """A lock-out's `seconds` left as the whole minutes a message tells (rounded up, at least 1)."""
    return max(1, (seconds + 59) // 60)


@dataclass(frozen=True)
class StudentScope:
    """Which students a kiosk serves: all, some classrooms, some grades, or a list."""

    mode: StudentMode
    homeroom_ids: frozenset[UUID] = frozenset()
    grades: frozenset[int] = frozenset()
    student_ids: frozenset[UUID] = frozenset()

    def allows(
        self, *, student_id: UUID, grade: int, homeroom_id: UUID | None, class_rooms: Collection[UUID] = ()
    ) -> bool:
        """`class_rooms`: the rooms the student's classes meet in (the roster's class lists), so a
        classroom serves its homeroom's students and those of every class taught there."""
        if self.mode is StudentMode.ALL:
            return True
        if self.mode is StudentMode.CLASSROOM:
            rooms = self.homeroom_ids
            return (homeroom_id is not None and homeroom_id in rooms) or any(r in rooms for r in class_rooms)
        if self.mode is StudentMode.GRADE:
            return grade in self.grades
        return student_id in self.student_ids


def secret_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class KioskFields(InSchool):
    """A kiosk as configured, written once: what `Kiosk.Configured` stores and the aggregate
    holds as it is."""

    name: str
    room_id: UUID
    destination_ids: list[UUID]
    secret_digest: str

    held_as = {"destination_ids": list}


class Setup(TypedDict):
    """What a new kiosk is given besides the students it serves and its secret: its `KioskFields`
    but the secret's digest."""

    school_id: UUID
    name: str
    room_id: UUID
    destination_ids: list[UUID]


class Kiosk(KioskFields, Aggregate):
    scope: StudentScope

    class Configured(KioskFields, Aggregate.Created):
        """The students it serves are its `scope`: a mode, with homerooms, grades or students."""

        student_mode: str
        homeroom_ids: list[UUID]
        grades: list[int]
        student_ids: list[UUID]
        actor_id: UUID | None

        def apply(self, aggregate: Any) -> None:
            copy_state(self, aggregate, KioskFields)
            aggregate.scope = StudentScope(
                StudentMode(self.student_mode),
                frozenset(self.homeroom_ids),
                frozenset(self.grades),
                frozenset(self.student_ids),
            )

    class Revoked(Sets, Acted):
        attribute, to = "status", KioskStatus.REVOKED

    class ExitFailed(Aggregate.Event):
        failures: int

        def apply(self, aggregate: Any) -> None:
            aggregate.exit_failures = self.failures

    class LockedOut(Aggregate.Event):
        until: datetime

        def apply(self, aggregate: Any) -> None:
            aggregate.locked_until = self.until
            aggregate.exit_failures = 0

    class Exited(Sets):
        attribute, to = "status", KioskStatus.EXITED

    def __init__(self, *, actor_id: UUID | None) -> None:
        """A new kiosk is on, with no wrong exit passwords yet; `Configured` sets the rest."""
        self.created_by = actor_id
        self.status = KioskStatus.ACTIVE
        self.exit_failures = 0
        self.locked_until: datetime | None = None

    @classmethod
    def configure(
        cls,
        *,
        kiosk_id: UUID,
        scope: StudentScope,
        secret: str,
        now: datetime,
        actor_id: UUID | None,
        **setup: Unpack[Setup],
    ) -> Kiosk:
        return cls._create(
            cls.Configured,
            id=kiosk_id,
            timestamp=now,
            **setup,
            student_mode=scope.mode.value,
            homeroom_ids=sorted(scope.homeroom_ids, key=str),
            grades=sorted(scope.grades),
            student_ids=sorted(scope.student_ids, key=str),
            secret_digest=secret_digest(secret),
            actor_id=actor_id,
        )

    def authenticate(self, secret: str) -> None:
        """The device token is this kiosk's, and the kiosk is still on."""
        if not hmac.compare_digest(secret_digest(secret), self.secret_digest):
            raise Unauthenticated(say("kiosk.token_invalid"))
        if self.status is KioskStatus.REVOKED:
            raise Unauthenticated(say("kiosk.turned_off"))
        if self.status is KioskStatus.EXITED:
            raise Unauthenticated(say("kiosk.mode_ended"))

    def check_student(
        self,
        *,
        student_id: UUID,
        grade: int,
        homeroom_id: UUID | None,
        name: str,
        class_rooms: Collection[UUID] = (),
    ) -> None:
        allowed = self.scope.allows(
            student_id=student_id, grade=grade, homeroom_id=homeroom_id, class_rooms=class_rooms
        )
        if not allowed:
            raise StudentNotAllowed(
                f"{name} cannot use this kiosk; ask your teacher", student_id=str(student_id)
            )

    def check_destination(self, destination_id: UUID) -> None:
        if destination_id not in self.destination_ids:
            raise DestinationNotAllowed(
                "that destination cannot be chosen at this kiosk", destination_id=str(destination_id)
            )

    def ensure_unlocked(self, now: datetime) -> None:
        if self.locked_until is not None and now < self.locked_until:
            seconds = max(1, int((self.locked_until - now).total_seconds() + 0.999))
            raise KioskLocked(
                count("kiosk.exit_locked", lock_minutes(seconds)),
                retry_after=seconds,
                locked_until=self.locked_until.isoformat(),
            )

    def fail_exit(self, now: datetime) -> bool:
        """Record a wrong exit password; the fifth in a row locks the exit. True when locked."""
        failures = self.exit_failures + 1
        self.trigger_event(self.ExitFailed, timestamp=now, failures=failures)
        if failures < MAX_EXIT_FAILURES:
            return False
        self.trigger_event(self.LockedOut, timestamp=now, until=now + LOCKOUT)
        return True

    @property
    def tries_left(self) -> int:
        return MAX_EXIT_FAILURES - self.exit_failures

    def exit(self, now: datetime) -> None:
        self._ensure_active("exit")
        self.trigger_event(self.Exited, timestamp=now)

    def revoke(self, *, now: datetime, actor_kind: str, actor_id: UUID | None) -> None:
        self._ensure_active("revoke")
        self.trigger_event(self.Revoked, timestamp=now, actor_kind=actor_kind, actor_id=actor_id)

    def _ensure_active(self, action: str) -> None:
        if self.status is not KioskStatus.ACTIVE:
            raise IllegalTransition(
                say("kiosk.cannot", action=action, state=self.status.value),
                status=self.status.value,
                kiosk_id=str(self.id),
            )
