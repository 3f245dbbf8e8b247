"""Kiosk Mode in headless Chromium: set-up, Create Pass, Complete Pass, and leaving kiosk mode."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from uuid import UUID

import pytest
from playwright.async_api import Page, ViewportSize, expect

from hallpass.acting import Acting
from support.api_client import ApiClient
from support.browser import PHONE, TABLET, Screens, create_at_kiosk, sign_in
from support.kiosk_client import EXIT_PASSWORD, KioskClient, set_up_kiosk
from support.school import SchoolFixture
from support.server import LiveServer

pytestmark = pytest.mark.browser
OWN_SCHOOL_STUDENTS = 24


async def kiosk_device(
    screens: Screens, own_teacher: ApiClient, own_school: SchoolFixture, viewport: ViewportSize
) -> Page:
    """A device in kiosk mode in Room 101, for the Nurse and the Library."""
    r = await set_up_kiosk(
        own_teacher, own_school.rooms["Room 101"], [own_school.rooms["Nurse"], own_school.rooms["Library"]]
    )
    assert r.status_code == 201
    return await screens.kiosk(r.json()["token"], viewport)


async def hall_pass_id(server: LiveServer, own_school: SchoolFixture, student: UUID) -> int:
    rows = await server.runtime.directory.students_by_ids(own_school.id, [student])
    return int(rows[0]["hall_pass_id"])


async def test_set_up_turns_the_browser_into_a_kiosk(
    screens: Screens, server: LiveServer, own_school: SchoolFixture
) -> None:
    page = await screens.page()
    context = page.context
    await sign_in(page, server, own_school.emails["Ada"])
    await page.get_by_role("link", name="Kiosk Mode").first.click()
    await expect(page.get_by_role("heading", name="Kiosk Mode")).to_be_visible()
    await expect(page.get_by_label("Kiosk room (Leaving From)")).to_have_value(
        str(own_school.rooms["Room 101"])
    )
    await page.get_by_label("Nurse").check()
    await page.get_by_label("Restroom").check()
    await page.get_by_label("Hand-picked students").check()
    await page.get_by_label("Grade", exact=True).select_option("7")
    await page.get_by_role("button", name="Move all", exact=True).click()
    chosen = page.locator("#chosen li")
    await expect(chosen).to_have_count(8)
    first = own_school.student_names[own_school.students[1]]
    await expect(page.locator("#chosen").get_by_label(first)).to_be_checked()
    await page.get_by_label("Exit password (4 to 8 digits)").fill("1357")
    await page.get_by_label("Exit password again").fill("1357")
    await page.get_by_role("button", name="Start Kiosk Mode").click()

    await expect(page.get_by_role("heading", name="Welcome to the Hall Pass Kiosk")).to_be_visible()
    await expect(page.get_by_text("Room 101", exact=True)).to_be_visible()
    await page.goto(f"{server.url}/hall-pass")
    await expect(page).to_have_url(re.compile(r"/kiosk$"))
    await page.goto(f"{server.url}/hall-pass/new")
    await expect(page).to_have_url(re.compile(r"/kiosk$"))

    await context.clear_cookies(name="hallpass_kiosk")
    await page.goto(f"{server.url}/hall-pass")
    await expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


async def test_set_up_errors_are_shown(
    screens: Screens, server: LiveServer, own_school: SchoolFixture
) -> None:
    page = await screens.staff(own_school.emails["Bo"])
    await page.goto(f"{server.url}/hall-pass/kiosk")
    await page.get_by_label("Nurse").check()
    await page.get_by_label("Exit password (4 to 8 digits)").fill("1357")
    await page.get_by_label("Exit password again").fill("7531")
    await page.get_by_role("button", name="Start Kiosk Mode").click()
    await expect(page.get_by_role("alert")).to_contain_text("not the same")
    await expect(page.get_by_label("Nurse")).to_be_checked()


async def test_a_student_creates_a_pass_and_the_dashboard_shows_k(
    screens: Screens, server: LiveServer, own_school: SchoolFixture, own_teacher: ApiClient
) -> None:
    name = own_school.student_names[own_school.students[3]]
    dashboard = await screens.staff(own_school.emails["Ada"])
    await expect(dashboard.locator("#kiosk-list")).not_to_contain_text("Show your kiosks")

    page = await kiosk_device(screens, own_teacher, own_school, TABLET)
    await page.get_by_role("link", name="Create Pass").click()
    search = page.get_by_label("Your full name, hall pass ID, or #school ID")
    await search.fill(name.replace("Tester", "Tsester").lower())
    await search.press("Enter")
    await expect(page.get_by_label(name)).to_be_checked()
    await page.get_by_role("button", name="Next Step").click()
    await expect(page.get_by_role("heading", name=re.compile("Where are you going"))).to_be_visible()
    await page.get_by_label("Nurse").focus()
    await page.keyboard.press("Space")
    await page.keyboard.press("Enter")
    summary = page.locator(".kiosk-summary")
    await expect(summary).to_contain_text("Room 101")
    await expect(summary).to_contain_text("Nurse")
    await page.get_by_role("button", name="Create Pass").click()
    await expect(page.get_by_role("heading", name="Your pass is Active")).to_be_visible()

    row = dashboard.locator("#pass-rows tr", has_text=name)
    await expect(row).to_have_count(1)
    await expect(row).to_have_attribute("data-status", "active")
    await expect(row.locator(".marker")).to_have_text("(K)")

    await page.goto(f"{server.url}/kiosk/create?q={name}")
    await page.get_by_role("button", name="Next Step").click()
    await expect(page.get_by_role("alert")).to_contain_text("You're already out: in Nurse since")


async def test_a_student_completes_a_pass_on_a_phone(
    screens: Screens, server: LiveServer, own_school: SchoolFixture, own_teacher: ApiClient
) -> None:
    student = own_school.students[5]
    page = await kiosk_device(screens, own_teacher, own_school, PHONE)
    token = (await page.context.cookies())[0]["value"]
    device = KioskClient(server.url, token)
    assert (await device.create(student, own_school.rooms["Library"])).status_code == 201
    await device.close()

    await page.get_by_role("link", name="Complete Pass").click()
    search = page.get_by_label("Your full name, hall pass ID, or #school ID")
    await search.fill(str(await hall_pass_id(server, own_school, student)))
    await page.get_by_role("button", name="Search").click()
    await page.get_by_role("button", name="Next Step").click()
    await expect(page.locator(".kiosk-summary")).to_contain_text("Library")
    assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    await page.get_by_role("button", name="Complete Pass").click()
    await expect(page.get_by_role("heading", name="Welcome back")).to_be_visible()
    await expect(page.get_by_role("status")).to_contain_text(re.compile(r"returned at \d{1,2}:\d{2} (AM|PM)"))
    listed = (await own_teacher.passes(student_id=str(student))).json()["passes"]
    assert listed[0]["status"] == "completed"
    assert listed[0]["returned_at"] is not None


async def test_search_messages_and_idle_return_to_start(
    screens: Screens, server: LiveServer, own_school: SchoolFixture, own_teacher: ApiClient
) -> None:
    page = await kiosk_device(screens, own_teacher, own_school, TABLET)
    await page.clock.install()
    await page.goto(f"{server.url}/kiosk/create?q=a")
    await expect(page.get_by_role("alert")).to_contain_text("at least 2 letters")
    await page.goto(f"{server.url}/kiosk/create?q=zzzzzz")
    await expect(page.get_by_role("alert")).to_contain_text("No student found")
    await page.clock.fast_forward("00:31")
    await expect(page).to_have_url(re.compile(r"/kiosk$"))


async def test_exit_needs_the_password_and_locks_after_five_wrong(
    screens: Screens, server: LiveServer, own_school: SchoolFixture, own_teacher: ApiClient
) -> None:
    page = await kiosk_device(screens, own_teacher, own_school, TABLET)
    await page.get_by_role("link", name="Exit Kiosk Mode").click()
    password = page.get_by_label("Exit password")
    for left in (4, 3, 2, 1):
        await password.fill("9999")
        await page.get_by_role("button", name="Exit Kiosk Mode").click()
        await expect(page.get_by_role("alert")).to_contain_text(f"{left} tr")
    await password.fill("9999")
    await page.get_by_role("button", name="Exit Kiosk Mode").click()
    await expect(page.get_by_role("alert")).to_contain_text("kiosk mode stays on for 5 more minutes")
    await password.fill(EXIT_PASSWORD)
    await page.get_by_role("button", name="Exit Kiosk Mode").click()
    await expect(page.get_by_role("alert")).to_contain_text("Too many wrong passwords")
    await page.goto(f"{server.url}/kiosk")
    await expect(page.get_by_role("heading", name="Welcome to the Hall Pass Kiosk")).to_be_visible()


async def test_exit_with_the_right_password_and_revoke_from_the_dashboard(
    screens: Screens, own_school: SchoolFixture, own_teacher: ApiClient
) -> None:
    page = await kiosk_device(screens, own_teacher, own_school, TABLET)
    await page.get_by_role("link", name="Exit Kiosk Mode").click()
    await page.get_by_label("Exit password").fill(EXIT_PASSWORD)
    await page.get_by_role("button", name="Exit Kiosk Mode").click()
    await expect(page.get_by_role("heading", name="Sign in")).to_be_visible()

    device = await kiosk_device(screens, own_teacher, own_school, TABLET)
    dashboard = await screens.staff(own_school.emails["Ada"])
    revoke = dashboard.locator("#kiosk-list").get_by_role("button", name="Revoke").first
    await revoke.click()
    await expect(dashboard.get_by_role("status")).to_contain_text("Kiosk revoked")
    await device.reload()
    await expect(device.get_by_role("heading", name="Kiosk mode is off")).to_be_visible()
    await expect(device.get_by_role("alert")).to_contain_text("turned off by staff")


async def test_the_kiosk_shows_the_emergency_banner_live_and_refuses_a_pass_until_it_ends(
    screens: Screens, server: LiveServer, own_school: SchoolFixture, own_teacher: ApiClient
) -> None:
    page = await kiosk_device(screens, own_teacher, own_school, TABLET)
    banner = page.locator("#emergency-banner")
    await expect(banner).to_be_hidden()
    await page.evaluate("window.__sameDocument = true")
    admin = own_school.admin()
    await server.runtime.app.declare_emergency(Acting(admin, datetime.now(UTC)), own_school.id)
    await expect(banner).to_be_visible()
    assert await page.evaluate("window.__sameDocument === true")

    name = own_school.student_names[own_school.students[20]]
    await create_at_kiosk(page, server.url, name, "Library")
    await expect(page.locator(".error, [role=alert]").filter(has_text="emergency mode")).to_be_visible()
    await expect(banner).to_be_visible()

    await server.runtime.app.end_emergency(Acting(admin, datetime.now(UTC)), own_school.id)
    await expect(banner).to_be_hidden()
