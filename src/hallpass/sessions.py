"""Server-side sessions: each browser sign-in and each API bearer token is a revocable row.

The browser's signed cookie and the bearer token carry only a random session id; the row (found
by the id's SHA-256, so a leaked table opens nothing) says who signed in, until when, and
whether the session was ended. Sign-out, a new password, and removing a member of staff end
sessions at once, from any web process.

Staff sessions found are kept in the process for a few seconds (`SessionCache`), so a request
costs no read of the row. Every change to a row other than its last-seen time is announced by a
trigger on `SESSIONS_CHANNEL`; each process listening there forgets that session when the
NOTIFY arrives, and keeps nothing while it does not listen (docs/decisions/105).
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any
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
CREATE OR REPLACE FUNCTION hallpass_session_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('hallpass_sessions', OLD.id_hash);
    RETURN NULL;
END $$;
DO $$ BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = 'sessions_changed'
                   AND tgrelid = 'sessions'::regclass) THEN
        CREATE TRIGGER sessions_changed AFTER UPDATE ON sessions FOR EACH ROW
            WHEN (ROW(OLD.id_hash, OLD.kind, OLD.via, OLD.principal_id, OLD.school_id, OLD.role,
                      OLD.roles, OLD.name, OLD.csrf, OLD.must_change, OLD.expires_at, OLD.revoked_at)
                  IS DISTINCT FROM
                  ROW(NEW.id_hash, NEW.kind, NEW.via, NEW.principal_id, NEW.school_id, NEW.role,
                      NEW.roles, NEW.name, NEW.csrf, NEW.must_change, NEW.expires_at, NEW.revoked_at))
            EXECUTE FUNCTION hallpass_session_changed();
        CREATE TRIGGER sessions_deleted AFTER DELETE ON sessions FOR EACH ROW
            EXECUTE FUNCTION hallpass_session_changed();
    END IF;
END $$;
"""

SESSIONS_CHANNEL = "hallpass_sessions"
"""A session's row changed (ended, expiry, password chosen...): its id hash is the payload."""

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


CACHE_SECONDS = 5.0
"""How long a process answers a staff session from memory without reading its row again."""
CACHE_SIZE = 10_000


class SessionCache:
    """Staff sessions this process has found, each for at most `CACHE_SECONDS`.

    Entries are good only while the process listens on `SESSIONS_CHANNEL` on the connection
    they were found under (`follow`): a NOTIFY missed while no connection listened cannot
    leave a revoked session here. Student sessions are never kept: their last-seen time moves
    with every request, in whichever process serves it.
    """

    def __init__(self, *, seconds: float = CACHE_SECONDS, size: int = CACHE_SIZE) -> None:
        self.seconds = seconds
        self.size = size
        self._entries: OrderedDict[tuple[str, str], tuple[SessionRecord, float, int]] = OrderedDict()
        self._listening: Callable[[], int | None] = lambda: None
        self.generation = 0
        """Moves on every change heard of; a read that began before one is not kept."""

    def follow(self, listening: Callable[[], int | None]) -> None:
        """`listening()` names the listening connection (a number that changes when it is made
        again), or is None while no connection listens."""
        self._listening = listening
        self.forget_all()

    def get(self, key: tuple[str, str], now: datetime) -> SessionRecord | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        record, kept_at, connection = entry
        if (
            connection != self._listening()
            or time.monotonic() - kept_at > self.seconds
            or record.expires_at <= now
        ):
            del self._entries[key]
            return None
        return replace(record)

    def keep(self, key: tuple[str, str], record: SessionRecord, generation: int) -> None:
        connection = self._listening()
        if connection is None or generation != self.generation or record.actor.kind != "staff":
            return
        self._entries[key] = (replace(record), time.monotonic(), connection)
        self._entries.move_to_end(key)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)

    def holds(self, id_hash: str, via: str) -> bool:
        """Whether a find of this session would be answered from memory now."""
        return (id_hash, via) in self._entries

    def changed(self, _conn: Any, _pid: Any, _channel: Any, id_hash: str) -> None:
        """The NOTIFY handler: the row of `id_hash` changed."""
        self.generation += 1
        for via in (COOKIE, BEARER):
            self._entries.pop((id_hash, via), None)

    def forget_all(self) -> None:
        self.generation += 1
        self._entries.clear()


class SessionStore:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool
        self.cache = SessionCache()

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
        key = (_digest(raw), via)
        cached = self.cache.get(key, now)
        if cached is not None:
            return cached
        generation = self.cache.generation
        row = await self.pool.fetchrow(
            """
            SELECT * FROM sessions
            WHERE id_hash = $1 AND via = $2 AND revoked_at IS NULL AND expires_at > $3
            """,
            key[0],
            via,
            now,
        )
        if row is None:
            return None
        record = _record(row)
        self.cache.keep(key, record, generation)
        return record

    async def touch(self, id_hash: str, *, now: datetime) -> None:
        await self.pool.execute(
            "UPDATE sessions SET last_seen_at = GREATEST(last_seen_at, $2) WHERE id_hash = $1", id_hash, now
        )

    # Each change forgets what this process kept once it has committed, so the process sees
    # it at once; other processes hear of it from the trigger's NOTIFY.

    async def password_chosen(self, id_hash: str) -> None:
        try:
            await self.pool.execute("UPDATE sessions SET must_change = false WHERE id_hash = $1", id_hash)
        finally:
            self.cache.changed(None, None, None, id_hash)

    async def revoke(self, id_hash: str, *, now: datetime) -> None:
        try:
            await self.pool.execute(
                "UPDATE sessions SET revoked_at = $2 WHERE id_hash = $1 AND revoked_at IS NULL", id_hash, now
            )
        finally:
            self.cache.changed(None, None, None, id_hash)

    async def revoke_principal(self, principal_id: UUID, *, now: datetime, keep: str | None = None) -> int:
        """End every session of a person (a new password, removal from staff); `keep` survives."""
        try:
            status = await self.pool.execute(
                """
                UPDATE sessions SET revoked_at = $2
                WHERE principal_id = $1 AND revoked_at IS NULL AND id_hash IS DISTINCT FROM $3
                """,
                principal_id,
                now,
                keep,
            )
        finally:
            self.cache.forget_all()
        return int(status.split()[-1])
