"""What an import found wrong, by file, line and field, and what it chose to leave out."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Severity(StrEnum):
    ERROR = "error"
    """The row cannot be used: the import changes nothing unless told to import the valid rows."""
    SKIPPED = "skipped"
    """The row is well formed but names nothing Hallpass keeps (a parent, a district org)."""


@dataclass(frozen=True, order=True)
class Problem:
    file: str
    line: int
    """The line the row starts on (the header is line 1); 0 for the file as a whole."""
    field: str
    reason: str
    severity: Severity = Severity.ERROR

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        column = f" {self.field}" if self.field else ""
        return f"{where}{column}: {self.reason}"


@dataclass
class Report:
    problems: list[Problem] = field(default_factory=list)

    def error(self, file: str, line: int, field: str, reason: str) -> None:
        self.problems.append(Problem(file, line, field, reason))

    def skipped(self, file: str, line: int, field: str, reason: str) -> None:
        self.problems.append(Problem(file, line, field, reason, Severity.SKIPPED))

    @property
    def errors(self) -> list[Problem]:
        return sorted(p for p in self.problems if p.severity is Severity.ERROR)

    @property
    def skips(self) -> list[Problem]:
        return sorted(p for p in self.problems if p.severity is Severity.SKIPPED)

    @property
    def ok(self) -> bool:
        return not self.errors
