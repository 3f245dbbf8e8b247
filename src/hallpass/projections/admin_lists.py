"""What the administration pages and API list: a district's schools, and a school's places,
staff and students, searched by name or ID and paged by key (rows past a cursor, in the
order of an index), so a list of thousands reads only the page it shows.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import orjson

from hallpass.acting import Actor
from hallpass.bounds import hall_pass_id
from hallpass.errors import Invalid
from hallpass.messages import say
from hallpass.projections.base import View
from hallpass.projections.directory import fold
from hallpass.projections.queries import DirectoryView
from hallpass.text import is_number, like_escaped

PAGE_SIZE = 50


@dataclass(frozen=True)
class Listing:
    """One list's order and search: the table, its sort columns (ending with the id) and the
    columns a name search folds through."""

    table: str
    order: tuple[str, ...]
    columns: str


STAFF = Listing(
    "dir_staff",
    ("name", "staff_id"),
    "staff_id, school_id, name, email, roles, room_id, sourced_id, active",
)
STUDENTS = Listing(
    "dir_students",
    ("last_name", "first_name", "student_id"),
    "student_id, school_id, first_name, last_name, grade, homeroom_id, hall_pass_id, external_id,"
    " sourced_id, active, open_pass_id",
)


@dataclass(frozen=True)
class Page:
    rows: list[dict[str, Any]]
    next: str | None
    """The cursor of the next page, or None on the last one."""


def encode_cursor(row: dict[str, Any], order: tuple[str, ...]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps([str(row[c]) for c in order])).decode()


def decode_cursor(text: str, order: tuple[str, ...]) -> list[str]:
    """The sort values a cursor holds; Invalid for anything `encode_cursor` did not make."""
    try:
        values = orjson.loads(base64.urlsafe_b64decode(text.encode("ascii")))
        if isinstance(values, list) and len(values) == len(order) and all(isinstance(v, str) for v in values):
            UUID(values[-1])
            return values
    except (ValueError, UnicodeError, orjson.JSONDecodeError):
        pass
    raise Invalid(say("http.cursor"), field="after")


class AdminListView(View):
    async def may_administer(self, actor: Actor, school_id: UUID) -> bool:
        """The read side's answer to `AdministrationCommands.administered_school`."""
        if not actor.administers:
            return False
        if school_id == actor.school_id:
            return True
        if not actor.has_role("district_admin"):
            return False
        same = await self.pool.fetchval(
            "SELECT true FROM dir_schools s JOIN dir_schools home ON home.district_id = s.district_id"
            " WHERE s.school_id = $1 AND home.school_id = $2",
            school_id,
            actor.school_id,
        )
        return bool(same)

    async def schools(self, actor: Actor) -> list[dict[str, Any]]:
        """The schools `actor` administers: their district's for a district administrator."""
        directory = DirectoryView(self.pool)
        return await directory.schools_seen_from(actor.school_id, district=actor.has_role("district_admin"))

    async def school(self, school_id: UUID) -> dict[str, Any] | None:
        return await self.row(
            "SELECT s.*, d.name AS district_name, st.dismissal_time, st.portal_enabled,"
            " st.portal_needs_approval FROM dir_schools s"
            " LEFT JOIN dir_districts d ON d.district_id = s.district_id"
            " LEFT JOIN school_settings st ON st.school_id = s.school_id WHERE s.school_id = $1",
            school_id,
        )

    async def locations(self, school_id: UUID) -> list[dict[str, Any]]:
        """Every place of the school, archived ones last (a school has tens, not thousands)."""
        return await self.rows(
            "SELECT * FROM dir_locations WHERE school_id = $1 ORDER BY NOT active, kind <> 'classroom', name",
            school_id,
        )

    async def record(self, listing: str, record_id: UUID) -> dict[str, Any] | None:
        table, key = {
            "location": ("dir_locations", "location_id"),
            "staff": ("dir_staff", "staff_id"),
            "student": ("dir_students", "student_id"),
        }[listing]
        return await self.row(f"SELECT * FROM {table} WHERE {key} = $1", record_id)

    async def staff(self, school_id: UUID, *, q: str = "", after: str | None = None) -> Page:
        clauses: list[str] = ["school_id = $1"]
        args: list[Any] = [school_id]
        if q:
            args.append(f"%{like_escaped(q.casefold())}%")
            n = len(args)
            args.append(q.strip())
            clauses.append(f"(lower(name) LIKE ${n} OR lower(email) LIKE ${n} OR sourced_id = ${n + 1})")
        return await self._page(STAFF, clauses, args, after)

    async def students(self, school_id: UUID, *, q: str = "", after: str | None = None) -> Page:
        """Students by last and first name; `q`: digits a hall pass ID, `#` and a school ID, a
        sourcedId, or part of a name."""
        clauses: list[str] = ["school_id = $1"]
        args: list[Any] = [school_id]
        text = q.strip()
        if is_number(text):
            args.append(hall_pass_id(text) or 0)
            clauses.append(f"hall_pass_id = ${len(args)}")
        elif text.startswith("#"):
            args.append(text[1:].strip())
            clauses.append(f"external_id = ${len(args)}")
        elif text:
            args.append(f"%{like_escaped(fold(text))}%")
            args.append(text)
            clauses.append(f"(search_name LIKE ${len(args) - 1} OR sourced_id = ${len(args)})")
        return await self._page(STUDENTS, clauses, args, after)

    async def _page(self, listing: Listing, clauses: list[str], args: list[Any], after: str | None) -> Page:
        if after:
            values: list[Any] = decode_cursor(after, listing.order)
            values[-1] = UUID(values[-1])
            first = len(args) + 1
            args += values
            marks = ", ".join(f"${first + i}" for i in range(len(values)))
            clauses.append(f"({', '.join(listing.order)}) > ({marks})")
        rows = await self.pool.fetch(
            f"SELECT {listing.columns} FROM {listing.table} WHERE {' AND '.join(clauses)}"
            f" ORDER BY {', '.join(listing.order)} LIMIT {PAGE_SIZE + 1}",
            *args,
        )
        page = [dict(r) for r in rows[:PAGE_SIZE]]
        more = len(rows) > PAGE_SIZE
        return Page(page, encode_cursor(page[-1], listing.order) if more and page else None)
