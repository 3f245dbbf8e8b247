"""One limiter for every secret: a burst of 40 concurrent tries gets at most the limit checked.

Each burst sends 40 tries at once over separate connections. The right secret goes as number
36, once the tries in flight have used up the limit (read from the limiter's row), so it is
certain to arrive while the login is out of tries, and must not get in.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from uuid import UUID

import httpx
import pytest

from hallpass.aggregates.kiosks import Kiosk, KioskStatus
from hallpass.credentials import KIOSK_EXIT_LIMIT, STAFF_LIMIT, STUDENT_LIMIT
from support.api_client import ApiClient, form_csrf
from support.kiosk_client import EXIT_PASSWORD, KioskClient
from support.portal import NEW_PASSWORD, StudentClient, hall_pass_id, make_portal_school
from support.school import PASSWORD, make_school
from support.server import LiveServer

pytestmark = pytest.mark.slow

TRIES = 40
RIGHT_AT = 36
Attempt = Callable[[str], Awaitable[httpx.Response]]


async def out_of_tries(server: LiveServer, login: str, limit: int) -> None:
    """Wait until the tries admitted for `login` (in flight or failed) reach `limit`, or it is locked."""
    for _ in range(1500):
        used = await server.runtime.pool.fetchval(
            """
            SELECT failures + pending >= $2 OR coalesce(locked_until > now(), false)
            FROM sign_in_limits WHERE login = $1
            """,
            login,
            limit,
        )
        if used:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"{login} never ran out of tries")


async def burst(
    server: LiveServer, attempt: Attempt, *, login: str, limit: int, wrong: str, right: str
) -> tuple[list[httpx.Response], httpx.Response]:
    async def one(number: int) -> httpx.Response:
        if number == RIGHT_AT:
            await out_of_tries(server, login, limit)
            return await attempt(right)
        return await attempt(wrong)

    answers = await asyncio.gather(*(one(n) for n in range(1, TRIES + 1)))
    return [a for n, a in enumerate(answers, 1) if n != RIGHT_AT], answers[RIGHT_AT - 1]


def assert_checked_then_locked(wrong: list[httpx.Response], right: httpx.Response, limit: int) -> None:
    """`limit` wrong passwords were checked (401), every later try was refused unchecked (429),
    and so was the right password, which came after the limit."""
    statuses = [r.status_code for r in wrong]
    assert statuses.count(401) == limit, statuses
    assert statuses.count(429) == TRIES - 1 - limit, statuses
    assert right.status_code == 429, right.text


async def test_staff_password_burst_checks_at_most_ten(server: LiveServer) -> None:
    school = await make_school(server.runtime, label="StaffBurst", students=1)
    email = school.emails["Bo"]
    async with httpx.AsyncClient(base_url=server.url, timeout=60) as http:

        async def attempt(password: str) -> httpx.Response:
            return await http.post("/api/v1/auth/token", json={"email": email, "password": password})

        wrong, right = await burst(
            server, attempt, login=email, limit=STAFF_LIMIT.failures, wrong="guess-0000", right=PASSWORD
        )
        assert_checked_then_locked(wrong, right, STAFF_LIMIT.failures)
        assert 0 < int(right.headers["Retry-After"]) <= 15 * 60

        # The sign-in form shares the limit: the right password is refused there too.
        page = await http.get("/sign-in")
        form = {"email": email, "password": PASSWORD, "csrf": form_csrf(page.text)}
        refused = await http.post("/sign-in", data=form, follow_redirects=False)
        assert refused.status_code == 429
        assert "Too many failed sign-ins" in refused.text
    lockouts = await server.runtime.credentials.limiter.lockouts(email)
    assert len(lockouts) == 1


@pytest.mark.parametrize("chosen", [False, True], ids=["first-sign-in-with-the-id", "own-password"])
async def test_portal_burst_checks_at_most_ten(server: LiveServer, chosen: bool) -> None:
    portal = await make_portal_school(server.runtime, label=f"PortalBurst{int(chosen)}", students=2)
    student_id: UUID = portal.school.students[0]
    sid = await hall_pass_id(server.runtime, student_id)
    right = sid
    if chosen:
        owner = StudentClient(server.url, portal.id)
        await owner.ready(sid)
        await owner.close()
        right = NEW_PASSWORD
    async with httpx.AsyncClient(base_url=server.url, timeout=60) as http:

        async def attempt(password: str) -> httpx.Response:
            body = {"username": sid, "password": password}
            return await http.post(f"/api/v1/portal/{portal.id}/session", json=body)

        login = f"student:{student_id}"
        wrong, answer = await burst(
            server, attempt, login=login, limit=STUDENT_LIMIT.failures, wrong="not-my-password", right=right
        )
        assert_checked_then_locked(wrong, answer, STUDENT_LIMIT.failures)
        assert answer.json()["error"]["code"] == "locked_out"

        # The sign-in page shares the lock.
        page = await http.get(f"/portal/{portal.id}")
        form = {"username": sid, "password": right, "csrf": form_csrf(page.text)}
        refused = await http.post(f"/portal/{portal.id}", data=form, follow_redirects=False)
        assert refused.status_code == 429
        assert "locked" in refused.text
    assert len(await server.runtime.credentials.limiter.lockouts(login)) == 1


async def test_kiosk_exit_burst_checks_at_most_five(server: LiveServer) -> None:
    school = await make_school(server.runtime, label="KioskBurst", students=2)
    staff = await ApiClient.signed_in(server.url, school.emails["Ada"], PASSWORD)
    device = await KioskClient.started(staff, server.url, school.rooms["Room 101"], [school.rooms["Nurse"]])
    await staff.close()
    kiosk_id = UUID((await device.http.get("/api/v1/kiosk")).json()["id"])
    try:
        wrong, right = await burst(
            server,
            device.exit,
            login=f"kiosk:{kiosk_id}",
            limit=KIOSK_EXIT_LIMIT.failures,
            wrong="0000",
            right=EXIT_PASSWORD,
        )
        statuses = [r.status_code for r in wrong]
        checked = [r for r in wrong if r.json()["error"]["message"].startswith("Wrong password")]
        assert len(checked) == KIOSK_EXIT_LIMIT.failures, statuses
        assert statuses.count(403) == KIOSK_EXIT_LIMIT.failures - 1, statuses
        assert statuses.count(423) == TRIES - KIOSK_EXIT_LIMIT.failures, statuses
        assert right.status_code == 423, right.text
        assert int(right.headers["Retry-After"]) <= 5 * 60
    finally:
        await device.close()
    kiosk = await server.runtime.app.repository.find(kiosk_id, Kiosk)
    assert kiosk is not None
    assert kiosk.status is KioskStatus.ACTIVE
    assert kiosk.locked_until is not None
    # Configured, one ExitFailed per checked password, and LockedOut: each checked try is an event.
    assert kiosk.version == 1 + KIOSK_EXIT_LIMIT.failures + 1
