"""Sign-in secrets, kept apart from the event log so a password never enters history.

Only argon2 hashes are stored. Failed sign-ins are counted per login for rate limiting.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

import asyncpg
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

SCHEMA = """
CREATE TABLE IF NOT EXISTS credentials (
    login text PRIMARY KEY,
    principal_kind text NOT NULL,
    principal_id uuid NOT NULL,
    school_id uuid NOT NULL,
    password_hash text NOT NULL,
    must_change boolean NOT NULL DEFAULT false,
    updated_at timestamptz NOT NULL
);
CREATE TABLE IF NOT EXISTS sign_in_failures (
    login text NOT NULL,
    at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS sign_in_failures_login ON sign_in_failures (login, at);
CREATE TABLE IF NOT EXISTS sign_in_lockouts (
    login text NOT NULL,
    locked_at timestamptz NOT NULL,
    locked_until timestamptz NOT NULL,
    failures integer NOT NULL
);
CREATE INDEX IF NOT EXISTS sign_in_lockouts_login ON sign_in_lockouts (login, locked_until);
"""

MAX_FAILURES = 10
FAILURE_WINDOW = timedelta(minutes=15)
LOCKOUT = timedelta(minutes=15)

_hasher = PasswordHasher()


@dataclass(frozen=True)
class Credential:
    login: str
    principal_kind: str
    principal_id: UUID
    school_id: UUID
    must_change: bool


class TooManyAttempts(Exception):
    def __init__(self, retry_after: int) -> None:
        super().__init__("too many failed sign-ins")
        self.retry_after = retry_after


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(_hasher.hash, password)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


class CredentialStore:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def create_schema(self) -> None:
        async with self.pool.acquire() as conn:
            await conn.execute(SCHEMA)

    async def set_password_hash(
        self,
        *,
        login: str,
        principal_kind: str,
        principal_id: UUID,
        school_id: UUID,
        password_hash: str,
        now: datetime,
        must_change: bool = False,
    ) -> None:
        await self.pool.execute(
            """
            INSERT INTO credentials VALUES ($1, $2, $3, $4, $5, $6, $7)
            ON CONFLICT (login) DO UPDATE SET password_hash = EXCLUDED.password_hash,
                must_change = EXCLUDED.must_change, updated_at = EXCLUDED.updated_at
            """,
            login.strip().lower(),
            principal_kind,
            principal_id,
            school_id,
            password_hash,
            must_change,
            now,
        )

    async def verify(self, login: str, password: str, *, now: datetime) -> Credential | None:
        """The credential if the password matches; None otherwise. Raises when rate limited."""
        key = login.strip().lower()
        since = now - FAILURE_WINDOW
        failures = await self.pool.fetch(
            "SELECT at FROM sign_in_failures WHERE login = $1 AND at > $2 ORDER BY at", key, since
        )
        if len(failures) >= MAX_FAILURES:
            oldest = failures[-MAX_FAILURES]["at"]
            raise TooManyAttempts(max(1, int((oldest + FAILURE_WINDOW - now).total_seconds())))
        row = await self.pool.fetchrow("SELECT * FROM credentials WHERE login = $1", key)
        ok = row is not None and await asyncio.to_thread(_verify, row["password_hash"], password)
        if not ok or row is None:
            await self.pool.execute("INSERT INTO sign_in_failures VALUES ($1, $2)", key, now)
            return None
        await self.pool.execute("DELETE FROM sign_in_failures WHERE login = $1", key)
        return Credential(
            login=key,
            principal_kind=row["principal_kind"],
            principal_id=row["principal_id"],
            school_id=row["school_id"],
            must_change=row["must_change"],
        )


class StudentSignIns:
    """Student portal sign-in: the first with the ID as password, then a chosen password.

    Ten failures within 15 minutes lock the login for 15 minutes; each lockout is kept as a
    row of `sign_in_lockouts` (never deleted), the record an audit reads.
    """

    def __init__(self, store: CredentialStore) -> None:
        self.pool = store.pool
        self.store = store

    async def locked_for(self, login: str, *, now: datetime) -> int | None:
        until = await self.pool.fetchval(
            "SELECT max(locked_until) FROM sign_in_lockouts WHERE login = $1 AND locked_until > $2",
            login,
            now,
        )
        return None if until is None else max(1, int((until - now).total_seconds()))

    async def verify(self, login: str, password: str, *, initial: set[str], now: datetime) -> bool | None:
        """None: wrong (counted). True: signed in with the ID, a new password is needed. False: ok.

        Raises TooManyAttempts while the login is locked.
        """
        remaining = await self.locked_for(login, now=now)
        if remaining is not None:
            raise TooManyAttempts(remaining)
        row = await self.pool.fetchrow("SELECT * FROM credentials WHERE login = $1", login)
        if row is None:
            ok, must_change = password in initial, True
        else:
            ok = await asyncio.to_thread(_verify, row["password_hash"], password)
            must_change = bool(row["must_change"])
        if not ok:
            await self._fail(login, now)
            return None
        await self.pool.execute("DELETE FROM sign_in_failures WHERE login = $1", login)
        return must_change

    async def _fail(self, login: str, now: datetime) -> None:
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))", login)
            await conn.execute("INSERT INTO sign_in_failures VALUES ($1, $2)", login, now)
            count = await conn.fetchval(
                "SELECT count(*) FROM sign_in_failures WHERE login = $1 AND at > $2",
                login,
                now - FAILURE_WINDOW,
            )
            if count >= MAX_FAILURES:
                await conn.execute(
                    "INSERT INTO sign_in_lockouts VALUES ($1, $2, $3, $4)", login, now, now + LOCKOUT, count
                )
                await conn.execute("DELETE FROM sign_in_failures WHERE login = $1", login)

    async def lockouts(self, login: str) -> list[tuple[datetime, datetime]]:
        rows = await self.pool.fetch(
            "SELECT locked_at, locked_until FROM sign_in_lockouts WHERE login = $1 ORDER BY locked_at",
            login,
        )
        return [(r["locked_at"], r["locked_until"]) for r in rows]
