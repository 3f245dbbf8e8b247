"""Idempotency records: the first answer to a keyed command, replayed for the same key.

Records written before commands spoke of outcomes stored the answer's HTTP status; they stay
in the log and must replay as they did (decision 060).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import orjson
import pytest
from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import get_topic

from hallpass.acting import Acting
from hallpass.aggregates import ids
from hallpass.aggregates.idempotency import IdempotencyRecord
from hallpass.bootstrap import Runtime
from hallpass.commands import OutcomeKind
from hallpass.commands.base import fingerprint
from hallpass.commands.messages import CompletePass, CreatePasses
from hallpass.errors import IdempotencyKeyReused
from hallpass.http.errors import outcome_status
from support.school import SchoolFixture, make_school

NOW = datetime.now(UTC)


@pytest.fixture
async def school(runtime: Runtime) -> SchoolFixture:
    return await make_school(runtime, students=2)


def to_nurse(school: SchoolFixture, students: list[UUID]) -> CreatePasses:
    return CreatePasses(
        origin_id=school.rooms["Room 101"], destination_id=school.rooms["Nurse"], student_ids=students
    )


async def record_the_old_way(
    runtime: Runtime, acting: Acting, print_: str, status_code: int, response: Mapping[str, object]
) -> None:
    """An IdempotencyRecord as the code before decision 060 stored it: a status code, no version."""
    assert acting.idempotency_key is not None
    state = {
        "timestamp": (acting.now - timedelta(minutes=1)).isoformat(),
        "originator_topic": get_topic(IdempotencyRecord),
        "key": acting.idempotency_key,
        "principal": acting.actor.principal,
        "fingerprint": print_,
        "status_code": status_code,
        "response": response,
    }
    record_id = ids.idempotency_record_id(acting.school_id, acting.actor.principal, acting.idempotency_key)
    topic = get_topic(IdempotencyRecord.Recorded)
    await runtime.store.append([StoredEvent(record_id, 1, topic, orjson.dumps(state))])


async def test_an_old_record_of_a_creation_replays_as_created_with_status_201(
    runtime: Runtime, school: SchoolFixture
) -> None:
    command = to_nurse(school, school.students[:1])
    acting = Acting(school.teacher(), NOW, "old-create")
    first = {"passes": [{"id": str(uuid4()), "status": "active"}]}
    await record_the_old_way(runtime, acting, fingerprint("create_passes", command), 201, first)

    again = await runtime.app.create_passes(acting, command)

    assert (again.kind, again.replayed, again.body) == (OutcomeKind.CREATED, True, first)
    assert outcome_status(again) == 201
    assert (
        await runtime.pool.fetchval("SELECT count(*) FROM hallpass_events WHERE topic LIKE '%:Pass.%'") == 0
    )


async def test_an_old_record_of_a_change_replays_as_done_with_status_200(
    runtime: Runtime, school: SchoolFixture
) -> None:
    pass_id = uuid4()
    acting = Acting(school.teacher(), NOW, "old-complete")
    first = {"pass": {"id": str(pass_id), "status": "completed"}}
    await record_the_old_way(
        runtime, acting, fingerprint("complete_pass", CompletePass(), pass_id), 200, first
    )

    again = await runtime.app.complete_pass(acting, pass_id, CompletePass())

    assert (again.kind, again.replayed, again.body) == (OutcomeKind.DONE, True, first)
    assert outcome_status(again) == 200
    with pytest.raises(IdempotencyKeyReused):
        await runtime.app.complete_pass(acting, pass_id)


async def test_a_new_record_stores_the_outcome_and_replays_it(
    runtime: Runtime, school: SchoolFixture
) -> None:
    command = to_nurse(school, school.students[1:2])
    acting = Acting(school.teacher(), NOW, "new-create")
    first = await runtime.app.create_passes(acting, command)
    again = await runtime.app.create_passes(acting, command)

    record_id = ids.idempotency_record_id(acting.school_id, acting.actor.principal, "new-create")
    record = await runtime.app.repository.find(record_id, IdempotencyRecord)
    assert record is not None and record.outcome == "created"
    assert (first.replayed, again.replayed, again.kind, again.body) == (
        False,
        True,
        OutcomeKind.CREATED,
        first.body,
    )
    assert UUID(again.body["passes"][0]["id"])
