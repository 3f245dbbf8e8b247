"""axe-core (kept with the tests, never fetched from a CDN) on every kind of page: no serious or
critical violation. And keyboard alone: a kiosk student and a portal student create a pass, and
the staff dashboard's actions are reached by Tab."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from uuid import uuid4
from zoneinfo import ZoneInfo

import pytest
from playwright.async_api import Page, expect

from hallpass.acting import Acting
from hallpass.aggregates.staff import Role
from hallpass.commands.directory import NewStaff
from hallpass.commands.messages import CompletePass
from support.api_client import ApiClient
from support.axe import serious_violations, with_axe
from support.browser import DESKTOP, PHONE, TABLET, Screens, create_in_portal, sign_in
from support.fixtures import module_portal
from support.kiosk_client import KioskClient
from support.portal import PortalSchool, StudentClient, hall_pass_id
from support.school import give_password, schedule_series, send_out
from support.server import LiveServer

pytestmark = pytest.mark.browser


portal = module_portal("Accessible", students=12)
asking = module_portal("AccessibleRequests", students=2, needs_approval=True, name="asking")
lines = module_portal("AccessibleLines", students=5, name="lines")


@pytest.fixture
def found() -> Iterator[list[str]]:
    """The serious and critical violations of the pages a test opens, added as it goes: the test
    fails if any were found by its end."""
    violations: list[str] = []
    yield violations
    assert not violations, "\n".join(violations)


async def visit(page: Page, url: str, found: list[str], status: int = 200) -> None:
    """Opens `url` and adds the page's serious and critical violations to `found`."""
    answer = await page.goto(url)
    assert answer is not None and answer.status == status, f"{url}: {answer and answer.status}"
    await expect(page.locator("main")).to_be_visible()
    found += await serious_violations(page)


async def check(page: Page, found: list[str]) -> None:
    """The page as it is now, after steps taken on it."""
    await expect(page.locator("main")).to_be_visible()
    found += await serious_violations(page)


async def test_staff_pages_have_no_serious_violations(
    screens: Screens, server: LiveServer, portal: PortalSchool, found: list[str]
) -> None:
    school = portal.school
    await send_out(server.runtime, school, "Library", school.students[:2], datetime.now(UTC))
    first = datetime.now(ZoneInfo("America/Chicago")).date() + timedelta(days=1)
    series = await schedule_series(
        server.runtime,
        school,
        "Library",
        [school.students[3]],
        weekdays=[0, 1, 2, 3, 4, 5, 6],
        at=time(10, 15),
        first=first,
        last=first + timedelta(days=2),
    )
    assert series.refusal is None

    page = await with_axe(await screens.page(DESKTOP))
    await visit(page, screens.url("/sign-in"), found)
    await sign_in(page, server, school.emails["Ada"])
    await check(page, found)  # the dashboard, with passes
    await visit(
        page, screens.url(f"/hall-pass?status=scheduled&from={first}&to={first + timedelta(days=2)}"), found
    )
    for path in (
        "/hall-pass/new",
        "/hall-pass/kiosk",
        "/hall-pass/kiosks",
        f"/hall-pass/schedules/{series.body['schedule_id']}",
    ):
        await visit(page, screens.url(path), found)
    await visit(page, screens.url("/hall-pass/no-such-page"), found, 404)

    admin = await with_axe(await screens.page(DESKTOP))
    await sign_in(admin, server, portal.admin_email)
    location, student = school.rooms["Library"], school.students[0]
    day = datetime.now(ZoneInfo("America/Chicago")) - timedelta(minutes=5)
    for path in (
        "/hall-pass/school-day",
        "/admin",
        "/admin/schools",
        f"/admin/schools/{school.id}",
        f"/admin/schools/{school.id}/locations",
        f"/admin/schools/{school.id}/staff",
        f"/admin/schools/{school.id}/students",
        f"/admin/schools/{school.id}/students/new",
        f"/admin/locations/{location}",
        f"/admin/staff/{school.teachers['Ada']}",
        f"/admin/students/{student}",
        "/admin/portal",
        f"/admin/schools/{school.id}/emergency",
        "/audit",
        f"/audit/students/{student}",
        f"/audit/locations/{location}",
        f"/audit/schools/{school.id}/hallway?date={day:%Y-%m-%d}&time={day:%H:%M}",
        f"/audit/schools/{school.id}/views",
        f"/admin/schools/{school.id}/keep-apart",
        "/reports",
    ):
        await visit(admin, screens.url(path), found)

    district = await with_axe(await screens.page(DESKTOP))
    await sign_in(district, server, await hire_district_admin(server, portal))
    for path in ("/admin/roster", "/admin/tokens", "/admin/schools/new"):
        await visit(district, screens.url(path), found)
    await visit(page, screens.url("/password/no-such-link"), found, 404)


