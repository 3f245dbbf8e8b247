"""Who is acting: a member of staff, a student, a kiosk, or the system itself."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID


@dataclass(frozen=True)
class Actor:
    kind: str
    id: UUID | None
    school_id: UUID
    role: str | None = None
    name: str = ""

    @property
    def principal(self) -> str:
        return f"{self.kind}:{self.id}"

    @property
    def is_staff(self) -> bool:
        return self.kind == "staff"


def system(school_id: UUID) -> Actor:
    return Actor(kind="system", id=None, school_id=school_id, name="Hallpass")
