"""A student uses the Student Portal in one browser while a teacher decides in another."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from playwright.async_api import Browser, BrowserContext, Page, expect

from support.portal import NEW_PASSWORD, PortalSchool, StudentClient, hall_pass_id, make_portal_school
from support.school import PASSWORD
from support.server import LiveServer

pytestmark = pytest.mark.browser


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def portal(server: LiveServer) -> PortalSchool:
    return await make_portal_school(server.runtime, label="BrowserPortal", needs_approval=True, students=8)


@pytest_asyncio.fixture(loop_scope="session")
async def browser_contexts(browser: Browser) -> AsyncIterator[Browser]:
    """The browser; every context a test opens is closed afterwards, so live streams end."""
    before = set(browser.contexts)
    yield browser
    for context in browser.contexts:
        if context not in before:
            await context.close()


async def student_page(browser: Browser, server: LiveServer, portal: PortalSchool, index: int) -> Page:
    """A student who already chose a password, signed in on the portal's home page."""
    sid = await hall_pass_id(server.runtime, portal.school.students[index])
    api = StudentClient(server.url, portal.id)
    await api.ready(sid)
    await api.close()
    context = await browser.new_context(viewport={"width": 414, "height": 860})
    page = await context.new_page()
    await page.goto(f"{server.url}/portal/{portal.id}")
    await page.get_by_label("Hall pass ID or #school ID").fill(sid)
    await page.get_by_label("Password").fill(NEW_PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("heading", name="Welcome")).to_be_visible()
    return page


async def teacher_page(
    browser: Browser, server: LiveServer, portal: PortalSchool
) -> tuple[BrowserContext, Page]:
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    await page.goto(f"{server.url}/sign-in")
    await page.get_by_label("Email").fill(portal.school.emails["Ada"])
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("heading", name="Student requests")).to_be_visible()
    return context, page


async def create_request(page: Page, portal: PortalSchool, destination: str) -> None:
    await page.get_by_role("link", name="Create Pass").click()
    await expect(page.get_by_role("heading", name="Create Pass")).to_be_visible()
    await page.get_by_label("Leaving From").select_option(str(portal.school.rooms["Room 101"]))
    await page.get_by_label("Going To").select_option(str(portal.school.rooms[destination]))
    await page.get_by_role("button", name="Create", exact=True).click()
    await expect(page.locator("#current [data-status]")).to_have_attribute("data-status", "requested")
    await expect(page.get_by_text("Waiting for teacher approval")).to_be_visible()


async def test_first_sign_in_with_the_id_then_a_new_password(
    browser_contexts: Browser, server: LiveServer, portal: PortalSchool
) -> None:
    browser = browser_contexts
    sid = await hall_pass_id(server.runtime, portal.school.students[0])
    context = await browser.new_context()
    page = await context.new_page()
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
    browser_contexts: Browser, server: LiveServer, portal: PortalSchool
) -> None:
    browser = browser_contexts
    name = portal.school.student_names[portal.school.students[1]]
    page = await student_page(browser, server, portal, 1)
    await create_request(page, portal, "Nurse")
    await page.evaluate("window.__sameDocument = true")

    _, teacher = await teacher_page(browser, server, portal)
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


async def test_teacher_denies_and_the_student_sees_it_live(
    browser_contexts: Browser, server: LiveServer, portal: PortalSchool
) -> None:
    browser = browser_contexts
    name = portal.school.student_names[portal.school.students[2]]
    page = await student_page(browser, server, portal, 2)
    await create_request(page, portal, "Library")
    await page.evaluate("window.__sameDocument = true")

    _, teacher = await teacher_page(browser, server, portal)
    await teacher.get_by_label(f"Note for {name} (optional)").fill("After the quiz")
    await teacher.get_by_role("button", name=f"Deny request from {name}").click()

    await expect(page.locator("#current [data-status]")).to_have_attribute("data-status", "denied")
    await expect(page.locator("#current")).to_contain_text("After the quiz")
    assert await page.evaluate("window.__sameDocument") is True
