"""A teacher creates passes from Create Hall Pass, and the dashboard follows live."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import expect

from support.api_client import ApiClient
from support.browser import Screens
from support.school import SchoolFixture
from support.server import LiveServer

pytestmark = pytest.mark.browser
CLOCK_TIME = re.compile(r"^\d{1,2}:\d{2} (AM|PM)$")


async def test_create_two_passes_then_complete_one_without_reload(
    screens: Screens, school: SchoolFixture
) -> None:
    first, second = school.students[40], school.students[42]
    names = [school.student_names[first], school.student_names[second]]
    page = await screens.staff(school.emails["Ada"])

    await page.get_by_role("link", name="Create Hall Pass").first.click()
    await expect(page.get_by_role("heading", name="Create Hall Pass")).to_be_visible()
    await expect(page.get_by_label("Leaving From")).to_have_value(str(school.rooms["Room 101"]))
    await page.get_by_label("Going To").select_option(str(school.rooms["Library"]))
    await page.get_by_label("Student name or ID").fill(names[0])
    await page.get_by_role("button", name="Filter").click()
    await page.get_by_label(names[0]).check()
    await page.get_by_label("Student name or ID").fill(names[1])
    await page.get_by_role("button", name="Filter").click()
    await expect(page.get_by_label(names[0])).to_be_checked()
    await expect(page.get_by_label("Going To")).to_have_value(str(school.rooms["Library"]))
    await page.get_by_label(names[1]).check()
    await page.get_by_role("button", name="Create Hall Pass").last.click()

    await expect(page.get_by_role("status")).to_have_text("Created 2 hall passes.")
    rows = {name: page.locator("#pass-rows tr", has_text=name) for name in names}
    for row in rows.values():
        await expect(row.first).to_have_attribute("data-status", "active")
        await expect(row.first.get_by_text("Active")).to_be_visible()

    await page.evaluate("window.__sameDocument = true")
    await rows[names[0]].first.get_by_role("button", name=f"Complete pass for {names[0]}").click()
    await expect(rows[names[0]].first).to_have_attribute("data-status", "completed")
    await expect(rows[names[0]].first.locator("td.returned time")).to_have_text(CLOCK_TIME)
    await expect(rows[names[1]].first).to_have_attribute("data-status", "active")
    assert await page.evaluate("window.__sameDocument") is True


async def test_dashboard_shows_a_pass_made_elsewhere_without_reload(
    screens: Screens, school: SchoolFixture, teacher: ApiClient
) -> None:
    page = await screens.staff(school.emails["Bo"])
    await page.evaluate("window.__sameDocument = true")
    student, name = school.student_and_name(44)
    await expect(page.locator("#pass-rows tr", has_text=name)).to_have_count(0)

    r = await teacher.create_passes(school.rooms["Room 101"], school.rooms["Nurse"], [student])
    assert r.status_code == 201

    row = page.locator("#pass-rows tr", has_text=name)
    await expect(row).to_have_count(1)
    await expect(row).to_have_attribute("data-status", "active")
    assert await page.evaluate("window.__sameDocument") is True


async def test_create_errors_are_shown_on_the_page(
    screens: Screens, server: LiveServer, school: SchoolFixture
) -> None:
    page = await screens.staff(school.emails["Ada"])
    await page.goto(f"{server.url}/hall-pass/new")
    await page.get_by_label("Going To").select_option(str(school.rooms["Nurse"]))
    await page.get_by_role("button", name="Create Hall Pass").last.click()
    await expect(page.get_by_role("alert")).to_have_text("Select at least one student.")