async def hire_district_admin(server: LiveServer, portal: PortalSchool) -> str:
    """Dana, who administers the district (she may upload a roster); her email."""
    email = f"dana.{uuid4().hex[:6]}@accessible.example.org"
    now = datetime.now(UTC)
    (dana,) = await server.runtime.app.hire_staff(
        portal.id, [NewStaff("Dana", email, (Role.DISTRICT_ADMIN,), None)], now=now
    )
    await give_password(server.runtime, email, dana.id, portal.id, now)
    for runner in server.runtime.runners:
        await runner.catch_up()
    return email


async def test_kiosk_screens_have_no_serious_violations(
    screens: Screens, server: LiveServer, portal: PortalSchool, found: list[str]
) -> None:
    school = portal.school
    async with ApiClient.session(server.url, school.emails["Ada"]) as ada:
        kiosk = await KioskClient.started(
            ada, server.url, school.rooms["Room 101"], [school.rooms["Nurse"], school.rooms["Restroom"]]
        )
    student, out = school.students[4], school.students[5]
    assert (await kiosk.create(out, school.rooms["Nurse"])).status_code == 201
    await kiosk.close()
    page = await with_axe(await screens.kiosk(kiosk.token, TABLET))
    name = school.student_names[student]
    await visit(page, screens.url("/kiosk"), found)
    await visit(page, screens.url("/kiosk/create"), found)
    await visit(page, screens.url("/kiosk/create?q=zzzzzz"), found)
    await visit(page, screens.url(f"/kiosk/create?q={name}"), found)
    await page.get_by_role("button", name="Next Step").click()
    await expect(page.get_by_role("heading", name=re.compile("Where are you going"))).to_be_visible()
    await check(page, found)
    await page.get_by_label("Nurse").check()
    await page.get_by_role("button", name="Next Step").click()
    await expect(page.get_by_role("heading", name="Your pass")).to_be_visible()
    await check(page, found)
    await page.get_by_role("button", name="Create Pass").click()
    await expect(page.get_by_role("heading", name="Your pass is Active")).to_be_visible()
    await check(page, found)
    await visit(page, screens.url(f"/kiosk/create/destination?student_id={out}"), found)  # already out
    await visit(page, screens.url(f"/kiosk/complete?q={name}"), found)
    await visit(page, screens.url(f"/kiosk/complete/summary?student_id={student}"), found)
    await page.get_by_role("button", name="Complete Pass").click()
    await expect(page.get_by_role("heading", name="Welcome back")).to_be_visible()
    await check(page, found)
    await visit(page, screens.url(f"/kiosk/complete/summary?student_id={student}"), found)  # no open pass
    await visit(page, screens.url("/kiosk/exit"), found)
    await page.context.clear_cookies()
    await visit(page, screens.url("/kiosk"), found, 401)  # kiosk mode is off


