"""Bounds at the edge (issue 8, findings 1, 7 and 8), through a real server.

Every hostile value is refused with a 4xx (the JSON error body, or a readable page for a form),
nothing is appended to the log, and the keep-alive connection stays usable afterwards.
"""

from __future__ import annotations

import asyncio
import http.client
import json
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import pytest_asyncio

from hallpass.bounds import MAX_PLANNED, MAX_STUDENTS
from support.api_client import ApiClient
from support.forms import post_form, staff_browser
from support.kiosk_client import set_up_kiosk
from support.portal import PortalSchool, make_portal_school
from support.school import PASSWORD, SchoolFixture
from support.server import LiveServer

YEAR_9999 = "9999-12-31T23:00:00-23:59"


def planned(school: SchoolFixture, index: int, **extra: object) -> dict[str, object]:
    return {
        "origin_id": str(school.rooms["Room 101"]),
        "destination_id": str(school.rooms["Nurse"]),
        "student_ids": [str(school.students[index])],
        **extra,
    }


def later(minutes: int = 30) -> str:
    return (datetime.now(UTC) + timedelta(minutes=minutes)).isoformat()


def assert_json_error(r: httpx.Response, status: int = 422) -> dict[str, Any]:
    assert r.status_code == status, r.text
    error: dict[str, Any] = r.json()["error"]
    assert error["code"] and error["message"]
    return error


def assert_page(r: httpx.Response) -> None:
    assert 400 <= r.status_code < 500, r.text
    assert r.headers["content-type"].startswith("text/html")
    assert "<html" in r.text.lower()


@pytest_asyncio.fixture(loop_scope="session")
async def admin(server: LiveServer, school: SchoolFixture) -> AsyncIterator[ApiClient]:
    async with ApiClient.session(server.url, school.emails["Cleo"]) as client:
        yield client


@pytest_asyncio.fixture(loop_scope="session")
async def browser(server: LiveServer, school: SchoolFixture) -> AsyncIterator[httpx.AsyncClient]:
    http = await staff_browser(server.url, school.emails["Ada"], PASSWORD)
    yield http
    await http.aclose()


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def portal_school(server: LiveServer) -> PortalSchool:
    return await make_portal_school(server.runtime, label="Bounds", students=2)


# -- finding 1: nothing unprojectable is appended ------------------------------------------


@pytest.mark.parametrize("way_in", ["year_9999_start", "nul_in_kiosk_name", "nul_in_note"])
async def test_unprojectable_values_are_refused_and_nothing_is_appended(
    server: LiveServer, teacher: ApiClient, school: SchoolFixture, way_in: str
) -> None:
    before = await server.runtime.store.max_notification_id()
    if way_in == "year_9999_start":
        r = await teacher.http.post("/api/v1/passes/scheduled", json=planned(school, 40, start_at=YEAR_9999))
    elif way_in == "nul_in_kiosk_name":
        r = await set_up_kiosk(
            teacher, school.rooms["Room 101"], [school.rooms["Nurse"]], name="Front\u0000desk"
        )
    else:
        r = await teacher.create_passes(
            school.rooms["Room 101"], school.rooms["Nurse"], [school.students[40]], note="back\u0000soon"
        )
    error = assert_json_error(r)
    assert error["details"]["field"] in ("start_at", "name", "note")
    assert await server.runtime.store.max_notification_id() == before


# -- finding 7: a schedule cannot stall the server ---------------------------------------


async def test_a_schedule_over_the_whole_calendar_is_refused(
    server: LiveServer, teacher: ApiClient, school: SchoolFixture
) -> None:
    before = await server.runtime.store.max_notification_id()
    body = planned(
        school, 41, weekdays=[0, 1, 2, 3, 4], at="10:00:00", first_date="0001-01-01", last_date="9999-12-31"
    )
    error = assert_json_error(await teacher.http.post("/api/v1/schedules", json=body))
    assert error["details"]["field"] in ("first_date", "last_date")
    assert await server.runtime.store.max_notification_id() == before


