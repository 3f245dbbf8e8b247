"""Loading aggregates: several streams in one read, copies that share what cannot change, and
snapshots that keep a cold load short however long the stream has grown."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime
from uuid import UUID, uuid4

import pytest
from asyncpg.pgproto.pgproto import UUID as PgUUID
from eventsourcing.persistence import StoredEvent

from hallpass.acting import Acting
from hallpass.aggregates.idempotency import IdempotencyRecord
from hallpass.aggregates.locations import Location
from hallpass.aggregates.students import Student
from hallpass.bootstrap import Runtime
from hallpass.commands import Hallpass
from hallpass.commands.messages import CreatePasses
from hallpass.commands.repository import SNAPSHOT_EVERY, Repository
from hallpass.commands.snapshots import clone, mutable_keys, restore, take
from hallpass.eventstore import EventStore, StreamRead
from support.school import SchoolFixture, make_school


class CountingStore(EventStore):
    """The real store, counting what loads read from it."""

    def __init__(self, store: EventStore) -> None:
        super().__init__(store.pool)
        self.reads = 0
        self.events_read = 0
        self.snapshots_read = 0

    async def read_streams(
        self, streams: Sequence[tuple[UUID, int]], *, snapshots: bool = True
    ) -> dict[UUID, StreamRead]:
        found = await super().read_streams(streams, snapshots=snapshots)
        self.reads += 1
        self.events_read += sum(len(r.events) for r in found.values())
        self.snapshots_read += sum(r.snapshot is not None for r in found.values())
        return found


@pytest.fixture
async def school(runtime: Runtime) -> SchoolFixture:
    return await make_school(runtime, students=3)


async def give_history(repository: Repository, student_id: UUID, place_id: UUID, visits: int) -> None:
    """`visits` passes' worth of events on a student and a place with a capacity."""
    now = datetime.now(UTC)
    student = await repository.find(student_id, Student)
    place = await repository.find(place_id, Location)
    assert student is not None and place is not None
    for _ in range(visits):
        pass_id = uuid4()
        student.open_pass(pass_id=pass_id, destination_id=place_id, now=now)
        student.close_pass(pass_id=pass_id, now=now)
        place.admit(pass_id=pass_id, now=now)
        place.release(pass_id=pass_id, now=now)
    await repository.save(student, place)


async def test_several_streams_come_in_one_read_with_only_what_is_new(runtime: Runtime) -> None:
    store = runtime.store
    a, b, absent = uuid4(), uuid4(), uuid4()
    await store.append([StoredEvent(a, v, "t", b"{}") for v in (1, 2, 3)] + [StoredEvent(b, 1, "t", b"{}")])
    reads = await store.read_streams([(a, 1), (b, 0), (absent, 0)])
    assert [e.originator_version for e in reads[a].events] == [2, 3]
    assert [e.originator_version for e in reads[b].events] == [1]
    assert reads[absent] == StreamRead()

    await store.write_snapshots([StoredEvent(a, 2, "snap", b"s2"), StoredEvent(a, 1, "snap", b"s1")])
    read = (await store.read_streams([(a, 0)]))[a]
    assert read.snapshot is not None and read.snapshot.originator_version == 2
    assert [e.originator_version for e in read.events] == [3]
    read = (await store.read_streams([(a, 2)]))[a]  # the reader is past the snapshot
    assert read.snapshot is None and [e.originator_version for e in read.events] == [3]


async def test_finds_made_together_in_a_unit_are_one_read(runtime: Runtime, school: SchoolFixture) -> None:
    store = CountingStore(runtime.store)
    repository = Repository(store)
    async with repository.unit_of_work() as unit:
        found = await asyncio.gather(
            *(repository.find(s, Student) for s in school.students),
            repository.find(school.rooms["Library"], Location),
            repository.find(uuid4(), Student),
        )
        assert store.reads == 1
        assert [s is not None for s in found] == [True] * 4 + [False]
        assert await unit.find(school.students[0], Student) is found[0]
        assert store.reads == 1


