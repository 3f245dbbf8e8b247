"""One CSV file read as rows of named cells, whatever its column order and extra columns."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from hallpass.roster.report import Report

T = TypeVar("T")


@dataclass(frozen=True)
class Column:
    """A column of a OneRoster file: whether it must be there and filled, and where it goes."""

    name: str
    required: bool
    to: str
    """What Hallpass does with it; empty when it is read and checked but not kept."""
    aliases: tuple[str, ...] = ()
    """Other spellings seen in real exports (matched as the name is: ignoring case)."""


@dataclass
class Row:
    """One row of a file; its readers record each problem in the report and carry on."""

    file: str
    line: int
    cells: dict[str, str]
    report: Report
    failed: bool = False

    def blank(self, name: str) -> bool:
        return not self.cells.get(name, "").strip()

    def optional(self, name: str, read: Callable[[str], T]) -> T | None:
        if self.blank(name):
            return None
        try:
            return read(self.cells[name])
        except ValueError as e:
            self.fail(name, str(e))
            return None

    def need(self, name: str, read: Callable[[str], T], fallback: T) -> T:
        """A value every row must give; `fallback` stands in (and the row fails) if it is bad."""
        if self.blank(name):
            self.fail(name, "is required and blank")
            return fallback
        value = self.optional(name, read)
        return fallback if value is None else value

    def fail(self, name: str, reason: str) -> None:
        self.failed = True
        self.report.error(self.file, self.line, name, reason)


@dataclass
class Table:
    file: str
    rows: list[Row] = field(default_factory=list)


def read_table(file: str, text: str, columns: tuple[Column, ...], report: Report) -> Table:
    """The file's rows keyed by each known column's own name; a missing required column is
    reported once (line 1) and leaves no rows. Unknown columns (`ext_...`) are ignored."""
    table = Table(file)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
    except csv.Error as e:
        report.error(file, 1, "", f"the header cannot be read as CSV ({e})")
        return table
    if header is None:
        report.error(file, 1, "", "the file is empty (no header line)")
        return table
    positions = _positions(file, header, columns, report)
    if positions is None:
        return table
    start = reader.line_num + 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as e:
            report.error(file, start, "", f"this line cannot be read as CSV ({e})")
            break
        line, start = start, reader.line_num + 1
        if not any(c.strip() for c in cells):
            continue
        extra = [c for c in cells[len(header) :] if c.strip()]
        row = Row(
            file, line, {name: cells[i] if i < len(cells) else "" for name, i in positions.items()}, report
        )
        if extra:
            row.fail("", f"{len(cells)} values for {len(header)} columns")
        table.rows.append(row)
    return table


def _positions(
    file: str, header: list[str], columns: tuple[Column, ...], report: Report
) -> dict[str, int] | None:
    found: dict[str, int] = {}
    spellings = {spelling.lower(): c.name for c in columns for spelling in (c.name, *c.aliases)}
    for i, raw in enumerate(header):
        name = spellings.get(raw.strip().lower())
        if name is not None and name not in found:
            found[name] = i
    missing = [c.name for c in columns if c.required and c.name not in found]
    for name in missing:
        report.error(file, 1, name, "required column is missing")
    return None if missing else found
