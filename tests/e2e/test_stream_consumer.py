"""examples/stream_consumer.py against the real app: two runs with passes made between them, then
a live run that stops after some events, and a last catch-up; the SQLite file holds every event of
the stream once, in log order."""

from __future__ import annotations

import asyncio
import sqlite3
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID

import pytest
import pytest_asyncio

from hallpass.acting import Acting
from hallpass.commands.messages import CompletePass
from support.api_client import ApiClient
from support.school import SchoolFixture, send_out
from support.server import LiveServer
from support.stream import hire_district_admin, issue, read_all

OWN_SCHOOL_STUDENTS = 6
CONSUMER = Path(__file__).resolve().parents[2] / "examples" / "stream_consumer.py"


@pytest_asyncio.fixture(loop_scope="session")
async def admin(server: LiveServer, own_school: SchoolFixture) -> AsyncIterator[ApiClient]:
    _, email = await hire_district_admin(server.runtime, own_school)
    async with ApiClient.session(server.url, email) as client:
        yield client


@pytest_asyncio.fixture(loop_scope="session")
async def secret(admin: ApiClient, own_school: SchoolFixture) -> str:
    """A new stream token's secret, for the events of `own_school`."""
    _, shown = await issue(admin.http, school_ids=[str(own_school.id)])
    return shown


async def out_and_back(server: LiveServer, school: SchoolFixture, students: list[UUID]) -> None:
    now = datetime.now(UTC)
    for pass_id in await send_out(server.runtime, school, "Library", students, now):
        await server.runtime.app.complete_pass(Acting(school.teacher(), now), pass_id, CompletePass())


async def start_consumer(
    server: LiveServer, secret: str, db: Path, *extra: str, output: int = asyncio.subprocess.PIPE
) -> asyncio.subprocess.Process:
    """The example consumer, storing into `db`, running with the stream token `secret`."""
    return await asyncio.create_subprocess_exec(
        sys.executable,
        str(CONSUMER),
        "--url",
        server.url,
        "--db",
        str(db),
        *extra,
        env={"HALLPASS_STREAM_TOKEN": secret, "PATH": "/usr/bin:/bin"},
        stdout=output,
        stderr=output,
    )


async def consume(server: LiveServer, secret: str, db: Path, *extra: str) -> str:
    process = await start_consumer(server, secret, db, *extra)
    out, err = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode == 0, err.decode()
    return out.decode()


def stored(db: Path) -> list[str]:
    with sqlite3.connect(db) as conn:
        return [row[0] for row in conn.execute("SELECT id FROM events ORDER BY seq")]


@pytest.mark.asyncio(loop_scope="session")
async def test_the_consumer_resumes_where_it_stopped_without_a_gap_or_a_duplicate(
    server: LiveServer, own_school: SchoolFixture, admin: ApiClient, secret: str, tmp_path: Path
) -> None:
    db = tmp_path / "events.sqlite"
    await out_and_back(server, own_school, own_school.students[:2])
    first = await consume(server, secret, db)
    after_first = stored(db)
    assert after_first and "new events" in first

    await out_and_back(server, own_school, own_school.students[2:4])
    await consume(server, secret, db)
    after_second = stored(db)
    assert after_second[: len(after_first)] == after_first and len(after_second) > len(after_first)

    live = asyncio.create_task(consume(server, secret, db, "--follow", "--max-events", "4"))
    while not live.done():  # until the follower has had its 4 events
        await out_and_back(server, own_school, own_school.students[4:5])
    await live
    await out_and_back(server, own_school, own_school.students[5:6])
    await consume(server, secret, db)

    expected, _ = await read_all(admin.http, secret)
    ids = stored(db)
    assert len(ids) == len(set(ids))
    assert ids == [e["id"] for e in expected]


@pytest.mark.asyncio(loop_scope="session")
async def test_a_consumer_killed_while_following_loses_and_repeats_nothing(
    server: LiveServer, own_school: SchoolFixture, admin: ApiClient, secret: str, tmp_path: Path
) -> None:
    db = tmp_path / "killed.sqlite"
    await consume(server, secret, db)
    before = len(stored(db))
    process = await start_consumer(server, secret, db, "--follow", output=asyncio.subprocess.DEVNULL)
    try:
        async with asyncio.timeout(120):
            while len(stored(db)) < before + 3:  # it has stored some of what happens live
                await out_and_back(server, own_school, own_school.students[:1])
    finally:
        process.kill()  # no goodbye: mid-stream, perhaps mid-event
        await process.wait()
    await out_and_back(server, own_school, own_school.students[1:3])
    await consume(server, secret, db)
    expected, _ = await read_all(admin.http, secret)
    ids = stored(db)
    assert len(ids) == len(set(ids)) and ids == [e["id"] for e in expected]
