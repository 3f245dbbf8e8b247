"""/api/v1/admin: each operation refuses a teacher (403) and another school's records (404),
bad input answers 4xx with a JSON body, and an administrator's changes show in the lists."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import httpx
import pytest
import pytest_asyncio

from hallpass.aggregates.staff import Role
from hallpass.commands.directory import NewStaff
from support.api_client import ApiClient
from support.school import SchoolFixture, give_password
from support.server import LiveServer

OWN_SCHOOL_STUDENTS = 130

LOCATION = {"name": "Hall B", "kind": "other", "allotted_minutes": 5}
STAFF = {"name": "New Person", "email": "new.person@example.org", "roles": ["teacher"]}
STUDENT = {"first_name": "Ann", "last_name": "Other", "grade": 7, "hall_pass_id": 5}
SCHOOL = {"name": "Renamed", "timezone": "UTC"}


def operations(school: SchoolFixture) -> list[tuple[str, str, dict[str, Any] | None]]:
    """Every admin operation on `school`'s records: method, path, body."""
    s, room, staff, student = school.id, school.rooms["Room 101"], school.teachers["Bo"], school.students[0]
    return [
        ("GET", f"/api/v1/admin/schools/{s}", None),
        ("PUT", f"/api/v1/admin/schools/{s}", SCHOOL),
        ("GET", f"/api/v1/admin/schools/{s}/locations", None),
        ("POST", f"/api/v1/admin/schools/{s}/locations", LOCATION),
        ("GET", f"/api/v1/admin/schools/{s}/staff", None),
        ("POST", f"/api/v1/admin/schools/{s}/staff", STAFF),
        ("GET", f"/api/v1/admin/schools/{s}/students", None),
        ("GET", f"/api/v1/admin/schools/{s}/emergency", None),
        ("POST", f"/api/v1/admin/schools/{s}/emergency", None),
        ("POST", f"/api/v1/admin/schools/{s}/emergency/end", None),
        ("POST", f"/api/v1/admin/students/{student}/safe", None),
        ("POST", f"/api/v1/admin/schools/{s}/students", STUDENT),
        ("GET", f"/api/v1/admin/locations/{room}", None),
        ("PUT", f"/api/v1/admin/locations/{room}", LOCATION),
        ("GET", f"/api/v1/admin/staff/{staff}", None),
        ("PUT", f"/api/v1/admin/staff/{staff}", STAFF),
        ("POST", f"/api/v1/admin/staff/{staff}/password-reset", None),
        ("GET", f"/api/v1/admin/students/{student}", None),
        ("PUT", f"/api/v1/admin/students/{student}", STUDENT),
        ("POST", f"/api/v1/admin/students/{student}/password-reset", None),
    ]


@pytest_asyncio.fixture(loop_scope="session")
async def admin(server: LiveServer, own_school: SchoolFixture) -> AsyncIterator[ApiClient]:
    async with ApiClient.session(server.url, own_school.emails["Cleo"]) as client:
        yield client


async def send(client: ApiClient, method: str, path: str, body: dict[str, Any] | None) -> httpx.Response:
    """JSON with every non-ASCII character escaped, so a lone surrogate reaches the server."""
    content = None if body is None else json.dumps(body)
    return await client.http.request(
        method, path, content=content, headers={"Content-Type": "application/json"}
    )


def refused(response: httpx.Response, status: int) -> None:
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"]


@pytest.mark.asyncio(loop_scope="session")
async def test_every_admin_operation_refuses_a_teacher(
    own_teacher: ApiClient, own_school: SchoolFixture
) -> None:
    for method, path, body in [("GET", "/api/v1/admin/schools", None), *operations(own_school)]:
        refused(await send(own_teacher, method, path, body), 403)
    refused(await send(own_teacher, "POST", "/api/v1/admin/schools", SCHOOL), 403)


