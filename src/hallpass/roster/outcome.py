"""What an import did, or would do: counts per kind, the report, and whether it was applied."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from hallpass.roster.report import Report


class Kind(StrEnum):
    SCHOOLS = "schools"
    ROOMS = "rooms"
    STUDENTS = "students"
    STAFF = "staff"
    CLASSES = "classes"
    ENROLMENTS = "enrolments"


class Change(StrEnum):
    ADDED = "added"
    CHANGED = "changed"
    DEACTIVATED = "deactivated"
    REACTIVATED = "reactivated"


@dataclass
class ImportOutcome:
    import_id: str
    report: Report
    counts: dict[Kind, Counter[Change]] = field(default_factory=dict)
    applied: bool = False
    """The changes were saved (not a dry run, and no errors, or only the valid rows asked for)."""
    events: int = 0
    notification_id: int | None = None

    def count(self, kind: Kind, change: Change) -> None:
        self.counts.setdefault(kind, Counter())[change] += 1

    @property
    def changes(self) -> int:
        return sum(sum(c.values()) for c in self.counts.values())

    def as_dict(self) -> dict[str, Any]:
        return {
            "import_id": self.import_id,
            "applied": self.applied,
            "events": self.events,
            "counts": {k.value: {c.value: self.counts.get(k, Counter())[c] for c in Change} for k in Kind},
            "errors": [vars(p) | {"severity": p.severity.value} for p in self.report.errors],
            "skipped": [vars(p) | {"severity": p.severity.value} for p in self.report.skips],
        }
