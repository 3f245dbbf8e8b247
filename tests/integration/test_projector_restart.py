"""A projector process killed mid-stream and restarted ends with the same read model as a rebuild."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest

from hallpass.acting import Acting
from hallpass.bootstrap import build_runtime
from hallpass.commands.messages import CreatePasses
from support.school import make_school

pytestmark = pytest.mark.slow

TABLES = {
    "pass_list": "pass_id",
    "dir_students": "student_id",
    "dir_locations": "location_id",
    "dir_staff": "staff_id",
    "dir_schools": "school_id",
}


async def snapshot(pool: asyncpg.Pool) -> dict[str, list[Any]]:
    return {
        table: [tuple(r) for r in await pool.fetch(f"SELECT * FROM {table} ORDER BY {key}")]
        for table, key in TABLES.items()
    }


async def position(pool: asyncpg.Pool, name: str) -> int:
    value = await pool.fetchval(
        "SELECT max(notification_id) FROM hallpass_tracking WHERE application_name = $1", name
    )
    return int(value or 0)


def start_projector(database_url: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": "redis://127.0.0.1:6379/15"}
    return subprocess.Popen(
        [sys.executable, "-m", "hallpass.cli", "projector"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


async def test_killed_projector_resumes_and_matches_a_rebuild(fresh_database_url: str) -> None:
    runtime = await build_runtime(fresh_database_url)
    try:
        school = await make_school(runtime, label="Restart", students=200)
        teacher = school.teacher("Ada")
        now = datetime.now(UTC)
        for _ in range(12):
            created = await runtime.app.create_passes(
                Acting(teacher, now),
                CreatePasses(
                    origin_id=school.rooms["Room 101"],
                    destination_id=school.rooms["Nurse"],
                    student_ids=school.students,
                ),
            )
            await asyncio.gather(
                *(runtime.app.complete_pass(Acting(teacher, now), p["id"]) for p in created.body["passes"])
            )
        end = await runtime.store.max_notification_id()
        assert end is not None and end > 9000

        async with runtime.pool.acquire() as conn:
            await conn.execute(f"TRUNCATE {', '.join(TABLES)}; DELETE FROM hallpass_tracking")

        projector = start_projector(fresh_database_url)
        killed_at = 0
        # Deadlines, not step counts: a loaded machine may take long to start a process.
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            killed_at = await position(runtime.pool, "pass_list")
            if killed_at > 0:
                projector.send_signal(signal.SIGKILL)
                break
            await asyncio.sleep(0.005)
        projector.wait(timeout=10)
        assert projector.returncode == -signal.SIGKILL
        stopped_at = await position(runtime.pool, "pass_list")
        assert 0 < stopped_at < end, "the projector was stopped part way through the log"

        projector = start_projector(fresh_database_url)
        try:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                if await position(runtime.pool, "pass_list") >= end:
                    break
                await asyncio.sleep(0.05)
        finally:
            projector.send_signal(signal.SIGTERM)
            projector.wait(timeout=10)
        assert await position(runtime.pool, "pass_list") == end
        resumed = await snapshot(runtime.pool)
        assert len(resumed["pass_list"]) == 12 * 200
        assert len(resumed["dir_students"]) == 200

        for runner in runtime.runners:
            await runner.rebuild()
        assert await snapshot(runtime.pool) == resumed
    finally:
        await runtime.close()
