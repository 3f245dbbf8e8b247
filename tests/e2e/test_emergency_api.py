"""/api/v1/admin/schools/{id}/emergency: the administrator's switch over HTTP. While it is on a
pass is refused with a 409 naming the rule; the list names who was out, where and since when;
confirmed-safe marks show in it; the second switch lets passes be created again."""

from __future__ import annotations

from collections.abc import AsyncIterator
from uuid import uuid4

import pytest
import pytest_asyncio

from support.api_client import ApiClient
from support.school import SchoolFixture
from support.server import LiveServer

OWN_SCHOOL_STUDENTS = 6


@pytest_asyncio.fixture(loop_scope="session")
async def admin(server: LiveServer, own_school: SchoolFixture) -> AsyncIterator[ApiClient]:
    async with ApiClient.session(server.url, own_school.emails["Cleo"]) as client:
        yield client


@pytest.mark.asyncio(loop_scope="session")
async def test_the_switch_refuses_passes_lists_who_was_out_and_the_second_switch_ends_it(
    admin: ApiClient, own_teacher: ApiClient, own_school: SchoolFixture
) -> None:
    path = f"/api/v1/admin/schools/{own_school.id}/emergency"
    room, library = own_school.rooms["Room 101"], own_school.rooms["Library"]
    first, second, third = own_school.students[:3]
    made = await own_teacher.create_passes(room, library, [first])
    assert made.status_code == 201, made.text
    pass_id = made.json()["passes"][0]["id"]

    declared = await admin.http.post(path)
    assert declared.status_code == 200, declared.text
    assert declared.json()["ended"] == [pass_id]
    ended = (await own_teacher.http.get(f"/api/v1/passes/{pass_id}")).json()["pass"]
    assert (ended["status"], ended["end_reason"]) == ("terminated", "emergency")

    refused = await own_teacher.create_passes(room, library, [second])
    assert refused.status_code == 409, refused.text
    assert refused.json()["error"]["code"] == "emergency_in_progress"

    listed = (await admin.http.get(path)).json()["emergency"]
    assert listed["on"] is True
    (row,) = listed["out"]
    assert row["student_id"] == str(first) and row["student_name"] == own_school.student_names[first]
    assert row["destination_name"] == "Library" and row["since"] == made.json()["passes"][0]["start_at"]
    assert row["confirmed_safe"] is False

    safe = await admin.http.post(f"/api/v1/admin/students/{first}/safe")
    assert safe.status_code == 200, safe.text
    assert (await admin.http.get(path)).json()["emergency"]["out"][0]["confirmed_safe"] is True
    assert (await admin.http.post("/api/v1/admin/students/not-an-id/safe")).status_code == 404
    assert (await admin.http.post(f"/api/v1/admin/students/{uuid4()}/safe")).status_code == 404

    off = await admin.http.post(f"{path}/end")
    assert off.status_code == 200 and off.json()["emergency"]["on"] is False
    again = await admin.http.post(f"{path}/end")
    assert again.status_code == 409 and again.json()["error"]["code"] == "no_emergency"
    allowed = await own_teacher.create_passes(room, library, [third])
    assert allowed.status_code == 201, allowed.text


@pytest.mark.asyncio(loop_scope="session")
async def test_the_switch_is_in_the_openapi_document(admin: ApiClient) -> None:
    paths = (await admin.http.get("/api/v1/openapi.json")).json()["paths"]
    school = "/api/v1/admin/schools/{school_id}"
    assert {"get", "post"} <= set(paths[f"{school}/emergency"])
    assert "post" in paths[f"{school}/emergency/end"]
    assert "post" in paths["/api/v1/admin/students/{student_id}/safe"]
