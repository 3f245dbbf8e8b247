"""Wait lines and keep-apart groups in headless Chromium: a student at a kiosk and in the portal
joins the line of a full place and sees their turn come live, and takes it; the dashboard shows
the line live; a keep-apart refusal says nothing about the other student."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from uuid import UUID

import pytest
import pytest_asyncio
from playwright.async_api import expect

from hallpass.acting import Acting
from hallpass.aggregates.keep_apart import NEUTRAL
from hallpass.commands.lines import JoinLine
from hallpass.commands.messages import CompletePass
from support.api_client import ApiClient
from support.browser import TABLET, Screens, create_at_kiosk, create_in_portal
from support.kiosk_client import set_up_kiosk
from support.portal import PortalSchool, make_portal_school
from support.rules import active_pass, keep_apart_with_one_out, overridden
from support.school import send_out
from support.server import LiveServer

pytestmark = pytest.mark.browser


@pytest_asyncio.fixture(loop_scope="session")
async def portal(server: LiveServer) -> PortalSchool:
    return await make_portal_school(server.runtime, label="BrowserLines", needs_approval=False, students=8)


def now() -> datetime:
    return datetime.now(UTC)


@pytest_asyncio.fixture(loop_scope="session")
async def kept_apart(server: LiveServer, portal: PortalSchool) -> tuple[UUID, UUID]:
    """Two students of the school kept apart, the first out in the Library: a pass for the
    second is refused."""
    first, second = portal.school.students[0], portal.school.students[1]
    await keep_apart_with_one_out(server.runtime, portal.school, first, second, now())
    return first, second


async def fill_restroom(server: LiveServer, portal: PortalSchool, students: list[UUID]) -> list[UUID]:
    return await send_out(server.runtime, portal.school, "Restroom", students, now())


async def complete(server: LiveServer, portal: PortalSchool, pass_id: UUID) -> None:
    await server.runtime.app.complete_pass(Acting(portal.school.teacher(), now()), pass_id, CompletePass())


async def test_the_portal_joins_the_line_sees_its_turn_live_and_takes_it(
    screens: Screens, server: LiveServer, portal: PortalSchool
) -> None:
    school = portal.school
    out = await fill_restroom(server, portal, school.students[:2])
    page = await screens.student(portal.id, school.students[2])
    await create_in_portal(page, school, "Restroom")
    await expect(page.locator("#create-error")).to_contain_text("Restroom is full")
    await page.get_by_role("button", name="Join the line").click()
    await expect(page.locator(".line-waiting")).to_contain_text("number 1 in line for Restroom")
    # Waiting in a line, with no pass: the place in the line, not another Create Pass.
    await expect(page.get_by_role("link", name="Create Pass")).to_have_count(0)
    await expect(page.get_by_role("button", name="Leave the line")).to_be_visible()

    dashboard = await screens.staff(school.emails["Ada"])
    await expect(dashboard.locator("#lines")).to_contain_text(school.student_names[school.students[2]])
    await dashboard.evaluate("window.__sameDocument = true")
    await page.evaluate("window.__sameDocument = true")

    await complete(server, portal, out[0])
    await expect(page.locator(".line-offer")).to_contain_text("It is your turn for Restroom")
    await expect(dashboard.locator("#lines")).to_contain_text("offered a place until")
    assert await page.evaluate("window.__sameDocument === true")
    assert await dashboard.evaluate("window.__sameDocument === true")

    await page.get_by_role("button", name="Go now").click()
    await expect(page.get_by_role("status")).to_contain_text("Your pass has started")
    await expect(page.locator(".current")).to_contain_text("Restroom")
    await expect(dashboard.locator("#lines")).not_to_contain_text("offered a place")
    await complete(server, portal, out[1])


async def test_the_kiosk_joins_the_line_and_its_screen_shows_the_turn_live(
    screens: Screens, server: LiveServer, portal: PortalSchool
) -> None:
    school = portal.school
    async with ApiClient.session(server.url, school.emails["Ada"]) as teacher:
        made = await set_up_kiosk(teacher, school.rooms["Room 101"], [school.rooms["Restroom"]])
    assert made.status_code == 201, made.text
    page = await screens.kiosk(made.json()["token"], TABLET)
    out = await fill_restroom(server, portal, school.students[3:5])
    name = school.student_names[school.students[5]]
    await create_at_kiosk(page, server.url, name, "Restroom")
    await expect(page.get_by_role("alert").filter(has_text="full")).to_be_visible()
    await page.get_by_role("button", name="Join the line").click()
    await expect(page).to_have_url(re.compile(r"/kiosk/line\?"))
    await expect(page.locator(".line-waiting")).to_contain_text("number 1 in line for Restroom")

    await complete(server, portal, out[0])
    await expect(page.locator(".line-offer")).to_contain_text("Restroom is held")
    await page.get_by_role("button", name="Go now").click()
    await expect(page.locator("body")).to_contain_text("Restroom")
    line = await server.runtime.app.wait_line(school.teacher(), school.rooms["Restroom"])
    assert line["offers"] == [] and line["waiting"] == []
    await complete(server, portal, out[1])


async def test_a_keep_apart_refusal_in_the_portal_names_no_one(
    screens: Screens, server: LiveServer, portal: PortalSchool, kept_apart: tuple[UUID, UUID]
) -> None:
    school = portal.school
    first, second = kept_apart
    page = await screens.student(portal.id, second)
    await create_in_portal(page, school, "Nurse")
    error = page.locator("#create-error")
    await expect(error).to_have_text(NEUTRAL)
    body = await page.content()
    for secret in (school.student_names[first], "private words", "Pair"):
        assert secret not in body

    # At a kiosk: the same words.
    async with ApiClient.session(server.url, school.emails["Ada"]) as teacher:
        made = await set_up_kiosk(teacher, school.rooms["Room 101"], [school.rooms["Nurse"]])
    kiosk = await screens.kiosk(made.json()["token"], TABLET)
    await kiosk.goto(screens.url(f"/kiosk/create?q={school.student_names[second]}"))
    await kiosk.get_by_label(re.compile(school.student_names[second])).check()
    await kiosk.get_by_role("button", name="Next Step").click()
    await kiosk.get_by_label("Nurse").check()
    await kiosk.get_by_role("button", name="Next Step").click()
    await kiosk.get_by_role("button", name="Create Pass").click()
    await expect(kiosk.get_by_role("alert").filter(has_text=NEUTRAL)).to_be_visible()
    shown = await kiosk.content()
    for secret in (school.student_names[first], "private words", "Pair"):
        assert secret not in shown


async def test_a_line_is_joined_through_the_command_and_shown_on_the_dashboard(
    screens: Screens, server: LiveServer, portal: PortalSchool
) -> None:
    """Staff see who waits, in order, and let one go first with a reason."""
    school = portal.school
    out = await fill_restroom(server, portal, school.students[0:2])
    dashboard = await screens.staff(school.emails["Ada"])
    for who in school.students[2:4]:
        await server.runtime.app.join_line(
            Acting(school.teacher(), now()),
            school.rooms["Restroom"],
            JoinLine(origin_id=school.rooms["Room 101"], student_id=who),
        )
    waiting = dashboard.locator("#lines .line-waiting li")
    await expect(waiting).to_have_count(2)
    last = school.student_names[school.students[3]]
    await dashboard.get_by_label(f"Why {last} may go first").fill("nurse said so")
    await waiting.nth(1).get_by_role("button", name="Let go first").click()
    await expect(dashboard.locator("#lines .line-waiting li").first).to_contain_text(last)
    for pass_id in out:
        await complete(server, portal, pass_id)


async def test_staff_are_refused_in_the_same_words_and_override_with_a_reason(
    screens: Screens, server: LiveServer, portal: PortalSchool, kept_apart: tuple[UUID, UUID]
) -> None:
    school = portal.school
    first, second = kept_apart
    name = school.student_names[second]
    page = await screens.staff(school.emails["Ada"])
    await page.goto(screens.url(f"/hall-pass/new?q={name}"))
    await page.get_by_label("Going To").select_option(str(school.rooms["Nurse"]))
    await page.get_by_label(name).check()
    await page.get_by_role("button", name="Create Hall Pass").click()
    error = page.locator("#create-error")
    await expect(error).to_contain_text(NEUTRAL)
    for secret in (school.student_names[first], "private words"):
        assert secret not in await error.inner_text()
    assert "private words" not in await page.content()
    await page.get_by_label("Override reason").fill("the principal sent for both")
    await page.get_by_role("button", name="Create Hall Pass").click()
    await expect(page.get_by_role("status")).to_contain_text("Created 1 hall pass.")
    made = await active_pass(server, school, second)
    assert overridden(made) == (["keep_apart"], "the principal sent for both")
