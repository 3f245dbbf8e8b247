"""Batches: a rebuild prepares each batch while the one before is sent; the live runner sends a
batch's statements together; the pipeline keeps statement order; tracking keeps one row each."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import asyncpg
import pytest
from eventsourcing.utils import get_topic

from hallpass.aggregates.locations import Location
from hallpass.aggregates.passes import Pass
from hallpass.bootstrap import Runtime
from hallpass.eventstore.store import DbConnection
from hallpass.projections.base import tells
from hallpass.projections.directory import TRIPS, DirectoryProjection
from hallpass.projections.pipeline import Pipeline
from hallpass.projections.runner import EventFailed, ProjectionRunner


class CountingProjection:
    """One row per event, numbered by its notification."""

    name = "counting"
    serves_requests = False
    tables: tuple[str, ...] = ("counting_rows",)

    async def create_schema(self, conn: asyncpg.Connection) -> None:
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS counting_rows"
            " (notification_id bigint PRIMARY KEY, originator_id uuid)"
        )

    async def handle(self, conn: asyncpg.Connection, event: Any, notification_id: int) -> UUID | None:
        await conn.execute("INSERT INTO counting_rows VALUES ($1, $2)", notification_id, event.originator_id)
        return None


async def rows(runtime: Runtime) -> list[int]:
    return [r[0] for r in await runtime.pool.fetch("SELECT notification_id FROM counting_rows ORDER BY 1")]


async def some_events(runtime: Runtime, schools: int) -> None:
    now = datetime.now(UTC)
    district = await runtime.app.found_district(name="Counted", now=now)
    for i in range(schools):
        await runtime.app.register_school(name=f"S{i}", timezone="UTC", district_id=district.id, now=now)


async def test_a_barrier_is_sent_after_what_was_queued_before_it_and_before_the_rest(
    runtime: Runtime,
) -> None:
    async with runtime.pool.acquire() as conn:
        await conn.execute("CREATE TEMP TABLE piped (k int PRIMARY KEY, v int)")
        pipeline = Pipeline()
        await pipeline.execute("INSERT INTO piped VALUES ($1, $2)", 1, 1)
        await pipeline.execute("UPDATE piped SET v = v * 10")  # no arguments: a barrier
        await pipeline.execute("INSERT INTO piped VALUES ($1, $2)", 2, 2)
        await pipeline.execute("UPDATE piped SET v = v + $2 WHERE k = $1", 1, 5)
        assert await conn.fetchval("SELECT count(*) FROM piped") == 0, "nothing is sent before flush"
        await pipeline.flush(conn)
        assert [tuple(r) for r in await conn.fetch("SELECT k, v FROM piped ORDER BY k")] == [(1, 15), (2, 2)]


class Totals:
    """Work around a batch: notes the table's sum before the batch and after it."""

    def __init__(self) -> None:
        self.seen: list[int] = []

    async def before(self, conn: DbConnection) -> None:
        self.seen.append(await conn.fetchval("SELECT coalesce(sum(v), 0) FROM piped"))

    async def after(self, conn: DbConnection) -> None:
        self.seen.append(await conn.fetchval("SELECT coalesce(sum(v), 0) FROM piped"))


async def test_deferred_work_runs_before_everything_queued_and_after_it_once_per_flush(
    runtime: Runtime,
) -> None:
    async with runtime.pool.acquire() as conn:
        await conn.execute("CREATE TEMP TABLE piped (k int PRIMARY KEY, v int)")
        await conn.execute("INSERT INTO piped VALUES (0, 100)")
        pipeline = Pipeline()
        totals = pipeline.deferred(Totals)
        await pipeline.execute("INSERT INTO piped VALUES ($1, $2)", 1, 1)
        await pipeline.execute("UPDATE piped SET v = v * 10")  # a barrier
        assert pipeline.deferred(Totals) is totals, "one per pipeline"
        await pipeline.execute("INSERT INTO piped VALUES ($1, $2)", 2, 2)
        await pipeline.flush(conn)
        assert totals.seen == [100, 1012]
        await pipeline.execute("INSERT INTO piped VALUES ($1, $2)", 3, 3)
        await pipeline.flush(conn)
        assert totals.seen == [100, 1012], "a flush runs only what was deferred since the one before"
        assert pipeline.deferred(Totals) is not totals