async def test_portal_pages_have_no_serious_violations(
    screens: Screens, server: LiveServer, portal: PortalSchool, found: list[str]
) -> None:
    school = portal.school
    first = await with_axe(await screens.page(PHONE))
    await visit(first, screens.url(f"/portal/{portal.id}"), found)
    sid = await hall_pass_id(server.runtime, school.students[6])
    await first.get_by_label("Hall pass ID or #school ID").fill(sid)
    await first.get_by_label("Password").fill(sid)
    await first.get_by_role("button", name="Sign in").click()
    await expect(first.get_by_role("heading", name="Choose a new password")).to_be_visible()
    await check(first, found)

    page = await with_axe(await screens.student(portal.id, school.students[7], PHONE))
    await check(page, found)  # home, no pass
    await visit(page, screens.url("/portal/create"), found)
    await page.get_by_label("Leaving From").select_option(str(school.rooms["Room 101"]))
    await page.get_by_label("Going To").select_option(str(school.rooms["Nurse"]))
    await page.get_by_role("button", name="Create", exact=True).click()
    await expect(page.locator("#current [data-status]")).to_have_attribute("data-status", "active")
    await check(page, found)  # home, with the active pass
    await visit(page, screens.url("/portal/create"), found)  # already out
    await visit(page, screens.url("/portal/passes"), found)
    await page.get_by_role("button", name="Sign out").click()
    await expect(page).to_have_url(re.compile(r"/portal/"))
    await expect(page.get_by_role("button", name="Sign out")).to_have_count(0)
    await check(page, found)
    stranger = await with_axe(await screens.page(PHONE))
    await visit(stranger, screens.url("/portal/home"), found, 401)  # signed out, no school known


async def test_the_student_requests_panel_has_no_serious_violations(
    screens: Screens, server: LiveServer, asking: PortalSchool, found: list[str]
) -> None:
    student = StudentClient(server.url, asking.id)
    await student.ready(await hall_pass_id(server.runtime, asking.school.students[0]))
    made = await student.request_pass(asking.school.rooms["Room 101"], asking.school.rooms["Nurse"])
    assert made.status_code == 201, made.text
    await student.close()
    page = await with_axe(await screens.staff(asking.school.emails["Ada"]))
    await expect(page.get_by_role("heading", name="Student requests")).to_be_visible()
    name = asking.school.student_names[asking.school.students[0]]
    await expect(page.get_by_role("button", name=f"Approve request from {name}")).to_be_visible()
    found += await serious_violations(page)


async def test_wait_line_screens_and_hallway_rules_have_no_serious_violations(
    screens: Screens, server: LiveServer, lines: PortalSchool, found: list[str]
) -> None:
    school = lines.school
    out = await send_out(server.runtime, school, "Restroom", school.students[:2], datetime.now(UTC))
    async with ApiClient.session(server.url, school.emails["Ada"]) as ada:
        kiosk = await KioskClient.started(
            ada, server.url, school.rooms["Room 101"], [school.rooms["Restroom"]]
        )
    await kiosk.close()
    device = await with_axe(await screens.kiosk(kiosk.token, TABLET))
    await device.goto(
        screens.url(
            f"/kiosk/create/summary?student_id={school.students[2]}&destination_id={school.rooms['Restroom']}"
        )
    )
    await device.get_by_role("button", name="Create Pass").click()
    await expect(device.get_by_role("button", name="Join the line")).to_be_visible()
    await check(device, found)  # full, with Join the line
    await device.get_by_role("button", name="Join the line").click()
    await expect(device.locator(".line-waiting")).to_contain_text("number 1 in line for Restroom")
    await check(device, found)

    student = await with_axe(await screens.student(lines.id, school.students[3], PHONE))
    await create_in_portal(student, school, "Restroom")
    await expect(student.get_by_role("button", name="Join the line")).to_be_visible()
    await check(student, found)
    await student.get_by_role("button", name="Join the line").click()
    await expect(student.locator(".line-waiting")).to_contain_text("number 2 in line for Restroom")
    await check(student, found)

    teacher = await with_axe(await screens.staff(school.emails["Ada"]))
    await expect(teacher.locator("#lines .line-waiting li")).to_have_count(2)
    await check(teacher, found)  # the dashboard with its wait line
    admin = await with_axe(await screens.staff(lines.admin_email))
    await visit(admin, screens.url(f"/admin/schools/{school.id}/rules"), found)
    await server.runtime.app.complete_pass(
        Acting(school.teacher(), datetime.now(UTC)), out[0], CompletePass()
    )
    await expect(student.locator(".line-waiting, .line-offer")).to_have_count(1)
    await expect(device.locator(".line-offer")).to_contain_text("Restroom is held")
    await check(device, found)  # the turn offered


