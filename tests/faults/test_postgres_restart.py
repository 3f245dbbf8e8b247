"""Restart PostgreSQL under load: 503 with Retry-After meanwhile, then everything comes back alone.

The test starts a PostgreSQL of its own and restarts only that one.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID

import httpx
import pytest

from hallpass.acting import Acting
from hallpass.bootstrap import Runtime
from hallpass.commands.messages import CreatePasses
from hallpass.outages import RETRY_AFTER_SECONDS
from support.load import assert_no_half_made_pass, caught_up, load, sign_in, until
from support.private_services import PrivatePostgres, private_postgres
from support.processes import cluster
from support.runtime import runtime_on
from support.school import SchoolFixture, make_school

pytestmark = pytest.mark.slow


@pytest.fixture
def postgres() -> Iterator[PrivatePostgres]:
    with private_postgres() as server:
        yield server


@pytest.fixture
async def runtime(postgres: PrivatePostgres) -> AsyncIterator[Runtime]:
    async with runtime_on(postgres.url) as rt:
        yield rt


class EventStream:
    """An open `/api/v1/events` stream; counts the `passes` events it receives."""

    def __init__(self, url: str, token: str) -> None:
        self.url = url
        self.token = token
        self.hello = asyncio.Event()
        self.passes = 0
        self.task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        headers = {"Authorization": f"Bearer {self.token}"}
        async with (
            httpx.AsyncClient(timeout=httpx.Timeout(10, read=None)) as client,
            client.stream("GET", f"{self.url}/api/v1/events", headers=headers) as response,
        ):
            assert response.status_code == 200
            async for line in response.aiter_lines():
                if line == "event: hello":
                    self.hello.set()
                elif line == "event: passes":
                    self.passes += 1

    async def close(self) -> None:
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)


async def wait_for(condition: object, timeout: float = 60) -> None:
    assert callable(condition)
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met before the deadline"
        await asyncio.sleep(0.05)


async def create_one(url: str, token: str, school: SchoolFixture) -> httpx.Response:
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        return await http.post(
            "/api/v1/passes",
            headers={"Authorization": f"Bearer {token}"},
            json={
                "origin_id": str(school.rooms["Room 102"]),
                "destination_id": str(school.rooms["Nurse"]),
                "student_ids": [str(school.students[-1])],
            },
        )


async def expire_soon(runtime: Runtime, school: SchoolFixture) -> None:
    due = datetime.now(UTC) + timedelta(seconds=1)
    outcome = await runtime.app.create_passes(
        Acting(school.teacher(), due - timedelta(minutes=1)),
        CreatePasses(
            origin_id=school.rooms["Room 101"],
            destination_id=school.rooms["Restroom"],
            student_ids=[school.students[-2]],
            allotted_minutes=1,
        ),
    )
    pass_id = UUID(outcome.body["passes"][0]["id"])

    async def status() -> object:
        return await runtime.pool.fetchval("SELECT status FROM pass_list WHERE pass_id = $1", pass_id)

    deadline = time.monotonic() + 60
    while await status() != "expired":
        assert time.monotonic() < deadline, "the worker did not expire the pass"
        await asyncio.sleep(0.1)


async def test_requests_answer_503_while_postgres_restarts_and_everything_resumes_after(
    postgres: PrivatePostgres, runtime: Runtime, redis_url: str, tmp_path: Path
) -> None:
    school = await make_school(runtime, label="Restart", students=25)
    load_students = school.students[:-2]
    namespace = f"hallpass-faults-{secrets.token_hex(4)}"
    with cluster(postgres.url, redis_url, namespace, tmp_path) as processes:
        processes.start("projector")
        worker = processes.start("worker")
        web = processes.web()
        worker.wait_ready()
        token = await sign_in(web.url, school.emails["Ada"])
        stream = EventStream(web.url, token)
        try:
            await asyncio.wait_for(stream.hello.wait(), 30)
            loaded = SchoolFixture(**{**school.__dict__, "students": load_students})
            async with load([web.url], [token], loaded, clients=6) as answers:
                await until(answers, lambda a: len(a.completed) >= 10)
                await asyncio.to_thread(postgres.stop)
                await until(answers, lambda a: len(a.unavailable) >= 10)
                before_restart = answers.successes()
                await asyncio.to_thread(postgres.start)
                await until(answers, lambda a: a.successes() >= before_restart + 20)

            assert not answers.statuses.get(500), web.log(200)
            assert set(answers.statuses) <= {200, 201, 409, 503}, answers.statuses
            for response in answers.unavailable:
                assert response.headers["Retry-After"] == str(RETRY_AFTER_SECONDS)
                assert response.json()["error"]["code"] == "unavailable"

            # The projector follows the log again, and the open event stream reports new changes.
            seen = stream.passes
            created = await create_one(web.url, token, school)
            assert created.status_code == 201, created.text
            await wait_for(lambda: stream.passes > seen)
            await caught_up(runtime)

            # The worker's sweep and actors reconnected too: a pass falling due now expires.
            await expire_soon(runtime, school)
        finally:
            await stream.close()
    await assert_no_half_made_pass(runtime, school)
