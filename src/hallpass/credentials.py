"""Sign-in secrets, kept apart from the event log so a password never enters history.

Only argon2 hashes are stored. Every secret (staff, student and kiosk exit passwords, and a
student's first sign-in with their ID) is checked through one `Limiter`, per login.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

import asyncpg
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from hallpass.rows import from_row
from hallpass.sessions import SessionStore

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
CREATE TABLE IF NOT EXISTS sign_in_limits (
    login text PRIMARY KEY,
    window_start timestamptz NOT NULL,
    failures integer NOT NULL DEFAULT 0,
    pending integer NOT NULL DEFAULT 0,
    locked_until timestamptz
);
CREATE TABLE IF NOT EXISTS sign_in_lockouts (
    login text NOT NULL,
    locked_at timestamptz NOT NULL,
    locked_until timestamptz NOT NULL,
    failures integer NOT NULL
);
CREATE INDEX IF NOT EXISTS sign_in_lockouts_login ON sign_in_lockouts (login, locked_until);
CREATE TABLE IF NOT EXISTS password_resets (
    token_hash text PRIMARY KEY,
    principal_id uuid NOT NULL,
    school_id uuid NOT NULL,
    login text NOT NULL,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    used_at timestamptz
);
CREATE INDEX IF NOT EXISTS password_resets_principal ON password_resets (principal_id) WHERE used_at IS NULL;
"""

RESET_LIFETIME = timedelta(hours=24)
"""How long a one-time password link stays good (it also ends when a newer one is made)."""

_hasher = PasswordHasher()


@dataclass(frozen=True)
class Limit:
    """At most `failures` wrong secrets within `window`; the last of them locks the login for `lockout`."""

    failures: int
    window: timedelta
    lockout: timedelta


STAFF_LIMIT = Limit(failures=10, window=timedelta(minutes=15), lockout=timedelta(minutes=15))
STUDENT_LIMIT = Limit(failures=10, window=timedelta(minutes=15), lockout=timedelta(minutes=15))
# Five wrong exit passwords in a row lock a kiosk's exit (the Kiosk aggregate records each try).
KIOSK_EXIT_LIMIT = Limit(failures=5, window=timedelta(hours=24), lockout=timedelta(minutes=5))


@dataclass(frozen=True)
class Credential:
    login: str
    principal_kind: str
    principal_id: UUID
    school_id: UUID
    must_change: bool


def student_login(student_id: UUID) -> str:
    return f"student:{student_id}"


def kiosk_login(kiosk_id: UUID) -> str:
    return f"kiosk:{kiosk_id}"


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


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _seconds(delta: timedelta) -> int:
    return max(1, int(delta.total_seconds() + 0.999))


class Limiter:
    """One limiter for every secret: each try is counted before the secret is checked.

    A login's row in `sign_in_limits` is locked (INSERT ... ON CONFLICT DO UPDATE takes the row
    lock) while a try is admitted, so concurrent tries queue on it: tries in flight (`pending`)
    plus failures in the window never exceed the limit, and no more secrets than that are ever
    checked, however many requests arrive at once. The failure that reaches the limit locks the
    login and is recorded in `sign_in_lockouts` (never deleted: the audit record).
    """

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def check(
        self, login: str, limit: Limit, *, now: datetime, secret_ok: Callable[[], Awaitable[bool]]
    ) -> bool:
        """Admit one try, run `secret_ok`, and count its outcome. Raises TooManyAttempts."""
        await self._admit(login, limit, now)
        ok = False
        try:
            ok = await secret_ok()
        finally:
            await self._settle(login, limit, ok, now)
        return ok

    async def spend(self, login: str, limit: Limit, *, now: datetime) -> None:
        """Count one use of a rate-limited thing (a stream token's request) as a try that does not
        clear the count: the `limit.failures`-th use within `window` pauses it for `lockout`.
        Raises TooManyAttempts while paused."""

        async def counted() -> bool:
            return False

        await self.check(login, limit, now=now, secret_ok=counted)

    async def locked_for(self, login: str, *, now: datetime) -> int | None:
        until = await self.pool.fetchval("SELECT locked_until FROM sign_in_limits WHERE login = $1", login)
        return None if until is None or until <= now else _seconds(until - now)

    async def _admit(self, login: str, limit: Limit, now: datetime) -> None:
        async with self.pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(
                """
                INSERT INTO sign_in_limits AS l (login, window_start) VALUES ($1, $2)
                ON CONFLICT (login) DO UPDATE SET login = l.login
                RETURNING window_start, failures, pending, locked_until
                """,
                login,
                now,
            )
            start, failures, pending = row["window_start"], row["failures"], row["pending"]
            if row["locked_until"] is not None and row["locked_until"] > now:
                raise TooManyAttempts(_seconds(row["locked_until"] - now))
            if start + limit.window <= now:
                start, failures, pending = now, 0, 0
            if failures + pending >= limit.failures:
                # The last tries are still being checked; if they fail, the lock lasts `lockout`.
                raise TooManyAttempts(_seconds(min(start + limit.window - now, limit.lockout)))
            await conn.execute(
                "UPDATE sign_in_limits SET window_start = $2, failures = $3, pending = $4 WHERE login = $1",
                login,
                start,
                failures,
                pending + 1,
            )

    async def _settle(self, login: str, limit: Limit, ok: bool, now: datetime) -> None:
        async with self.pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(
                "SELECT window_start, failures, pending FROM sign_in_limits WHERE login = $1 FOR UPDATE",
                login,
            )
            if row is None:
                return
            start, failures, pending = row["window_start"], row["failures"], max(0, row["pending"] - 1)
            locked_until = None
            if ok:
                failures = 0
            else:
                if start + limit.window <= now:
                    start, failures = now, 0
                failures += 1
                if failures >= limit.failures:
                    locked_until = now + limit.lockout
                    await conn.execute(
                        "INSERT INTO sign_in_lockouts VALUES ($1, $2, $3, $4)",
                        login,
                        now,
                        locked_until,
                        failures,
                    )
                    start, failures = now, 0
            await conn.execute(
                """
                UPDATE sign_in_limits SET window_start = $2, failures = $3, pending = $4,
                    locked_until = COALESCE($5, locked_until)
                WHERE login = $1
                """,
                login,
                start,
                failures,
                pending,
                locked_until,
            )

    async def lockouts(self, login: str) -> list[tuple[datetime, datetime]]:
        rows = await self.pool.fetch(
            "SELECT locked_at, locked_until FROM sign_in_lockouts WHERE login = $1 ORDER BY locked_at",
            login,
        )
        return [(r["locked_at"], r["locked_until"]) for r in rows]


