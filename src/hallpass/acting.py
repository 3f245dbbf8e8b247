"""Who is acting (a member of staff, a student, a kiosk, or the system itself), and when."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TypedDict
from uuid import UUID


@dataclass(frozen=True)
class Actor:
    kind: str
    id: UUID | None
    school_id: UUID
    role: str | None = None
    """A member of staff's main role (the first of `roles`)."""
    name: str = ""
    roles: tuple[str, ...] = ()
    """Every role a member of staff holds (`hallpass.aggregates.staff.Role` values)."""

    @property
    def principal(self) -> str:
        return f"{self.kind}:{self.id}"

    @property
    def is_staff(self) -> bool:
        return self.kind == "staff"

    def has_role(self, *roles: str) -> bool:
        """A member of staff holding any of `roles`."""
        held = self.roles or ((self.role,) if self.role else ())
        return self.is_staff and any(r in held for r in roles)

    @property
    def administers(self) -> bool:
        """A school or district administrator."""
        return self.has_role("admin", "district_admin")


def system(school_id: UUID) -> Actor:
    return Actor(kind="system", id=None, school_id=school_id, name="Hallpass")


class ActedBy(TypedDict):
    """Who an event says acted, as the aggregates' methods take it."""

    actor_kind: str
    actor_id: UUID | None


class Stamp(ActedBy):
    """Who acted, and when: what an aggregate's events record of a command.

    Not the idempotency key: the command's `IdempotencyRecord` keeps it (decision 067).
    """

    now: datetime


@dataclass(frozen=True)
class Acting:
    """One command's circumstances: who acts, the time it is decided at, and the key it came with.

    The actor's kind says where the command came from: a staff screen or client, the Student
    Portal (a student), a kiosk, or the system (timers, dismissal). The idempotency key, if any,
    makes a repeated command answer as the first one did.
    """

    actor: Actor
    now: datetime
    idempotency_key: str | None = None

    @property
    def school_id(self) -> UUID:
        return self.actor.school_id

    @property
    def by(self) -> ActedBy:
        return {"actor_kind": self.actor.kind, "actor_id": self.actor.id}

    @property
    def stamp(self) -> Stamp:
        return {**self.by, "now": self.now}
