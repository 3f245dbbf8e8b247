"""Kiosk Mode set-up with a school larger than a page: the page carries no student, the
hand-pick list loads 50 at a time by the filters, Move all takes every match, and a long name
wraps beside a checkbox that keeps its size."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import pytest_asyncio
from playwright.async_api import Page, ViewportSize, expect

from hallpass.commands.directory import NewStudent
from support.browser import DESKTOP, PHONE, Screens
from support.school import SchoolFixture, make_school
from support.server import LiveServer

pytestmark = pytest.mark.browser

STUDENTS = 130
LONG_FIRST, LONG_LAST = "Maximiliana-Alexandrina Genoveva", "Featherstonehaugh-Montgomery"


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def big_school(server: LiveServer) -> SchoolFixture:
    school = await make_school(server.runtime, label="KioskSetUpPaging", students=STUDENTS)
    await server.runtime.app.register_students(
        school.id,
        [NewStudent(LONG_FIRST, LONG_LAST, 7, 999_999_999, homeroom_id=school.rooms["Room 101"])],
        now=datetime.now(UTC),
    )
    for runner in server.runtime.runners:
        await runner.catch_up()
    return school


async def hand_picked(screens: Screens, school: SchoolFixture, viewport: ViewportSize = DESKTOP) -> Page:
    page = await screens.staff(school.emails["Ada"], viewport)
    answer = await page.goto(screens.url("/hall-pass/kiosk"))
    assert answer is not None
    html = await answer.text()
    assert 'name="student_ids"' not in html, "the set-up page carries no student"
    await page.get_by_label("Hand-picked students").check()
    return page


async def test_the_hand_pick_list_loads_a_page_at_a_time_and_move_all_takes_every_match(
    screens: Screens, big_school: SchoolFixture
) -> None:
    page = await hand_picked(screens, big_school)
    available, chosen = page.locator("#available li"), page.locator("#chosen li")
    await expect(available).to_have_count(50)
    await expect(page.locator("#available-count")).to_have_text("(50 shown, more below)")
    await page.get_by_role("button", name="Show more students").click()
    await expect(available).to_have_count(100)
    await page.get_by_role("button", name="Show more students").click()
    await expect(available).to_have_count(STUDENTS + 1)
    await expect(page.get_by_role("button", name="Show more students")).to_be_hidden()
    names = await available.locator(".pick-name").all_inner_texts()
    assert len(set(names)) == STUDENTS + 1, "no student twice, none skipped"

    one = big_school.students[129]
    await page.get_by_label("Name or ID").fill(big_school.student_names[one])
    await expect(available).to_have_count(1)
    await available.first.get_by_role("checkbox").check()
    await expect(chosen).to_have_count(1)
    await page.get_by_label("Name or ID").fill("")
    await page.get_by_label("Grade", exact=True).select_option("7")
    await page.get_by_role("button", name="Move all", exact=True).click()
    grade_seven = sum(1 for i in range(STUDENTS) if 6 + i % 3 == 7) + 1  # and the long name
    await expect(chosen).to_have_count(grade_seven + (0 if 6 + 129 % 3 == 7 else 1))
    await expect(available).to_have_count(0)

    # A refused form shows the hand-picked students ticked again.
    await page.get_by_label("Nurse").check()
    await page.get_by_label("Exit password (4 to 8 digits)").fill("1357")
    await page.get_by_label("Exit password again").fill("7531")
    await page.get_by_role("button", name="Start Kiosk Mode").click()
    await expect(page.get_by_role("alert")).to_contain_text("not the same")
    await expect(page.locator("#chosen li input:checked")).to_have_count(await chosen.count())
    assert await chosen.count() == grade_seven + (0 if 6 + 129 % 3 == 7 else 1)


async def test_the_list_answers_bad_filters_plainly(
    screens: Screens, big_school: SchoolFixture, other_school: SchoolFixture
) -> None:
    page = await screens.staff(big_school.emails["Ada"])
    for query in ("grade=seven", "offset=-1", "offset=abc", "homeroom_id=not-an-id"):
        answer = await page.request.get(screens.url(f"/hall-pass/kiosk/students?{query}"))
        assert answer.status == 422, query
    answer = await page.request.get(
        screens.url(f"/hall-pass/kiosk/students?homeroom_id={other_school.rooms['Room 101']}")
    )
    assert answer.status == 200 and "<li" not in await answer.text()
    answer = await page.request.get(screens.url("/hall-pass/kiosk/students?all=1"))
    assert (await answer.text()).count("<li") == STUDENTS + 1
    signed_out = await screens.page()
    answer = await signed_out.request.get(screens.url("/hall-pass/kiosk/students"))
    assert answer.status == 401


async def test_a_wrapping_name_does_not_shrink_its_checkbox(
    screens: Screens, big_school: SchoolFixture
) -> None:
    page = await hand_picked(screens, big_school, PHONE)
    await page.get_by_label("Name or ID").fill("Featherstonehaugh")
    row = page.locator("#available li")
    await expect(row).to_have_count(1)
    label = row.locator("label")
    box = await row.get_by_role("checkbox").bounding_box()
    text = await label.bounding_box()
    assert box is not None and text is not None
    assert text["height"] > 2 * box["height"], "the long name wraps"
    assert (box["width"], box["height"]) == (22, 22)
    for checkbox in await page.locator(
        ".kiosk-setup .check-grid input:visible, .kiosk-setup .mode-choices input:visible"
    ).all():
        size = await checkbox.bounding_box()
        assert size is not None and (size["width"], size["height"]) == (22, 22)
    assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
