"""The live stream of a page stays open through a database outage and tells the change it owed."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

import asyncpg
import pytest

from hallpass.http import live

SCHOOL = "school-1"


class Watcher:
    def __init__(self) -> None:
        self.queue: asyncio.Queue[str] = asyncio.Queue()

    @contextlib.asynccontextmanager
    async def subscribe(self, school_id: str) -> AsyncIterator[asyncio.Queue[str]]:
        assert school_id == SCHOOL
        yield self.queue


class Database:
    """Answers the stream's reads, or fails them as PostgreSQL does while it restarts."""

    def __init__(self) -> None:
        self.failures_left = 0
        self.reads = 0

    async def read(self) -> bytes:
        self.reads += 1
        if self.failures_left:
            self.failures_left -= 1
            raise asyncpg.CannotConnectNowError("the database system is shutting down")
        return b"event: passes\ndata: {}\n\n"


def stream_of(watcher: Watcher, event: Any, greeting: Any = None) -> AsyncIterator[bytes]:
    request = SimpleNamespace(app=SimpleNamespace(state=SimpleNamespace(runtime=watcher_runtime(watcher))))
    response = live.school_events(request, SCHOOL, event, greeting)  # type: ignore[arg-type]
    return response.body_iterator  # type: ignore[return-value]


def watcher_runtime(watcher: Watcher) -> SimpleNamespace:
    return SimpleNamespace(watcher=watcher)


async def next_chunk(body: AsyncIterator[bytes]) -> bytes:
    return await asyncio.wait_for(anext(body), 10)


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(live, "OWED_RETRY_SECONDS", 0.01)


async def test_a_change_told_during_an_outage_is_told_once_the_database_answers() -> None:
    watcher, database = Watcher(), Database()
    body = stream_of(watcher, database.read)
    assert b"event: hello" in await next_chunk(body)
    database.failures_left = 2
    watcher.queue.put_nowait(SCHOOL)
    # No further notice arrives: the stream itself tries again until the database is back.
    assert await next_chunk(body) == b"event: passes\ndata: {}\n\n"
    assert database.reads == 3
    watcher.queue.put_nowait(SCHOOL)
    assert await next_chunk(body) == b"event: passes\ndata: {}\n\n"
    assert database.reads == 4
    watcher.queue.put_nowait("")
    with pytest.raises(StopAsyncIteration):
        await next_chunk(body)


async def test_a_greeting_lost_to_an_outage_is_made_up_by_the_next_change() -> None:
    watcher, database = Watcher(), Database()
    database.failures_left = 2
    body = stream_of(watcher, database.read, greeting=database.read)
    assert b"event: hello" in await next_chunk(body)
    assert await next_chunk(body) == b"event: passes\ndata: {}\n\n"
    assert database.reads == 3


async def test_an_error_that_is_not_an_outage_still_ends_the_stream() -> None:
    watcher = Watcher()

    async def broken() -> bytes:
        raise ValueError("a bug")

    body = stream_of(watcher, broken)
    await next_chunk(body)
    watcher.queue.put_nowait(SCHOOL)
    with pytest.raises(ValueError, match="a bug"):
        await next_chunk(body)


async def test_a_change_read_before_another_read_failed_is_still_told_when_the_database_answers() -> None:
    """A page watching two values: the first is read, changed, and the second read fails."""
    watcher, database = Watcher(), Database()
    emergency_on = [False]

    async def read_mode() -> bool:
        return emergency_on[0]

    async def read_line() -> bytes:
        return await database.read()

    mode = live.Watched("emergency", read_mode, False)
    line = live.Watched("line", read_line, b"as shown")

    async def event() -> bytes | None:
        return await live.changes(mode, line) or None

    body = stream_of(watcher, event)
    assert b"event: hello" in await next_chunk(body)
    emergency_on[0] = True
    database.failures_left = 1
    watcher.queue.put_nowait(SCHOOL)
    assert await next_chunk(body) == live.changed_event("emergency") + live.changed_event("line")
    assert database.reads == 2
