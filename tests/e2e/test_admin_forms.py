"""The administration pages as a browser posts them: bad input re-draws the form with a 4xx and
saves nothing, another school's record is a 404 page, a teacher gets a 403 page."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio

from support.api_client import form_csrf, html_browser
from support.school import PASSWORD, SchoolFixture
from support.server import LiveServer


@pytest_asyncio.fixture(loop_scope="session")
async def admin_browser(server: LiveServer, own_school: SchoolFixture) -> AsyncIterator[httpx.AsyncClient]:
    http = await html_browser(server.url, own_school.emails["Cleo"], PASSWORD)
    yield http
    await http.aclose()


async def post_form(http: httpx.AsyncClient, path: str, data: dict[str, str]) -> httpx.Response:
    page = await http.get(path)
    assert page.status_code == 200, page.text
    return await http.post(path, data={**data, "csrf": form_csrf(page.text)})


BAD_FORMS = [
    ("locations", {"name": "Hall\x00", "kind": "other", "allotted_minutes": "5"}, "control characters"),
    ("locations", {"name": "Hall", "kind": "other", "allotted_minutes": "9" * 40}, "allotted_minutes"),
    (
        "students",
        {"first_name": "A", "last_name": "B", "grade": "7", "hall_pass_id": "1" * 30},
        "hall_pass_id",
    ),
    ("staff", {"name": "N", "email": "no-at-sign", "roles": "teacher"}, "email address"),
    ("staff", {"name": "N", "email": "n@example.org"}, "roles"),
]


@pytest.mark.asyncio(loop_scope="session")
@pytest.mark.parametrize(("what", "data", "says"), BAD_FORMS)
async def test_a_bad_form_is_drawn_again_with_the_reason(
    server: LiveServer,
    admin_browser: httpx.AsyncClient,
    own_school: SchoolFixture,
    what: str,
    data: dict[str, str],
    says: str,
) -> None:
    before = await server.runtime.store.max_notification_id()
    answer = await post_form(admin_browser, f"/admin/schools/{own_school.id}/{what}/new", data)
    assert answer.status_code == 422, answer.text
    assert says in answer.text and 'role="alert"' in answer.text
    assert await server.runtime.store.max_notification_id() == before


@pytest.mark.asyncio(loop_scope="session")
async def test_another_schools_record_is_a_404_page_and_a_teacher_gets_403(
    server: LiveServer,
    admin_browser: httpx.AsyncClient,
    own_school: SchoolFixture,
    other_school: SchoolFixture,
) -> None:
    for path in (
        f"/admin/schools/{other_school.id}",
        f"/admin/schools/{other_school.id}/students",
        f"/admin/students/{other_school.students[0]}",
        f"/admin/locations/{other_school.rooms['Nurse']}",
        f"/admin/staff/{other_school.teachers['Ada']}",
    ):
        page = await admin_browser.get(path)
        assert page.status_code == 404 and "Not found" in page.text, path
    teacher = await html_browser(server.url, own_school.emails["Ada"], PASSWORD)
    try:
        for path in (
            "/admin",
            f"/admin/schools/{own_school.id}/staff",
            f"/admin/staff/{own_school.teachers['Bo']}",
        ):
            page = await teacher.get(path, follow_redirects=True)
            assert page.status_code == 403 and "Not allowed" in page.text, path
    finally:
        await teacher.aclose()
