"""Concurrent clients creating and completing passes, remembering every answer they got."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from uuid import UUID, uuid4

import httpx

from hallpass.aggregates.locations import Location
from hallpass.aggregates.passes import Pass
from hallpass.aggregates.students import Student
from hallpass.bootstrap import Runtime
from support.school import PASSWORD, SchoolFixture


@dataclass
class Answers:
    created: dict[UUID, UUID] = field(default_factory=dict)  # pass -> student, for every 2xx
    completed: set[UUID] = field(default_factory=set)  # every 2xx complete
    statuses: Counter[int] = field(default_factory=Counter)
    unavailable: list[httpx.Response] = field(default_factory=list)
    unreachable: int = 0

    def record(self, response: httpx.Response) -> None:
        self.statuses[response.status_code] += 1
        if response.status_code == 503:
            self.unavailable.append(response)

    def successes(self) -> int:
        return sum(n for status, n in self.statuses.items() if 200 <= status < 300)


async def sign_in(base_url: str, email: str, timeout: float = 60) -> str:
    """A bearer token, retrying while the server comes up."""
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        while True:
            with contextlib.suppress(httpx.TransportError):
                r = await client.post("/api/v1/auth/token", json={"email": email, "password": PASSWORD})
                if r.status_code == 201 or r.status_code == 200:
                    return str(r.json()["token"])
            assert time.monotonic() < deadline, "could not sign in"
            await asyncio.sleep(0.2)


async def _client(
    base_url: str,
    token: str,
    school: SchoolFixture,
    students: Sequence[UUID],
    answers: Answers,
    stop: asyncio.Event,
) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=30) as http:
        for student in itertools.cycle(students):
            if stop.is_set():
                return
            try:
                created = await http.post(
                    "/api/v1/passes",
                    json={
                        "origin_id": str(school.rooms["Room 101"]),
                        "destination_id": str(school.rooms["Library"]),
                        "student_ids": [str(student)],
                    },
                    headers={"Idempotency-Key": uuid4().hex},
                )
                answers.record(created)
                if not created.is_success:
                    await asyncio.sleep(0.05)
                    continue
                pass_id = UUID(created.json()["passes"][0]["id"])
                answers.created[pass_id] = student
                completed = await http.post(f"/api/v1/passes/{pass_id}/complete", json={})
                answers.record(completed)
                if completed.is_success:
                    answers.completed.add(pass_id)
            except httpx.TransportError:
                answers.unreachable += 1
                await asyncio.sleep(0.05)


@contextlib.asynccontextmanager
async def load(
    urls: Sequence[str], tokens: Sequence[str], school: SchoolFixture, clients: int = 6
) -> AsyncIterator[Answers]:
    """Run `clients` clients (spread over `urls`), each with its own students, until the block ends."""
    answers = Answers()
    stop = asyncio.Event()
    tasks = [
        asyncio.create_task(
            _client(
                urls[i % len(urls)],
                tokens[i % len(tokens)],
                school,
                school.students[i::clients],
                answers,
                stop,
            )
        )
        for i in range(clients)
    ]
    try:
        yield answers
    finally:
        stop.set()
        await asyncio.gather(*tasks)


async def until(answers: Answers, condition: object, timeout: float = 60) -> None:
    """Poll `condition(answers)` until it holds."""
    assert callable(condition)
    deadline = time.monotonic() + timeout
    while not condition(answers):
        assert time.monotonic() < deadline, f"condition not met; answers so far: {answers.statuses}"
        await asyncio.sleep(0.05)


async def caught_up(runtime: Runtime, timeout: float = 60) -> int:
    """Wait until every projection has processed the whole log; return its head."""
    deadline = time.monotonic() + timeout
    while True:
        head = await runtime.store.max_notification_id() or 0
        positions = [await runner.position() for runner in runtime.runners]
        if all(p >= head for p in positions):
            return head
        assert time.monotonic() < deadline, f"projections at {positions}, log at {head}"
        await asyncio.sleep(0.1)


async def passes_in_log(runtime: Runtime) -> list[Pass]:
    notifications = await runtime.store.select_notifications(1, 10_000_000)
    ids = {n.originator_id for n in notifications if n.topic.startswith("hallpass.aggregates.passes:Pass.")}
    found = [await runtime.app.repository.find(UUID(str(i)), Pass) for i in ids]
    return [p for p in found if p is not None]


async def assert_no_half_made_pass(runtime: Runtime, school: SchoolFixture) -> list[Pass]:
    """Every pass, its student and its destination agree on whether the pass is open."""
    passes = await passes_in_log(runtime)
    open_by_student: dict[UUID, UUID] = {}
    for hall_pass in passes:
        if hall_pass.is_open:
            assert hall_pass.student_id not in open_by_student, "a student holds two open passes"
            open_by_student[hall_pass.student_id] = hall_pass.id
    for student_id in school.students:
        student = await runtime.app.repository.find(student_id, Student)
        assert student is not None
        assert student.open_pass_id == open_by_student.get(student_id), f"student {student_id} disagrees"
    library = await runtime.app.repository.find(school.rooms["Library"], Location)
    assert library is not None
    assert set(library.occupants) == {p.id for p in passes if p.is_open and p.destination_id == library.id}, (
        "the destination's occupants disagree with the passes"
    )
    listed = await runtime.pool.fetch("SELECT pass_id, status FROM pass_list")
    rows = {r["pass_id"]: r["status"] for r in listed}
    assert rows == {p.id: p.status.value for p in passes}, "the pass list disagrees with the log"
    return passes


# Written by the timer sweep when it hands a timer to Redis, not by a projection.
NOT_PROJECTED = frozenset({"sent_at"})


async def read_models(runtime: Runtime) -> dict[str, list[str]]:
    """Every projection table's rows, in a comparable order."""
    tables: dict[str, list[str]] = {}
    for runner in runtime.runners:
        for table in (t for p in runner.projections for t in p.tables):
            rows = await runtime.pool.fetch(f"SELECT * FROM {table}")
            tables[table] = sorted(
                repr(sorted((k, v) for k, v in dict(row).items() if k not in NOT_PROJECTED)) for row in rows
            )
    return tables
