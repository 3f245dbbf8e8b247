"""A student uses the Student Portal in one browser while a teacher decides in another."""

from __future__ import annotations

import pytest
from playwright.async_api import Page, expect

from support.browser import PHONE, Screens
from support.fixtures import module_portal
from support.portal import NEW_PASSWORD, PortalSchool, hall_pass_id
from support.school import PASSWORD
from support.server import LiveServer

pytestmark = pytest.mark.browser


portal = module_portal("BrowserPortal", students=8, needs_approval=True)


async def teacher_page(screens: Screens, portal: PortalSchool) -> Page:
    page = await screens.page()
    await page.goto(screens.url("/sign-in"))
    await page.get_by_label("Email").fill(portal.school.emails["Ada"])
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("heading", name="Student requests")).to_be_visible()
    return page


async def create_request(page: Page, portal: PortalSchool, destination: str) -> None:
    await page.get_by_role("link", name="Create Pass").click()
    await expect(page.get_by_role("heading", name="Create Pass")).to_be_visible()
    await page.get_by_label("Leaving From").select_option(str(portal.school.rooms["Room 101"]))
    await page.get_by_label("Going To").select_option(str(portal.school.rooms[destination]))
    await page.get_by_role("button", name="Create", exact=True).click()
    await expect(page.locator("#current [data-status]")).to_have_attribute("data-status", "requested")
    await expect(page.get_by_text("Waiting for teacher approval")).to_be_visible()


async def test_first_sign_in_with_the_id_then_a_new_password(
    screens: Screens, server: LiveServer, portal: PortalSchool
) -> None:
    sid = await hall_pass_id(server.runtime, portal.school.students[0])
    page = await screens.page()
    await page.goto(f"{server.url}/portal/{portal.id}")
    await expect(page.get_by_role("heading", name="Student Portal sign in")).to_be_visible()
    await page.get_by_label("Hall pass ID or #school ID").fill(sid)
    await page.get_by_label("Password").fill(sid)
    await page.get_by_role("button", name="Sign in").click()

    await expect(page.get_by_role("heading", name="Choose a new password")).to_be_visible()
    await page.get_by_label("New password").fill("password123")
    await page.get_by_label("Type it again").fill("password123")
    await page.get_by_role("button", name="Save password").click()
    await expect(page.get_by_role("alert")).to_contain_text("too common")
    await page.get_by_label("New password").fill(NEW_PASSWORD)
    await page.get_by_label("Type it again").fill(NEW_PASSWORD)
    await page.get_by_role("button", name="Save password").click()
    await expect(page.get_by_role("status")).to_contain_text("new password is saved")

    await page.get_by_role("button", name="Sign out").click()
    await page.get_by_label("Hall pass ID or #school ID").fill(sid)
    await page.get_by_label("Password").fill(sid)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("alert")).to_have_text("Wrong ID or password.")
    await page.get_by_label("Password").fill(NEW_PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    name = portal.school.student_names[portal.school.students[0]]
    await expect(page.get_by_role("heading", name=f"Welcome, {name}")).to_be_visible()


async def test_teacher_approves_and_the_student_page_turns_active_without_reload(
    screens: Screens, portal: PortalSchool
) -> None:
    name = portal.school.student_names[portal.school.students[1]]
    page = await screens.student(portal.id, portal.school.students[1], PHONE)
    await create_request(page, portal, "Nurse")
    await page.evaluate("window.__sameDocument = true")

    teacher = await teacher_page(screens, portal)
    await teacher.get_by_role("button", name=f"Approve request from {name}").click()
    await expect(teacher.get_by_text("No student requests waiting.")).to_be_visible()

    await expect(page.locator("#current [data-status]")).to_have_attribute("data-status", "active")
    await expect(page.get_by_role("button", name="Complete Pass")).to_be_visible()
    assert await page.evaluate("window.__sameDocument") is True

    await page.get_by_role("button", name="Complete Pass").click()
    await expect(page.get_by_role("status")).to_have_text("Pass completed. Welcome back!")
    await page.get_by_role("link", name="View Passes").first.click()
    await expect(page.get_by_role("heading", name="View Passes")).to_be_visible()
    row = page.locator("tbody tr").first
    await expect(row).to_have_attribute("data-status", "completed")
    await expect(row).to_contain_text("Nurse")
    await expect(row).to_contain_text("(S)")
    await expect(row.locator("td.duration")).to_have_text("0 min")


async def test_teacher_denies_and_the_student_sees_it_live(screens: Screens, portal: PortalSchool) -> None:
    name = portal.school.student_names[portal.school.students[2]]
    page = await screens.student(portal.id, portal.school.students[2], PHONE)
    await create_request(page, portal, "Library")
    await page.evaluate("window.__sameDocument = true")

    teacher = await teacher_page(screens, portal)
    await teacher.get_by_label(f"Note for {name} (optional)").fill("After the quiz")
    await teacher.get_by_role("button", name=f"Deny request from {name}").click()

    await expect(page.locator("#current [data-status]")).to_have_attribute("data-status", "denied")
    await expect(page.locator("#current")).to_contain_text("After the quiz")
    assert await page.evaluate("window.__sameDocument") is True
