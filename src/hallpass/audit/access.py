"""Who looked: every audit view of a history, a moment or an export by staff, recorded with who,
when and what, and listed for the school's officers (decision 080)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
import orjson

from hallpass.acting import Actor
from hallpass.errors import Forbidden
from hallpass.messages import say

SCHEMA = """
CREATE TABLE IF NOT EXISTS audit_views (
    view_id bigserial PRIMARY KEY,
    viewed_at timestamptz NOT NULL,
    school_id uuid NOT NULL,
    staff_id uuid NOT NULL,
    staff_name text NOT NULL,
    what text NOT NULL,
    subject_id uuid,
    detail jsonb NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_views_school ON audit_views (school_id, view_id DESC);
"""

AUDITORS = ("compliance", "admin", "district_admin")


def require_auditor(actor: Actor) -> None:
    """Compliance officers and administrators read the audit; anyone else is refused (403)."""
    if not actor.has_role(*AUDITORS):
        raise Forbidden(say("audit.only"))


@dataclass(frozen=True)
class View:
    viewed_at: datetime
    staff_id: UUID
    staff_name: str
    what: str
    subject_id: UUID | None
    detail: dict[str, Any]

    def as_json(self) -> dict[str, Any]:
        return {
            "viewed_at": self.viewed_at.isoformat(),
            "staff_id": str(self.staff_id),
            "staff_name": self.staff_name,
            "what": self.what,
            "subject_id": None if self.subject_id is None else str(self.subject_id),
            "detail": self.detail,
        }


class AccessLog:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def create_schema(self) -> None:
        await self.pool.execute(SCHEMA)

    async def record(
        self,
        actor: Actor,
        school_id: UUID,
        what: str,
        subject_id: UUID | None,
        detail: dict[str, Any],
        now: datetime,
    ) -> None:
        await self.pool.execute(
            "INSERT INTO audit_views (viewed_at, school_id, staff_id, staff_name, what, subject_id, detail) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb)",
            now,
            school_id,
            actor.id,
            actor.name,
            what,
            subject_id,
            orjson.dumps(detail).decode(),
        )

    async def views(self, school_id: UUID, limit: int = 200) -> list[View]:
        rows = await self.pool.fetch(
            "SELECT viewed_at, staff_id, staff_name, what, subject_id, detail::text FROM audit_views "
            "WHERE school_id = $1 ORDER BY view_id DESC LIMIT $2",
            school_id,
            limit,
        )
        return [View(r[0], r[1], r[2], r[3], r[4], orjson.loads(r[5])) for r in rows]
