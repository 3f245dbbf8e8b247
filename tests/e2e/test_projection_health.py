"""A parked event stalls no school; status, /readyz and retry show and clear it; honest answers.

Each test has its own database and server, since they stop projectors and damage read models.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID, uuid4

import httpx
import pytest
from eventsourcing.persistence import StoredEvent

from hallpass.bootstrap import Runtime
from hallpass.commands.directory import NewStudent
from hallpass.http.health import NO_AUTOVACUUM
from support.api_client import ApiClient
from support.school import PASSWORD, SchoolFixture, make_school
from support.server import LiveServer, free_port, live_server, projectors

pytestmark = pytest.mark.slow

VISIBLE = "X-Hallpass-Visible"


async def until(check: Callable[[], Awaitable[bool]], what: str, seconds: float = 30.0) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


def cli_env(database_url: str, data_dir: Path) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "HALLPASS_DATA_DIR": str(data_dir),
        "HALLPASS_SECRET_KEY": "test-secret",
    }


def hallpass(database_url: str, data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hallpass.cli", *args],
        env=cli_env(database_url, data_dir),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def start_projector(database_url: str, data_dir: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "hallpass.cli", "projector"],
        env=cli_env(database_url, data_dir),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def run_cli(database_url: str, data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return await asyncio.to_thread(hallpass, database_url, data_dir, *args)


async def readyz(url: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=url) as anon:
        return await anon.get("/readyz")


async def caught_up(runtime: Runtime, name: str) -> bool:
    head = await runtime.store.max_notification_id() or 0
    return (await runtime.store.max_tracking_id(name) or 0) >= head


async def append_unprojectable_pass(runtime: Runtime, like: UUID) -> int:
    """A copy of a real pass's Created event, with a NUL in its note: PostgreSQL text refuses it."""
    (created, *_) = await runtime.store.read_stream(like)
    state = created.state.replace(b'"note":""', b'"note":"\\u0000"')
    assert state != created.state
    (notification_id,) = await runtime.store.append([StoredEvent(uuid4(), 1, created.topic, state)])
    return notification_id


async def test_a_parked_event_stalls_no_school_and_retry_applies_it_once_fixed(
    fresh_database_url: str, tmp_path: Path
) -> None:
    async with live_server(fresh_database_url, tmp_path, with_projectors=False) as server:
        runtime = server.runtime
        a = await make_school(runtime, label="ParkA", students=4)
        b = await make_school(runtime, label="ParkB", students=4)
        projector = start_projector(fresh_database_url, tmp_path)
        teacher_a = await ApiClient.signed_in(server.url, a.emails["Ada"], PASSWORD)
        teacher_b = await ApiClient.signed_in(server.url, b.emails["Ada"], PASSWORD)
        try:
            await check_parked_event_stalls_no_school(server, a, b, teacher_a, teacher_b)
            await check_retry_applies_the_fixed_event(server, a, teacher_a, fresh_database_url, tmp_path)
        finally:
            await teacher_a.close()
            await teacher_b.close()
            projector.send_signal(signal.SIGTERM)
            projector.wait(timeout=20)


