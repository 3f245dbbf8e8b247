"""Processes hear which streams the others appended to (decision 124): the log's NOTIFY names
each append's streams and versions, and a process drops its older cached copies, so its next
command decides on what another process committed instead of clashing with it first."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
from uuid import UUID, uuid4

import asyncpg
import pytest
from eventsourcing.persistence import StoredEvent

from hallpass.acting import Acting
from hallpass.aggregates.students import Student
from hallpass.bootstrap import Runtime
from hallpass.commands import Hallpass
from hallpass.commands.messages import CreatePasses
from hallpass.eventstore.notice import NOTICE_EVENTS, head_of, streams_of
from hallpass.timers.worker import TimerWorker
from support.runtime import runtime_on
from support.school import SchoolFixture, make_school, trip


async def test_an_appends_notify_names_its_last_notification_and_every_stream_it_wrote(
    runtime: Runtime, fresh_database_url: str
) -> None:
    heard: asyncio.Queue[str] = asyncio.Queue()
    conn = await asyncpg.connect(fresh_database_url)
    try:
        await conn.add_listener(runtime.store.channel, lambda _c, _p, _ch, payload: heard.put_nowait(payload))
        a, b = uuid4(), uuid4()
        small = [StoredEvent(a, 1, "t", b"{}"), StoredEvent(a, 2, "t", b"{}"), StoredEvent(b, 1, "t", b"{}")]
        ids = await runtime.store.append(small)
        payload = await asyncio.wait_for(heard.get(), 5)
        assert head_of(payload) == max(ids)
        assert sorted(streams_of(payload)) == sorted([(a, 1), (a, 2), (b, 1)])

        large = [StoredEvent(uuid4(), 1, "t", b"{}") for _ in range(NOTICE_EVENTS + 1)]
        ids = await runtime.store.append(large)
        payload = await asyncio.wait_for(heard.get(), 5)
        assert head_of(payload) == max(ids)
        assert list(streams_of(payload)) == [], "a NOTIFY's payload stays under 8,000 bytes"
        assert len(payload) < 8000

        # The most events a NOTIFY names, each at a 19-digit version.
        most = [StoredEvent(uuid4(), 10**18, "t", b"{}") for _ in range(NOTICE_EVENTS)]
        ids = await runtime.store.append(most)
        payload = await asyncio.wait_for(heard.get(), 5)
        assert head_of(payload) == max(ids) and len(list(streams_of(payload))) == NOTICE_EVENTS

        c = uuid4()
        tracked = await runtime.store.append([StoredEvent(c, 1, "t", b"{}")])  # and the lone append
        payload = await asyncio.wait_for(heard.get(), 5)
        assert (head_of(payload), list(streams_of(payload))) == (max(tracked), [(c, 1)])
    finally:
        await conn.close()


async def send_out(app: Hallpass, school: SchoolFixture, student: UUID) -> UUID:
    """`support.school.send_out` for an application of its own (not a runtime's): the student
    to the nurse, by Ada, now."""
    outcome = await app.create_passes(
        Acting(school.teacher(), datetime.now(UTC)), CreatePasses(**trip(school, "Nurse", [student]))
    )
    return UUID(outcome.body["passes"][0]["id"])


async def test_a_process_drops_what_another_committed_since_and_decides_without_a_clash(
    runtime: Runtime, fresh_database_url: str
) -> None:
    school = await make_school(runtime, students=2)
    student = school.students[0]
    async with runtime_on(fresh_database_url) as other:
        # The other process sends the student out: it caches the student with the pass open.
        pass_id = await send_out(other.app, school, student)
        unheard = Hallpass(other.store)  # the same store, but no watcher tells it anything
        await send_out(unheard, school, school.students[1])  # warm: it caches the school's streams
        stale = other.app.repository._cache[student][0].version

        # This process completes the pass; the other hears of it.
        completed = await runtime.app.complete_pass(Acting(school.teacher(), datetime.now(UTC)), pass_id)
        assert completed.notification_id is not None
        assert await other.watcher.log_past(completed.notification_id - 1, timeout=5)
        cached = other.app.repository._cache.get(student)
        assert cached is None or cached[0].version > stale, "the stale copy is gone"
        assert await unheard.repository.find(student, Student) is not None  # back, free: cached

        # Its next command for the student is decided once and appended once.
        batches = other.store.group_commit.batches
        again = await send_out(other.app, school, student)
        assert other.store.group_commit.batches == batches + 1
        assert not other.app.repository._contended
        # Its own append's NOTIFY leaves what it saved in its cache.
        latest = other.app.repository._cache[student][0].version
        head = await other.pool.fetchval("SELECT max(notification_id) FROM hallpass_events")
        assert await other.watcher.log_past(head - 1, timeout=5)
        assert other.app.repository._cache[student][0].version == latest

        # A repository that heard nothing decides on its stale copy, clashes, and decides again.
        await runtime.app.complete_pass(Acting(school.teacher(), datetime.now(UTC)), again)
        batches = unheard.store.group_commit.batches
        await send_out(unheard, school, student)
        assert unheard.store.group_commit.batches == batches + 2
        assert student in unheard.repository._contended


async def test_the_timer_workers_cache_hears_the_web_too(
    runtime: Runtime, fresh_database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    school = await make_school(runtime, students=1)
    student = school.students[0]
    worker = TimerWorker(fresh_database_url)
    try:
        app = await worker.app()
        assert worker.listener is not None
        await asyncio.wait_for(worker.listener.connected.wait(), 5)
        cached = await app.repository.find(student, Student)
        assert cached is not None and student in app.repository._cache

        dropped = asyncio.Event()
        heard = app.repository.moved

        def moved(streams: Iterator[tuple[UUID, int]]) -> None:
            heard(streams)
            if student not in app.repository._cache:
                dropped.set()

        monkeypatch.setattr(app.repository, "moved", moved)
        await send_out(runtime.app, school, student)  # the web moves the student on
        await asyncio.wait_for(dropped.wait(), 5)
    finally:
        await worker.close()


async def test_a_repository_holding_nothing_reads_nothing_of_what_moved(runtime: Runtime) -> None:
    """The projector's application runs no commands: the NOTIFYs' streams go unparsed there."""
    parsed: list[int] = []

    def streams() -> Iterator[tuple[UUID, int]]:
        parsed.append(1)
        yield uuid4(), 1

    empty = Hallpass(runtime.store).repository
    empty.moved(streams())
    assert parsed == []
    school = await make_school(runtime, students=1)
    assert await runtime.app.repository.find(school.students[0], Student) is not None
    runtime.app.repository.moved(streams())
    assert parsed == [1]
