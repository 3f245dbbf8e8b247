"""Rows put straight into the pass list (`pass_list`), as its projection would write them, for
tests that control start times and statuses exactly: no events, only the list is tested."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

import asyncpg  # type: ignore[import-untyped, unused-ignore]

from support.school import SchoolFixture


@dataclass(frozen=True)
class ListedPass:
    """A staff-made pass from Room 101 to the Library, ten minutes allotted; `back_at`: when the
    student was back (and the pass ended), None for a pass still out."""

    pass_id: UUID
    student_id: UUID
    start_at: datetime
    status: str
    back_at: datetime | None


async def put_passes(pool: asyncpg.Pool, school: SchoolFixture, passes: Sequence[ListedPass]) -> None:
    await pool.executemany(
        "INSERT INTO pass_list (pass_id, school_id, student_id, origin_id, destination_id, source,"
        " status, created_by_kind, created_by_id, created_at, start_at, due_at, allotted_minutes,"
        " returned_at, ended_at, version, notification_id)"
        " VALUES ($1, $2, $3, $4, $5, 'staff', $6, 'staff', $7, $8, $8, $9, 10, $10, $10, 1, 1)",
        [
            (
                p.pass_id,
                school.id,
                p.student_id,
                school.rooms["Room 101"],
                school.rooms["Library"],
                p.status,
                school.teachers["Ada"],
                p.start_at,
                p.start_at + timedelta(minutes=10),
                p.back_at,
            )
            for p in passes
        ],
    )
