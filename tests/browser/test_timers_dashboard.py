"""Timers as staff see them: Scheduled turns Active, and Expired shows as overdue, without reload."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest
from playwright.async_api import expect

from hallpass.acting import Acting
from hallpass.commands.schedules import ReschedulePass
from support.browser import Screens
from support.school import SchoolFixture, plan_out, send_out
from support.server import LiveServer
from support.worker import Worker

pytestmark = pytest.mark.browser


async def test_scheduled_pass_turns_active_on_time(
    screens: Screens, server: LiveServer, school: SchoolFixture, timer_worker: Worker
) -> None:
    # Scheduled an hour ahead, so the page surely sees it Scheduled however slow the machine;
    # then moved to two seconds ahead, so the worker starts it while the page stays open.
    student, name = school.student_and_name(46)
    ada = school.teacher("Ada")
    now = datetime.now(UTC)
    scheduled = await plan_out(server.runtime, school, "Nurse", [student], now + timedelta(hours=1), now)
    pass_id = UUID(scheduled.body["passes"][0]["id"])
    page = await screens.staff(school.emails["Ada"])
    await page.evaluate("window.__sameDocument = true")
    row = page.locator("#pass-rows tr", has_text=name)
    await expect(row).to_have_attribute("data-status", "scheduled")
    await expect(row.get_by_text("Scheduled")).to_be_visible()
    await server.runtime.app.reschedule_pass(
        Acting(ada, datetime.now(UTC)),
        pass_id,
        ReschedulePass(start_at=datetime.now(UTC) + timedelta(seconds=2)),
    )
    await expect(row).to_have_attribute("data-status", "active", timeout=30_000)
    assert await page.evaluate("window.__sameDocument") is True


async def test_expired_pass_shows_overdue_and_alerts_its_creator(
    screens: Screens, server: LiveServer, school: SchoolFixture, timer_worker: Worker
) -> None:
    student, name = school.student_and_name(48)
    page = await screens.staff(school.emails["Ada"])
    await page.evaluate("window.__sameDocument = true")
    started = datetime.now(UTC) - timedelta(minutes=1) + timedelta(seconds=15)
    await send_out(server.runtime, school, "Library", [student], started, minutes=1)
    row = page.locator("#pass-rows tr", has_text=name)
    await expect(row).to_have_attribute("data-status", "active")
    await expect(row).to_have_attribute("data-status", "expired", timeout=45_000)
    await expect(row).to_have_class("status-expired overdue")
    await expect(row.locator(".overdue-note")).to_have_text("0 min over")
    alert = page.get_by_role("alert").filter(has_text="Overdue")
    await expect(alert).to_contain_text(f"{name} is 0 min over at Library")
    assert await page.evaluate("window.__sameDocument") is True


async def test_schedule_for_later_from_create_hall_pass(
    screens: Screens, server: LiveServer, school: SchoolFixture
) -> None:
    name = school.student_names[school.students[50]]
    page = await screens.staff(school.emails["Ada"])
    await page.goto(f"{server.url}/hall-pass/new")
    await page.get_by_label("Going To").select_option(str(school.rooms["Nurse"]))
    await page.get_by_label("Time allowed (minutes, optional)").fill("5")
    await page.get_by_label("Later (today or another day)").check()
    in_a_month = (datetime.now(UTC) + timedelta(days=30)).date()
    await page.get_by_label("Starts at").fill(f"{in_a_month}T10:30")
    await page.get_by_label("Student name or ID").fill(name)
    await page.get_by_role("button", name="Filter").click()
    await page.get_by_label(name).check()
    await page.get_by_role("button", name="Create Hall Pass").last.click()

    await expect(page.get_by_role("status")).to_have_text("Scheduled 1 hall pass.")
    row = page.locator("#pass-rows tr", has_text=name)
    await expect(row).to_have_attribute("data-status", "scheduled")
    day = f"{in_a_month:%a} {in_a_month.day} {in_a_month:%b}"  # not today: the date shows too
    await expect(row.locator("td.started time")).to_have_text(f"{day}, 10:30 AM")
    await expect(row.locator("td.due time")).to_have_text(f"{day}, 10:35 AM")


async def test_admin_sets_the_dismissal_time(
    screens: Screens, server: LiveServer, school: SchoolFixture
) -> None:
    page = await screens.staff(school.emails["Cleo"])
    await page.get_by_role("link", name="School day").click()
    await page.get_by_label("Dismissal time").fill("15:05")
    await page.get_by_role("button", name="Save").click()
    await expect(page.get_by_role("status")).to_have_text("Dismissal is now at 3:05 PM every school day.")
    await page.goto(f"{server.url}/hall-pass/school-day")
    await expect(page.get_by_label("Dismissal time")).to_have_value("15:05")
