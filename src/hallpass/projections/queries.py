"""Queries over the read models, always scoped to one school."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from hallpass.bounds import hall_pass_id
from hallpass.projections.directory import fold
from hallpass.text import is_number

PASS_COLUMNS = """
    p.pass_id, p.school_id, p.status, p.source, p.created_at, p.start_at, p.due_at,
    p.allotted_minutes, p.returned_at, p.ended_at, p.end_reason, p.end_note, p.note, p.version,
    p.created_by_kind, p.created_by_id, p.ended_by_kind, p.ended_by_id,
    p.student_id, s.first_name || ' ' || s.last_name AS student_name, s.grade,
    s.hall_pass_id, p.origin_id, o.name AS origin_name, p.destination_id,
    d.name AS destination_name, c.name AS creator_name, e.name AS ended_by_name,
    h.name AS homeroom_name
"""
PASS_FROM = """
    FROM pass_list p
    JOIN dir_students s ON s.student_id = p.student_id
    JOIN dir_locations o ON o.location_id = p.origin_id
    JOIN dir_locations d ON d.location_id = p.destination_id
    LEFT JOIN dir_staff c ON c.staff_id = p.created_by_id
    LEFT JOIN dir_staff e ON e.staff_id = p.ended_by_id
    LEFT JOIN dir_locations h ON h.location_id = s.homeroom_id
