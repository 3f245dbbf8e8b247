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
"""

MAX_FAILURES = 10
FAILURE_WINDOW = timedelta(minutes=15)

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
