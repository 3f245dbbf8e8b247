"""Emergency mode in the Student Portal: the banner appears on an open page without a reload
when an administrator switches it on, a pass is refused while it is on, and the banner goes
when the emergency ends."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from playwright.async_api import Locator, Page, expect

from hallpass.acting import Acting
from hallpass.commands.messages import CreatePasses
from support.browser import Screens, create_in_portal
from support.fixtures import module_portal
from support.portal import PortalSchool
from support.server import LiveServer

pytestmark = pytest.mark.browser


portal = module_portal("BrowserEmergency", students=4)


async def ended_without_a_reload(
    server: LiveServer, portal: PortalSchool, page: Page, banner: Locator
) -> None:
    """The administrator ends the emergency: the open page hides its banner, still the same document."""
    await server.runtime.app.end_emergency(Acting(portal.school.admin(), datetime.now(UTC)), portal.id)
    await expect(banner).to_be_hidden()
    assert await page.evaluate("window.__sameDocument === true")


async def test_the_portal_shows_the_banner_live_and_refuses_a_pass_until_the_emergency_ends(
    screens: Screens, server: LiveServer, portal: PortalSchool
) -> None:
    page = await screens.student(portal.id, portal.school.students[0])
    banner = page.locator("#emergency-banner")
    await expect(banner).to_be_hidden()
    await page.evaluate("window.__sameDocument = true")

    admin = Acting(portal.school.admin(), datetime.now(UTC))
    await server.runtime.app.declare_emergency(admin, portal.id)
    await expect(banner).to_be_visible()
    await expect(banner).to_contain_text("Emergency")
    assert await page.evaluate("window.__sameDocument === true")

    await create_in_portal(page, portal.school, "Library")
    await expect(page.locator("#create-error")).to_contain_text("emergency mode")
    await expect(banner).to_be_visible()

    await page.goto(screens.url("/portal/home"))
    await expect(banner).to_be_visible()
    await page.evaluate("window.__sameDocument = true")
    await ended_without_a_reload(server, portal, page, banner)


async def test_the_staff_dashboard_shows_the_banner_live_until_the_emergency_ends(
    screens: Screens, server: LiveServer, portal: PortalSchool
) -> None:
    page = await screens.staff(portal.school.emails["Bo"])
    banner = page.locator("#emergency-banner")
    await expect(banner).to_be_hidden()
    await page.evaluate("window.__sameDocument = true")

    await server.runtime.app.declare_emergency(Acting(portal.school.admin(), datetime.now(UTC)), portal.id)
    await expect(banner).to_be_visible()
    await expect(banner).to_contain_text("no pass may be created")
    await ended_without_a_reload(server, portal, page, banner)


async def test_an_administrator_switches_on_marks_a_student_safe_and_switches_off_in_the_admin_pages(
    screens: Screens, server: LiveServer, portal: PortalSchool
) -> None:
    school = portal.school
    student = school.students[2]
    outcome = await server.runtime.app.create_passes(
        Acting(school.teacher(), datetime.now(UTC)),
        CreatePasses(
            origin_id=school.rooms["Room 101"], destination_id=school.rooms["Library"], student_ids=[student]
        ),
    )
    assert outcome.body["passes"]
    page = await screens.staff(school.emails["Cleo"])
    await page.goto(screens.url(f"/admin/schools/{school.id}/emergency"))
    await expect(page.locator("#emergency-state")).to_contain_text("off")

    await page.get_by_role("button", name="Declare emergency").click()
    await expect(page.get_by_role("status")).to_contain_text("Emergency declared")
    await expect(page.locator("#emergency-state")).to_contain_text("on since")
    row = page.locator("#emergency-out tbody tr")
    await expect(row).to_have_count(1)
    name = school.student_names[student]
    await expect(row).to_contain_text(name)
    await expect(row).to_contain_text("Library")

    await page.get_by_role("button", name=f"Confirm {name} safe").click()
    await expect(row).to_contain_text("Confirmed safe")
    emergency = await server.runtime.app.emergency(school.id)
    assert emergency is not None and student in emergency.safe

    await page.get_by_role("button", name="End emergency").click()
    await expect(page.locator("#emergency-state")).to_contain_text("off")
    emergency = await server.runtime.app.emergency(school.id)
    assert emergency is not None and not emergency.on
