"""Kiosk and Student Portal screens on a phone, a tablet and a laptop: nothing scrolls sideways
and each screen's main action is on screen, within its width; View Passes shows Returned."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from uuid import UUID

import pytest
import pytest_asyncio
from playwright.async_api import Locator, Page, ViewportSize, expect

from hallpass.aggregates.locations import LocationKind
from hallpass.commands.directory import NewLocation
from support.api_client import ApiClient
from support.browser import Screens, create_in_portal
from support.kiosk_client import KioskClient
from support.portal import PortalSchool, StudentClient, hall_pass_id, make_portal_school
from support.school import send_out
from support.server import LiveServer

pytestmark = pytest.mark.browser

SIZES: list[ViewportSize] = [
    {"width": 360, "height": 740},
    {"width": 390, "height": 844},
    {"width": 768, "height": 1024},
    {"width": 1280, "height": 800},
]
LONG_PLACE = "Counseling and Student Support Office"


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def portal(server: LiveServer) -> PortalSchool:
    made = await make_portal_school(server.runtime, label="Viewports", needs_approval=False, students=12)
    await server.runtime.app.add_locations(
        made.id, [NewLocation(LONG_PLACE, LocationKind.COUNSELOR, 20)], now=datetime.now(UTC)
    )
    for runner in server.runtime.runners:
        await runner.catch_up()
    return made


async def fits(page: Page, action: Locator) -> None:
    """No sideways scroll, and `action` shown within the page's width."""
    await expect(action).to_be_visible()
    width = await page.evaluate("window.innerWidth")
    scroll = await page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"{page.url} scrolls sideways: {scroll} > {width}"
    box = await action.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width, f"{page.url}: {box}"


def size_id(size: ViewportSize) -> str:
    return f"{size['width']}x{size['height']}"


@pytest.mark.parametrize("size", SIZES, ids=size_id)
async def test_kiosk_screens_fit(
    screens: Screens, server: LiveServer, portal: PortalSchool, size: ViewportSize
) -> None:
    school = portal.school
    index = SIZES.index(size)
    student, out = school.students[index], school.students[8 + index]
    places = [
        school.rooms["Nurse"],
        school.rooms["Library"],
        school.rooms["Restroom"],
        await long_place(server, portal),
    ]
    async with ApiClient.session(server.url, school.emails["Ada"]) as ada:
        kiosk = await KioskClient.started(ada, server.url, school.rooms["Room 101"], places)
    assert (await kiosk.create(out, school.rooms["Nurse"])).status_code == 201
    await kiosk.close()
    page = await screens.kiosk(kiosk.token, size)
    await fits(page, page.get_by_role("link", name="Create Pass"))
    await fits(page, page.get_by_role("link", name="Complete Pass"))
    await page.get_by_role("link", name="Create Pass").click()
    await fits(page, page.get_by_role("button", name="Search"))
    await page.get_by_label("Your full name, hall pass ID, or #school ID").fill("Tester")
    await page.get_by_role("button", name="Search").click()
    await fits(page, page.get_by_role("button", name="Next Step"))
    await page.get_by_label(school.student_names[student]).check()
    await page.get_by_role("button", name="Next Step").click()
    await expect(page.get_by_role("heading", name=re.compile("Where are you going"))).to_be_visible()
    await fits(page, page.get_by_role("button", name="Next Step"))
    await page.get_by_label("Library").check()
    await page.get_by_role("button", name="Next Step").click()
    await fits(page, page.get_by_role("button", name="Create Pass"))
    await page.get_by_role("button", name="Create Pass").click()
    await expect(page.get_by_role("heading", name="Your pass is Active")).to_be_visible()
    await fits(page, page.get_by_role("link", name="Done"))
    await page.goto(screens.url(f"/kiosk/create/destination?student_id={out}"))
    await fits(page, page.get_by_role("link", name="Complete Pass"))
    await page.goto(screens.url(f"/kiosk/complete/summary?student_id={student}"))
    await fits(page, page.get_by_role("button", name="Complete Pass"))
    await page.goto(screens.url("/kiosk/exit"))
    await fits(page, page.get_by_role("button", name="Exit Kiosk Mode"))


async def long_place(server: LiveServer, portal: PortalSchool) -> UUID:
    places = await server.runtime.directory.locations(portal.id)
    found: UUID = next(p["location_id"] for p in places if p["name"] == LONG_PLACE)
    return found