async def test_a_schedule_plans_at_most_the_limit_of_passes(
    server: LiveServer, teacher: ApiClient, school: SchoolFixture
) -> None:
    before = await server.runtime.store.max_notification_id()
    start = date.today() + timedelta(days=1)
    students = [str(s) for s in school.students[:20]]
    body = planned(
        school,
        0,
        student_ids=students,
        weekdays=[0, 1, 2, 3, 4, 5, 6],
        at="10:00:00",
        first_date=str(start),
        last_date=str(start + timedelta(days=59)),
    )
    error = assert_json_error(await teacher.http.post("/api/v1/schedules", json=body))
    assert str(MAX_PLANNED) in error["message"]
    assert error["details"]["limit"] == MAX_PLANNED
    assert error["details"]["planned"] == 60 * 20
    assert await server.runtime.store.max_notification_id() == before


async def test_a_request_names_a_bounded_number_of_students(
    server: LiveServer, teacher: ApiClient, school: SchoolFixture
) -> None:
    before = await server.runtime.store.max_notification_id()
    many = [str(school.students[0])] * (MAX_STUDENTS + 1)
    for path, body in [
        ("/api/v1/passes", planned(school, 0, student_ids=many)),
        ("/api/v1/passes/scheduled", planned(school, 0, student_ids=many, start_at=later())),
    ]:
        error = assert_json_error(await teacher.http.post(path, json=body))
        assert error["details"]["field"] == "student_ids"
    assert await server.runtime.store.max_notification_id() == before


# -- finding 8: hostile input is a 4xx, never a 500 -------------------------------------


async def test_invalid_utf8_in_a_json_body(teacher: ApiClient) -> None:
    r = await teacher.http.post(
        "/api/v1/passes", content=b'{"note": "\xff\xfe"}', headers={"Content-Type": "application/json"}
    )
    assert_json_error(r)


async def test_nul_in_sign_in_names(
    server: LiveServer, school: SchoolFixture, portal_school: PortalSchool
) -> None:
    async with httpx.AsyncClient(base_url=server.url) as anon:
        token = await anon.post("/api/v1/auth/token", json={"email": "ada\u0000@x.org", "password": "x"})
        assert_json_error(token)
        portal = await anon.post(
            f"/api/v1/portal/{portal_school.id}/session", json={"username": "12\u00003", "password": "x"}
        )
        assert_json_error(portal)
    async with httpx.AsyncClient(base_url=server.url) as page:
        assert_page(await post_form(page, "/sign-in", {"email": "ada\x00@x.org", "password": "wrong"}))
    async with httpx.AsyncClient(base_url=server.url) as page:
        form = await post_form(
            page, f"/portal/{portal_school.id}", {"username": "#1\x00", "password": "wrong"}
        )
        assert_page(form)


@pytest.mark.parametrize(
    "params",
    [{"q": "99999999999999999999"}, {"grade": "99999999999999999999"}, {"grade": "-5"}, {"q": "a\x00b"}],
)
async def test_student_search_bounds(
    teacher: ApiClient, browser: httpx.AsyncClient, params: dict[str, str]
) -> None:
    assert_json_error(await teacher.http.get("/api/v1/students", params=params))
    assert_page(await browser.get("/hall-pass/new", params=params, headers={"Accept": "text/html"}))


@pytest.mark.parametrize(
    "params", [{"to": "9999-12-31"}, {"from": "0001-01-01"}, {"to": "9999-12-31T23:59:59"}]
)
async def test_pass_filter_dates_are_bounded(
    teacher: ApiClient, browser: httpx.AsyncClient, params: dict[str, str]
) -> None:
    assert_json_error(await teacher.http.get("/api/v1/passes", params=params))
    for page in ("/hall-pass/rows", "/hall-pass"):
        assert_page(await browser.get(page, params=params, headers={"Accept": "text/html"}))


