"""Hallway rules in the browser: Create Hall Pass shows today's count, the limit and the rule
that would refuse before Create, and the override reason field; a member of staff overrides; a
kiosk and the Student Portal say the refusal plainly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import pytest_asyncio
from playwright.async_api import expect

from hallpass.acting import Acting
from hallpass.aggregates.keep_apart import NEUTRAL
from hallpass.commands.keep_apart import KeepApartFields
from support.api_client import ApiClient
from support.browser import TABLET, Screens, create_at_kiosk, create_in_portal
from support.kiosk_client import set_up_kiosk
from support.portal import PortalSchool, StudentClient, hall_pass_id, make_portal_school
from support.rules import active_pass, midday_portal_school, overridden, school_at_midday, set_rules
from support.school import send_out
from support.server import LiveServer

pytestmark = pytest.mark.browser
LIMIT_REACHED = "You have reached today's limit of 1 pass. Ask your teacher."


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def portal(server: LiveServer) -> PortalSchool:
    """A school where it is midday, whose portal needs no approval, with one pass a day."""
    made = await midday_portal_school(server.runtime, label="BrowserRules", students=6)
    await set_rules(server.runtime, made.admin, made.id, limits={"per_day": 1})
    return made


async def spend_today(server: LiveServer, portal: PortalSchool, index: int) -> None:
    """The student at `index` has had today's one pass (out to the Library and back)."""
    school = portal.school
    async with ApiClient.session(server.url, school.emails["Bo"]) as bo:
        made = await bo.create_passes(
            school.rooms["Room 102"], school.rooms["Library"], [school.students[index]]
        )
        assert made.status_code == 201, made.text
        assert (await bo.complete(made.json()["passes"][0]["id"])).status_code == 200


async def test_create_hall_pass_shows_the_count_and_the_refusal_and_staff_override(
    screens: Screens, server: LiveServer, portal: PortalSchool
) -> None:
    school = portal.school
    await spend_today(server, portal, 0)
    name = school.student_names[school.students[0]]
    page = await screens.staff(school.emails["Ada"])
    await page.goto(screens.url(f"/hall-pass/new?q={name}"))
    await page.get_by_label("Going To").select_option(str(school.rooms["Library"]))
    override = page.get_by_label("Override reason")
    await expect(override).to_be_hidden()
    await page.get_by_label(name).check()
    check = page.locator("#rule-check")
    await expect(check).to_contain_text(f"{name}: 1 today (limit 1)")
    await expect(check.locator(".rule-refusal")).to_contain_text(
        f"{name} has had 1 pass today, and the limit is 1."
    )
    await expect(override).to_be_visible()

    await page.get_by_role("button", name="Create Hall Pass").click()
    await expect(page.locator("#create-error")).to_contain_text(
        "Give an override reason to create it anyway."
    )
    await expect(page.get_by_label("Override reason")).to_be_visible()
    await page.get_by_label("Override reason").fill("called to the office by the principal")
    await page.get_by_role("button", name="Create Hall Pass").click()
    await expect(page.get_by_role("status")).to_contain_text("Created 1 hall pass.")

    made = await active_pass(server, school, school.students[0])
    assert overridden(made) == (["daily_limit"], "called to the office by the principal")


async def test_a_kiosk_says_the_limit_plainly(
    screens: Screens, server: LiveServer, portal: PortalSchool
) -> None:
    school = portal.school
    await spend_today(server, portal, 1)
    async with ApiClient.session(server.url, school.emails["Ada"]) as ada:
        r = await set_up_kiosk(ada, school.rooms["Room 101"], [school.rooms["Library"]])
    assert r.status_code == 201, r.text
    page = await screens.kiosk(r.json()["token"], TABLET)
    name = school.student_names[school.students[1]]
    await create_at_kiosk(page, server.url, name, "Library")
    await expect(page.get_by_role("alert")).to_contain_text(LIMIT_REACHED)


async def test_the_portal_says_the_limit_plainly(
    screens: Screens, server: LiveServer, portal: PortalSchool
) -> None:
    school = portal.school
    await spend_today(server, portal, 2)
    page = await screens.student(portal.id, school.students[2])
    await create_in_portal(page, school, "Library")
    await expect(page.locator("#create-error")).to_contain_text(LIMIT_REACHED)


async def test_a_blackout_shows_before_create_for_its_destination_only_and_the_dashboard_shows_the_period(
    screens: Screens, server: LiveServer, portal: PortalSchool
) -> None:
    school = portal.school
    zone = (await server.runtime.app.school_policy(portal.id)).zone
    local = datetime.now(UTC).astimezone(zone)
    start = (local - timedelta(minutes=2)).replace(second=0, microsecond=0)
    end = start + timedelta(hours=1)
    period = {"name": "Period 4", "start": f"{start:%H:%M}", "end": f"{end:%H:%M}"}
    await set_rules(
        server.runtime,
        portal.admin,
        portal.id,
        bells={"day_types": [{"name": "Regular", "periods": [period]}], "weekdays": ["Regular"] * 7},
        blackouts=[{"kind": "edges", "first_minutes": 10, "destination_ids": [str(school.rooms["Library"])]}],
    )
    page = await screens.staff(school.emails["Ada"])
    await expect(page.locator("#current-period")).to_contain_text("Period 4")
    name = school.student_names[school.students[3]]
    await page.goto(screens.url(f"/hall-pass/new?q={name}"))
    await page.get_by_label(name).check()
    await page.get_by_label("Going To").select_option(str(school.rooms["Library"]))
    refusal = page.locator("#rule-check .rule-refusal")
    await expect(refusal).to_contain_text("No passes to Library in the first 10 minutes of Period 4")
    await expect(page.get_by_label("Override reason")).to_be_visible()
    await page.get_by_label("Going To").select_option(str(school.rooms["Nurse"]))
    await expect(refusal).to_have_count(0)
    await expect(page.get_by_label("Override reason")).to_be_hidden()
    await page.get_by_role("button", name="Create Hall Pass").click()
    await expect(page.get_by_role("status")).to_contain_text("Created 1 hall pass.")