async def test_handed_out_copies_share_only_values_that_cannot_change(
    runtime: Runtime, school: SchoolFixture
) -> None:
    repository = runtime.app.repository
    place = await repository.find(school.rooms["Library"], Location)
    assert place is not None
    twin = clone(place)
    assert twin.name is place.name and twin.occupants is place.occupants
    twin.__dict__["notes"] = ["a"]
    again = clone(twin)
    assert again.__dict__["notes"] == ["a"] and again.__dict__["notes"] is not twin.__dict__["notes"]
    place.admit(pass_id=uuid4(), now=datetime.now(UTC))
    assert twin.pending_events == [] and len(place.pending_events) == 1
    fresh = await repository.find(school.rooms["Library"], Location)
    assert fresh is not None and fresh.occupants == () and fresh.pending_events == []


def record(response: dict[str, object]) -> IdempotencyRecord:
    """An aggregate that holds values that change in place (dicts)."""
    return IdempotencyRecord._create(
        IdempotencyRecord.Recorded,
        id=uuid4(),
        timestamp=datetime.now(UTC),
        key="k",
        principal="staff:x",
        fingerprint="f",
        outcome="done",
        response=response,
        changed={"a": 1},
    )


def test_a_copy_made_with_known_mutable_keys_is_one_made_by_looking_at_every_value() -> None:
    original = record({"passes": [{"id": "1"}]})
    keys = mutable_keys(original)
    assert set(keys) == {"response", "changed"}
    twin = clone(original, keys)
    assert twin.__dict__ == {**original.__dict__, "_pending_events": []}
    assert twin.response is not original.response and twin.key is original.key
    # A copy grown from `original`: only what it does not share is looked at again.
    twin.__dict__["key"] = "other"
    twin.__dict__["extra"] = [1]
    assert set(mutable_keys(twin, original, keys)) == {"response", "changed", "extra"}
    twin.__dict__["notes"] = original.response  # shared with `original`, yet changeable
    assert "notes" in mutable_keys(twin, original, keys)
    # Ids as asyncpg reads them (a session's actor) cannot change either.
    twin.__dict__["created_by"] = ("staff", PgUUID(str(uuid4())))
    assert "created_by" not in mutable_keys(twin)


@pytest.mark.parametrize("snapshot_every", [1, 10**9], ids=["from-a-snapshot", "from-events"])
async def test_values_that_change_in_place_are_never_shared_with_the_cache(
    runtime: Runtime, snapshot_every: int
) -> None:
    writer = Repository(runtime.store)
    writer.snapshot_every = snapshot_every
    saved = record({"passes": [{"id": "1"}]})
    await writer.save(saved)
    saved.response["passes"].append({"id": "changed after the save"})
    for repository in (writer, Repository(runtime.store)):  # cached by the save; loaded cold
        first = await repository.find(saved.id, IdempotencyRecord)
        assert first is not None
        first.response["passes"].append({"id": "changed by a caller"})
        first.changed["b"] = 2
        async with repository.unit_of_work(trusting=True) as unit:
            second = await repository.find(saved.id, IdempotencyRecord)
            assert unit.unread or repository is not writer, "the save's copy was handed out unread"
        assert second is not None
        assert second.response == {"passes": [{"id": "1"}]} and second.changed == {"a": 1}


async def test_a_decision_that_fails_after_changing_its_copy_leaves_the_cache_as_it_was(
    runtime: Runtime, school: SchoolFixture
) -> None:
    repository = Repository(runtime.store)
    student_id, place_id = school.students[0], school.rooms["Library"]
    assert await repository.find(student_id, Student) is not None  # cached
    with pytest.raises(RuntimeError, match="refused after deciding"):
        async with repository.unit_of_work(trusting=True) as unit:
            student = await repository.find(student_id, Student)
            assert student is not None and unit.unread == {student_id: student.version}
            student.open_pass(pass_id=uuid4(), destination_id=place_id, now=datetime.now(UTC))
            assert student.open_pass_id is not None
            raise RuntimeError("refused after deciding")
    assert student is not None
    async with repository.unit_of_work(trusting=True) as unit:
        again = await repository.find(student_id, Student)
        assert again is not None and student_id in unit.unread
        assert again is not student and again.open_pass_id is None and again.pending_events == []
        assert again.version == student.version - 1


