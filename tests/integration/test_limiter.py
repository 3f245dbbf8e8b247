"""The limiter against the real PostgreSQL, with the time given: windows, locks and lost tries."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import asyncpg
import pytest
import pytest_asyncio

from hallpass.bootstrap import create_pool
from hallpass.credentials import CredentialStore, Limit, Limiter, TooManyAttempts
from hallpass.sessions import SessionStore

START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
LIMIT = Limit(failures=3, window=timedelta(minutes=15), lockout=timedelta(minutes=5))


@pytest_asyncio.fixture(loop_scope="session")
async def limiter(fresh_database_url: str) -> AsyncIterator[Limiter]:
    pool: asyncpg.Pool = await create_pool(fresh_database_url, size=4)
    await CredentialStore(pool, SessionStore(pool)).create_schema()
    yield Limiter(pool)
    await pool.close()


async def attempt(limiter: Limiter, login: str, ok: bool, now: datetime) -> bool:
    async def secret_ok() -> bool:
        return ok

    return await limiter.check(login, LIMIT, now=now, secret_ok=secret_ok)


async def test_the_failure_that_reaches_the_limit_locks_until_the_lockout_ends(limiter: Limiter) -> None:
    login = f"a-{uuid4()}"
    for minute in range(LIMIT.failures):
        assert not await attempt(limiter, login, False, START + timedelta(minutes=minute))
    locked_at = START + timedelta(minutes=LIMIT.failures - 1)
    with pytest.raises(TooManyAttempts) as refused:
        await attempt(limiter, login, True, locked_at + timedelta(minutes=1))
    assert refused.value.retry_after == 4 * 60
    assert await limiter.lockouts(login) == [(locked_at, locked_at + LIMIT.lockout)]
    assert await attempt(limiter, login, True, locked_at + LIMIT.lockout)


async def test_failures_older_than_the_window_are_forgotten(limiter: Limiter) -> None:
    login = f"b-{uuid4()}"
    for _ in range(LIMIT.failures - 1):
        await attempt(limiter, login, False, START)
    later = START + LIMIT.window
    for _ in range(LIMIT.failures - 1):
        assert not await attempt(limiter, login, False, later)
    assert await attempt(limiter, login, True, later)
    assert await limiter.lockouts(login) == []


async def test_a_success_clears_the_failures_so_far(limiter: Limiter) -> None:
    login = f"c-{uuid4()}"
    for _ in range(LIMIT.failures - 1):
        await attempt(limiter, login, False, START)
    assert await attempt(limiter, login, True, START)
    for _ in range(LIMIT.failures - 1):
        assert not await attempt(limiter, login, False, START)


async def test_tries_in_flight_count_and_a_lost_one_is_forgotten_with_its_window(limiter: Limiter) -> None:
    login = f"d-{uuid4()}"
    release = asyncio.Event()
    checked = 0

    async def slow_secret() -> bool:
        nonlocal checked
        checked += 1
        await release.wait()
        return False

    in_flight = [
        asyncio.create_task(limiter.check(login, LIMIT, now=START, secret_ok=slow_secret))
        for _ in range(LIMIT.failures)
    ]
    for _ in range(3000):
        if checked == LIMIT.failures:
            break
        await asyncio.sleep(0.01)
    assert checked == LIMIT.failures
    with pytest.raises(TooManyAttempts) as refused:
        await attempt(limiter, login, True, START)
    assert refused.value.retry_after == LIMIT.lockout.total_seconds()
    release.set()
    assert await asyncio.gather(*in_flight) == [False] * LIMIT.failures

    # A process that died between admitting a try and counting it leaves it in flight; the
    # next window starts without it.
    lost = f"e-{uuid4()}"
    await limiter.pool.execute(
        "INSERT INTO sign_in_limits VALUES ($1, $2, 0, $3, NULL)", lost, START, LIMIT.failures
    )
    with pytest.raises(TooManyAttempts):
        await attempt(limiter, lost, True, START + timedelta(minutes=1))
    assert await attempt(limiter, lost, True, START + LIMIT.window)
