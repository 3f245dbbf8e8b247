"""The staff screens a school meets in its first week (issue 15): dates beside times, the series
of a repeating pass, search anywhere in the school, confirmation and a status message after each
action, filters in place, Select all, and pages that fit a phone, a tablet and a desktop."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest
from playwright.async_api import Page, ViewportSize, expect

from hallpass.acting import Acting
from hallpass.aggregates.passes import Status
from hallpass.commands.portal import DecideRequest
from support.axe import serious_violations, with_axe
from support.browser import Screens
from support.portal import StudentClient, hall_pass_id, make_portal_school
from support.school import SchoolFixture, plan_out, schedule_series, send_out, status_of, weekly_series
from support.server import LiveServer

pytestmark = pytest.mark.browser
OWN_SCHOOL_STUDENTS = 40
SCHOOL_TZ = ZoneInfo("America/Chicago")
DATED = re.compile(r"^[A-Z][a-z]{2} \d{1,2} [A-Z][a-z]{2}, \d{1,2}:\d{2} (AM|PM)$")
VIEWPORTS: list[ViewportSize] = [
    {"width": 390, "height": 844},
    {"width": 768, "height": 1024},
    {"width": 1280, "height": 800},
]


@pytest.fixture(scope="module")
def school(own_school: SchoolFixture) -> SchoolFixture:
    """The module's own school (its tests never meet another module's passes)."""
    return own_school


async def _fits(page: Page) -> None:
    """No sideways scroll: the page is no wider than the window."""
    await page.wait_for_load_state("load")
    wide = await page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert wide[0] <= wide[1], f"the page is {wide[0]} px wide in a window of {wide[1]} px"


async def _within_width(page: Page, selector: str) -> None:
    """The element shows and lies inside the window's width (reachable without sideways scroll)."""
    element = page.locator(selector).first
    await element.scroll_into_view_if_needed()
    await expect(element).to_be_visible()
    box = await element.bounding_box()
    width = await page.evaluate("window.innerWidth")
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width, (selector, box, width)


async def test_requested_and_denied_passes_show_no_started_or_due_time(
    screens: Screens, server: LiveServer
) -> None:
    portal = await make_portal_school(server.runtime, label="StaffRequests", needs_approval=True, students=4)
    school = portal.school
    asked, denied, out = school.students[0], school.students[2], school.students[1]
    for who in (asked, denied):
        student = StudentClient(server.url, school.id)
        await student.ready(await hall_pass_id(server.runtime, who))
        r = await student.request_pass(school.rooms["Room 101"], school.rooms["Nurse"])
        assert r.status_code == 201
        await student.close()
        if who == denied:
            pass_id = UUID(r.json()["pass"]["id"])
            await server.runtime.app.deny_request(
                Acting(school.teacher("Ada"), datetime.now(UTC)), pass_id, DecideRequest()
            )
    await send_out(server.runtime, school, "Library", [out], datetime.now(UTC))

    page = await screens.staff(school.emails["Ada"])
    for who, status in ((asked, "requested"), (denied, "denied")):
        row = page.locator("#pass-rows tr", has_text=school.student_names[who])
        await expect(row).to_have_attribute("data-status", status)
        await expect(row.locator("td.started")).to_have_text("—")
        await expect(row.locator("td.due")).to_have_text("—")
        await expect(row.locator("td.started time, td.due time")).to_have_count(0)
    active = page.locator("#pass-rows tr", has_text=school.student_names[out])
    await expect(active.locator("td.started time")).to_have_text(re.compile(r"^\d{1,2}:\d{2} (AM|PM)$"))


