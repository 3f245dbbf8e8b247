"""A live batch commits without waiting for the WAL flush, and only that batch (decision 104)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import asyncpg

from hallpass.bootstrap import Runtime, create_pool
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