async def check_parked_event_stalls_no_school(
    server: LiveServer, a: SchoolFixture, b: SchoolFixture, teacher_a: ApiClient, teacher_b: ApiClient
) -> None:
    runtime = server.runtime
    first = await teacher_a.create_passes(a.rooms["Room 101"], a.rooms["Nurse"], [a.students[0]])
    assert first.status_code == 201, first.text
    poison = await append_unprojectable_pass(runtime, UUID(first.json()["passes"][0]["id"]))

    later = {}
    for teacher, school in ((teacher_a, a), (teacher_b, b)):
        r = await teacher.create_passes(
            school.rooms["Room 101"], school.rooms["Library"], [school.students[1]]
        )
        assert r.status_code == 201, r.text
        assert VISIBLE not in r.headers, "the projections moved on past the parked event"
        later[teacher] = r.json()["passes"][0]["id"]
    for teacher, pass_id in later.items():
        assert (await teacher.http.get(f"/api/v1/passes/{pass_id}")).status_code == 200

    parked = await runtime.pool.fetch("SELECT * FROM hallpass_parked_events")
    assert [(p["projection"], p["notification_id"]) for p in parked] == [("pass_list", poison)]
    poison_pass = parked[0]["originator_id"]
    assert (await teacher_a.http.get(f"/api/v1/passes/{poison_pass}")).status_code == 404

    ready = await readyz(server.url)
    assert ready.status_code == 200, ready.text
    body = ready.json()
    assert body["parked_events"] == 1
    assert [(p["projection"], p["notification_id"]) for p in body["parked"]] == [("pass_list", poison)]
    pass_list = next(p for p in body["projections"] if p["name"] == "pass_list")
    assert pass_list["parked"] == 1 and pass_list["lag_events"] == 0


async def check_retry_applies_the_fixed_event(
    server: LiveServer, a: SchoolFixture, teacher_a: ApiClient, database_url: str, data_dir: Path
) -> None:
    runtime = server.runtime
    # A stray row in the directory takes a hall pass ID that a new student's event then claims.
    taken = 99_000_000 + int(uuid4().int % 1_000_000)  # below the IDs make_school gives
    stray = uuid4()
    await runtime.pool.execute(
        "INSERT INTO dir_students (student_id, school_id, first_name, last_name, grade, hall_pass_id,"
        " search_name) VALUES ($1, $2, 'Stray', 'Row', 6, $3, 'stray row')",
        stray,
        a.id,
        taken,
    )
    (student,) = await runtime.app.register_students(
        a.id, [NewStudent("Nadia", "Parked", 7, taken)], now=datetime.now(UTC)
    )
    await until(lambda: caught_up(runtime, "directory"), "the directory to pass the student")

    status = await run_cli(database_url, data_dir, "projections", "status")
    assert status.returncode == 0, status.stderr
    rows = {line.split()[0]: line.split() for line in status.stdout.splitlines()[1:5]}
    assert rows["pass_list"][-1] == "1" and rows["directory"][-1] == "1", status.stdout
    assert re.search(r"directory #\d+ \S+Student\S* stream " + str(student.id), status.stdout), status.stdout
    assert "UniqueViolationError" in status.stdout
    assert "pass_list #" in status.stdout and "CharacterNotInRepertoire" in status.stdout

    failed = await run_cli(database_url, data_dir, "projections", "retry", "--projection", "directory")
    assert failed.returncode == 1 and "directory: applied 0, still parked 1" in failed.stdout

    await runtime.pool.execute("DELETE FROM dir_students WHERE student_id = $1", stray)
    retried = await run_cli(database_url, data_dir, "projections", "retry")
    assert retried.returncode == 1, "the unprojectable pass is still parked"
    assert "directory: applied 1, still parked 0" in retried.stdout, retried.stdout
    assert "pass_list: applied 0, still parked 1" in retried.stdout, retried.stdout

    found = await teacher_a.http.get("/api/v1/students", params={"q": "Nadia"})
    assert [s["id"] for s in found.json()["students"]] == [str(student.id)]
    parked = await runtime.pool.fetch("SELECT projection, attempts FROM hallpass_parked_events")
    assert [(p["projection"], p["attempts"]) for p in parked] == [("pass_list", 2)]
    assert (await readyz(server.url)).json()["parked_events"] == 1


def form_csrf(html: str) -> str:
    found = re.search(r'(?:name="csrf" value|data-csrf)="([^"]+)"', html)
    assert found, "the page carries a CSRF token"
    return found.group(1)


async def signed_in_browser(url: str, email: str) -> httpx.AsyncClient:
    browser = httpx.AsyncClient(base_url=url)
    page = await browser.get("/sign-in")
    data = {"email": email, "password": PASSWORD}
    if 'name="csrf"' in page.text:
        data["csrf"] = form_csrf(page.text)
    signed = await browser.post("/sign-in", data=data, follow_redirects=False)
    assert signed.status_code == 303, signed.text
    return browser


