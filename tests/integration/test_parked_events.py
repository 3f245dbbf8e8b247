"""A projection parks an event it cannot apply and moves on; database failures park nothing."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import pytest
from eventsourcing.persistence import StoredEvent

from hallpass.bootstrap import Runtime
from hallpass.projections.parking import is_transient
from hallpass.projections.runner import ProjectionRunner

SCHEMA = "CREATE TABLE IF NOT EXISTS probe_rows (notification_id bigint PRIMARY KEY, originator_id uuid)"


class ProbeProjection:
    """Records every event it sees; runs `failures[originator_id]` (SQL) first for chosen streams."""

    name = "probe"
    serves_requests = False
    tables: tuple[str, ...] = ("probe_rows",)

    def __init__(self) -> None:
        self.failures: dict[UUID, str] = {}
        self.fail_once: set[UUID] = set()

    async def create_schema(self, conn: asyncpg.Connection) -> None:
        await conn.execute(SCHEMA)

    async def handle(self, conn: asyncpg.Connection, event: Any, notification_id: int) -> UUID | None:
        await conn.execute("INSERT INTO probe_rows VALUES ($1, $2)", notification_id, event.originator_id)
        failure = self.failures.get(event.originator_id)
        if failure is not None:
            if event.originator_id in self.fail_once:
                del self.failures[event.originator_id]
            await conn.execute(failure)
        return None


RAISE = "DO $$ BEGIN RAISE EXCEPTION 'refused' USING ERRCODE = '{}'; END $$"


async def probe_runner(runtime: Runtime) -> tuple[ProjectionRunner, ProbeProjection]:
    projection = ProbeProjection()
    runner = ProjectionRunner(runtime.pool, runtime.store, projection, batch_size=50)
    await runner.create_schema()
    return runner, projection


async def append_streams(runtime: Runtime, streams: int, versions: int) -> list[UUID]:
    """Register schools (a real event type) and rename them: `versions` events per stream."""
    now = datetime.now(UTC)
    ids = []
    district = await runtime.app.found_district(name="Probes", now=now)
    for i in range(streams):
        school = await runtime.app.register_school(
            name=f"Probe {i}", timezone="UTC", district_id=district.id, now=now
        )
        ids.append(school.id)
    for version in range(2, versions + 1):
        for school_id in ids:
            stored = await runtime.store.read_stream(school_id, desc=True, limit=1)
            state = stored[0].state.replace(b'"Probe', b'"Probed')
            await runtime.store.append([StoredEvent(school_id, version, stored[0].topic, state)])
    return ids


async def probe_rows(runtime: Runtime) -> list[tuple[int, UUID]]:
    rows = await runtime.pool.fetch("SELECT notification_id, originator_id FROM probe_rows ORDER BY 1")
    return [(r[0], r[1]) for r in rows]


async def parked(runtime: Runtime, projection: str = "probe") -> list[asyncpg.Record]:
    return list(
        await runtime.pool.fetch(
            "SELECT * FROM hallpass_parked_events WHERE projection = $1 ORDER BY notification_id", projection
        )
    )


async def test_a_failing_event_is_parked_and_the_rest_of_the_batch_commits(runtime: Runtime) -> None:
    runner, projection = await probe_runner(runtime)
    ids = await append_streams(runtime, streams=3, versions=1)
    poisoned = ids[1]
    projection.failures[poisoned] = RAISE.format("22008")  # datetime field overflow

    await runner.catch_up()

    head = await runtime.store.max_notification_id()
    assert await runner.position() == head
    seen = {originator for _, originator in await probe_rows(runtime)}
    assert poisoned not in seen, "the failing handler's own writes were rolled back"
    assert {ids[0], ids[2]} <= seen
    (row,) = await parked(runtime)
    assert row["originator_id"] == poisoned
    assert row["held_behind"] is None
    assert "refused" in row["error"] and row["attempts"] == 1


async def test_later_events_of_a_parked_stream_wait_behind_it_and_retry_replays_them_in_order(
    runtime: Runtime,
) -> None:
    runner, projection = await probe_runner(runtime)
    before = await runtime.store.max_notification_id() or 0
    ids = await append_streams(runtime, streams=2, versions=3)
    poisoned = ids[0]
    projection.failures[poisoned] = RAISE.format("23505")

    await runner.catch_up()

    rows = await parked(runtime)
    assert [r["originator_version"] for r in rows] == [1, 2, 3]
    first = rows[0]["notification_id"]
    assert [r["held_behind"] for r in rows] == [None, first, first]
    seen = [originator for n, originator in await probe_rows(runtime) if n > before and originator in ids]
    assert seen == [ids[1]] * 3, "only the other stream's events were applied"

    (still,) = await runner.retry_parked()
    assert still.applied == [] and still.still_parked == [r["notification_id"] for r in rows]
    assert [r["attempts"] for r in await parked(runtime)] == [2, 1, 1]

    del projection.failures[poisoned]
    (report,) = await runner.retry_parked()
    assert report.applied == [r["notification_id"] for r in rows]
    assert await parked(runtime) == []
    replayed = [n for n, originator in await probe_rows(runtime) if originator == poisoned]
    assert replayed == [r["notification_id"] for r in rows], "replayed in log order"


async def test_retrying_one_event_skips_it_while_an_earlier_one_of_its_stream_stays_parked(
    runtime: Runtime,
) -> None:
    runner, projection = await probe_runner(runtime)
    (stream,) = await append_streams(runtime, streams=1, versions=2)
    projection.failures[stream] = RAISE.format("22001")
    await runner.catch_up()
    first, second = (r["notification_id"] for r in await parked(runtime))
    del projection.failures[stream]

    (report,) = await runner.retry_parked(second)
    assert report.applied == [] and report.still_parked == [second]

    (report,) = await runner.retry_parked(first)
    assert report.applied == [first]
    (report,) = await runner.retry_parked(second)
    assert report.applied == [second]
    assert await parked(runtime) == []


async def test_an_event_that_cannot_be_decoded_is_parked_by_every_projection(runtime: Runtime) -> None:
    for runner in runtime.runners:
        await runner.catch_up()
    stream = uuid4()
    await runtime.store.append(
        [StoredEvent(stream, 1, "hallpass.aggregates.passes:Pass.Vanished", b'{"timestamp": "x"}')]
    )
    (school,) = await append_streams(runtime, streams=1, versions=1)

    for runner in runtime.runners:
        await runner.catch_up()

    rows = await runtime.pool.fetch("SELECT projection, originator_id, error FROM hallpass_parked_events")
    assert sorted(r["projection"] for r in rows) == sorted(p.name for p in runtime.projections)
    assert all(r["originator_id"] == stream for r in rows)
    assert await runtime.directory.school(school) is not None, "the next event was projected"


async def test_a_database_failure_parks_nothing_and_the_batch_is_tried_again(runtime: Runtime) -> None:
    runner, projection = await probe_runner(runtime)
    ids = await append_streams(runtime, streams=2, versions=1)
    projection.failures[ids[1]] = RAISE.format("40001")  # serialization_failure
    projection.fail_once.add(ids[1])
    start = await runner.position()

    with pytest.raises(asyncpg.SerializationError):
        await runner.process_batch()
    assert await runner.position() == start
    assert await probe_rows(runtime) == []

    projection.failures[ids[0]] = "SELECT pg_terminate_backend(pg_backend_pid())"
    projection.fail_once.add(ids[0])
    with pytest.raises((asyncpg.PostgresConnectionError, asyncpg.InterfaceError, OSError)):
        await runner.process_batch()
    assert await runner.position() == start

    await runner.catch_up()
    assert await parked(runtime) == []
    assert {originator for _, originator in await probe_rows(runtime)} >= set(ids)


@pytest.mark.parametrize(
    ("sqlstate", "transient"),
    [
        ("40001", True),  # serialization failure
        ("40P01", True),  # deadlock detected
        ("57014", True),  # query cancelled
        ("53300", True),  # too many connections
        ("55P03", True),  # lock not available
        ("22008", False),  # datetime field overflow
        ("22021", False),  # invalid byte sequence for encoding
        ("23505", False),  # unique violation
        ("P0001", False),  # raised by a trigger
    ],
)
async def test_database_failures_are_transient_and_data_errors_are_not(
    runtime: Runtime, sqlstate: str, transient: bool
) -> None:
    with pytest.raises(asyncpg.PostgresError) as raised:
        await runtime.pool.execute(RAISE.format(sqlstate))
    assert raised.value.sqlstate == sqlstate
    assert is_transient(raised.value) is transient


def test_python_errors_from_a_handler_or_the_decoder_park() -> None:
    assert not is_transient(ValueError("bad date"))
    assert not is_transient(KeyError("school_id"))
    assert is_transient(ConnectionResetError())


async def test_a_rebuild_parks_again_what_still_fails_and_projects_the_rest_in_log_order(
    runtime: Runtime,
) -> None:
    runner, projection = await probe_runner(runtime)
    ids = await append_streams(runtime, streams=3, versions=2)
    poisoned = ids[1]
    projection.failures[poisoned] = RAISE.format("22008")
    await runner.catch_up()
    live = await probe_rows(runtime)

    events = await runner.rebuild(batch_size=4)

    head = await runtime.store.max_notification_id()
    assert events >= len(live) and await runner.position() == head
    assert await probe_rows(runtime) == live, "the same rows as event by event, in log order"
    rows = await parked(runtime)
    assert [r["originator_id"] for r in rows] == [poisoned, poisoned]
    assert [r["held_behind"] for r in rows] == [None, rows[0]["notification_id"]]