async def test_repeating_rows_show_their_dates_and_the_series_is_cancelled_from_its_page(
    screens: Screens, server: LiveServer, school: SchoolFixture
) -> None:
    student, name = school.student_and_name(0)
    first = datetime.now(SCHOOL_TZ).date() + timedelta(days=1)
    last = first + timedelta(days=3)
    outcome = await schedule_series(
        server.runtime,
        school,
        "Library",
        [student],
        weekdays=[0, 1, 2, 3, 4, 5, 6],
        at=time(10, 15),
        first=first,
        last=last,
    )
    planned = [UUID(p["id"]) for p in outcome.body["passes"]]
    assert len(planned) == 4
    page = await screens.staff(school.emails["Ada"])
    await page.goto(screens.url(f"/hall-pass?status=scheduled&from={first}&to={last}"))
    rows = page.locator("#pass-rows tr", has_text=name)
    await expect(rows).to_have_count(4)
    starts = await rows.locator("td.started time").all_inner_texts()
    assert all(DATED.match(text) for text in starts), starts
    assert len(set(starts)) == 4, "each day's pass shows its own date"

    await rows.first.get_by_role("link", name="Repeating series").click()
    await expect(page.get_by_role("heading", name="Repeating pass")).to_be_visible()
    await expect(page.locator(".series-passes tbody tr")).to_have_count(4)
    await expect(page.locator("#series-state")).to_have_text("4 passes still to start")

    await page.get_by_role("button", name="Cancel the series").click()
    dialog = page.get_by_role("dialog")
    await expect(dialog).to_contain_text("Cancel every pass of this series that has not started?")
    await dialog.get_by_role("button", name="No, go back").click()
    await expect(dialog).to_be_hidden()
    assert await status_of(server.runtime, planned[0]) == (Status.SCHEDULED, None)

    await page.get_by_role("button", name="Cancel the series").click()
    await page.get_by_role("dialog").get_by_role("button", name="Yes").click()
    await expect(page.get_by_role("status")).to_have_text("Cancelled the series: 4 passes will not start.")
    await expect(page.locator(".series-passes tbody tr[data-status='cancelled']")).to_have_count(4)
    await expect(page.get_by_role("button", name="Cancel the series")).to_have_count(0)
    for pass_id in planned:
        assert (await status_of(server.runtime, pass_id))[0] is Status.CANCELLED


async def test_a_series_of_another_school_is_not_found(
    screens: Screens, school: SchoolFixture, other_school: SchoolFixture, server: LiveServer
) -> None:
    first = datetime.now(SCHOOL_TZ).date() + timedelta(days=2)
    outcome = await weekly_series(
        server.runtime, other_school, "Library", other_school.students[0], first=first, at=time(9, 0), days=0
    )
    page = await screens.staff(school.emails["Ada"])
    for path in (f"/hall-pass/schedules/{outcome.body['schedule_id']}", "/hall-pass/schedules/not-an-id"):
        response = await page.goto(screens.url(path))
        assert response is not None and response.status == 404
        await expect(page.get_by_role("alert")).to_contain_text("There is no repeating schedule")


async def test_name_search_looks_in_every_room_and_says_when_nobody_matches(
    screens: Screens, school: SchoolFixture
) -> None:
    elsewhere = school.students[3]  # Room 102's; Ada's room is Room 101
    name = school.student_names[elsewhere]
    page = await screens.staff(school.emails["Ada"])
    await page.goto(screens.url("/hall-pass/new"))
    await expect(page.get_by_label(name)).to_have_count(0)
    await page.get_by_label("Student name or ID").fill(name)
    await page.get_by_role("button", name="Filter").click()
    await expect(page.get_by_label(name)).to_be_visible()
    await expect(page.get_by_label("Homeroom")).to_have_value("")

    await page.get_by_label("Student name or ID").fill("Zebediah Nobody")
    await page.get_by_role("button", name="Filter").click()
    await expect(page.locator("#no-match")).to_have_text("No student matches “Zebediah Nobody”.")


async def test_the_student_filter_finds_a_hall_pass_id_and_an_external_id(
    screens: Screens, server: LiveServer, school: SchoolFixture
) -> None:
    wanted, other = school.students[4], school.students[6]
    await send_out(server.runtime, school, "Library", [wanted, other], datetime.now(UTC))
    number = await hall_pass_id(server.runtime, wanted)
    page = await screens.staff(school.emails["Ada"])
    for typed in (number, f"#{int(number):09d}"):
        await page.goto(screens.url("/hall-pass?student=" + typed.replace("#", "%23")))
        await expect(page.locator("#pass-rows tr", has_text=school.student_names[wanted])).to_have_count(1)
        await expect(page.locator("#pass-rows tr", has_text=school.student_names[other])).to_have_count(0)
    await page.goto(screens.url("/hall-pass?student=%23no-such-id"))
    await expect(page.locator("#pass-rows")).to_have_text("No hall passes match these filters.")