async def test_the_set_up_page_has_no_serious_violations(empty_screens: Screens, found: list[str]) -> None:
    page = await with_axe(await empty_screens.page(DESKTOP))
    await visit(page, empty_screens.url("/setup"), found)


async def test_a_kiosk_student_creates_a_pass_with_the_keyboard_alone(
    screens: Screens, server: LiveServer, portal: PortalSchool
) -> None:
    school = portal.school
    async with ApiClient.session(server.url, school.emails["Ada"]) as ada:
        kiosk = await KioskClient.started(ada, server.url, school.rooms["Room 101"], [school.rooms["Nurse"]])
    await kiosk.close()
    student = school.students[8]
    page = await screens.kiosk(kiosk.token, TABLET)
    await tab_to(page, "a", "Create Pass")
    await page.keyboard.press("Enter")
    await expect(page.get_by_label("Your full name, hall pass ID, or #school ID")).to_be_focused()
    await expect(page.get_by_role("heading", name="Create Pass")).to_be_visible()
    await page.keyboard.type(school.student_names[student])
    await page.keyboard.press("Enter")
    await expect(page.get_by_label(school.student_names[student])).to_be_checked()
    await tab_to(page, "button", "Next Step")
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("heading", name=re.compile("Where are you going"))).to_be_visible()
    await tab_to(page, "input", "Nurse")
    await page.keyboard.press("Space")
    await tab_to(page, "button", "Next Step")
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("heading", name="Your pass")).to_be_visible()
    await tab_to(page, "button", "Create Pass")
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("heading", name="Your pass is Active")).to_be_visible()


async def test_a_portal_student_creates_a_pass_with_the_keyboard_alone(
    screens: Screens, portal: PortalSchool
) -> None:
    school = portal.school
    page = await screens.student(portal.id, school.students[9], PHONE)
    await tab_to(page, "a", "Create Pass")
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("heading", name="Create Pass")).to_be_visible()
    await tab_to(page, "select", "Leaving From")
    await page.keyboard.type("Room 101")
    await tab_to(page, "select", "Going To")
    await page.keyboard.type("Nurse")
    await tab_to(page, "button", "Create")
    await page.keyboard.press("Enter")
    await expect(page.locator("#current [data-status]")).to_have_attribute("data-status", "active")


async def test_the_staff_dashboard_actions_are_reached_by_tab(
    screens: Screens, server: LiveServer, portal: PortalSchool
) -> None:
    school = portal.school
    student = school.students[10]
    await send_out(server.runtime, school, "Nurse", [student], datetime.now(UTC))
    page = await screens.staff(school.emails["Ada"])
    name = school.student_names[student]
    for kind, label in (
        ("a", "Create Hall Pass"),
        ("button", f"Complete pass for {name}"),
        ("summary", f"End pass for {name}"),
    ):
        await tab_to(page, kind, label)
    await page.keyboard.press("Enter")
    await tab_to(page, "select", "Reason")
    await tab_to(page, "button", "Terminate")


async def tab_to(page: Page, kind: str, name: str, presses: int = 200) -> None:
    """Presses Tab until the focused element is a `kind` named `name` (its text, aria-label or
    label); fails after `presses` presses."""
    for _ in range(presses):
        focused = await page.evaluate(
            """() => {
              const e = document.activeElement;
              if (!e) return null;
              const labels = e.labels ? Array.from(e.labels).map(l => l.textContent.trim()) : [];
              return {tag: e.tagName.toLowerCase(), names: [e.getAttribute('aria-label') || '',
                      (e.textContent || '').trim(), ...labels]};
            }"""
        )
        if focused and focused["tag"] == kind and any(_named(n, name) for n in focused["names"]):
            return
        await page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached the {kind} {name!r}")


def _named(text: str, name: str) -> bool:
    return re.sub(r"\s+", " ", text).strip().startswith(name)
