"""The live tail of /api/v1/stream (server-sent events) under concurrent writes: a follower that
drops the connection at random (seeded) points and resumes from its Last-Event-ID receives every
event exactly once, in log order, the same as the pages give."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import httpx
import orjson
import pytest
import pytest_asyncio

from hallpass.acting import Acting
from hallpass.commands.messages import CompletePass, CreatePasses
from hallpass.http import stream_api
from support.api_client import ApiClient
from support.school import SchoolFixture
from support.server import LiveServer
from support.stream import STREAM, bearer, hire_district_admin, issue, read_all

OWN_SCHOOL_STUDENTS = 24
WRITERS = 4
ROUNDS = 6
PLACES = ("Library", "Nurse", "Room 102", "Restroom")
"""A place of each writer's own, so writers do not wait on each other's places."""


@pytest_asyncio.fixture(loop_scope="session")
async def admin(server: LiveServer, own_school: SchoolFixture) -> AsyncIterator[ApiClient]:
    _, email = await hire_district_admin(server.runtime, own_school)
    async with ApiClient.session(server.url, email) as client:
        yield client


async def write(server: LiveServer, school: SchoolFixture, writer: int) -> None:
    """Round after round, this writer's students go out and come back, one command at a time."""
    app = server.runtime.app
    mine = school.students[writer::WRITERS]
    for _ in range(ROUNDS):
        for student in mine:
            acting = Acting(school.teacher(), datetime.now(UTC))
            made = await app.create_passes(
                acting,
                CreatePasses(
                    origin_id=school.rooms["Room 101"],
                    destination_id=school.rooms[PLACES[writer]],
                    student_ids=[student],
                ),
            )
            await app.complete_pass(acting, UUID(made.body["passes"][0]["id"]), CompletePass())


class Follower:
    """An EventSource of its own: keeps complete blocks only, and the last id it was told."""

    def __init__(self, url: str, secret: str, seed: int) -> None:
        self.url, self.secret = url, secret
        self.rng = random.Random(seed)
        self.last_id: str | None = None
        self.events: list[dict[str, Any]] = []
        self.connections = 0
        self.heartbeats = 0

    async def connect_once(self, http: httpx.AsyncClient) -> None:
        """Read until a random number of lines has come (perhaps mid-event), then hang up."""
        headers = {**bearer(self.secret), "Accept": "text/event-stream"}
        if self.last_id is not None:
            headers["Last-Event-ID"] = self.last_id
        budget = self.rng.randint(1, 40)
        self.connections += 1
        async with http.stream("GET", STREAM, headers=headers) as response:
            assert response.status_code == 200, await response.aread()
            assert response.headers["content-type"].startswith("text/event-stream")
            block: list[str] = []
            async for line in response.aiter_lines():
                if line == "":
                    self.dispatch(block)
                    block = []
                else:
                    block.append(line)
                budget -= 1
                if budget <= 0:
                    return

    def dispatch(self, block: list[str]) -> None:
        data = [line[6:] for line in block if line.startswith("data: ")]
        for line in block:
            if line.startswith("id: "):
                self.last_id = line[4:]
            if line.startswith(": heartbeat"):
                self.heartbeats += 1
        if data:
            self.events.append(orjson.loads("\n".join(data)))


@pytest.mark.asyncio(loop_scope="session")
async def test_a_follower_resumed_at_random_points_gets_every_event_once(
    server: LiveServer, own_school: SchoolFixture, admin: ApiClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(stream_api, "HEARTBEAT_SECONDS", 0.2)
    _, secret = await issue(admin.http, rate_per_minute=100_000)
    _, start = await read_all(admin.http, secret)  # the follower starts from here
    follower = Follower(server.url, secret, seed=20261202)
    follower.last_id = start
    writers = asyncio.gather(*(write(server, own_school, n) for n in range(WRITERS)))
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http, asyncio.timeout(300):
        while not writers.done():
            await follower.connect_once(http)
        await writers
        expected, head = await read_all(admin.http, secret, after=start)
        while follower.last_id != head:
            await follower.connect_once(http)
    ids = [e["id"] for e in follower.events]
    assert len(ids) == len(set(ids)), "an event came twice"
    assert ids == [e["id"] for e in expected]
    assert len(expected) >= WRITERS * ROUNDS * 2 * (OWN_SCHOOL_STUDENTS // WRITERS)
    assert follower.connections > 5


async def token_at_head(admin: ApiClient, monkeypatch: pytest.MonkeyPatch) -> tuple[str, str, str]:
    """A new token that may read fast, and the stream's head, with a heartbeat every 50 ms:
    the token's id, its secret and the head."""
    monkeypatch.setattr(stream_api, "HEARTBEAT_SECONDS", 0.05)
    token_id, secret = await issue(admin.http, rate_per_minute=100_000)
    _, head = await read_all(admin.http, secret)
    return token_id, secret, head


@pytest.mark.asyncio(loop_scope="session")
async def test_the_tail_beats_while_idle_and_refuses_a_bad_last_event_id(
    server: LiveServer, admin: ApiClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, secret, head = await token_at_head(admin, monkeypatch)
    follower = Follower(server.url, secret, seed=7)
    follower.last_id = head
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        while follower.heartbeats < 2:
            await follower.connect_once(http)
        headers = {**bearer(secret), "Accept": "text/event-stream", "Last-Event-ID": "c1.forged"}
        refused = await http.get(STREAM, headers=headers)
        assert refused.status_code == 400 and refused.json()["error"]["code"] == "invalid_cursor"


@pytest.mark.asyncio(loop_scope="session")
async def test_revoking_the_token_ends_its_live_tail(
    server: LiveServer, admin: ApiClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    token_id, secret, head = await token_at_head(admin, monkeypatch)
    headers = {**bearer(secret), "Accept": "text/event-stream", "Last-Event-ID": head}
    beats = 0
    async with (
        httpx.AsyncClient(base_url=server.url, timeout=30) as http,
        http.stream("GET", STREAM, headers=headers) as response,
    ):
        assert response.status_code == 200
        async for line in response.aiter_lines():  # ends only when the server ends the stream
            if line.startswith(": heartbeat"):
                beats += 1
                if beats == 1:
                    revoked = await admin.http.post(f"/api/v1/admin/tokens/{token_id}/revoke")
                    assert revoked.status_code == 200, revoked.text
    assert beats >= 1
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        assert (await http.get(STREAM, headers=headers)).status_code == 401
