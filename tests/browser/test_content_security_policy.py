"""Every screen works under the Content-Security-Policy: no violation is reported in the console.

The autouse `csp_violations` fixture (tests/browser/conftest.py) fails any browser test whose
pages report a violation; these tests walk every screen on purpose, and show that the watch
would see one.
"""

from __future__ import annotations

import pytest
import pytest_asyncio
from playwright.async_api import expect

from support.api_client import ApiClient
from support.browser import CSP_MARK, DESKTOP, Screens, create_in_portal
from support.kiosk_client import set_up_kiosk
from support.portal import PortalSchool, make_portal_school
from support.server import LiveServer

pytestmark = pytest.mark.browser


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def cschool(server: LiveServer) -> PortalSchool:
    return await make_portal_school(server.runtime, label="Csp", needs_approval=True, students=6)


async def test_the_console_reports_an_inline_script_and_it_does_not_run(
    screens: Screens, server: LiveServer, csp_violations: list[str]
) -> None:
    page = await screens.page()
    await page.goto(f"{server.url}/sign-in")
    async with page.expect_console_message(lambda m: CSP_MARK in m.text) as reported:
        await page.evaluate(
            "() => { const s = document.createElement('script');"
            " s.textContent = 'window.__inlineRan = true'; document.body.appendChild(s); }"
        )
    assert "script-src" in (await reported.value).text
    # The context's listeners run in the same dispatch as the page's, right after them.
    assert len(csp_violations) == 1 and "script-src" in csp_violations[0]
    assert await page.evaluate("window.__inlineRan === undefined")
    csp_violations.clear()  # seen as it should be; the fixture would fail the test otherwise


async def test_staff_screens_run_under_the_policy(
    screens: Screens, server: LiveServer, cschool: PortalSchool, csp_violations: list[str]
) -> None:
    school = cschool.school
    page = await screens.staff(school.emails["Ada"])
    await expect(page.locator("#kiosk-list")).not_to_contain_text("Show your kiosks")

    await page.get_by_role("link", name="Create Hall Pass").first.click()
    for when in ("Later (today or another day)", "Repeating", "Now"):
        await page.get_by_label(when).check()
    await expect(page.locator('.when-fields[data-when="repeating"]')).to_be_hidden()
    name = school.student_names[school.students[0]]
    await page.get_by_label("Going To").select_option(str(school.rooms["Library"]))
    await page.get_by_label(name).check()
    await page.get_by_role("button", name="Create Hall Pass").last.click()
    await expect(page.get_by_role("status")).to_have_text("Created 1 hall pass.")
    row = page.locator("#pass-rows tr", has_text=name)
    await row.get_by_role("button", name=f"Complete pass for {name}").click()
    await expect(row).to_have_attribute("data-status", "completed")

    await page.goto(f"{server.url}/hall-pass/kiosk")
    await page.get_by_label("Hand-picked students").check()
    await page.get_by_role("button", name="Move all", exact=True).click()
    await expect(page.locator("#chosen li")).to_have_count(len(school.students))
    await page.goto(f"{server.url}/hall-pass/kiosks")
    await expect(page.get_by_role("heading", name="Your kiosks")).to_be_visible()

    admin = await screens.staff(cschool.admin_email)
    for path, heading in (
        ("/hall-pass/school-day", "School day"),
        ("/admin/portal", "Student Portal settings"),
    ):
        await admin.goto(f"{server.url}{path}")
        await expect(admin.get_by_role("heading", name=heading)).to_be_visible()
    assert csp_violations == []


async def test_kiosk_screens_run_under_the_policy(
    screens: Screens, server: LiveServer, cschool: PortalSchool, csp_violations: list[str]
) -> None:
    school = cschool.school
    async with ApiClient.session(server.url, school.emails["Ada"]) as staff:
        made = await set_up_kiosk(staff, school.rooms["Room 101"], [school.rooms["Nurse"]])
    assert made.status_code == 201
    page = await screens.kiosk(made.json()["token"])

    name = school.student_names[school.students[1]]
    await page.get_by_role("link", name="Create Pass").click()
    search = page.get_by_label("Your full name, hall pass ID, or #school ID")
    await search.fill(name)
    await search.press("Enter")
    await page.get_by_role("button", name="Next Step").click()
    await page.get_by_label("Nurse").check()
    await page.get_by_role("button", name="Next Step").click()
    await page.get_by_role("button", name="Create Pass").click()
    await expect(page.get_by_role("heading", name="Your pass is Active")).to_be_visible()

    await page.goto(f"{server.url}/kiosk")
    await page.get_by_role("link", name="Complete Pass").click()
    search = page.get_by_label("Your full name, hall pass ID, or #school ID")
    await search.fill(name)
    await page.get_by_role("button", name="Search").click()
    await page.get_by_role("button", name="Next Step").click()
    await page.get_by_role("button", name="Complete Pass").click()
    await expect(page.get_by_role("heading", name="Welcome back")).to_be_visible()

    await page.goto(f"{server.url}/kiosk/exit")
    await expect(page.get_by_role("heading", name="Exit Kiosk Mode")).to_be_visible()
    assert csp_violations == []


async def test_portal_screens_run_under_the_policy(
    screens: Screens, server: LiveServer, cschool: PortalSchool, csp_violations: list[str]
) -> None:
    school = cschool.school
    page = await screens.student(school.id, school.students[2], DESKTOP)

    await create_in_portal(page, school, "Nurse")
    current = page.locator("#current [data-status]")
    await expect(current).to_have_attribute("data-status", "requested")

    teacher = await screens.staff(school.emails["Ada"])
    name = school.student_names[school.students[2]]
    await teacher.get_by_role("button", name=f"Approve request from {name}").click()
    await expect(current).to_have_attribute("data-status", "active")

    for path, heading in (("/portal/passes", "View Passes"), ("/portal/password", "Choose a new password")):
        await page.goto(f"{server.url}{path}")
        await expect(page.get_by_role("heading", name=heading)).to_be_visible()
    assert csp_violations == []
