"""`hallpass roster import` on the command line: a progress bar, then what changed (or would)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID

from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from hallpass.bootstrap import Runtime
from hallpass.roster.outcome import Change, ImportOutcome, Kind
from hallpass.roster.source import open_roster

STAGES = (
    "reading the files",
    "reading what the district holds",
    "checking the files against each other",
    "deciding what changes",
    "saving",
)
SHOWN_PROBLEMS = 50


class ImportRefused(Exception):
    """The import cannot start: no such district, or no way to tell which one."""


async def choose_district(runtime: Runtime, given: UUID | None) -> UUID:
    rows = await runtime.pool.fetch("SELECT district_id, name FROM dir_districts ORDER BY name")
    if given is not None:
        if given not in {r["district_id"] for r in rows}:
            raise ImportRefused(f"no district {given}")
        return given
    if len(rows) == 1:
        district_id: UUID = rows[0]["district_id"]
        return district_id
    if not rows:
        raise ImportRefused("there is no district yet: run `hallpass setup` first")
    listed = ", ".join(f"{r['district_id']} ({r['name']})" for r in rows)
    raise ImportRefused(f"several districts; choose one with --district: {listed}")


@contextlib.contextmanager
def stage_bar(console: Console) -> Iterator[Progress]:
    with Progress(*Progress.get_default_columns(), console=console, transient=True) as bar:
        yield bar


async def import_from_path(
    runtime: Runtime,
    path: Path,
    *,
    district: UUID | None,
    dry_run: bool,
    valid_rows: bool,
    console: Console,
) -> ImportOutcome:
    district_id = await choose_district(runtime, district)
    files = open_roster(path)
    with stage_bar(console) as bar:
        task = bar.add_task("importing", total=len(STAGES))

        async def said(stage: str) -> None:
            bar.update(task, description=stage, completed=min(bar.tasks[0].completed + 1, len(STAGES)))

        outcome = await runtime.app.import_roster(
            files,
            district_id=district_id,
            now=datetime.now(UTC),
            by={"actor_kind": "system", "actor_id": None},
            dry_run=dry_run,
            valid_rows=valid_rows,
            progress=said,
        )
        bar.update(task, completed=len(STAGES))
    return outcome


def describe(outcome: ImportOutcome, *, dry_run: bool, console: Console) -> None:
    table = Table(title="would change" if dry_run else ("changed" if outcome.applied else "nothing changed"))
    table.add_column("kind")
    for change in Change:
        table.add_column(change.value, justify="right")
    for kind in Kind:
        counts = outcome.counts.get(kind)
        table.add_row(kind.value, *(f"{counts[c]:,}" if counts else "0" for c in Change))
    console.print(table)
    errors, skips = outcome.report.errors, outcome.report.skips
    for problem in errors[:SHOWN_PROBLEMS]:
        console.print(f"[red]error[/red] {problem}", highlight=False)
    if len(errors) > SHOWN_PROBLEMS:
        console.print(f"... and {len(errors) - SHOWN_PROBLEMS:,} more errors")
    if skips:
        console.print(f"{len(skips):,} rows skipped (names nothing Hallpass keeps); the first: {skips[0]}")
    if errors and not outcome.applied and not dry_run:
        console.print("Nothing was imported. Fix the files, or import the valid rows with --valid-rows.")
    elif outcome.applied:
        console.print(f"import {outcome.import_id}: {outcome.events:,} events")
