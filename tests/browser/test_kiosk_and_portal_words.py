"""What kiosk and portal students, and staff reading their passes, see in words: who created a
pass, and a student already out told so at the first step that knows them."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
import pytest_asyncio
from playwright.async_api import expect

from support.api_client import ApiClient
from support.browser import Screens
from support.kiosk_client import KioskClient
from support.portal import PortalSchool, StudentClient, hall_pass_id, make_portal_school
from support.school import send_out
from support.server import LiveServer

pytestmark = pytest.mark.browser


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def portal(server: LiveServer) -> PortalSchool:
    return await make_portal_school(
        server.runtime, label="KioskPortalWords", needs_approval=False, students=10
    )


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
