"""What kiosk and portal students, and staff reading their passes, see in words: who created a
pass, and a student already out told so at the first step that knows them."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from playwright.async_api import expect

from support.api_client import ApiClient
from support.browser import PHONE, TABLET, Screens, create_in_portal
from support.fixtures import module_portal
from support.kiosk_client import KioskClient
from support.portal import PortalSchool, StudentClient, hall_pass_id
from support.school import send_out
from support.server import LiveServer

pytestmark = pytest.mark.browser


portal = module_portal("KioskPortalWords", students=10)


async def test_created_by_names_the_student_portal_and_the_kiosk(
    screens: Screens, server: LiveServer, portal: PortalSchool
) -> None:
    school = portal.school
    by_portal, by_kiosk, by_teacher = school.students[0], school.students[1], school.students[2]
    student = StudentClient(server.url, school.id)
    await student.ready(await hall_pass_id(server.runtime, by_portal))
    assert (await student.request_pass(school.rooms["Room 101"], school.rooms["Nurse"])).status_code == 201
    await student.close()
    async with ApiClient.session(server.url, school.emails["Ada"]) as ada:
        kiosk = await KioskClient.started(
            ada, server.url, school.rooms["Room 101"], [school.rooms["Library"]], name="Front hall kiosk"
        )
    assert (await kiosk.create(by_kiosk, school.rooms["Library"])).status_code == 201
    await kiosk.close()
    await send_out(server.runtime, school, "Library", [by_teacher], datetime.now(UTC))

    dashboard = await screens.staff(school.emails["Ada"])
    for who, words in ((by_portal, "Student Portal"), (by_kiosk, "Front hall kiosk"), (by_teacher, "Ada")):
        row = dashboard.locator("#pass-rows tr", has_text=school.student_names[who])
        await expect(row.locator(".created-by")).to_have_text(words)
    await expect(
        dashboard.locator("#pass-rows .created-by", has_text=re.compile(r"^(student|kiosk)$"))
    ).to_have_count(0)

    auditor = await screens.staff(portal.admin_email)
    await auditor.goto(screens.url(f"/audit/students/{by_kiosk}"))
    started = auditor.get_by_role("row", name=re.compile("Pass Started"))
    await expect(started).to_contain_text("Front hall kiosk")
    await expect(started.locator("td").nth(2)).to_have_text("Kiosk")
    await auditor.goto(screens.url(f"/audit/students/{by_portal}"))
    started = auditor.get_by_role("row", name=re.compile("Pass Started"))
    await expect(started).to_contain_text(school.student_names[by_portal])
    await expect(started.locator("td").nth(2)).to_have_text("Student Portal")


SINCE = r"You're already out: in Nurse since \d{1,2}:\d{2} (AM|PM)\."
ALREADY_OUT = re.compile(rf"^{SINCE} Come back and end that pass first\.$")
PORTAL_ALREADY_OUT = re.compile(rf"^{SINCE} Complete that pass first\.$")


async def test_the_kiosk_tells_a_student_already_out_as_soon_as_it_knows_them(
    screens: Screens, server: LiveServer, portal: PortalSchool
) -> None:
    school = portal.school
    out, racing = school.students[3], school.students[4]
    async with ApiClient.session(server.url, school.emails["Ada"]) as ada:
        kiosk = await KioskClient.started(
            ada, server.url, school.rooms["Room 101"], [school.rooms["Nurse"], school.rooms["Library"]]
        )
    assert (await kiosk.create(out, school.rooms["Nurse"])).status_code == 201
    page = await screens.kiosk(kiosk.token, TABLET)

    await page.get_by_role("link", name="Create Pass").click()
    search = page.get_by_label("Your full name, hall pass ID, or #school ID")
    await search.fill(school.student_names[out])
    await search.press("Enter")
    await page.get_by_role("button", name="Next Step").click()
    first = school.student_names[out].split()[0]
    await expect(page.get_by_role("heading", name=f"You already have a pass, {first}")).to_be_visible()
    await expect(page.get_by_role("alert")).to_have_text(ALREADY_OUT)
    await expect(page.get_by_text(f"{school.student_names[out]} is already out")).to_have_count(0)
    await page.get_by_role("link", name="Complete Pass").click()
    await page.get_by_role("button", name="Complete Pass").click()
    await expect(page.get_by_role("heading", name="Welcome back")).to_be_visible()

    # A pass made elsewhere between the first step and the last: the last step says it the same way.
    await page.goto(screens.url(f"/kiosk/create/destination?student_id={racing}"))
    await page.get_by_label("Library").check()
    await page.get_by_role("button", name="Next Step").click()
    await expect(page.locator(".kiosk-summary")).to_contain_text("Library")
    assert (await kiosk.create(racing, school.rooms["Nurse"])).status_code == 201
    await kiosk.close()
    async with page.expect_response(lambda r: r.request.method == "POST") as answered:
        await page.get_by_role("button", name="Create Pass").click()
    assert (await answered.value).status == 409
    await expect(page.get_by_role("alert")).to_have_text(re.compile(r"^You're already out[:,] in Nurse"))


async def test_the_portal_home_shows_the_active_pass_instead_of_create_pass(
    screens: Screens, portal: PortalSchool
) -> None:
    school = portal.school
    page = await screens.student(portal.id, school.students[5], PHONE)
    await create_in_portal(page, school, "Nurse")

    await expect(page.locator("#current [data-status]")).to_have_attribute("data-status", "active")
    await expect(page.get_by_role("button", name="Complete Pass")).to_be_visible()
    await expect(page.get_by_role("link", name="Create Pass")).to_have_count(0)
    await page.goto(screens.url("/portal/create"))
    await expect(page.get_by_role("alert")).to_have_text(PORTAL_ALREADY_OUT)
    await expect(page.get_by_label("Going To")).to_have_count(0)

    await page.get_by_role("link", name="See your pass").click()
    await page.get_by_role("button", name="Complete Pass").click()
    await expect(page.get_by_role("status")).to_have_text("Pass completed. Welcome back!")
    await expect(page.get_by_role("link", name="Create Pass")).to_be_visible()
