"""Server-side sessions: signing out, a new password or removal end a session at once, and the
sign-in and sign-out forms cannot be driven from another site (CSRF)."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest_asyncio

from support.api_client import ApiClient, form_csrf, sign_in_form
from support.fixtures import module_portal
from support.portal import NEW_PASSWORD, PortalSchool, StudentClient, hall_pass_id
from support.school import PASSWORD, SchoolFixture
from support.server import LiveServer

portal = module_portal("Sessions", students=8)


@pytest_asyncio.fixture(loop_scope="session")
async def browser(server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        yield client


def copy_of(server: LiveServer, client: httpx.AsyncClient) -> httpx.AsyncClient:
    """Another client holding the same cookies: a cookie saved before signing out."""
    return httpx.AsyncClient(base_url=server.url, cookies=dict(client.cookies), timeout=30)


def digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


async def test_a_staff_cookie_saved_before_sign_out_opens_nothing(
    server: LiveServer, school: SchoolFixture, browser: httpx.AsyncClient
) -> None:
    assert (await sign_in_form(browser, school.emails["Bo"], PASSWORD)).status_code == 303
    page = await browser.get("/hall-pass")
    assert page.status_code == 200
    csrf = form_csrf(page.text)
    saved = copy_of(server, browser)
    signed_out = await browser.post("/sign-out", data={"csrf": csrf}, follow_redirects=False)
    assert signed_out.headers["location"] == "/sign-in"
    async with saved:
        again = await saved.get("/hall-pass", follow_redirects=False)
        assert again.status_code == 303
        assert again.headers["location"].startswith("/sign-in")
        body = {
            "origin_id": str(school.rooms["Room 102"]),
            "destination_id": str(school.rooms["Library"]),
            "student_ids": [str(school.students[40])],
        }
        created = await saved.post("/api/v1/passes", json=body, headers={"X-CSRF-Token": csrf})
        assert created.status_code == 401
    listed = await server.runtime.pool.fetchval(
        "SELECT count(*) FROM pass_list WHERE student_id = $1", school.students[40]
    )
    assert listed == 0


async def test_a_portal_cookie_ends_with_its_session(server: LiveServer, portal: PortalSchool) -> None:
    student = StudentClient(server.url, portal.id)
    await student.ready(await hall_pass_id(server.runtime, portal.school.students[0]))
    assert (await student.http.get("/api/v1/portal/me")).status_code == 200
    saved = copy_of(server, student.http)
    saved.headers["X-CSRF-Token"] = student.http.headers["X-CSRF-Token"]
    assert (await student.http.delete("/api/v1/portal/session")).status_code == 204
    await student.close()
    async with saved:
        assert (await saved.get("/api/v1/portal/me")).status_code == 401
        assert (await saved.get("/portal/home", follow_redirects=False)).status_code in (303, 401)


async def test_a_new_password_ends_the_other_sessions(server: LiveServer, portal: PortalSchool) -> None:
    sid = await hall_pass_id(server.runtime, portal.school.students[1])
    here, elsewhere = StudentClient(server.url, portal.id), StudentClient(server.url, portal.id)
    assert (await here.sign_in(sid, sid)).status_code == 201
    assert (await elsewhere.sign_in(sid, sid)).status_code == 201
    assert (await here.set_password(NEW_PASSWORD)).status_code == 200
    assert (await elsewhere.http.get("/api/v1/portal/me")).status_code == 401
    me = await here.http.get("/api/v1/portal/me")
    assert me.status_code == 200
    assert me.json()["must_change_password"] is False
    assert (await here.passes()).status_code == 200
    await here.close()
    await elsewhere.close()


async def test_twenty_idle_minutes_end_a_portal_session(server: LiveServer, portal: PortalSchool) -> None:
    student = StudentClient(server.url, portal.id)
    await student.ready(await hall_pass_id(server.runtime, portal.school.students[2]))
    pool = server.runtime.pool
    raw = student.http.cookies["hallpass"]
    assert raw
    now = datetime.now(UTC)

    async def idle_since(minutes: int) -> None:
        await pool.execute(
            "UPDATE sessions SET last_seen_at = $2 WHERE principal_id = $1 AND revoked_at IS NULL",
            portal.school.students[2],
            now - timedelta(minutes=minutes),
        )

    await idle_since(19)
    assert (await student.passes()).status_code == 200
    seen = await pool.fetchval(
        "SELECT max(last_seen_at) FROM sessions WHERE principal_id = $1", portal.school.students[2]
    )
    assert seen >= now - timedelta(seconds=5), "activity moves the idle clock"
    await idle_since(21)
    ended = await student.http.get("/api/v1/portal/me")
    assert ended.status_code == 401
    assert "without activity" in ended.json()["error"]["message"]
    await student.close()


async def test_bearer_tokens_expire_and_can_be_revoked(server: LiveServer, school: SchoolFixture) -> None:
    async with httpx.AsyncClient(base_url=server.url) as anon:
        issued = await anon.post(
            "/api/v1/auth/token", json={"email": school.emails["Cleo"], "password": PASSWORD}
        )
    assert issued.status_code == 201
    expires_at = datetime.fromisoformat(issued.json()["expires_at"])
    assert timedelta(hours=11, minutes=59) < expires_at - datetime.now(UTC) <= timedelta(hours=12)

    revoked, expired = (
        ApiClient(server.url, issued.json()["token"]),
        await ApiClient.signed_in(server.url, school.emails["Cleo"], PASSWORD),
    )
    assert (await revoked.http.get("/api/v1/me")).status_code == 200
    assert (await revoked.http.delete("/api/v1/auth/token")).status_code == 204
    assert (await revoked.http.get("/api/v1/me")).status_code == 401
    assert (await revoked.passes()).status_code == 401

    token = str(expired.http.headers["Authorization"]).removeprefix("Bearer ")
    await server.runtime.pool.execute(
        "UPDATE sessions SET expires_at = now() - interval '1 second' WHERE id_hash = $1", digest(token)
    )
    assert (await expired.http.get("/api/v1/me")).status_code == 401
    await revoked.close()
    await expired.close()

    async with httpx.AsyncClient(base_url=server.url) as anon:
        assert (await anon.delete("/api/v1/auth/token")).status_code == 401
        doc = (await anon.get("/api/v1/openapi.json")).json()
    assert "204" in doc["paths"]["/api/v1/auth/token"]["delete"]["responses"]


async def test_removing_a_member_of_staff_ends_their_sessions(
    server: LiveServer, school: SchoolFixture
) -> None:
    token_client = await ApiClient.signed_in(server.url, school.emails["Cleo"], PASSWORD)
    async with httpx.AsyncClient(base_url=server.url) as browser:
        assert (await sign_in_form(browser, school.emails["Cleo"], PASSWORD)).status_code == 303
        ended = await server.runtime.sessions.revoke_principal(school.teachers["Cleo"], now=datetime.now(UTC))
        assert ended >= 2
        assert (await token_client.http.get("/api/v1/me")).status_code == 401
        assert (await browser.get("/hall-pass", follow_redirects=False)).status_code == 303
    await token_client.close()


# -- CSRF on signing in and out ---------------------------------------------------------------


async def test_sign_in_forms_need_their_csrf_token(
    server: LiveServer, school: SchoolFixture, portal: PortalSchool, browser: httpx.AsyncClient
) -> None:
    forged = await browser.post(
        "/sign-in", data={"email": school.emails["Bo"], "password": PASSWORD}, follow_redirects=False
    )
    assert forged.status_code == 403
    assert (await browser.get("/api/v1/me")).status_code == 401

    sid = await hall_pass_id(server.runtime, portal.school.students[3])
    portal_forged = await browser.post(
        f"/portal/{portal.id}", data={"username": sid, "password": sid}, follow_redirects=False
    )
    assert portal_forged.status_code == 403
    assert (await browser.get("/api/v1/portal/me")).status_code == 401

    plain = await browser.post(
        f"/api/v1/portal/{portal.id}/session",
        content=f'{{"username": "{sid}", "password": "{sid}"}}',
        headers={"Content-Type": "text/plain"},
    )
    assert plain.status_code == 415
    assert (await browser.get("/api/v1/portal/me")).status_code == 401


async def test_signing_out_takes_a_post_with_the_csrf_token(
    server: LiveServer, school: SchoolFixture, portal: PortalSchool, browser: httpx.AsyncClient
) -> None:
    assert (await sign_in_form(browser, school.emails["Bo"], PASSWORD)).status_code == 303
    assert (await browser.get("/sign-out", follow_redirects=False)).status_code == 405
    assert (await browser.post("/sign-out", data={}, follow_redirects=False)).status_code == 303
    assert (await browser.get("/api/v1/me")).status_code == 200, "still signed in"

    student = StudentClient(server.url, portal.id)
    await student.ready(await hall_pass_id(server.runtime, portal.school.students[4]))
    assert (await student.http.get("/portal/sign-out", follow_redirects=False)).status_code == 405
    csrf = student.http.headers.pop("X-CSRF-Token")
    assert (await student.http.delete("/api/v1/portal/session")).status_code == 403
    assert (await student.http.post("/portal/sign-out", data={}, follow_redirects=False)).status_code == 303
    assert (await student.http.get("/api/v1/portal/me")).status_code == 200, "still signed in"
    home = await student.http.get("/portal/home")
    signed_out = await student.http.post(
        "/portal/sign-out", data={"csrf": form_csrf(home.text)}, follow_redirects=False
    )
    assert signed_out.status_code in (303, 401)
    student.http.headers["X-CSRF-Token"] = csrf
    assert (await student.http.get("/api/v1/portal/me")).status_code == 401
    await student.close()


async def test_signing_out_of_the_portal_without_a_session_is_a_401(server: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=server.url) as anon:
        r = await anon.delete("/api/v1/portal/session")
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "unauthenticated"