async def test_start_at_in_year_9999_on_schedule_and_reschedule(
    teacher: ApiClient, school: SchoolFixture
) -> None:
    for start_at in ("9999-12-31T10:00:00+00:00", YEAR_9999, "9999-12-31T10:00:00"):
        r = await teacher.http.post("/api/v1/passes/scheduled", json=planned(school, 42, start_at=start_at))
        assert_json_error(r)
    r = await teacher.http.post("/api/v1/passes/scheduled", json=planned(school, 42, start_at=later()))
    assert r.status_code == 201, r.text
    pass_id = r.json()["passes"][0]["id"]
    for start_at in ("9999-12-31T10:00:00+00:00", YEAR_9999):
        r = await teacher.http.patch(f"/api/v1/passes/{pass_id}/schedule", json={"start_at": start_at})
        assert_json_error(r)
    row = (await teacher.http.get(f"/api/v1/passes/{pass_id}")).json()["pass"]
    assert row["status"] == "scheduled"
    assert datetime.fromisoformat(row["start_at"]).year < 9999


async def test_times_of_day_with_an_offset(
    teacher: ApiClient, admin: ApiClient, school: SchoolFixture
) -> None:
    start = date.today() + timedelta(days=7)
    body = planned(
        school, 43, weekdays=[0, 2], at="10:00:00+05:00", first_date=str(start), last_date=str(start)
    )
    error = assert_json_error(await teacher.http.post("/api/v1/schedules", json=body))
    assert error["details"]["field"] == "at"
    error = assert_json_error(
        await admin.http.put("/api/v1/school/dismissal-time", json={"time": "10:00:00+05:00"})
    )
    assert error["details"]["field"] == "time"


async def test_kiosk_set_up_form_with_a_malformed_grade(
    server: LiveServer, browser: httpx.AsyncClient, school: SchoolFixture
) -> None:
    before = await server.runtime.store.max_notification_id()
    r = await post_form(
        browser,
        "/hall-pass/kiosk",
        {
            "room_id": str(school.rooms["Room 101"]),
            "destination_ids": [str(school.rooms["Nurse"])],
            "mode": "grade",
            "grades": ["--5"],
            "exit_password": "2468",
            "exit_password_confirm": "2468",
        },
    )
    assert_page(r)
    assert "grade" in r.text
    assert await server.runtime.store.max_notification_id() == before


async def test_the_connection_stays_open_after_a_refusal(server: LiveServer, teacher: ApiClient) -> None:
    """After each refusal the same keep-alive connection answers the next request."""
    await asyncio.to_thread(_refusals_keep_the_connection, server.url, teacher.http.headers["Authorization"])


def _refusals_keep_the_connection(url: str, token: str) -> None:
    address = urlsplit(url)
    conn = http.client.HTTPConnection(address.hostname or "127.0.0.1", address.port, timeout=30)
    refusals: list[tuple[str, str, bytes]] = [
        ("POST", "/api/v1/passes", b'{"note": "\xff"}'),
        ("GET", "/api/v1/students?q=99999999999999999999", b""),
        ("GET", "/api/v1/passes?to=9999-12-31", b""),
        ("PUT", "/api/v1/school/dismissal-time", json.dumps({"time": "10:00:00+05:00"}).encode()),
        ("POST", "/api/v1/auth/token", json.dumps({"email": "\u0000", "password": "x"}).encode()),
    ]
    try:
        conn.request("GET", "/api/v1/me", headers={"Authorization": token})
        first = conn.getresponse()
        first.read()
        assert first.status == 200
        assert conn.sock is not None
        local = conn.sock.getsockname()
        for method, path, body in refusals:
            headers = {"Authorization": token, "Content-Type": "application/json"}
            conn.request(method, path, body=body or None, headers=headers)
            refused = conn.getresponse()
            payload = refused.read()
            assert 400 <= refused.status < 500, (path, refused.status, payload)
            assert "error" in json.loads(payload)
            assert not refused.will_close, path
            conn.request("GET", "/api/v1/me", headers={"Authorization": token})
            again = conn.getresponse()
            again.read()
            assert again.status == 200
            assert conn.sock is not None and conn.sock.getsockname() == local, path
    finally:
        conn.close()
