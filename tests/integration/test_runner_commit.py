"""A live batch commits without waiting for the WAL flush, and only that batch (decision 104); it
is begun by hand and lost whole with its connection (decision 111)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import asyncpg
import pytest
from eventsourcing.persistence import IntegrityError

from hallpass.bootstrap import Runtime, create_pool
from hallpass.eventstore.store import DbConnection
from hallpass.projections.parking import is_transient
from hallpass.projections.pipeline import Pipeline
from hallpass.projections.runner import ProjectionRunner

SCHEMA = "CREATE TABLE IF NOT EXISTS commit_probe (notification_id bigint PRIMARY KEY, setting text)"


class CommitProbe:
    """Records, beside each event, how the transaction applying it will commit."""

    name = "commit_probe"
    serves_requests = False
    tables: tuple[str, ...] = ("commit_probe",)

    async def create_schema(self, conn: asyncpg.Connection) -> None:
        await conn.execute(SCHEMA)

    async def handle(self, conn: asyncpg.Connection, event: Any, notification_id: int) -> UUID | None:
        await conn.execute(
            "INSERT INTO commit_probe VALUES ($1, current_setting('synchronous_commit'))", notification_id
        )
        return None


async def test_a_batch_commits_asynchronously_and_the_connection_keeps_its_setting(
    runtime: Runtime, fresh_database_url: str
) -> None:
    pool = await create_pool(fresh_database_url, size=1)  # the batch's connection is the one checked after
    try:
        runner = ProjectionRunner(pool, runtime.store, CommitProbe())
        await runner.create_schema()
        before = await pool.fetchval("SELECT current_setting('synchronous_commit')")
        assert before != "off", "the server's default must differ for this test to say anything"
        await runtime.app.found_district(name="Probes", now=datetime.now(UTC))

        assert await runner.process_batch() > 0

        settings = {row[0] for row in await pool.fetch("SELECT setting FROM commit_probe")}
        assert settings == {"off"}
        assert await pool.fetchval("SELECT current_setting('synchronous_commit')") == before
    finally:
        await pool.close()


class Dying:
    """Work around a batch that loses its connection behind the batch's statements, once."""

    armed = True

    async def before(self, conn: DbConnection) -> None:
        return None

    async def after(self, conn: DbConnection) -> None:
        if Dying.armed:
            Dying.armed = False
            await conn.execute("SELECT pg_terminate_backend(pg_backend_pid())")


class DyingProbe(CommitProbe):
    """CommitProbe whose first batch through a pipeline dies after writing its rows."""

    name = "dying_probe"

    async def handle(self, conn: asyncpg.Connection, event: Any, notification_id: int) -> UUID | None:
        if isinstance(conn, Pipeline):
            conn.deferred(Dying)
        return await super().handle(conn, event, notification_id)


async def test_a_batch_cut_off_mid_way_leaves_neither_rows_nor_position_and_is_projected_again(
    runtime: Runtime,
) -> None:
    """The live batch's transaction is begun by hand (decision 111): a connection lost in it
    takes the batch's rows and positions with it, and the next batch applies every event once."""
    runner = ProjectionRunner(runtime.pool, runtime.store, DyingProbe())
    await runner.create_schema()
    now = datetime.now(UTC)
    district = await runtime.app.found_district(name="Cut", now=now)
    await runtime.app.register_school(name="Cut", timezone="UTC", district_id=district.id, now=now)
    head = await runtime.store.max_notification_id()
    Dying.armed = True

    with pytest.raises(Exception) as cut:
        await runner.process_batch()

    assert is_transient(cut.value.__cause__ or cut.value)
    assert not Dying.armed, "the batch reached its end before the connection went"
    assert await runtime.pool.fetchval("SELECT count(*) FROM commit_probe") == 0
    assert await runner.position() == 0
    assert await runner.process_batch() == head
    probed = await runtime.pool.fetch("SELECT notification_id FROM commit_probe ORDER BY 1")
    assert [r[0] for r in probed] == list(range(1, (head or 0) + 1))
    assert await runner.position() == head


async def test_positions_already_beyond_refuse_the_tracking_and_its_notifies(
    runtime: Runtime, fresh_database_url: str
) -> None:
    """The tracking rows and the runner's NOTIFYs go in one statement: refused together."""
    store, heard = runtime.store, asyncio.Queue[str]()
    listener = await asyncpg.connect(fresh_database_url)
    try:
        await listener.add_listener("probe_channel", lambda *args: heard.put_nowait(args[3]))
        async with runtime.pool.acquire() as conn:
            async with conn.transaction():
                await store.insert_trackings(conn, ["probe"], 5, notify=[("probe_channel", "first")])
            with pytest.raises(IntegrityError):
                async with conn.transaction():
                    await store.insert_trackings(conn, ["probe"], 5, notify=[("probe_channel", "again")])
            async with conn.transaction():
                await store.insert_trackings(conn, ["probe"], 6, notify=[("probe_channel", "then")])
        assert [await heard.get(), await heard.get()] == ["first", "then"]
        assert await store.tracking_positions(["probe"]) == {"probe": 6}
    finally:
        await listener.close()


async def test_a_batch_failing_while_it_waits_for_the_locks_rolls_back_itself(
    runtime: Runtime, fresh_database_url: str
) -> None:
    """The live batch's BEGIN and lock wait are one statement (decision 111): when the wait fails
    (here its lock timeout; a cancellation ends it the same way) the batch rolls its transaction
    back itself, and the pool gets the connection back outside any transaction without having to
    reset an active one."""
    pool = await create_pool(fresh_database_url, size=1)
    loop = asyncio.get_running_loop()
    reported: list[dict[str, Any]] = []
    default = loop.get_exception_handler()
    loop.set_exception_handler(lambda _loop, context: reported.append(context))
    try:
        await pool.execute("SET lock_timeout TO '10ms'")  # the pool keeps session settings
        runner = ProjectionRunner(pool, runtime.store, CommitProbe())
        await runner.create_schema()
        await runtime.app.found_district(name="Locked", now=datetime.now(UTC))
        async with runtime.pool.acquire() as holder, holder.transaction():
            await runtime.store.lock_trackings(holder, runner.names)
            with pytest.raises(Exception) as refused:
                await runner.process_batch()
        assert "lock timeout" in str(refused.value.__cause__ or refused.value)
        assert reported == []
        async with pool.acquire() as conn:
            assert not conn.is_in_transaction()
        assert await runner.process_batch() > 0
    finally:
        loop.set_exception_handler(default)
        await pool.close()
