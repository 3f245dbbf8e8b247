"""Bad input gets a clear 4xx with the error shape, and never a partial write."""

from __future__ import annotations

import uuid

import httpx

from support.api_client import ApiClient, sign_in_form
from support.school import SchoolFixture
from support.server import LiveServer


async def test_unknown_student_is_a_404_naming_it(teacher: ApiClient, school: SchoolFixture) -> None:
    ghost = uuid.uuid4()
    r = await teacher.create_passes(school.rooms["Room 101"], school.rooms["Nurse"], [ghost])
    assert r.status_code == 404
    assert str(ghost) in r.json()["error"]["message"]


async def test_unknown_location_is_a_404_naming_it(teacher: ApiClient, school: SchoolFixture) -> None:
    ghost = uuid.uuid4()
    r = await teacher.create_passes(school.rooms["Room 101"], ghost, [school.students[10]])
    assert r.status_code == 404
    assert str(ghost) in r.json()["error"]["message"]
    assert r.json()["error"]["details"]["field"] == "destination"


async def test_invalid_body_is_a_422_naming_the_field(teacher: ApiClient, school: SchoolFixture) -> None:
    r = await teacher.http.post("/api/v1/passes", json={"origin_id": str(school.rooms["Room 101"])})
    assert r.status_code == 422
    assert "destination_id" in r.json()["error"]["message"]
    r = await teacher.create_passes(
        school.rooms["Room 101"], school.rooms["Nurse"], [school.students[10]], allotted_minutes="ten"
    )
    assert r.status_code == 422
    assert r.json()["error"]["details"]["field"] == "allotted_minutes"
    r = await teacher.http.post("/api/v1/passes", content=b"{not json")
    assert r.status_code == 422


async def test_longer_than_allotted_is_refused(teacher: ApiClient, school: SchoolFixture) -> None:
    r = await teacher.create_passes(
        school.rooms["Room 101"], school.rooms["Nurse"], [school.students[10]], allotted_minutes=60
    )
    assert r.status_code == 422
    assert "at most 15 minutes" in r.json()["error"]["message"]


async def test_not_signed_in_is_a_401(server: LiveServer, school: SchoolFixture) -> None:
    async with httpx.AsyncClient(base_url=server.url) as anon:
        assert (await anon.get("/api/v1/passes")).status_code == 401
        r = await anon.post("/api/v1/passes", json={})
        assert r.status_code == 401
        assert r.json()["error"]["code"] == "unauthenticated"
        forged = await anon.get("/api/v1/passes", headers={"Authorization": "Bearer forged"})
        assert forged.status_code == 401
        page = await anon.get("/hall-pass", follow_redirects=False)
        assert page.status_code == 303
        assert page.headers["location"].startswith("/sign-in")


async def test_wrong_password_is_a_401(server: LiveServer, school: SchoolFixture) -> None:
    async with httpx.AsyncClient(base_url=server.url) as anon:
        r = await anon.post("/api/v1/auth/token", json={"email": school.emails["Bo"], "password": "nope"})
        assert r.status_code == 401


async def test_another_schools_pass_is_a_404(
    teacher: ApiClient, other_teacher: ApiClient, school: SchoolFixture, other_school: SchoolFixture
) -> None:
    student = other_school.students[0]
    rooms = other_school.rooms
    r = await other_teacher.create_passes(rooms["Room 101"], rooms["Nurse"], [student])
    if r.status_code == 409:  # the other school is shared by the session: another test sent them out
        assert r.json()["error"]["code"] == "student_already_out"
        r = await other_teacher.passes(student_id=str(student), status="active")
    assert r.is_success, r.text
    theirs = r.json()["passes"][0]["id"]
    assert (await teacher.http.get(f"/api/v1/passes/{theirs}")).status_code == 404
    assert (await teacher.complete(theirs)).status_code == 404
    assert theirs not in {p["id"] for p in (await teacher.passes(limit="500")).json()["passes"]}
    cross = await teacher.create_passes(
        school.rooms["Room 101"], school.rooms["Nurse"], [other_school.students[1]]
    )
    assert cross.status_code == 404
    assert (await teacher.http.get("/api/v1/passes/not-a-uuid")).status_code == 404


async def test_one_student_out_refuses_the_whole_batch(teacher: ApiClient, school: SchoolFixture) -> None:
    out, free = school.students[11], school.students[12]
    await teacher.create_passes(school.rooms["Room 101"], school.rooms["Library"], [out])
    r = await teacher.create_passes(school.rooms["Room 101"], school.rooms["Nurse"], [free, out])
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "student_already_out"
    assert "Library" in r.json()["error"]["message"]
    assert (await teacher.passes(student_id=str(free))).json()["passes"] == []


async def test_full_destination_is_a_409(teacher: ApiClient, school: SchoolFixture) -> None:
    restroom = school.rooms["Restroom"]
    current = (await teacher.passes(destination_id=str(restroom), status="active")).json()["passes"]
    for p in current:
        await teacher.complete(p["id"])
    r = await teacher.create_passes(school.rooms["Room 101"], restroom, school.students[13:15])
    assert r.status_code == 201, r.text
    full = await teacher.create_passes(school.rooms["Room 101"], restroom, [school.students[15]])
    assert full.status_code == 409
    assert full.json()["error"]["code"] == "destination_full"


async def test_cookie_session_needs_csrf_for_changes(server: LiveServer, school: SchoolFixture) -> None:
    async with httpx.AsyncClient(base_url=server.url) as browser:
        signed = await sign_in_form(browser, school.emails["Ada"], "correct horse battery")
        assert signed.status_code == 303
        assert (await browser.get("/api/v1/passes")).status_code == 200
        r = await browser.post(
            "/api/v1/passes",
            json={
                "origin_id": str(school.rooms["Room 101"]),
                "destination_id": str(school.rooms["Nurse"]),
                "student_ids": [str(school.students[16])],
            },
        )
        assert r.status_code == 403
        assert "CSRF" in r.json()["error"]["message"]


async def test_openapi_document_describes_the_api(server: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=server.url) as anon:
        doc = (await anon.get("/api/v1/openapi.json")).json()
    assert doc["openapi"].startswith("3.")
    assert {"/api/v1/passes", "/api/v1/passes/{pass_id}/complete"} <= set(doc["paths"])
    assert "CreatePasses" in doc["components"]["schemas"]
    params = doc["paths"]["/api/v1/passes"]["post"]["parameters"]
    assert any(p["name"] == "Idempotency-Key" for p in params)


async def test_unusual_digits_in_a_search_are_not_an_error(teacher: ApiClient) -> None:
    for query in ("١٢٣", "#²"):
        r = await teacher.http.get("/api/v1/students", params={"q": query})
        assert r.status_code == 200, query
        assert r.json()["students"] == []
    folded = await teacher.http.get("/api/v1/students", params={"q": "²"})
    assert folded.status_code == 200
    assert folded.json()["students"]
    assert all("2" in s["name"] for s in folded.json()["students"])
