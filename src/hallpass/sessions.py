"""Server-side sessions: each browser sign-in and each API bearer token is a revocable row.

The browser's signed cookie and the bearer token carry only a random session id; the row (found
by the id's SHA-256, so a leaked table opens nothing) says who signed in, until when, and
whether the session was ended. Sign-out, a new password, and removing a member of staff end
sessions at once, from any web process.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

import asyncpg

from hallpass.acting import Actor
from hallpass.rows import from_row

SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    id_hash text PRIMARY KEY,
    kind text NOT NULL,
    via text NOT NULL,
    principal_id uuid NOT NULL,
    school_id uuid NOT NULL,
    role text,
    name text NOT NULL,
    csrf text NOT NULL,
    must_change boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL,
    last_seen_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    revoked_at timestamptz
);
ALTER TABLE sessions ADD COLUMN IF NOT EXISTS roles text[];
CREATE INDEX IF NOT EXISTS sessions_principal ON sessions (principal_id) WHERE revoked_at IS NULL;
"""

COOKIE = "cookie"
BEARER = "bearer"
TOKEN_PREFIX = "hp_"
SESSION_LIFETIME = timedelta(hours=12)
TOKEN_LIFETIME = timedelta(hours=12)


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


@dataclass
class SessionRecord:
    id_hash: str
    via: str
    actor: Actor
    csrf: str
    must_change: bool
    last_seen_at: datetime
    expires_at: datetime


def _record(row: asyncpg.Record) -> SessionRecord:
    actor = Actor(
        kind=row["kind"],
        id=row["principal_id"],
        school_id=row["school_id"],
        role=row["role"],
        name=row["name"],
        roles=tuple(row["roles"] or ()),
    )
    return from_row(SessionRecord, row, actor=actor)


class SessionStore:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def create_schema(self) -> None:
        async with self.pool.acquire() as conn:
            await conn.execute(SCHEMA)

    async def start(
        self, actor: Actor, *, via: str, now: datetime, lifetime: timedelta, must_change: bool = False
    ) -> tuple[str, SessionRecord]:
        """A new session for `actor`: its id (shown once, never stored) and its record."""
        if actor.id is None:
            raise ValueError("a session needs a principal")
        raw = (TOKEN_PREFIX if via == BEARER else "") + secrets.token_urlsafe(32)
        row = await self.pool.fetchrow(
            """
            INSERT INTO sessions (id_hash, kind, via, principal_id, school_id, role, name, csrf,
                must_change, created_at, last_seen_at, expires_at, roles)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10, $11, $12)
            RETURNING *
            """,
            _digest(raw),
            actor.kind,
            via,
            actor.id,
            actor.school_id,
            actor.role,
            actor.name,
            secrets.token_urlsafe(32),
            must_change,
            now,
            now + lifetime,
            list(actor.roles),
        )
        return raw, _record(row)

    async def find(self, raw: str, *, via: str, now: datetime) -> SessionRecord | None:
        """The live session this id names, if it was neither ended nor has expired."""
        row = await self.pool.fetchrow(
            """
            SELECT * FROM sessions
            WHERE id_hash = $1 AND via = $2 AND revoked_at IS NULL AND expires_at > $3
            """,
            _digest(raw),
            via,
            now,
        )
        return None if row is None else _record(row)

    async def touch(self, id_hash: str, *, now: datetime) -> None:
        await self.pool.execute(
            "UPDATE sessions SET last_seen_at = GREATEST(last_seen_at, $2) WHERE id_hash = $1", id_hash, now
        )

    async def password_chosen(self, id_hash: str) -> None:
        await self.pool.execute("UPDATE sessions SET must_change = false WHERE id_hash = $1", id_hash)

    async def revoke(self, id_hash: str, *, now: datetime) -> None:
        await self.pool.execute(
            "UPDATE sessions SET revoked_at = $2 WHERE id_hash = $1 AND revoked_at IS NULL", id_hash, now
        )

    async def revoke_principal(self, principal_id: UUID, *, now: datetime, keep: str | None = None) -> int:
        """End every session of a person (a new password, removal from staff); `keep` survives."""
        status = await self.pool.execute(
            """
            UPDATE sessions SET revoked_at = $2
            WHERE principal_id = $1 AND revoked_at IS NULL AND id_hash IS DISTINCT FROM $3
            """,
            principal_id,
            now,
            keep,
        )
        return int(status.split()[-1])
