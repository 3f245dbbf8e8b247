"""Staff sessions kept in memory for a moment, and forgotten in every process once they change."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import pytest

from hallpass.acting import Actor
from hallpass.bootstrap import Runtime
from hallpass.sessions import (
    BEARER,
    COOKIE,
    SESSION_LIFETIME,
    SESSIONS_CHANNEL,
    SessionCache,
    SessionRecord,
    _digest,
)
from support.runtime import runtime_on

NOW = datetime.now(UTC)


def staff() -> Actor:
    return Actor(kind="staff", id=uuid4(), school_id=uuid4(), role="teacher", name="Ada", roles=("teacher",))


Heard = Callable[..., AbstractAsyncContextManager[None]]


@pytest.fixture
def heard(monkeypatch: pytest.MonkeyPatch) -> Heard:
    """`async with heard(cache): ...`: the block, then a wait (20 s at most) until that cache
    hears of a change made since the block began (`heard(cache, what)`: of a change whose payload
    is `what`)."""
    events: list[tuple[SessionCache, str | None, asyncio.Event]] = []
    original = SessionCache.changed

    def changed(self: SessionCache, *args: Any) -> None:
        original(self, *args)
        for cache, payload, event in events:
            if cache is self and payload in (None, args[-1]):
                event.set()

    monkeypatch.setattr(SessionCache, "changed", changed)

    @asynccontextmanager
    async def next_change(cache: SessionCache, payload: str | None = None) -> AsyncIterator[None]:
        event = asyncio.Event()
        events.append((cache, payload, event))
        yield
        await asyncio.wait_for(event.wait(), 20)

    return next_change


# Two web processes' runtimes on one database, each built after `heard` patches the handler.
@pytest.fixture
async def here(fresh_database_url: str, heard: Heard) -> AsyncIterator[Runtime]:
    async with runtime_on(fresh_database_url) as runtime:
        yield runtime


@pytest.fixture
async def elsewhere(fresh_database_url: str, heard: Heard) -> AsyncIterator[Runtime]:
    async with runtime_on(fresh_database_url) as runtime:
        yield runtime


async def started(rt: Runtime, actor: Actor, via: str = BEARER) -> tuple[str, SessionRecord]:
    return await rt.sessions.start(actor, via=via, now=NOW, lifetime=SESSION_LIFETIME)


async def found_once(rt: Runtime, actor: Actor, via: str = BEARER) -> tuple[str, SessionRecord]:
    """A session of `actor` started in `rt` and found there once (so kept, for staff)."""
    raw, record = await started(rt, actor, via)
    assert await rt.sessions.find(raw, via=via, now=NOW) is not None
    return raw, record


async def test_a_staff_session_is_kept_and_ended_here_at_once(here: Runtime) -> None:
    raw, record = await started(here, staff(), COOKIE)
    found = await here.sessions.find(raw, via=COOKIE, now=NOW)
    assert found is not None and found.actor == record.actor and found.csrf == record.csrf
    assert here.sessions.cache.holds(record.id_hash, COOKIE)
    again = await here.sessions.find(raw, via=COOKIE, now=NOW)
    assert again == found and again is not found, "each request gets a copy of its own"

    await here.sessions.revoke(record.id_hash, now=NOW)
    assert await here.sessions.find(raw, via=COOKIE, now=NOW) is None


async def test_ending_a_session_in_another_process_ends_it_here(
    here: Runtime, elsewhere: Runtime, heard: Heard
) -> None:
    raw, record = await found_once(here, staff())
    assert here.sessions.cache.holds(record.id_hash, BEARER)

    async with heard(here.sessions.cache):
        await elsewhere.sessions.revoke(record.id_hash, now=NOW)
    assert not here.sessions.cache.holds(record.id_hash, BEARER)
    assert await here.sessions.find(raw, via=BEARER, now=NOW) is None


async def test_removing_a_person_ends_their_kept_sessions_everywhere(
    here: Runtime, elsewhere: Runtime, heard: Heard
) -> None:
    actor = staff()
    raw, _ = await found_once(here, actor)

    async with heard(here.sessions.cache):
        assert await elsewhere.sessions.revoke_principal(actor.id, now=NOW) == 1  # type: ignore[arg-type]
    assert await here.sessions.find(raw, via=BEARER, now=NOW) is None


async def test_any_change_to_the_row_but_activity_is_heard(here: Runtime, heard: Heard) -> None:
    raw, record = await found_once(here, staff())

    before = here.sessions.cache.generation
    later = NOW + timedelta(seconds=1)
    await here.pool.execute("UPDATE sessions SET last_seen_at = $2 WHERE id_hash = $1", record.id_hash, later)
    await here.pool.execute("UPDATE sessions SET expires_at = $2 WHERE id_hash = $1", record.id_hash, later)
    # NOTIFYs arrive in the order their transactions committed: once a last one is heard, every
    # one sent for the two changes before it has been heard too.
    async with heard(here.sessions.cache, "the last"):
        await here.pool.execute("SELECT pg_notify($1, 'the last')", SESSIONS_CHANNEL)
    assert here.sessions.cache.generation == before + 2, "the expiry was announced, the activity was not"
    assert not here.sessions.cache.holds(record.id_hash, BEARER)
    assert await here.sessions.find(raw, via=BEARER, now=NOW + timedelta(seconds=2)) is None


async def test_an_expired_session_is_not_answered_from_memory(here: Runtime) -> None:
    raw, record = await found_once(here, staff())
    later = record.expires_at + timedelta(seconds=1)
    assert await here.sessions.find(raw, via=BEARER, now=later) is None


async def test_student_sessions_are_never_kept(here: Runtime) -> None:
    student = Actor(kind="student", id=uuid4(), school_id=uuid4(), name="Bo")
    raw, record = await found_once(here, student, COOKIE)
    assert not here.sessions.cache.holds(record.id_hash, COOKIE)

    # Their last-seen time moves in whichever process serves them, without a NOTIFY.
    seen = NOW + timedelta(minutes=3)
    await here.sessions.touch(record.id_hash, now=seen)
    found = await here.sessions.find(raw, via=COOKIE, now=NOW)
    assert found is not None and found.last_seen_at == seen


async def test_nothing_kept_is_used_while_no_connection_listens(here: Runtime) -> None:
    raw, record = await found_once(here, staff())
    assert here.sessions.cache.holds(record.id_hash, BEARER)

    await here.watcher.stop()  # from now on a NOTIFY would be missed
    await here.pool.execute("UPDATE sessions SET revoked_at = $2 WHERE id_hash = $1", record.id_hash, NOW)
    assert await here.sessions.find(raw, via=BEARER, now=NOW) is None

    _, kept = await found_once(here, staff())
    assert not here.sessions.cache.holds(kept.id_hash, BEARER)


def test_a_read_that_began_before_a_change_is_not_kept() -> None:
    cache = SessionCache()
    cache.follow(lambda: 1)
    _, record = _record(staff())
    began = cache.generation
    cache.changed(None, None, None, "some other session")
    cache.keep((record.id_hash, BEARER), record, began)
    assert not cache.holds(record.id_hash, BEARER)
    cache.keep((record.id_hash, BEARER), record, cache.generation)
    assert cache.holds(record.id_hash, BEARER)


def test_what_was_kept_under_an_earlier_connection_is_not_used() -> None:
    connection = [1]
    cache = SessionCache()
    cache.follow(lambda: connection[0])
    _, record = _record(staff())
    cache.keep((record.id_hash, BEARER), record, cache.generation)
    assert cache.get((record.id_hash, BEARER), NOW) == record
    connection[0] = 2  # the LISTEN connection was made again: NOTIFYs may have been missed
    assert cache.get((record.id_hash, BEARER), NOW) is None


def _record(actor: Actor) -> tuple[str, SessionRecord]:
    raw = "hp_" + uuid4().hex
    return raw, SessionRecord(
        id_hash=_digest(raw),
        via=BEARER,
        actor=actor,
        csrf="x",
        must_change=False,
        last_seen_at=NOW,
        expires_at=NOW + SESSION_LIFETIME,
    )