async def test_terminate_and_cancel_ask_first_and_each_action_is_said(
    screens: Screens, server: LiveServer, school: SchoolFixture
) -> None:
    ended, back, later = school.students[8], school.students[10], school.students[12]
    names = {s: school.student_names[s] for s in (ended, back, later)}
    await send_out(server.runtime, school, "Nurse", [ended, back], datetime.now(UTC))
    now = datetime.now(UTC)
    await plan_out(server.runtime, school, "Library", [later], now + timedelta(minutes=30), now)
    page = await screens.staff(school.emails["Ada"])
    await page.goto(screens.url("/hall-pass?status=active,scheduled"))
    status = page.get_by_role("status")

    row = page.locator("#pass-rows tr", has_text=names[ended])
    await row.get_by_text("End…").click()
    await row.get_by_role("button", name="Terminate").click()
    dialog = page.get_by_role("dialog")
    await expect(dialog).to_contain_text(f"End the pass for {names[ended]} now?")
    await expect(dialog.get_by_role("button", name="No, go back")).to_be_focused()
    await page.keyboard.press("Escape")
    await expect(dialog).to_be_hidden()
    await expect(row).to_have_attribute("data-status", "active")
    await row.get_by_role("button", name="Terminate").click()
    await page.get_by_role("dialog").get_by_role("button", name="Yes").click()
    await expect(status).to_have_text(f"The pass for {names[ended]} was terminated.")
    await expect(page.locator("#pass-rows tr", has_text=names[ended])).to_have_attribute(
        "data-status", "terminated"
    )
    await page.goto(screens.url("/hall-pass?status=active,scheduled"))

    await page.evaluate("window.__sameDocument = true")
    await page.get_by_role("button", name=f"Complete pass for {names[back]}").click()
    await expect(status).to_have_text(f"{names[back]} is back: the pass is completed.")
    assert await page.evaluate("window.__sameDocument") is True

    row = page.locator("#pass-rows tr", has_text=names[later])
    await row.get_by_text("Edit…").click()
    await row.get_by_role("button", name="Cancel pass").click()
    await expect(page.get_by_role("dialog")).to_contain_text(f"Cancel the scheduled pass for {names[later]}?")
    await page.get_by_role("dialog").get_by_role("button", name="Yes").click()
    await expect(status).to_have_text(f"The scheduled pass for {names[later]} was cancelled.")


async def _library_and_nurse(
    screens: Screens, server: LiveServer, school: SchoolFixture, library: int, nurse: int
) -> tuple[Page, UUID, UUID]:
    """The students at `library` and `nurse` sent to the Library and to the Nurse: Ada's dashboard,
    and the two students."""
    await send_out(server.runtime, school, "Library", [school.students[library]], datetime.now(UTC))
    await send_out(server.runtime, school, "Nurse", [school.students[nurse]], datetime.now(UTC))
    return await screens.staff(school.emails["Ada"]), school.students[library], school.students[nurse]


async def test_filters_change_the_rows_in_place_and_keep_the_address(
    screens: Screens, server: LiveServer, school: SchoolFixture
) -> None:
    page, library, nurse = await _library_and_nurse(screens, server, school, 14, 16)
    rows = page.locator("#pass-rows")
    await expect(rows.locator("tr", has_text=school.student_names[nurse])).to_have_count(1)
    await page.evaluate("window.__sameDocument = true")

    await page.get_by_label("Going To").select_option(str(school.rooms["Library"]))
    await expect(rows.locator("tr", has_text=school.student_names[nurse])).to_have_count(0)
    await expect(rows.locator("tr", has_text=school.student_names[library])).to_have_count(1)
    await expect(page).to_have_url(re.compile(f"destination_id={school.rooms['Library']}"))
    await page.locator("#f-student").fill(school.student_names[nurse])
    await expect(rows).to_have_text("No hall passes match these filters.")
    await expect(page).to_have_url(re.compile(r"student="))
    assert await page.evaluate("window.__sameDocument") is True

    await page.reload()
    await expect(page.get_by_label("Going To")).to_have_value(str(school.rooms["Library"]))
    await expect(rows).to_have_text("No hall passes match these filters.")