@pytest.mark.asyncio(loop_scope="session")
async def test_every_admin_operation_refuses_another_schools_records(
    admin: ApiClient, other_school: SchoolFixture
) -> None:
    for method, path, body in operations(other_school):
        refused(await send(admin, method, path, body), 404)
    refused(await send(admin, "GET", f"/api/v1/admin/staff/{uuid4()}", None), 404)
    refused(await send(admin, "GET", "/api/v1/admin/staff/not-an-id", None), 404)


@pytest.mark.asyncio(loop_scope="session")
async def test_only_a_district_administrator_adds_a_school(admin: ApiClient) -> None:
    refused(await send(admin, "POST", "/api/v1/admin/schools", SCHOOL), 403)


HOSTILE: list[tuple[str, dict[str, Any], int]] = [
    ("locations", {**LOCATION, "name": "Hall\x00B"}, 422),
    ("locations", {**LOCATION, "allotted_minutes": 10**30}, 422),
    ("locations", {**LOCATION, "capacity": -1}, 422),
    ("locations", {**LOCATION, "kind": "dungeon"}, 422),
    ("locations", {**LOCATION, "extra": 1}, 422),
    ("staff", {**STAFF, "email": "not an email"}, 422),
    ("staff", {**STAFF, "roles": []}, 422),
    ("staff", {**STAFF, "roles": ["emperor"]}, 422),
    ("staff", {**STAFF, "name": "x" * 10_000}, 422),
    ("students", {**STUDENT, "hall_pass_id": 2**64}, 422),
    ("students", {**STUDENT, "hall_pass_id": 0}, 422),
    ("students", {**STUDENT, "grade": 99}, 422),
    ("students", {**STUDENT, "external_id": "\ud800"}, 422),
    ("students", {**STUDENT, "homeroom_id": str(uuid4())}, 404),
]


@pytest.mark.asyncio(loop_scope="session")
@pytest.mark.parametrize(("what", "body", "status"), HOSTILE)
async def test_hostile_input_is_refused_with_a_json_error(
    admin: ApiClient, own_school: SchoolFixture, what: str, body: dict[str, Any], status: int
) -> None:
    refused(await send(admin, "POST", f"/api/v1/admin/schools/{own_school.id}/{what}", body), status)


@pytest.mark.asyncio(loop_scope="session")
@pytest.mark.parametrize("zone", ["Mars/Olympus", "America/../etc/passwd", "", "UTC\x00", "A" * 200])
async def test_a_bad_time_zone_is_refused(admin: ApiClient, own_school: SchoolFixture, zone: str) -> None:
    body = {"name": "Same", "timezone": zone}
    refused(await send(admin, "PUT", f"/api/v1/admin/schools/{own_school.id}", body), 422)


@pytest.mark.asyncio(loop_scope="session")
async def test_duplicate_emails_and_ids_are_conflicts(admin: ApiClient, own_school: SchoolFixture) -> None:
    taken = {**STAFF, "email": own_school.emails["Ada"]}
    refused(await send(admin, "POST", f"/api/v1/admin/schools/{own_school.id}/staff", taken), 409)
    first = (await send(admin, "GET", f"/api/v1/admin/students/{own_school.students[0]}", None)).json()
    clash = {**STUDENT, "hall_pass_id": first["student"]["hall_pass_id"]}
    refused(await send(admin, "POST", f"/api/v1/admin/schools/{own_school.id}/students", clash), 409)
    second = own_school.students[1]
    refused(await send(admin, "PUT", f"/api/v1/admin/students/{second}", clash), 409)