@pytest.mark.parametrize("size", SIZES, ids=size_id)
async def test_portal_screens_fit_and_view_passes_shows_returned(
    screens: Screens, server: LiveServer, portal: PortalSchool, size: ViewportSize
) -> None:
    school = portal.school
    student = school.students[4 + SIZES.index(size)]
    api = StudentClient(server.url, school.id)
    sid = await hall_pass_id(server.runtime, student)
    if (await api.sign_in(sid, sid)).status_code == 201:
        await api.set_password("purple-otter-42")
    else:
        assert (await api.sign_in(sid, "purple-otter-42")).status_code == 201
    made = await api.request_pass(school.rooms["Room 102"], await long_place(server, portal))
    assert made.status_code == 201, made.text
    assert (await api.complete(made.json()["pass"]["id"])).status_code == 200
    await api.close()

    page = await screens.page(size)
    await page.goto(screens.url(f"/portal/{portal.id}"))
    await fits(page, page.get_by_role("button", name="Sign in"))
    await page.get_by_label("Hall pass ID or #school ID").fill(sid)
    await page.get_by_label("Password").fill("purple-otter-42")
    await page.get_by_role("button", name="Sign in").click()
    await fits(page, page.get_by_role("link", name="Create Pass"))
    await fits(page, page.get_by_role("button", name="Sign out"))
    await page.get_by_role("link", name="Create Pass").click()
    await fits(page, page.get_by_role("button", name="Create", exact=True))
    await page.goto(screens.url("/portal/passes"))
    row = page.locator("tbody tr").first
    await expect(row).to_contain_text(LONG_PLACE)
    await fits(page, row.locator("td.returned time"))
    await expect(row.locator("td.returned time")).to_have_text(re.compile(r"\d{1,2}:\d{2} (AM|PM)"))
    await fits(page, row.locator("td.duration"))


@pytest.mark.parametrize("size", SIZES, ids=size_id)
async def test_kiosk_set_up_and_the_kiosk_list_fit(
    screens: Screens, server: LiveServer, portal: PortalSchool, size: ViewportSize
) -> None:
    school = portal.school
    async with ApiClient.session(server.url, school.emails["Bo"]) as bo:
        kiosk = await KioskClient.started(
            bo,
            server.url,
            school.rooms["Room 102"],
            [school.rooms["Nurse"]],
            name="Room 102 door, by the stairs",
        )
    await kiosk.close()
    page = await screens.staff(school.emails["Bo"], size)
    await page.goto(screens.url("/hall-pass/kiosks"))
    await fits(page, page.get_by_role("button", name="Revoke").first)
    await page.goto(screens.url("/hall-pass/kiosk"))
    await page.get_by_label("Hand-picked students").check()
    await expect(page.locator("#available li")).to_have_count(12)
    await fits(page, page.get_by_role("button", name="Move all", exact=True))
    await fits(page, page.get_by_role("button", name="Start Kiosk Mode"))


@pytest.mark.parametrize("size", SIZES, ids=size_id)
async def test_the_wait_line_screens_fit(screens: Screens, server: LiveServer, size: ViewportSize) -> None:
    lines = await make_portal_school(server.runtime, label="ViewportLines", needs_approval=False, students=4)
    school = lines.school
    await send_out(server.runtime, school, "Restroom", school.students[:2], datetime.now(UTC))
    async with ApiClient.session(server.url, school.emails["Ada"]) as ada:
        kiosk = await KioskClient.started(
            ada, server.url, school.rooms["Room 101"], [school.rooms["Restroom"]]
        )
    await kiosk.close()
    device = await screens.kiosk(kiosk.token, size)
    restroom = school.rooms["Restroom"]
    await device.goto(
        screens.url(f"/kiosk/create/summary?student_id={school.students[2]}&destination_id={restroom}")
    )
    await device.get_by_role("button", name="Create Pass").click()
    await fits(device, device.get_by_role("button", name="Join the line"))
    await device.get_by_role("button", name="Join the line").click()
    await expect(device.locator(".line-waiting")).to_contain_text("number 1 in line for Restroom")
    await fits(device, device.locator(".line-waiting"))

    page = await screens.student(lines.id, school.students[3], size)
    await create_in_portal(page, school, "Restroom")
    await fits(page, page.get_by_role("button", name="Join the line"))
    await page.get_by_role("button", name="Join the line").click()
    await expect(page.locator(".line-waiting")).to_contain_text("number 2 in line for Restroom")
    await fits(page, page.locator(".line-waiting"))
