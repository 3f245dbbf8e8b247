"""The words a page shows for a code the data holds (who acted, where from); exports keep the codes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

ACTOR_KINDS = {
    "staff": "Staff",
    "student": "Student Portal",
    "kiosk": "Kiosk",
    "system": "Hallpass",
}
"""What a page calls each kind of actor when it has no name to show."""


PASS_SOURCES = {"staff": "Staff", "portal": "Student Portal", "kiosk": "Kiosk"}
"""What a page calls the place a pass was asked for from (`Pass.source`)."""


def pass_source(source: str | None) -> str:
    return PASS_SOURCES.get(source or "", "Unknown")


def actor_kind(kind: str | None) -> str:
    return ACTOR_KINDS.get(kind or "", "Unknown")


def created_by(creator: Mapping[str, Any]) -> str:
    """Who created a pass, in words: the member of staff's name, the kiosk's name, or "Student
    Portal" (the student is already named on the row)."""
    kind = creator.get("kind")
    name = creator.get("name")
    if kind == "student" or not name:
        return actor_kind(kind)
    return str(name)
