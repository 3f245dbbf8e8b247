"""The Staff aggregate: a member of staff, their roles and default room."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from hallpass.aggregates.administration import (
    Deactivation,
    Reactivation,
    Registration,
    Revision,
    unattributed,
)
from hallpass.aggregates.base import Fields, InSchool


class Role(StrEnum):
    """What a member of staff may do. A member of staff holds one or more roles (decision 072)."""

    DISTRICT_ADMIN = "district_admin"
    """Administers every school of their district."""
    ADMIN = "admin"
    """A school administrator: administers their own school."""
    OFFICE = "office"
    TEACHER = "teacher"
    COMPLIANCE = "compliance"
    """Reads the history of their school (read-only)."""
    ANALYST = "analyst"
    """Reads the event stream of their district (read-only)."""


ADMINISTRATORS = frozenset({Role.DISTRICT_ADMIN, Role.ADMIN})


def ordered_roles(roles: Iterable[str]) -> tuple[Role, ...]:
    """Each role once, in the order `Role` declares them (the first is shown as the main one)."""
    given = {Role(r) for r in roles}
    return tuple(r for r in Role if r in given)


class StaffFields(Fields):
    """What the roster and administrators say of a member of staff, written once: the fields of
    `Staff.Hired` and `Staff.Changed`, and the aggregate's attributes (roles in `Role` order)."""

    name: str
    email: str
    roles: tuple[str, ...]
    room_id: UUID | None
    sourced_id: str | None = None

    held_as = {"roles": ordered_roles}


class _SetsRole(Aggregate.Event):
    def apply(self, aggregate: Any) -> None:
        super().apply(aggregate)
        aggregate.role = aggregate.roles[0]


class Staff(InSchool, StaffFields, Aggregate):
    roles: tuple[Role, ...]
    role: Role
    """The main role: the first of `roles`."""

    class Hired(InSchool, StaffFields, _SetsRole, Registration):
        """Version 2 holds several `roles` (version 1 held one `role`) and the roster's `sourced_id`;
        version 3 who hired them and why (`cause`: a roster import's file and line)."""

        class_version = 3

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["roles"] = [state.pop("role")]
            state["sourced_id"] = None

        @staticmethod
        def upcast_v2_v3(state: dict[str, Any]) -> None:
            unattributed(state)

    class Changed(StaffFields, _SetsRole, Revision):
        """New values of what administrators may change."""

    class Deactivated(Deactivation):
        """Their sessions end and they can no longer sign in."""

    class Reactivated(Reactivation):
        """They may sign in again (with a password they set)."""

    active: bool = True

    def __init__(self) -> None:
        """Every attribute of a member of staff comes from `Hired` (`role`: the first of `roles`)."""

    def has_role(self, *roles: Role) -> bool:
        return any(r in self.roles for r in roles)