"""


@dataclass(frozen=True)
class PassFilters:
    statuses: tuple[str, ...] = ()
    student_id: UUID | None = None
    student: str = ""
    origin_id: UUID | None = None
    destination_id: UUID | None = None
    creator_id: UUID | None = None
    sources: tuple[str, ...] = ()
    since: datetime | None = None
    until: datetime | None = None
    overdue_only: bool = False
    limit: int = 100
    offset: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


def _where(school_id: UUID, f: PassFilters) -> tuple[str, list[Any]]:
    clauses = ["p.school_id = $1"]
    args: list[Any] = [school_id]

    def add(sql: str, value: Any) -> None:
        args.append(value)
        clauses.append(sql.replace("?", f"${len(args)}"))

    if f.statuses:
        add("p.status = ANY(?::text[])", list(f.statuses))
    if f.student_id is not None:
        add("p.student_id = ?", f.student_id)
    if f.student.strip():
        add("s.search_name LIKE ?", f"%{_like(fold(f.student.strip()))}%")
    if f.origin_id is not None:
        add("p.origin_id = ?", f.origin_id)
    if f.destination_id is not None:
        add("p.destination_id = ?", f.destination_id)
    if f.creator_id is not None:
        add("p.created_by_id = ?", f.creator_id)
    if f.sources:
        add("p.source = ANY(?::text[])", list(f.sources))
    if f.since is not None:
        add("p.start_at >= ?", f.since)
    if f.until is not None:
        add("p.start_at < ?", f.until)
    if f.overdue_only:
        clauses.append("p.status = 'expired' AND p.returned_at IS NULL")
    return " AND ".join(clauses), args


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class PassListView:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def page(self, school_id: UUID, filters: PassFilters) -> tuple[list[dict[str, Any]], int]:
        where, args = _where(school_id, filters)
        n = len(args)
        sql = (
            f"SELECT {PASS_COLUMNS}, count(*) OVER () AS total {PASS_FROM} WHERE {where}"
            f" ORDER BY (p.status IN ('active','expired') AND p.returned_at IS NULL) DESC,"
            f" p.start_at DESC LIMIT ${n + 1} OFFSET ${n + 2}"
        )
        rows = await self.pool.fetch(sql, *args, filters.limit, filters.offset)
        total = rows[0]["total"] if rows else 0
        return [dict(r) for r in rows], total

    async def overdue_for(
        self, school_id: UUID, staff_id: UUID | None, room_id: UUID | None
    ) -> list[dict[str, Any]]:
        """Overdue passes a member of staff should hear about: ones they created or from their room."""
        rows = await self.pool.fetch(
            f"SELECT {PASS_COLUMNS} {PASS_FROM} WHERE p.school_id = $1"
            " AND p.status = 'expired' AND p.returned_at IS NULL"
            " AND (p.created_by_id = $2 OR p.origin_id = $3) ORDER BY p.due_at",
            school_id,
            staff_id,
            room_id,
        )
        return [dict(r) for r in rows]

    async def open_pass_ids(self, school_id: UUID) -> list[UUID]:
        """Passes whose student is not back yet: Requested, Active, or Expired not returned."""
        rows = await self.pool.fetch(
            "SELECT pass_id FROM pass_list WHERE school_id = $1"
            " AND (status IN ('active', 'requested') OR (status = 'expired' AND returned_at IS NULL))",
            school_id,
        )
        return [row["pass_id"] for row in rows]

    async def get(self, school_id: UUID, pass_id: UUID) -> dict[str, Any] | None:
        row = await self.pool.fetchrow(
            f"SELECT {PASS_COLUMNS} {PASS_FROM} WHERE p.school_id = $1 AND p.pass_id = $2",
            school_id,
            pass_id,
        )
        return dict(row) if row else None


class DirectoryView:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def school(self, school_id: UUID) -> dict[str, Any] | None:
        row = await self.pool.fetchrow("SELECT * FROM dir_schools WHERE school_id = $1", school_id)
        return dict(row) if row else None

    async def locations(self, school_id: UUID) -> list[dict[str, Any]]:
        rows = await self.pool.fetch(
            "SELECT l.*, t.name AS teacher_name FROM dir_locations l"
            " LEFT JOIN LATERAL (SELECT name FROM dir_staff WHERE room_id = l.location_id"
            "   AND role = 'teacher' ORDER BY name LIMIT 1) t ON true"
            " WHERE l.school_id = $1 ORDER BY l.kind <> 'classroom', l.name",
            school_id,
        )
        return [dict(r) for r in rows]

    async def staff(self, school_id: UUID) -> list[dict[str, Any]]:
        rows = await self.pool.fetch(
            "SELECT staff_id, name, email, role, room_id FROM dir_staff WHERE school_id = $1 ORDER BY name",
            school_id,
        )
        return [dict(r) for r in rows]

    async def staff_member(self, staff_id: UUID) -> dict[str, Any] | None:
        row = await self.pool.fetchrow("SELECT * FROM dir_staff WHERE staff_id = $1", staff_id)
        return dict(row) if row else None

    async def students(
        self,
        school_id: UUID,
        *,
        name: str = "",
        grade: int | None = None,
        homeroom_id: UUID | None = None,
        limit: int = 50,
    ) -> list[dict[str, Any]]:
        clauses = ["s.school_id = $1"]
        args: list[Any] = [school_id]
        text = name.strip()
        if text:
            if is_number(text):
                number = hall_pass_id(text)
                if number is None:
                    return []
                args.append(number)
                clauses.append(f"s.hall_pass_id = ${len(args)}")
            elif text.startswith("#"):
                args.append(text[1:].strip())
                clauses.append(f"s.external_id = ${len(args)}")
            else:
                args.append(f"%{_like(fold(text))}%")
                clauses.append(f"s.search_name LIKE ${len(args)}")
        if grade is not None:
            args.append(grade)
            clauses.append(f"s.grade = ${len(args)}")
        if homeroom_id is not None:
            args.append(homeroom_id)
            clauses.append(f"s.homeroom_id = ${len(args)}")
        args.append(limit)
        rows = await self.pool.fetch(
            "SELECT s.student_id, s.first_name, s.last_name, s.grade, s.hall_pass_id,"
            " s.external_id, s.homeroom_id, h.name AS homeroom_name, s.open_pass_id"
            " FROM dir_students s LEFT JOIN dir_locations h ON h.location_id = s.homeroom_id"
            f" WHERE {' AND '.join(clauses)} ORDER BY s.last_name, s.first_name"
            f" LIMIT ${len(args)}",
            *args,
        )
        return [dict(r) for r in rows]

    async def students_by_ids(self, school_id: UUID, ids: list[UUID]) -> list[dict[str, Any]]:
        rows = await self.pool.fetch(
            "SELECT s.student_id, s.first_name, s.last_name, s.grade, s.hall_pass_id,"
            " s.external_id, s.homeroom_id, h.name AS homeroom_name, s.open_pass_id"
            " FROM dir_students s LEFT JOIN dir_locations h ON h.location_id = s.homeroom_id"
            " WHERE s.school_id = $1 AND s.student_id = ANY($2::uuid[])"
            " ORDER BY s.last_name, s.first_name",
            school_id,
            ids,
        )
        return [dict(r) for r in rows]

    async def grades(self, school_id: UUID) -> list[int]:
        rows = await self.pool.fetch(
            "SELECT DISTINCT grade FROM dir_students WHERE school_id = $1 ORDER BY grade", school_id
        )
        return [r["grade"] for r in rows]
