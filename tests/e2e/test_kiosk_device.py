"""A kiosk device stays a kiosk: no header lets it out, its cookie lives 30 days from last use,
a refused set-up leaves no exit password behind, and cookies are Secure over HTTPS."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio

from hallpass.http.auth import KIOSK_COOKIE, KIOSK_TOKEN_MAX_AGE
from support.api_client import ApiClient, form_csrf, sign_in_form
from support.kiosk_client import EXIT_PASSWORD, KioskClient, set_up_kiosk
from support.school import PASSWORD, SchoolFixture, make_school
from support.server import LiveServer, live_server


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def kschool(server: LiveServer) -> SchoolFixture:
    return await make_school(server.runtime, label="Device", students=4)


async def kiosk_credentials(server: LiveServer, school: SchoolFixture) -> int:
    count = await server.runtime.pool.fetchval(
        "SELECT count(*) FROM credentials WHERE principal_kind = 'kiosk' AND school_id = $1", school.id
    )
    return int(count)


async def set_up_in_browser(browser: httpx.AsyncClient, school: SchoolFixture) -> httpx.Response:
    page = await browser.get("/hall-pass/kiosk")
    form = {
        "csrf": form_csrf(page.text),
        "room_id": str(school.rooms["Room 101"]),
        "destination_ids": [str(school.rooms["Nurse"])],
        "mode": "all",
        "exit_password": EXIT_PASSWORD,
        "exit_password_confirm": EXIT_PASSWORD,
    }
    return await browser.post("/hall-pass/kiosk", data=form, follow_redirects=False)


def set_cookie(response: httpx.Response, name: str) -> str:
    found = [h for h in response.headers.get_list("set-cookie") if h.startswith(f"{name}=")]
    assert found, f"no {name} cookie set"
    return found[-1]


def flags(cookie: str) -> set[str]:
    """The cookie's attributes, lower case: {"secure", "httponly", "max-age=60", ...}."""
    return {part.strip().lower() for part in cookie.split(";")[1:]}


async def test_a_refused_set_up_stores_no_exit_password(server: LiveServer, kschool: SchoolFixture) -> None:
    staff = await ApiClient.signed_in(server.url, kschool.emails["Ada"], PASSWORD)
    before = await kiosk_credentials(server, kschool)
    refused = await set_up_kiosk(staff, kschool.rooms["Room 101"], [kschool.rooms["Room 101"]])
    assert refused.status_code == 422, refused.text
    assert await kiosk_credentials(server, kschool) == before
    made = await set_up_kiosk(staff, kschool.rooms["Room 101"], [kschool.rooms["Nurse"]])
    assert made.status_code == 201
    assert await kiosk_credentials(server, kschool) == before + 1
    await staff.close()


async def test_no_header_lets_a_kiosk_device_out(server: LiveServer, kschool: SchoolFixture) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as device:
        assert (await sign_in_form(device, kschool.emails["Bo"], PASSWORD)).status_code == 303
        staff_cookie = device.cookies["hallpass"]
        staff_csrf = form_csrf((await device.get("/hall-pass")).text)
        made = await set_up_in_browser(device, kschool)
        assert made.status_code == 303 and made.headers["location"] == "/kiosk"
        kiosk_cookie = device.cookies[KIOSK_COOKIE]
    token = (await ApiClient.signed_in(server.url, kschool.emails["Bo"], PASSWORD)).http.headers[
        "Authorization"
    ]
    cookies = {"hallpass": staff_cookie, KIOSK_COOKIE: kiosk_cookie}
    async with httpx.AsyncClient(base_url=server.url, cookies=cookies, timeout=30) as both:
        for authorization in (token, "Bearer anything", "Basic eDp5"):
            headers = {"Authorization": authorization, "X-CSRF-Token": staff_csrf}
            page = await both.get("/hall-pass", headers=headers, follow_redirects=False)
            assert page.status_code == 303 and page.headers["location"] == "/kiosk", authorization
            body = {
                "origin_id": str(kschool.rooms["Room 101"]),
                "destination_id": str(kschool.rooms["Library"]),
                "student_ids": [str(kschool.students[0])],
            }
            created = await both.post("/api/v1/passes", json=body, headers=headers, follow_redirects=False)
            assert created.status_code == 303, authorization
        assert (await both.get("/kiosk")).status_code == 200
    out = await server.runtime.pool.fetchval(
        "SELECT count(*) FROM pass_list WHERE student_id = $1", kschool.students[0]
    )
    assert out == 0


