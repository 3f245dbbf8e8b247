"""An administrator in the browser: setting up an empty instance, adding a location and a teacher
by hand (who then chooses a password through the one-time link), and deactivating a teacher,
whose open page is signed out at once."""

from __future__ import annotations

import pytest
from playwright.async_api import Page, expect

from support.browser import Screens
from support.school import SchoolFixture

pytestmark = pytest.mark.browser

ADMIN_PASSWORD = "first light over maple"
TEACHER_PASSWORD = "chalk dust and coffee"


async def set_up(page: Page, url: str) -> None:
    await page.goto(url)
    await expect(page.get_by_role("heading", name="Set up Hallpass")).to_be_visible()
    await page.get_by_label("District").fill("Maple District")
    await page.get_by_label("First school").fill("Maple High")
    await page.get_by_label("School time zone").fill("America/Denver")
    await page.get_by_label("Your name").fill("Pat Admin")
    await page.get_by_label("Your email").fill("pat@maple.example.org")
    await page.get_by_label("Choose a password").fill(ADMIN_PASSWORD)
    await page.get_by_role("button", name="Set up").click()
    await expect(page.get_by_role("heading", name="Schools")).to_be_visible()


async def add(
    page: Page, section: str, link: str, fields: dict[str, str], said: str, *, ticked: tuple[str, ...] = ()
) -> None:
    """In `section` of the admin pages, follows `link` to a new record's form, fills in `fields`
    (label: value; a list's option is picked by its value or its name) and saves it: the page
    says `said`. `ticked`: the labels of boxes the new form has ticked already."""
    await page.get_by_role("link", name=section).click()
    await page.get_by_role("link", name=link).click()
    for label in ticked:
        await expect(page.get_by_label(label)).to_be_checked()
    for label, value in fields.items():
        field = page.get_by_label(label)
        if await field.evaluate("element => element.tagName") == "SELECT":
            await field.select_option(value)
        else:
            await field.fill(value)
    await page.get_by_role("button", name="Save").click()
    await expect(page.get_by_role("status")).to_contain_text(said)


async def add_location(page: Page) -> None:
    room = {"Name": "Room 12", "Kind": "classroom", "Time allotted (minutes)": "10"}
    await add(page, "Locations", "Add location", room, "Location added.")
    await expect(page.get_by_role("row", name="Room 12")).to_be_visible()


async def add_teacher(page: Page) -> str:
    """Adds Lee Park, teaching in Room 12; the one-time password link the page shows."""
    lee = {"Name": "Lee Park", "Email": "lee.park@maple.example.org", "Default room": "Room 12"}
    await add(page, "Staff", "Add member of staff", lee, "Member of staff added.", ticked=("Teacher",))
    await page.get_by_role("link", name="Lee Park").click()
    await page.get_by_role("button", name="Make a one-time password link").click()
    await expect(page.get_by_role("heading", name="One-time password link")).to_be_visible()
    return await page.get_by_label("One-time password link").input_value()


async def test_an_empty_instance_is_set_up_then_gets_a_location_and_a_teacher(empty_screens: Screens) -> None:
    screens = empty_screens
    admin = await screens.page()
    await set_up(admin, screens.server.url)
    await admin.get_by_role("link", name="Maple High").first.click()
    await expect(admin.get_by_label("Time zone")).to_have_value("America/Denver")
    await add_location(admin)
    link = await add_teacher(admin)

    teacher = await screens.page()
    await teacher.goto(link)
    await teacher.get_by_label("New password").fill(TEACHER_PASSWORD)
    await teacher.get_by_label("The same again").fill(TEACHER_PASSWORD)
    await teacher.get_by_role("button", name="Save password").click()
    await expect(teacher.get_by_role("status")).to_contain_text("Your password is saved.")
    await teacher.get_by_role("link", name="Sign in").last.click()
    await teacher.get_by_label("Email").fill("lee.park@maple.example.org")
    await teacher.get_by_label("Password").fill(TEACHER_PASSWORD)
    await teacher.get_by_role("button", name="Sign in").click()
    await expect(teacher.get_by_role("heading", name="Hall Pass", exact=True)).to_be_visible()
    await teacher.goto(screens.url("/hall-pass/new"))
    await expect(teacher.get_by_label("Leaving From")).to_have_value(await leaving_from(teacher))
    await teacher.goto(screens.url("/admin"))
    await expect(teacher.get_by_role("heading", name="Not allowed")).to_be_visible()


async def leaving_from(page: Page) -> str:
    """The value of the option named Room 12 in Leaving From (the teacher's default room)."""
    return (
        await page.get_by_label("Leaving From").locator("option", has_text="Room 12").get_attribute("value")
        or ""
    )


async def test_a_deactivated_teacher_is_signed_out_at_once(
    screens: Screens, own_school: SchoolFixture
) -> None:
    teacher = await screens.staff(own_school.emails["Bo"])
    admin = await screens.staff(own_school.emails["Cleo"])
    await admin.goto(screens.url(f"/admin/staff/{own_school.teachers['Bo']}"))
    await admin.get_by_label("Active (may sign in)").uncheck()
    await admin.get_by_role("button", name="Save").click()
    await expect(admin.get_by_role("status")).to_contain_text("Saved.")
    await expect(admin.get_by_role("row", name="Bo")).to_contain_text("Deactivated")

    await teacher.get_by_role("link", name="Create Hall Pass").first.click()
    await expect(teacher.get_by_role("heading", name="Sign in")).to_be_visible()