async def test_filters_work_without_script(
    screens: Screens, server: LiveServer, school: SchoolFixture
) -> None:
    page, library, nurse = await _library_and_nurse(screens, server, school, 18, 20)
    for shown in (library, nurse):  # the list shows both (live) before the page without script opens
        await expect(page.locator("#pass-rows tr", has_text=school.student_names[shown])).to_have_count(1)
    cookies = await page.context.cookies()
    context = await screens.browser.new_context(java_script_enabled=False)
    screens.contexts.append(context)
    await context.add_cookies(cookies)  # type: ignore[arg-type]
    plain = await context.new_page()
    await plain.goto(screens.url("/hall-pass"))
    await plain.get_by_label("Going To").select_option(str(school.rooms["Library"]))
    await plain.get_by_role("button", name="Filter").click()
    await expect(plain).to_have_url(re.compile(f"destination_id={school.rooms['Library']}"))
    await expect(plain.locator("#pass-rows tr", has_text=school.student_names[nurse])).to_have_count(0)
    await expect(plain.locator("#pass-rows tr", has_text=school.student_names[library])).to_have_count(1)


async def test_select_all_ticks_the_class_and_the_columns_line_up(
    screens: Screens, school: SchoolFixture
) -> None:
    page = await screens.staff(school.emails["Ada"])
    await page.goto(screens.url("/hall-pass/new"))
    boxes = page.locator("input[name='student_ids']")
    shown = await boxes.count()
    assert shown >= 2
    select_all = page.get_by_label(f"Select all {shown} shown")
    await select_all.check()
    for i in range(shown):
        await expect(boxes.nth(i)).to_be_checked()
    await boxes.first.uncheck()
    assert await select_all.evaluate("el => el.indeterminate && !el.checked") is True
    await select_all.check()
    await expect(boxes.first).to_be_checked()

    tops = await page.locator("#student-list li").evaluate_all(
        "items => items.slice(0, 2).map(li => li.getBoundingClientRect().top)"
    )
    assert tops[0] == tops[1], "the two columns start at the same height"

    await page.set_viewport_size({"width": 390, "height": 844})
    await page.get_by_label("Repeating").check()
    days = page.locator(".weekdays label")
    await expect(days).to_have_count(7)
    boxes_and_names = await days.evaluate_all(
        """labels => labels.map(label => {
            const box = label.querySelector('input').getBoundingClientRect();
            const all = label.getBoundingClientRect();
            return [box.top - all.top, all.height, all.right, window.innerWidth];
        })"""
    )
    for offset, height, right, width in boxes_and_names:
        assert height < 2 * 22, "each day's checkbox and its name stay on one line"
        assert offset < height and right <= width


@pytest.mark.parametrize("viewport", VIEWPORTS, ids=lambda v: f"{v['width']}x{v['height']}")
async def test_dashboard_fits_the_screen_with_its_actions_in_reach(
    screens: Screens, server: LiveServer, school: SchoolFixture, viewport: ViewportSize
) -> None:
    student = school.students[22 + VIEWPORTS.index(viewport) * 2]
    await send_out(server.runtime, school, "Library", [student], datetime.now(UTC))
    page = await screens.staff(school.emails["Ada"], viewport)
    row = page.locator("#pass-rows tr", has_text=school.student_names[student])
    await expect(row).to_have_attribute("data-status", "active")
    await _fits(page)
    await _within_width(page, "a.button.primary:has-text('Create Hall Pass')")
    for cell in ("td.c-student", "td.c-destination", "td.c-status", "td.c-due"):
        await _within_width(page, f"#pass-rows tr:has-text('{school.student_names[student]}') {cell}")
    await _within_width(page, f"button[aria-label='Complete pass for {school.student_names[student]}']")
    await _within_width(page, f"#pass-rows tr:has-text('{school.student_names[student]}') summary")
    await _within_width(page, "form.filters button[type='submit']")
    await row.get_by_text("End…").click()
    await _within_width(
        page, f"#pass-rows tr:has-text('{school.student_names[student]}') select[name^='reason-']"
    )
    await _within_width(
        page, f"#pass-rows tr:has-text('{school.student_names[student]}') button:has-text('Terminate')"
    )
    await _fits(page)