async def test_the_dashboard_period_follows_a_change_without_a_reload(
    screens: Screens, server: LiveServer
) -> None:
    made = await make_portal_school(server.runtime, label="BrowserPeriod", needs_approval=False, students=2)
    zone_name = await school_at_midday(server.runtime, made.school)
    local = datetime.now(UTC).astimezone(ZoneInfo(zone_name))
    start = (local - timedelta(minutes=2)).replace(second=0, microsecond=0)
    end = start + timedelta(hours=1)

    def bells(name: str) -> dict[str, object]:
        period = {"name": name, "start": f"{start:%H:%M}", "end": f"{end:%H:%M}"}
        return {"day_types": [{"name": "Regular", "periods": [period]}], "weekdays": ["Regular"] * 7}

    page = await screens.staff(made.school.emails["Ada"])
    await expect(page.locator("#current-period")).to_have_count(0)
    await set_rules(server.runtime, made.admin, made.id, bells=bells("Period 5"))
    school = made.school
    async with ApiClient.session(server.url, school.emails["Bo"]) as bo:
        # Any live change redraws the period with the rows (the half-minute timer does too).
        out = await bo.create_passes(school.rooms["Room 102"], school.rooms["Library"], [school.students[0]])
        assert out.status_code == 201, out.text
        await expect(page.locator("#current-period")).to_contain_text("Period 5")
        await set_rules(server.runtime, made.admin, made.id, bells=bells("Study Hall"))
        assert (await bo.complete(out.json()["passes"][0]["id"])).status_code == 200
        await expect(page.locator("#current-period")).to_contain_text("Study Hall")


async def test_a_teacher_approving_over_a_limit_is_told_the_rule_and_overrides_with_a_reason(
    screens: Screens, server: LiveServer
) -> None:
    made = await make_portal_school(server.runtime, label="BrowserApproval", needs_approval=True, students=2)
    await school_at_midday(server.runtime, made.school)
    school, who = made.school, made.school.students[0]
    async with ApiClient.session(server.url, school.emails["Bo"]) as bo:
        earlier = await bo.create_passes(school.rooms["Room 101"], school.rooms["Library"], [who])
        assert (await bo.complete(earlier.json()["passes"][0]["id"])).status_code == 200
    student = StudentClient(server.url, made.id)
    await student.ready(await hall_pass_id(server.runtime, who))
    asked = await student.request_pass(school.rooms["Room 101"], school.rooms["Nurse"])
    assert asked.status_code == 201, asked.text
    await student.close()
    await set_rules(server.runtime, made.admin, made.id, limits={"per_day": 1})

    name = school.student_names[who]
    page = await screens.staff(school.emails["Ada"])
    await page.get_by_role("button", name=f"Approve request from {name}").click()
    await expect(page.locator("#action-status")).to_contain_text(
        f"{name} has had 1 pass today, and the limit is 1."
    )
    await page.get_by_text("Override a rule…").click()
    await page.get_by_label("Override reason (only if a hallway rule refuses)").fill("make-up test")
    await page.get_by_role("button", name=f"Approve request from {name}").click()
    await expect(page.get_by_text("No student requests waiting.")).to_be_visible()


async def test_create_shows_keep_apart_naming_no_one_and_a_full_place_before_create(
    screens: Screens, server: LiveServer
) -> None:
    made = await make_portal_school(server.runtime, label="BrowserPreview", needs_approval=False, students=6)
    school, s = made.school, made.school.students
    now = datetime.now(UTC)
    fields = KeepApartFields(name="Pair 4417", student_ids=[s[0], s[1]], reason="private words 4417")
    await server.runtime.app.form_keep_apart(Acting(made.admin, now), made.id, fields)
    await send_out(server.runtime, school, "Library", [s[0]], now)
    await send_out(server.runtime, school, "Restroom", [s[2], s[3]], now)

    page = await screens.staff(school.emails["Ada"])
    name = school.student_names[s[1]]
    await page.goto(screens.url(f"/hall-pass/new?q={name}"))
    await page.get_by_label(name).check()
    await page.get_by_label("Going To").select_option(str(school.rooms["Nurse"]))
    check = page.locator("#rule-check")
    await expect(check.locator(".rule-refusal")).to_have_text(NEUTRAL)
    await expect(page.get_by_label("Override reason")).to_be_visible()
    shown = await check.inner_text()
    for secret in (school.student_names[s[0]], "Pair 4417", "private words 4417"):
        assert secret not in shown

    other = school.student_names[s[4]]
    await page.goto(screens.url(f"/hall-pass/new?q={other}"))
    await page.get_by_label(other).check()
    await page.get_by_label("Going To").select_option(str(school.rooms["Restroom"]))
    await expect(page.locator("#rule-check .rule-refusal")).to_contain_text("Restroom")
    await expect(page.get_by_label("Override reason")).to_be_hidden()  # a full place is not overridden
