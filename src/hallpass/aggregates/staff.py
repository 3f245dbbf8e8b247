"""The Staff aggregate: a member of staff, their role and default room."""

from __future__ import annotations

from enum import StrEnum
from uuid import UUID

from eventsourcing.domain import Aggregate


class Role(StrEnum):
    TEACHER = "teacher"
    OFFICE = "office"
    ADMIN = "admin"
    COMPLIANCE = "compliance"
    ANALYST = "analyst"


class Staff(Aggregate):
    class Hired(Aggregate.Created):
        school_id: UUID
        name: str
        email: str
        role: str
        room_id: UUID | None

    def __init__(self, *, school_id: UUID, name: str, email: str, role: str, room_id: UUID | None) -> None:
        self.school_id = school_id
        self.name = name
        self.email = email
        self.role = Role(role)
        self.room_id = room_id