@pytest.mark.parametrize("viewport", VIEWPORTS, ids=lambda v: f"{v['width']}x{v['height']}")
async def test_create_hall_pass_fits_the_screen_with_its_actions_in_reach(
    screens: Screens, school: SchoolFixture, viewport: ViewportSize
) -> None:
    page = await screens.staff(school.emails["Ada"], viewport)
    await page.goto(screens.url("/hall-pass/new"))
    await _fits(page)
    for selector in (
        "#q",
        "#origin",
        "#destination",
        "#student-list li",
        "#create-form button[type='submit']",
    ):
        await _within_width(page, selector)
    await page.get_by_label("Repeating").check()
    await _fits(page)
    await _within_width(page, "#last_date")


@pytest.mark.parametrize("viewport", VIEWPORTS, ids=lambda v: f"{v['width']}x{v['height']}")
async def test_school_day_and_series_pages_fit_the_screen(
    screens: Screens, server: LiveServer, school: SchoolFixture, viewport: ViewportSize
) -> None:
    first = datetime.now(SCHOOL_TZ).date() + timedelta(days=5)
    student = school.students[30 + VIEWPORTS.index(viewport)]
    outcome = await weekly_series(
        server.runtime, school, "Nurse", student, first=first, at=time(13, 5), days=14
    )
    page = await screens.staff(school.emails["Cleo"], viewport)
    await page.goto(screens.url("/hall-pass/school-day"))
    await _fits(page)
    await _within_width(page, "#dismissal_time")
    await _within_width(page, "form button.primary")
    await page.goto(screens.url(f"/hall-pass/schedules/{outcome.body['schedule_id']}"))
    await expect(page.get_by_role("heading", name="Repeating pass")).to_be_visible()
    await _fits(page)
    await _within_width(page, "button.danger")
    await _within_width(page, ".series-passes tbody tr td")


async def test_the_new_staff_screens_have_no_serious_accessibility_violations(
    screens: Screens, server: LiveServer, school: SchoolFixture
) -> None:
    student, name = school.student_and_name(34)
    await send_out(server.runtime, school, "Nurse", [student], datetime.now(UTC))
    first = datetime.now(SCHOOL_TZ).date() + timedelta(days=3)
    outcome = await weekly_series(
        server.runtime, school, "Library", school.students[36], first=first, at=time(11, 0), days=7
    )
    found: list[str] = []
    page = await with_axe(await screens.staff(school.emails["Ada"], VIEWPORTS[0]))
    await expect(page.locator("#pass-rows tr", has_text=name)).to_have_count(1)
    found += await serious_violations(page)  # the dashboard as cards
    row = page.locator("#pass-rows tr", has_text=name)
    await row.get_by_text("End…").click()
    await row.get_by_role("button", name="Terminate").click()
    await expect(page.get_by_role("dialog")).to_be_visible()
    found += await serious_violations(page)  # the confirmation
    await page.keyboard.press("Escape")
    await page.goto(screens.url(f"/hall-pass/schedules/{outcome.body['schedule_id']}"))
    await expect(page.get_by_role("heading", name="Repeating pass")).to_be_visible()
    found += await serious_violations(page)
    await page.goto(screens.url("/hall-pass/new?q=Zebediah"))
    await expect(page.locator("#no-match")).to_be_visible()
    found += await serious_violations(page)
    assert found == []


async def test_a_live_update_keeps_an_open_end_form_and_what_was_typed(
    screens: Screens, server: LiveServer, school: SchoolFixture
) -> None:
    first, later = school.students[38], school.students[39]
    await send_out(server.runtime, school, "Nurse", [first], datetime.now(UTC))
    page = await screens.staff(school.emails["Ada"])
    row = page.locator("#pass-rows tr", has_text=school.student_names[first])
    await row.get_by_text("End…").click()
    await row.get_by_label("Note").fill("Went home ill")
    await send_out(server.runtime, school, "Library", [later], datetime.now(UTC))
    await expect(page.locator("#pass-rows tr", has_text=school.student_names[later])).to_have_count(1)
    await expect(row.get_by_label("Note")).to_have_value("Went home ill")
    await expect(row.get_by_role("button", name="Terminate")).to_be_visible()