@pytest.mark.asyncio(loop_scope="session")
async def test_an_administrator_adds_a_teacher_who_sets_a_password_through_the_link(
    server: LiveServer, admin: ApiClient, own_school: SchoolFixture
) -> None:
    email = f"dana.{uuid4().hex[:6]}@example.org"
    body = {"name": "Dana Reyes", "email": email, "roles": ["teacher", "compliance"]}
    added = await send(admin, "POST", f"/api/v1/admin/schools/{own_school.id}/staff", body)
    assert added.status_code == 201, added.text
    staff = added.json()["staff"]
    assert staff["roles"] == ["teacher", "compliance"] and staff["active"]
    found = await admin.http.get(f"/api/v1/admin/schools/{own_school.id}/staff", params={"q": "dana"})
    assert [s["email"] for s in found.json()["staff"]] == [email]
    reset = await send(admin, "POST", f"/api/v1/admin/staff/{staff['id']}/password-reset", None)
    assert reset.status_code == 201
    link = reset.json()["link"]
    assert "password" not in {k for k in reset.json() if k != "link"}
    async with httpx.AsyncClient() as browser:
        page = await browser.get(link)
        assert page.status_code == 200 and email in page.text
    token = link.rsplit("/", 1)[1]
    assert await server.runtime.app.choose_staff_password(token, "dana chooses well", now=datetime.now(UTC))
    async with ApiClient.session(server.url, email, "dana chooses well") as dana:
        me = (await dana.http.get("/api/v1/me")).json()
        assert me["roles"] == ["teacher", "compliance"]


@pytest.mark.asyncio(loop_scope="session")
async def test_students_page_by_name_and_are_found_by_id(admin: ApiClient, own_school: SchoolFixture) -> None:
    path = f"/api/v1/admin/schools/{own_school.id}/students"
    seen: list[str] = []
    after: str | None = None
    while True:
        page = (await admin.http.get(path, params={"after": after} if after else {})).json()
        seen += [s["id"] for s in page["students"]]
        after = page["next"]
        if after is None:
            break
    assert len(seen) == len(set(seen)) >= OWN_SCHOOL_STUDENTS
    one = (await admin.http.get(f"/api/v1/admin/students/{own_school.students[3]}")).json()["student"]
    by_id = (await admin.http.get(path, params={"q": str(one["hall_pass_id"])})).json()["students"]
    assert [s["id"] for s in by_id] == [one["id"]]
    refused(await admin.http.get(path, params={"after": "garbage"}), 422)


@pytest_asyncio.fixture(loop_scope="session")
async def district_admin(server: LiveServer, own_school: SchoolFixture) -> AsyncIterator[ApiClient]:
    """Dee, who administers every school of own_school's district."""
    email = f"dee.{uuid4().hex[:6]}@example.org"
    now = datetime.now(UTC)
    (dee,) = await server.runtime.app.hire_staff(
        own_school.id, [NewStaff("Dee District", email, (Role.DISTRICT_ADMIN,), None)], now=now
    )
    await give_password(server.runtime, email, dee.id, own_school.id, now)
    async with ApiClient.session(server.url, email) as client:
        yield client


@pytest.mark.asyncio(loop_scope="session")
async def test_a_district_administrator_adds_a_school_and_keeps_it(
    district_admin: ApiClient, admin: ApiClient, other_school: SchoolFixture
) -> None:
    added = await send(
        district_admin,
        "POST",
        "/api/v1/admin/schools",
        {"name": "Cedar Middle", "timezone": "America/Chicago", "dismissal_time": "15:10:00"},
    )
    assert added.status_code == 201, added.text
    school = added.json()["school"]
    assert school["dismissal_time"] == "15:10:00"
    listed = (await district_admin.http.get("/api/v1/admin/schools")).json()["schools"]
    assert school["id"] in {s["id"] for s in listed}
    place = await send(district_admin, "POST", f"/api/v1/admin/schools/{school['id']}/locations", LOCATION)
    assert place.status_code == 201, place.text
    # The school administrator of the first school does not reach the new one; nor does the
    # district administrator reach another district's school.
    refused(await send(admin, "GET", f"/api/v1/admin/schools/{school['id']}", None), 404)
    refused(await send(district_admin, "GET", f"/api/v1/admin/schools/{other_school.id}", None), 404)
    assert school["id"] not in {
        s["id"] for s in (await admin.http.get("/api/v1/admin/schools")).json()["schools"]
    }
