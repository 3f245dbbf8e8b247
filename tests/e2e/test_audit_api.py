"""/api/v1/audit: a compliance officer reads a student's history and the hallway at a past
moment, as JSON, CSV and JSON lines; a teacher gets 403, another school's records 404; every
view is in the access log; the OpenAPI document has the operations."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from hallpass.audit.index import AuditIndexProjection
from support.api_client import ApiClient
from support.audit import a_past_pass, hire_officer
from support.school import SchoolFixture
from support.server import LiveServer


@pytest_asyncio.fixture(loop_scope="session")
async def officer(server: LiveServer, own_school: SchoolFixture) -> AsyncIterator[ApiClient]:
    async with ApiClient.session(server.url, await hire_officer(server.runtime, own_school)) as client:
        yield client


def subject_paths(school: SchoolFixture) -> list[str]:
    return [
        f"/api/v1/audit/students/{school.students[0]}/history",
        f"/api/v1/audit/locations/{school.rooms['Nurse']}/history",
        f"/api/v1/audit/staff/{school.teachers['Ada']}/history",
        f"/api/v1/audit/schools/{school.id}/hallway?at=2026-11-24T10:33",
        f"/api/v1/audit/schools/{school.id}/views",
    ]


@pytest.mark.asyncio(loop_scope="session")
async def test_an_officer_reads_history_and_a_past_moment_and_every_view_is_logged(
    server: LiveServer, officer: ApiClient, own_school: SchoolFixture
) -> None:
    student = own_school.students[0]
    pass_id = await a_past_pass(server.runtime, own_school, student)
    history = await officer.http.get(
        f"/api/v1/audit/students/{student}/history", params={"kind": "Started,Completed"}
    )
    assert history.status_code == 200, history.text
    events = history.json()["events"]
    assert [(e["stream_id"], e["kind"]) for e in events] == [
        (str(pass_id), "Started"),
        (str(pass_id), "Completed"),
    ]
    assert events[0]["at"].startswith("2026-11-24T10:30") and events[0]["actor"] == "Ada"

    hallway = await officer.http.get(
        f"/api/v1/audit/schools/{own_school.id}/hallway", params={"at": "2026-11-24T10:33"}
    )
    assert hallway.status_code == 200, hallway.text
    (out,) = hallway.json()["out"]
    assert (out["pass_id"], out["destination"], out["minutes_out"]) == (str(pass_id), "Nurse", 3)
    later = await officer.http.get(
        f"/api/v1/audit/schools/{own_school.id}/hallway", params={"at": "2026-11-24T10:37"}
    )
    assert later.json()["out"] == []

    csv = await officer.http.get(
        f"/api/v1/audit/schools/{own_school.id}/hallway", params={"at": "2026-11-24T10:33", "format": "csv"}
    )
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    lines = csv.text.splitlines()
    assert lines[0] == f"# school_id: {own_school.id}" and lines[1].startswith("# at: 2026-11-24T10:33")
    assert lines[2].startswith("# exported_at: ") and lines[4].startswith("student_id,")
    assert str(pass_id) in lines[5]
    jsonl = await officer.http.get(
        f"/api/v1/audit/students/{student}/history",
        params={"from": "2026-11-24", "to": "2026-11-24", "format": "jsonl"},
    )
    header, *rows = [json.loads(line) for line in jsonl.text.splitlines()]
    assert header["export"]["school_id"] == str(own_school.id) and header["export"]["from"] == "2026-11-24"
    assert {r["kind"] for r in rows} >= {"Started", "Completed"}

    views = (await officer.http.get(f"/api/v1/audit/schools/{own_school.id}/views")).json()["views"]
    assert [v["what"] for v in views[:5]] == [
        "student history export (jsonl)",
        "hallway at a moment export (csv)",
        "hallway at a moment",
        "hallway at a moment",
        "student history",
    ]
    assert {v["staff_name"] for v in views} == {"Olive Officer"}


@pytest.mark.asyncio(loop_scope="session")
async def test_a_teacher_gets_403_and_another_schools_records_404(
    own_teacher: ApiClient, officer: ApiClient, own_school: SchoolFixture, other_school: SchoolFixture
) -> None:
    for path in subject_paths(own_school):
        response = await own_teacher.http.get(path)
        assert response.status_code == 403 and response.json()["error"]["code"], path
    for path in subject_paths(other_school):
        response = await officer.http.get(path)
        assert response.status_code == 404 and response.json()["error"]["code"], path
    for bad in ("?at=yesterday", "?at=2026-11-24", "?at=2026-11-24T10:33&format=pdf"):
        response = await officer.http.get(f"/api/v1/audit/schools/{own_school.id}/hallway{bad}")
        assert response.status_code == 422 and response.json()["error"]["code"], bad


@pytest.mark.asyncio(loop_scope="session")
async def test_the_openapi_document_has_the_audit_operations(officer: ApiClient) -> None:
    paths = (await officer.http.get("/api/v1/openapi.json")).json()["paths"]
    assert paths["/api/v1/audit/students/{student_id}/history"]["get"]["x-hallpass-roles"] == [
        "compliance",
        "admin",
        "district_admin",
    ]
    assert "/api/v1/audit/schools/{school_id}/hallway" in paths


@pytest.mark.asyncio(loop_scope="session")
async def test_a_pass_just_made_has_its_history_while_the_audit_index_is_behind(
    server: LiveServer, officer: ApiClient, own_teacher: ApiClient, own_school: SchoolFixture
) -> None:
    """The audit index has a runner of its own that no command waits for (decision 112); a read
    of the audit waits for it to show what was committed before the read (decision 120)."""
    runtime = server.runtime
    async with runtime.pool.acquire() as held, held.transaction():
        await runtime.store.lock_trackings(held, [AuditIndexProjection.name])  # its batches wait
        made = await own_teacher.create_passes(
            own_school.rooms["Room 101"], own_school.rooms["Library"], [own_school.students[5]]
        )
        assert made.status_code == 201, made.text
        pass_id = made.json()["passes"][0]["id"]
        reading = asyncio.create_task(officer.http.get(f"/api/v1/audit/passes/{pass_id}/history"))
        await asyncio.sleep(0.3)  # time enough to answer, were the read not waiting
        assert not reading.done()
    history = await reading
    assert history.status_code == 200, history.text
    assert [e["kind"] for e in history.json()["events"]][:1] == ["Started"]
    await own_teacher.complete(pass_id)