async def test_a_pipeline_without_a_connection_cannot_flush() -> None:
    with pytest.raises(ValueError):
        await Pipeline().flush()


async def test_a_rebuild_in_several_batches_projects_every_event_once_in_order(runtime: Runtime) -> None:
    await some_events(runtime, schools=9)
    runner = ProjectionRunner(runtime.pool, runtime.store, CountingProjection())
    await runner.create_schema()
    head = await runtime.store.max_notification_id()
    assert head is not None

    events = await runner.rebuild(batch_size=3)

    assert events == head
    assert await rows(runtime) == list(range(1, head + 1))
    assert await runner.position() == head


async def test_an_event_goes_straight_only_where_each_projection_handling_it_makes_its_statement(
    runtime: Runtime,
) -> None:
    """A rebuild makes a trip's statement from its stored fields (decision 128) where every
    projection handed the event says how; with one more that handles it its own way, every one
    is handed the decoded event."""
    directory = next(p for p in runtime.projections if isinstance(p, DirectoryProjection))
    entered, started = get_topic(Location.Entered), get_topic(Pass.Started)
    alone = ProjectionRunner(runtime.pool, runtime.store, directory)
    with_another = ProjectionRunner(runtime.pool, runtime.store, directory, CountingProjection())

    handled, straight = alone._topic(entered)

    assert handled == (0,)
    assert [(at, sql, tells(sql)) for at, sql, _ in straight] == [(0, TRIPS[Location.Entered][0], True)]
    assert with_another._topic(entered) == ((0, 1), ())
    assert alone._topic(started) == ((), ())


async def test_a_prepared_batch_is_not_sent_once_the_positions_have_moved(runtime: Runtime) -> None:
    """Another runner advanced meanwhile: sending would project its events a second time."""
    await some_events(runtime, schools=4)
    runner = ProjectionRunner(runtime.pool, runtime.store, CountingProjection(), batch_size=2)
    await runner.create_schema()
    prepared = await runner._prepare(await runner.positions(), 100)
    assert prepared is not None and not prepared.failed
    await runner.process_batch()  # the usual way moves the position first
    before = await rows(runtime)

    with pytest.raises(EventFailed):
        await runner._send(prepared)

    assert await rows(runtime) == before == [1, 2]
    assert await runner.position() == 2


async def test_fetchval_statements_go_together_and_what_they_return_is_gathered(runtime: Runtime) -> None:
    async with runtime.pool.acquire() as conn:
        await conn.execute("CREATE TEMP TABLE places (k int PRIMARY KEY, school text, n int)")
        await conn.execute("INSERT INTO places VALUES (1, 'a', 0), (2, 'b', 0), (3, 'c', 0)")
        pipeline = Pipeline()
        for k in (1, 2, 2, 9):  # 9 names no row: it returns nothing
            await pipeline.fetchval("UPDATE places SET n = n + 1 WHERE k = $1 RETURNING school", k)
        assert pipeline.returned == set(), "nothing is sent, so nothing returned, before flush"
        await pipeline.flush(conn)
        assert pipeline.returned == {"a", "b"}
        assert [tuple(r) for r in await conn.fetch("SELECT k, n FROM places ORDER BY k")] == [
            (1, 1),
            (2, 2),
            (3, 0),
        ]


async def test_the_tracking_table_keeps_one_row_per_projection(runtime: Runtime) -> None:
    await some_events(runtime, schools=5)
    runner = ProjectionRunner(runtime.pool, runtime.store, CountingProjection(), batch_size=2)
    await runner.create_schema()

    await runner.catch_up()  # several batches
    head = await runtime.store.max_notification_id()

    tracked = await runtime.pool.fetch(
        "SELECT notification_id FROM hallpass_tracking WHERE application_name = 'counting'"
    )
    assert [r[0] for r in tracked] == [head]
    assert await runner.position() == head and await rows(runtime) == list(range(1, (head or 0) + 1))
    per_projection = await runtime.pool.fetch(
        "SELECT application_name, count(*) FROM hallpass_tracking GROUP BY 1 HAVING count(*) > 1"
    )
    assert per_projection == [], "the runtime's own runners keep one row each too"