async def test_the_kiosk_cookie_lasts_thirty_days_from_its_last_use(
    server: LiveServer, kschool: SchoolFixture
) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as device:
        await sign_in_form(device, kschool.emails["Ada"], PASSWORD)
        made = await set_up_in_browser(device, kschool)
        first = set_cookie(made, KIOSK_COOKIE)
        assert KIOSK_TOKEN_MAX_AGE == 30 * 24 * 3600
        assert {f"max-age={KIOSK_TOKEN_MAX_AGE}", "httponly", "samesite=strict"} <= flags(first)
        assert "secure" not in flags(first)
        assert "secure" not in flags(set_cookie(made, "hallpass"))
        used = await device.get("/kiosk")
        assert used.status_code == 200
        renewed = set_cookie(used, KIOSK_COOKIE)
        assert f"max-age={KIOSK_TOKEN_MAX_AGE}" in flags(renewed)

    # An API client renews its token the same way: GET /api/v1/kiosk issues it again.
    staff = await ApiClient.signed_in(server.url, kschool.emails["Ada"], PASSWORD)
    device_api = await KioskClient.started(
        staff, server.url, kschool.rooms["Room 102"], [kschool.rooms["Nurse"]]
    )
    await staff.close()
    fresh = (await device_api.http.get("/api/v1/kiosk")).json()["token"]
    await device_api.close()
    again = KioskClient(server.url, fresh)
    assert (await again.http.get("/api/v1/kiosk")).status_code == 200
    await again.close()


@pytest_asyncio.fixture(loop_scope="session")
async def https_server(server: LiveServer, database_url: str, tmp_path: Path) -> AsyncIterator[LiveServer]:
    async with live_server(database_url, tmp_path, with_projectors=False, https=True) as live:
        yield live


@pytest.mark.slow
async def test_every_cookie_is_secure_over_https(
    https_server: LiveServer, server: LiveServer, kschool: SchoolFixture
) -> None:
    # Secure cookies are not sent back over plain HTTP, so this client carries them by hand.
    async with httpx.AsyncClient(base_url=https_server.url, timeout=30) as http:
        form = await http.get("/sign-in")
        pre_session = set_cookie(form, "hallpass")
        assert "secure" in flags(pre_session)
        cookie = {"Cookie": pre_session.split(";")[0]}
        data = {"email": kschool.emails["Ada"], "password": PASSWORD, "csrf": form_csrf(form.text)}
        signed = await http.post("/sign-in", data=data, headers=cookie, follow_redirects=False)
        assert signed.status_code == 303
        assert "secure" in flags(set_cookie(signed, "hallpass"))

        portal = await http.get(f"/portal/{kschool.id}")
        assert "secure" in flags(set_cookie(portal, "hallpass_portal_school"))

        staff = await ApiClient.signed_in(https_server.url, kschool.emails["Ada"], PASSWORD)
        token = (await set_up_kiosk(staff, kschool.rooms["Room 102"], [kschool.rooms["Nurse"]])).json()[
            "token"
        ]
        await staff.close()
        kiosk = await http.get("/kiosk", headers={"Cookie": f"{KIOSK_COOKIE}={token}"})
        assert kiosk.status_code == 200
        assert "secure" in flags(set_cookie(kiosk, KIOSK_COOKIE))
