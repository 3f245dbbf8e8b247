"""Commands decide on the cache's copies unread; their save checks those copies are still current.

Two `Hallpass` applications on one database stand for two processes, each with its own cache
(docs/decisions/105).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.persistence import IntegrityError, StoredEvent

from hallpass.acting import Acting
from hallpass.aggregates.emergencies import EmergencyInProgress
from hallpass.bootstrap import Runtime
from hallpass.commands import Hallpass
from hallpass.commands.messages import CreatePasses
from hallpass.errors import StudentAlreadyOut
from hallpass.eventstore import EventStore, StreamRead
from support.runtime import with_projections
from support.school import SchoolFixture, make_school, trip

NOW = datetime(2030, 3, 4, 15, 0, tzinfo=UTC)


class CountingStore(EventStore):
    """An event store that counts the reads of streams it is asked for, and the appends that
    clashed with another writer."""

    reads = 0
    clashes = 0

    async def append(self, events: Sequence[StoredEvent], **options: Any) -> list[int]:
        try:
            return await super().append(events, **options)
        except IntegrityError:
            self.clashes += 1
            raise

    async def read_streams(
        self, streams: Sequence[tuple[UUID, int]], *, snapshots: bool = True
    ) -> dict[UUID, StreamRead]:
        self.reads += 1
        return await super().read_streams(streams, snapshots=snapshots)


@pytest.fixture
async def school(runtime: Runtime) -> SchoolFixture:
    return await make_school(runtime, students=4)


def apps(runtime: Runtime) -> tuple[Hallpass, Hallpass]:
    return Hallpass(CountingStore(runtime.pool)), Hallpass(CountingStore(runtime.pool))


def counting(app: Hallpass) -> CountingStore:
    """The store `apps` gave the application, which counts its reads and clashes."""
    store = app.store
    assert isinstance(store, CountingStore)
    return store


def create(school: SchoolFixture, student: UUID, place: str = "Library") -> CreatePasses:
    return CreatePasses(**trip(school, place, [student]))


async def created(app: Hallpass, school: SchoolFixture, student: UUID) -> UUID:
    outcome = await app.create_passes(Acting(school.teacher(), NOW), create(school, student))
    return UUID(outcome.body["passes"][0]["id"])


async def test_a_command_on_cached_aggregates_reads_nothing(runtime: Runtime, school: SchoolFixture) -> None:
    a, _ = apps(runtime)
    student = school.students[0]
    pass_id = await created(a, school, student)
    await a.complete_pass(Acting(school.teacher(), NOW), pass_id)
    store = counting(a)
    before = store.reads
    again = await created(a, school, student)
    await a.complete_pass(Acting(school.teacher(), NOW), again)
    assert store.reads == before, "everything the second create and complete needed was cached"


async def test_a_refusal_on_a_cached_copy_is_decided_again_on_what_is_recorded(
    runtime: Runtime, school: SchoolFixture
) -> None:
    a, b = apps(runtime)
    student = school.students[0]
    pass_id = await created(a, school, student)  # a's cache: the student is out
    await b.complete_pass(Acting(school.teacher(), NOW), pass_id)  # another process brings them back
    assert await created(a, school, student) != pass_id, "not refused as still out"


async def test_a_decision_on_a_copy_another_process_has_moved_is_decided_again(
    runtime: Runtime, school: SchoolFixture
) -> None:
    a, b = apps(runtime)
    student = school.students[1]
    first = await created(a, school, student)
    await a.complete_pass(Acting(school.teacher(), NOW), first)  # a's cache: the student is back
    await created(b, school, student)  # another process sends them out again
    with pytest.raises(StudentAlreadyOut):  # not a second open pass
        await a.create_passes(Acting(school.teacher(), NOW), create(school, student, "Nurse"))


async def test_a_stream_only_read_is_checked_too(runtime: Runtime, school: SchoolFixture) -> None:
    a, b = apps(runtime)
    pass_id = await created(a, school, school.students[2])  # a's cache: no emergency (absent)
    await a.complete_pass(Acting(school.teacher(), NOW), pass_id)
    await with_projections(runtime, b.declare_emergency(Acting(school.admin(), NOW), school.id))
    with pytest.raises(EmergencyInProgress):
        await created(a, school, school.students[3])


async def test_a_stream_another_process_keeps_writing_is_read_after_it_clashed_once(
    runtime: Runtime, school: SchoolFixture
) -> None:
    a, b = apps(runtime)
    store = counting(a)
    student = school.students[3]
    clashes = []
    for _ in range(4):
        # The other process takes the student out and back: a's cached copy is behind each time.
        elsewhere = await created(b, school, student)
        await b.complete_pass(Acting(school.teacher(), NOW), elsewhere)
        here = await created(a, school, student)
        await a.complete_pass(Acting(school.teacher(), NOW), here)
        clashes.append(store.clashes)
    # The first turn read the student (not cached yet); the second trusted a stale copy and
    # clashed; from then on a reads it, and clashes no more.
    assert clashes[0] == 0
    assert clashes[1] >= 1
    assert clashes[3] == clashes[1]


async def test_a_clash_leaves_trusted_the_streams_that_had_not_moved(
    runtime: Runtime, school: SchoolFixture
) -> None:
    a, b = apps(runtime)
    store = counting(a)
    student = school.students[2]
    await a.complete_pass(Acting(school.teacher(), NOW), await created(a, school, student))
    # The other process takes the student out and back: a's cached copies of the student and of
    # the library (which counts who is in) are behind, its copies of the school and the origin are not.
    await b.complete_pass(Acting(school.teacher(), NOW), await created(b, school, student))
    await created(a, school, student)
    assert store.clashes == 1
    repository = a.repository
    for moved in (student, school.rooms["Library"]):
        assert repository._trusted(moved) == (False, None), "it moved: read for a while"
    for unmoved in (school.id, school.rooms["Room 101"]):
        known, cached = repository._trusted(unmoved)
        assert known and cached is not None, "read again at the version the save held: trusted"