async def test_commands_say_when_the_read_models_do_not_show_them_yet(
    fresh_database_url: str, tmp_path: Path
) -> None:
    async with live_server(fresh_database_url, tmp_path, with_projectors=False) as server:
        school = await make_school(server.runtime, label="Pending", students=4)
        teacher = await ApiClient.signed_in(server.url, school.emails["Ada"], PASSWORD)
        browser = await signed_in_browser(server.url, school.emails["Ada"])
        try:
            # The oldest event the projections have not seen was recorded an hour ago.
            await server.runtime.app.found_district(name="Late", now=datetime.now(UTC) - timedelta(hours=1))
            created = await teacher.create_passes(
                school.rooms["Room 101"], school.rooms["Nurse"], school.students[:2]
            )
            assert created.status_code == 201, created.text
            assert created.headers[VISIBLE] == "pending"
            first, second = (p["id"] for p in created.json()["passes"])
            assert (await teacher.http.get(f"/api/v1/passes/{first}")).status_code == 404

            dashboard = await browser.get("/hall-pass")
            completed = await browser.post(
                f"/hall-pass/{second}/complete",
                data={"csrf": form_csrf(dashboard.text)},
                follow_redirects=False,
            )
            assert completed.status_code == 303
            assert completed.headers[VISIBLE] == "pending"
            assert "may take a moment to show here" in (await browser.get("/hall-pass")).text

            stale = await readyz(server.url)
            assert stale.status_code == 503, stale.text
            lagging = {p["name"]: p for p in stale.json()["projections"]}
            assert lagging["pass_list"]["lag_seconds"] >= 3000 and not lagging["pass_list"]["ready"]
            assert lagging["pass_list"]["lag_events"] > 0

            async with projectors(server.runtime):
                await until(
                    lambda: ok(teacher.http.get(f"/api/v1/passes/{first}")), "the pass to become visible"
                )
                await until(lambda: ok(readyz(server.url)), "/readyz to answer 200")
                done = await teacher.complete(first)
                assert done.status_code == 200, done.text
                assert VISIBLE not in done.headers
        finally:
            await teacher.close()
            await browser.aclose()


async def ok(response: Awaitable[httpx.Response]) -> bool:
    return (await response).status_code == 200


async def test_healthz_and_readyz(fresh_database_url: str, tmp_path: Path, redis_url: str) -> None:
    async with (
        live_server(fresh_database_url, tmp_path, redis_url=redis_url) as server,
        httpx.AsyncClient(base_url=server.url) as anon,
    ):
        assert (await anon.get("/healthz")).json() == {"status": "ok"}
        ready = await anon.get("/readyz")
        assert ready.status_code == 200, ready.text
        body = ready.json()
        assert body["status"] == "ready"
        autovacuum = await server.runtime.pool.fetchval("SHOW autovacuum") == "on"
        assert body["database"] == {"ok": True, "autovacuum": autovacuum}
        assert body["warnings"] == ([] if autovacuum else [NO_AUTOVACUUM])
        assert body["redis"] == {"ok": True, "configured": True}
        assert {p["name"] for p in body["projections"]} == {p.name for p in server.runtime.projections}
        assert all(p["lag_events"] == 0 and p["parked"] == 0 for p in body["projections"])
        doc = (await anon.get("/api/v1/openapi.json")).json()
        assert {"/healthz", "/readyz"} <= set(doc["paths"])

    nothing_there = f"redis://127.0.0.1:{free_port()}/0"
    async with (
        live_server(fresh_database_url, tmp_path, redis_url=nothing_there) as server,
        httpx.AsyncClient(base_url=server.url) as anon,
    ):
        assert (await anon.get("/healthz")).status_code == 200
        down = await anon.get("/readyz")
        assert down.status_code == 503
        assert down.json()["redis"]["ok"] is False
        assert down.json()["database"]["ok"] is True