async def test_a_cold_load_of_a_long_stream_reads_a_snapshot_and_few_events(
    runtime: Runtime, school: SchoolFixture
) -> None:
    student_id, place_id = school.students[0], school.rooms["Library"]
    await give_history(runtime.app.repository, student_id, place_id, visits=3 * SNAPSHOT_EVERY + 3)

    store = CountingStore(runtime.store)
    cold = Hallpass(store).repository
    student = await cold.find(student_id, Student)
    place = await cold.find(place_id, Location)
    assert store.snapshots_read == 2
    assert store.events_read < 2 * SNAPSHOT_EVERY
    assert student is not None and student.open_pass_id is None
    assert place is not None and place.occupants == ()
    assert student.version == 1 + 2 * (3 * SNAPSHOT_EVERY + 3)

    replayed = Repository(runtime.store)
    replayed.snapshot_every = 10**9
    from_events = await replayed._load_many([student_id, place_id])
    for aggregate in (student, place):
        expected = from_events[aggregate.id]
        assert expected is not None and expected.__dict__ == aggregate.__dict__


async def test_a_stream_without_a_snapshot_gets_one_at_its_first_load(
    runtime: Runtime, school: SchoolFixture
) -> None:
    student_id, place_id = school.students[1], school.rooms["Library"]
    writer = Repository(runtime.store)
    writer.snapshot_every = 10**9  # as the log was before snapshots
    await give_history(writer, student_id, place_id, visits=SNAPSHOT_EVERY)

    first = CountingStore(runtime.store)
    await Repository(first).find(student_id, Student)
    assert first.snapshots_read == 0 and first.events_read == 1 + 2 * SNAPSHOT_EVERY
    second = CountingStore(runtime.store)
    assert await Repository(second).find(student_id, Student) is not None
    assert second.snapshots_read == 1 and second.events_read == 0


async def test_a_snapshot_taken_by_other_code_is_ignored_and_the_stream_replayed(
    runtime: Runtime, school: SchoolFixture
) -> None:
    student_id = school.students[2]
    student = await runtime.app.repository.find(student_id, Student)
    assert student is not None
    snapshot = take(student)
    assert snapshot is not None and restore(snapshot) is not None
    tampered = snapshot.state.replace(b'"fingerprint":"', b'"fingerprint":"x')
    await runtime.store.write_snapshots([StoredEvent(student_id, student.version, snapshot.topic, tampered)])
    assert restore(StoredEvent(student_id, student.version, snapshot.topic, tampered)) is None
    loaded = await Repository(runtime.store).find(student_id, Student)
    assert loaded is not None and loaded.__dict__ == student.__dict__


async def test_an_aggregate_holding_ids_as_asyncpg_reads_them_is_snapshotted(
    runtime: Runtime, school: SchoolFixture
) -> None:
    """A school id taken from a session row is asyncpg's UUID: the aggregate that holds it must
    still be snapshotted, or its stream is replayed whole at every cold load."""
    student = await runtime.app.repository.find(school.students[1], Student)
    assert student is not None
    student.__dict__["school_id"] = PgUUID(str(student.school_id))
    snapshot = take(student)
    assert snapshot is not None
    restored = restore(snapshot)
    assert restored is not None and restored.__dict__ == student.__dict__


async def test_an_id_given_as_text_finds_the_same_aggregate(runtime: Runtime, school: SchoolFixture) -> None:
    repository = Repository(runtime.store)
    as_text = str(school.students[0])
    async with repository.unit_of_work():
        found = await repository.find(as_text, Student)  # type: ignore[arg-type]
        assert found is not None and found.id == school.students[0]
        assert await repository.find(school.students[0], Student) is found


async def test_creating_passes_reads_the_students_and_the_emergency_together(
    runtime: Runtime, school: SchoolFixture
) -> None:
    """The school's emergency state, which every new pass consults, costs no round trip of its
    own: it comes with the students (and the places) in the command's first read."""
    store = CountingStore(runtime.store)
    app = Hallpass(store)
    passes = CreatePasses(
        origin_id=school.rooms["Room 101"],
        destination_id=school.rooms["Library"],
        student_ids=school.students,
    )
    await app.create_passes(Acting(school.teacher(), datetime.now(UTC)), passes)
    assert store.reads == 1
