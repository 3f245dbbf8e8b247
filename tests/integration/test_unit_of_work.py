"""One unit of work per command attempt, against a real database: each aggregate read once and
handed out as the same object, saved once; a clash inside one save is a bug, not a conflict."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import NamedTuple
from uuid import UUID

import pytest

from hallpass.acting import Acting
from hallpass.aggregates import ids
from hallpass.aggregates.idempotency import IdempotencyRecord
from hallpass.aggregates.locations import Location
from hallpass.aggregates.passes import Pass
from hallpass.bootstrap import Runtime
from hallpass.commands import Hallpass
from hallpass.commands.base import Decided, OutcomeKind, done, fingerprint
from hallpass.commands.directory import NewStudent
from hallpass.commands.messages import CreatePasses
from hallpass.commands.repository import ConcurrentChange, SavedTwice
from hallpass.errors import Conflict, StudentAlreadyOut
from support.school import SchoolFixture, make_school


@pytest.fixture
async def school(runtime: Runtime) -> SchoolFixture:
    return await make_school(runtime, students=4)


async def to_restroom(runtime: Runtime, school: SchoolFixture, students: list[UUID]) -> list[UUID]:
    outcome = await runtime.app.create_passes(
        Acting(school.teacher(), datetime.now(UTC)),
        CreatePasses(
            origin_id=school.rooms["Room 101"], destination_id=school.rooms["Restroom"], student_ids=students
        ),
    )
    return [UUID(p["id"]) for p in outcome.body["passes"]]


async def stream_version(runtime: Runtime, aggregate_id: UUID) -> int:
    value = await runtime.pool.fetchval(
        "SELECT max(originator_version) FROM hallpass_events WHERE originator_id = $1", aggregate_id
    )
    return int(value)


class TwoOut(NamedTuple):
    """Two students' passes to the restroom, and the restroom's stream version after them."""

    first: UUID
    second: UUID
    restroom_id: UUID
    before: int


@pytest.fixture
async def two_out(runtime: Runtime, school: SchoolFixture) -> TwoOut:
    first, second = await to_restroom(runtime, school, school.students[:2])
    restroom_id = school.rooms["Restroom"]
    return TwoOut(first, second, restroom_id, await stream_version(runtime, restroom_id))


async def test_inside_a_unit_every_find_hands_out_the_same_object_and_its_events_accumulate(
    runtime: Runtime, two_out: TwoOut
) -> None:
    first, second, restroom_id, before = two_out
    repository = runtime.app.repository
    async with repository.unit_of_work() as unit:
        restroom = await repository.find(restroom_id, Location)
        assert restroom is not None and await repository.find(restroom_id, Location) is restroom
        assert restroom.occupants == (first, second)
        restroom.release(pass_id=first, now=datetime.now(UTC))
        again = await repository.find(restroom_id, Location)
        assert again is restroom and again.occupants == (second,)
        again.release(pass_id=second, now=datetime.now(UTC))
        await unit.commit([restroom, again])
    assert await stream_version(runtime, restroom_id) == before + 2
    outside = await repository.find(restroom_id, Location)
    assert outside is not None and outside is not await repository.find(restroom_id, Location)
    assert (outside.occupants, outside.version) == ((), before + 2)


async def test_saving_an_aggregate_twice_is_a_programming_error_and_leaves_store_and_cache_as_they_were(
    runtime: Runtime, two_out: TwoOut
) -> None:
    first, second, restroom_id, before = two_out
    repository = runtime.app.repository
    now = datetime.now(UTC)

    stale = await repository.find(restroom_id, Location)
    assert stale is not None
    async with repository.unit_of_work() as unit:
        mine = await repository.find(restroom_id, Location)
        assert mine is not None and mine is not stale
        mine.release(pass_id=first, now=now)
        stale.release(pass_id=second, now=now)
        with pytest.raises(SavedTwice, match="second copy"):
            await unit.commit([mine, stale])

    one = await repository.find(restroom_id, Location)
    other = await repository.find(restroom_id, Location)
    assert one is not None and other is not None
    one.release(pass_id=first, now=now)
    other.release(pass_id=second, now=now)
    with pytest.raises(SavedTwice, match="saved twice"):
        await repository.save(one, other)

    async with repository.unit_of_work() as unit:
        await unit.commit([])
        with pytest.raises(SavedTwice, match="already saved"):
            await unit.commit([])
        with pytest.raises(SavedTwice, match="save through the unit"):
            await repository.save()

    assert not issubclass(SavedTwice, ConcurrentChange)
    assert await stream_version(runtime, restroom_id) == before
    cached = await repository.find(restroom_id, Location)
    assert cached is not None and (cached.occupants, cached.version) == ((first, second), before)
    assert not cached.collect_events()


async def test_a_command_that_saves_a_second_copy_fails_once_instead_of_retrying_as_a_conflict(
    runtime: Runtime, school: SchoolFixture
) -> None:
    (first,) = await to_restroom(runtime, school, school.students[:1])
    app = runtime.app
    stale = await app.repository.find(first, Pass)
    attempts = 0

    async def decide() -> Decided:
        nonlocal attempts
        attempts += 1
        hall_pass = await app._pass(school.teacher(), first)
        assert stale is not None
        return done({}, [hall_pass, stale])

    with pytest.raises(SavedTwice):
        await app._run(Acting(school.teacher(), datetime.now(UTC)), fingerprint="", decide=decide)
    assert attempts == 1


async def test_a_real_concurrent_writer_is_retried_in_a_fresh_unit_that_reads_its_change(
    runtime: Runtime, school: SchoolFixture
) -> None:
    first, second = await to_restroom(runtime, school, school.students[:2])
    app = runtime.app
    other = Hallpass(runtime.store)
    restroom_id = school.rooms["Restroom"]
    seen: list[Location] = []
    now = datetime.now(UTC)

    async def decide() -> Decided:
        restroom = await app.repository.find(restroom_id, Location)
        assert restroom is not None
        seen.append(restroom)
        if len(seen) == 1:
            await other.complete_pass(Acting(school.teacher(), now), first)
        hall_pass = await app._pass(school.teacher(), second)
        hall_pass.complete(now=now, actor_kind="staff", actor_id=None)
        return done({"occupants_seen": len(restroom.occupants)}, await app._close(hall_pass, now))

    outcome = await app._run(Acting(school.teacher(), now), fingerprint="", decide=decide)
    assert len(seen) == 2 and seen[0] is not seen[1]
    assert outcome.body == {"occupants_seen": 1}
    restroom = await app.repository.find(restroom_id, Location)
    assert restroom is not None and restroom.occupants == ()
    assert restroom.version == await stream_version(runtime, restroom_id)


async def test_setting_up_the_same_student_twice_in_one_call_is_refused_as_a_conflict_and_saves_nothing(
    runtime: Runtime, school: SchoolFixture
) -> None:
    twice = [NewStudent("Mo", "Twice", 7, 987_654_321)] * 2
    before = await runtime.store.max_notification_id()
    with pytest.raises(Conflict, match="listed twice"):
        await runtime.app.register_students(school.id, twice, now=datetime.now(UTC))
    assert await runtime.store.max_notification_id() == before


async def test_a_command_sent_with_a_key_records_what_it_changed_and_its_events_do_not_carry_the_key(
    runtime: Runtime, school: SchoolFixture
) -> None:
    teacher = school.teacher()
    outcome = await runtime.app.create_passes(
        Acting(teacher, datetime.now(UTC), "two-to-the-restroom"),
        CreatePasses(
            origin_id=school.rooms["Room 101"],
            destination_id=school.rooms["Restroom"],
            student_ids=school.students[:2],
        ),
    )
    passes = [UUID(p["id"]) for p in outcome.body["passes"]]
    record_id = ids.idempotency_record_id(school.id, teacher.principal, "two-to-the-restroom")
    record = await runtime.app.repository.find(record_id, IdempotencyRecord)

    assert record is not None
    changed = [*passes, *school.students[:2], school.rooms["Restroom"]]
    assert record.changed == {str(a): await stream_version(runtime, a) for a in changed}
    states = await runtime.pool.fetch(
        "SELECT state FROM hallpass_events WHERE originator_id = ANY($1::uuid[])", changed
    )
    assert len(states) >= len(changed)
    assert not [s for s in states if b"two-to-the-restroom" in s["state"]]


async def test_a_refusal_after_a_duplicate_with_the_same_key_succeeded_returns_the_first_answer(
    runtime: Runtime, school: SchoolFixture
) -> None:
    """The duplicate's record is read again after the refusal, past this attempt's first read."""
    acting = Acting(school.teacher(), datetime.now(UTC), "to-the-nurse")
    command = CreatePasses(
        origin_id=school.rooms["Room 101"],
        destination_id=school.rooms["Nurse"],
        student_ids=school.students[:1],
    )
    duplicate = Hallpass(runtime.store)

    async def decide() -> Decided:
        first = await duplicate.create_passes(acting, command)
        assert first.kind is OutcomeKind.CREATED
        raise StudentAlreadyOut("the student is already out")

    outcome = await runtime.app._run(acting, fingerprint=fingerprint("create_passes", command), decide=decide)

    assert (outcome.kind, outcome.replayed) == (OutcomeKind.CREATED, True)


async def test_many_finds_at_once_hand_out_the_units_one_object(
    runtime: Runtime, school: SchoolFixture
) -> None:
    """Overlapping `find_many` and `find` calls under gather read each aggregate once."""
    repository = runtime.app.repository
    rooms = list(school.rooms.values())
    async with repository.unit_of_work() as unit:
        first, second, single = await asyncio.gather(
            unit.find_many(rooms),
            unit.find_many([*reversed(rooms), school.students[0]]),
            unit.find(rooms[0], Location),
        )
        assert all(first[r] is second[r] for r in rooms)
        assert single is first[rooms[0]] is await repository.find(rooms[0], Location)
        assert second[school.students[0]] is not None
        missing = (await unit.find_many([ids.student_id(school.id, 999_999)]))[
            ids.student_id(school.id, 999_999)
        ]
        assert missing is None
