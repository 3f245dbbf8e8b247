"""Staff sessions kept in memory for a moment, and forgotten in every process once they change."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
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


Heard = Callable[..., asyncio.Event]


@pytest.fixture
def heard(monkeypatch: pytest.MonkeyPatch) -> Heard:
    """`heard(cache)`: an event set when that cache next hears of a change (`heard(cache, what)`:
    of a change whose payload is `what`)."""
    events: list[tuple[SessionCache, str | None, asyncio.Event]] = []
    original = SessionCache.changed

    def changed(self: SessionCache, *args: Any) -> None:
        original(self, *args)
        for cache, payload, event in events:
            if cache is self and payload in (None, args[-1]):
                event.set()

    monkeypatch.setattr(SessionCache, "changed", changed)

    def next_change(cache: SessionCache, payload: str | None = None) -> asyncio.Event:
        event = asyncio.Event()
        events.append((cache, payload, event))
        return event

    return next_change


@pytest.fixture
async def two(fresh_database_url: str, heard: object) -> AsyncIterator[tuple[Runtime, Runtime]]:
    """Two web processes' runtimes on one database (built after `heard` patches the handler)."""
    async with runtime_on(fresh_database_url) as a, runtime_on(fresh_database_url) as b:
        yield a, b


async def started(rt: Runtime, actor: Actor, via: str = BEARER) -> tuple[str, SessionRecord]:
    return await rt.sessions.start(actor, via=via, now=NOW, lifetime=SESSION_LIFETIME)


async def found_once(rt: Runtime, actor: Actor, via: str = BEARER) -> tuple[str, SessionRecord]:
    """A session of `actor` started in `rt` and found there once (so kept, for staff)."""
    raw, record = await started(rt, actor, via)
    assert await rt.sessions.find(raw, via=via, now=NOW) is not None
    return raw, record


async def test_a_staff_session_is_kept_and_ended_here_at_once(two: tuple[Runtime, Runtime]) -> None:
    a, _ = two
    raw, record = await started(a, staff(), COOKIE)
    found = await a.sessions.find(raw, via=COOKIE, now=NOW)
    assert found is not None and found.actor == record.actor and found.csrf == record.csrf
    assert a.sessions.cache.holds(record.id_hash, COOKIE)
    again = await a.sessions.find(raw, via=COOKIE, now=NOW)
    assert again == found and again is not found, "each request gets a copy of its own"

    await a.sessions.revoke(record.id_hash, now=NOW)
    assert await a.sessions.find(raw, via=COOKIE, now=NOW) is None


async def test_ending_a_session_in_another_process_ends_it_here(
    two: tuple[Runtime, Runtime], heard: Heard
) -> None:
    a, b = two
    raw, record = await found_once(a, staff())
    assert a.sessions.cache.holds(record.id_hash, BEARER)

    told = heard(a.sessions.cache)
    await b.sessions.revoke(record.id_hash, now=NOW)
    await asyncio.wait_for(told.wait(), 20)
    assert not a.sessions.cache.holds(record.id_hash, BEARER)
    assert await a.sessions.find(raw, via=BEARER, now=NOW) is None


async def test_removing_a_person_ends_their_kept_sessions_everywhere(
    two: tuple[Runtime, Runtime], heard: Heard
) -> None:
    a, b = two
    actor = staff()
    raw, _ = await found_once(a, actor)

    told = heard(a.sessions.cache)
    assert await b.sessions.revoke_principal(actor.id, now=NOW) == 1  # type: ignore[arg-type]
    await asyncio.wait_for(told.wait(), 20)
    assert await a.sessions.find(raw, via=BEARER, now=NOW) is None


async def test_any_change_to_the_row_but_activity_is_heard(
    two: tuple[Runtime, Runtime], heard: Heard
) -> None:
    a, _ = two
    raw, record = await found_once(a, staff())

    before = a.sessions.cache.generation
    later = NOW + timedelta(seconds=1)
    await a.pool.execute("UPDATE sessions SET last_seen_at = $2 WHERE id_hash = $1", record.id_hash, later)
    await a.pool.execute("UPDATE sessions SET expires_at = $2 WHERE id_hash = $1", record.id_hash, later)
    # NOTIFYs arrive in the order their transactions committed: once a last one is heard, every
    # one sent for the two changes before it has been heard too.
    told = heard(a.sessions.cache, "the last")
    await a.pool.execute("SELECT pg_notify($1, 'the last')", SESSIONS_CHANNEL)
    await asyncio.wait_for(told.wait(), 20)
    assert a.sessions.cache.generation == before + 2, "the expiry was announced, the activity was not"
    assert not a.sessions.cache.holds(record.id_hash, BEARER)
    assert await a.sessions.find(raw, via=BEARER, now=NOW + timedelta(seconds=2)) is None


async def test_an_expired_session_is_not_answered_from_memory(two: tuple[Runtime, Runtime]) -> None:
    a, _ = two
    raw, record = await found_once(a, staff())
    later = record.expires_at + timedelta(seconds=1)
    assert await a.sessions.find(raw, via=BEARER, now=later) is None


async def test_student_sessions_are_never_kept(two: tuple[Runtime, Runtime]) -> None:
    a, _ = two
    student = Actor(kind="student", id=uuid4(), school_id=uuid4(), name="Bo")
    raw, record = await found_once(a, student, COOKIE)
    assert not a.sessions.cache.holds(record.id_hash, COOKIE)

    # Their last-seen time moves in whichever process serves them, without a NOTIFY.
    seen = NOW + timedelta(minutes=3)
    await a.sessions.touch(record.id_hash, now=seen)
    found = await a.sessions.find(raw, via=COOKIE, now=NOW)
    assert found is not None and found.last_seen_at == seen


async def test_nothing_kept_is_used_while_no_connection_listens(two: tuple[Runtime, Runtime]) -> None:
    a, _ = two
    raw, record = await found_once(a, staff())
    assert a.sessions.cache.holds(record.id_hash, BEARER)

    await a.watcher.stop()  # from now on a NOTIFY would be missed
    await a.pool.execute("UPDATE sessions SET revoked_at = $2 WHERE id_hash = $1", record.id_hash, NOW)
    assert await a.sessions.find(raw, via=BEARER, now=NOW) is None

    _, kept = await found_once(a, staff())
    assert not a.sessions.cache.holds(kept.id_hash, BEARER)


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