class CredentialStore:
    def __init__(self, pool: asyncpg.Pool, sessions: SessionStore) -> None:
        self.pool = pool
        self.limiter = Limiter(pool)
        self.sessions = sessions

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
        keep_session: str | None = None,
    ) -> None:
        """Store a new password; every session of its owner but `keep_session` ends at once."""
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
        await self.sessions.revoke_principal(principal_id, now=now, keep=keep_session)

    async def forget(self, login: str, principal_id: UUID, *, now: datetime) -> None:
        """Drop a password (a student's next sign-in is with their ID again); sessions end."""
        await self.pool.execute("DELETE FROM credentials WHERE login = $1", login.strip().lower())
        await self.sessions.revoke_principal(principal_id, now=now)

    async def rename_login(self, old: str, new: str) -> None:
        """A member of staff's email changed: the password they have signs in with the new one."""
        for table in ("credentials", "password_resets"):
            await self.pool.execute(
                f"UPDATE {table} SET login = $2 WHERE login = $1", old.strip().lower(), new.strip().lower()
            )

    async def issue_reset(
        self, *, login: str, principal_id: UUID, school_id: UUID, now: datetime
    ) -> tuple[str, datetime]:
        """A one-time token to choose a new password (only its hash is kept); earlier ones end."""
        token = secrets.token_urlsafe(32)
        expires_at = now + RESET_LIFETIME
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute(
                "UPDATE password_resets SET used_at = $2 WHERE principal_id = $1 AND used_at IS NULL",
                principal_id,
                now,
            )
            await conn.execute(
                "INSERT INTO password_resets VALUES ($1, $2, $3, $4, $5, $6, NULL)",
                _token_digest(token),
                principal_id,
                school_id,
                login.strip().lower(),
                now,
                expires_at,
            )
        return token, expires_at

    async def reset_for(self, token: str, *, now: datetime) -> asyncpg.Record | None:
        """The unused, unexpired reset a token names, or None."""
        return await self.pool.fetchrow(
            "SELECT * FROM password_resets WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2",
            _token_digest(token),
            now,
        )

    async def redeem_reset(
        self, token: str, password_hash: str, *, principal_kind: str, now: datetime
    ) -> UUID | None:
        """Use a reset once: the new password is stored and every session ends. None if not valid."""
        row = await self.pool.fetchrow(
            "UPDATE password_resets SET used_at = $2"
            " WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2 RETURNING *",
            _token_digest(token),
            now,
        )
        if row is None:
            return None
        await self.set_password_hash(
            login=row["login"],
            principal_kind=principal_kind,
            principal_id=row["principal_id"],
            school_id=row["school_id"],
            password_hash=password_hash,
            now=now,
        )
        principal: UUID = row["principal_id"]
        return principal

    async def _row(self, login: str) -> asyncpg.Record | None:
        return await self.pool.fetchrow("SELECT * FROM credentials WHERE login = $1", login)

    async def verify(
        self, login: str, password: str, *, now: datetime, limit: Limit = STAFF_LIMIT
    ) -> Credential | None:
        """The credential if the password matches; None otherwise. Raises when rate limited."""
        key = login.strip().lower()
        found: list[asyncpg.Record] = []

        async def secret_ok() -> bool:
            row = await self._row(key)
            if row is None or not await asyncio.to_thread(_verify, row["password_hash"], password):
                return False
            found.append(row)
            return True

        if not await self.limiter.check(key, limit, now=now, secret_ok=secret_ok):
            return None
        return from_row(Credential, found[0], login=key)


class StudentSignIns:
    """Student portal sign-in: the first with the ID as password, then a chosen password.

    Ten failures within 15 minutes lock the login for 15 minutes (the shared `Limiter`); each
    lockout is kept as a row of `sign_in_lockouts` (never deleted), the record an audit reads.
    """

    def __init__(self, store: CredentialStore) -> None:
        self.store = store

    async def locked_for(self, login: str, *, now: datetime) -> int | None:
        return await self.store.limiter.locked_for(login, now=now)

    async def verify(self, login: str, password: str, *, initial: set[str], now: datetime) -> bool | None:
        """None: wrong (counted). True: signed in with the ID, a new password is needed. False: ok.

        Raises TooManyAttempts while the login is locked, or while the tries left are in flight.
        """
        must_change: list[bool] = []

        async def secret_ok() -> bool:
            row = await self.store._row(login)
            if row is None:
                ok, change = password in initial, True
            else:
                ok = await asyncio.to_thread(_verify, row["password_hash"], password)
                change = bool(row["must_change"])
            must_change.append(change)
            return ok

        ok = await self.store.limiter.check(login, STUDENT_LIMIT, now=now, secret_ok=secret_ok)
        return must_change[0] if ok else None

    async def lockouts(self, login: str) -> list[tuple[datetime, datetime]]:
        return await self.store.limiter.lockouts(login)
