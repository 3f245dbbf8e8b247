"""Administration → Hallway rules as a browser posts it: each form saves its part of the rules,
bad input draws the page again with the reason and saves nothing, a teacher gets a 403 page and
another school a 404 page."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest_asyncio

from support.api_client import form_csrf, html_browser
from support.school import PASSWORD, SchoolFixture
from support.server import LiveServer


@pytest_asyncio.fixture(loop_scope="session")
async def cleo(server: LiveServer, own_school: SchoolFixture) -> AsyncIterator[httpx.AsyncClient]:
    http = await html_browser(server.url, own_school.emails["Cleo"], PASSWORD)
    yield http
    await http.aclose()


def path(school: SchoolFixture) -> str:
    return f"/admin/schools/{school.id}/rules"


async def send(http: httpx.AsyncClient, school: SchoolFixture, data: dict[str, Any]) -> httpx.Response:
    page = await http.get(path(school))
    assert page.status_code == 200, page.text
    return await http.post(path(school), data={**data, "csrf": form_csrf(page.text)})


async def rules(server: LiveServer, school: SchoolFixture) -> dict[str, Any]:
    from datetime import UTC, datetime

    body = await server.runtime.app.school_rules(school.admin(), school.id, datetime.now(UTC))
    return dict(body["rules"])


async def test_each_form_saves_its_part_of_the_rules(
    server: LiveServer, cleo: httpx.AsyncClient, own_school: SchoolFixture
) -> None:
    nurse = str(own_school.rooms["Nurse"])
    saved = await send(
        cleo,
        own_school,
        {
            "action": "limits",
            "per_day": "3",
            "per_week": "",
            "sources": ["kiosk", "portal"],
            "exempt_destination_ids": [nurse],
        },
    )
    assert saved.status_code == 303, saved.text
    assert (await rules(server, own_school))["limits"] == {
        "per_day": 3,
        "per_week": None,
        "sources": ["kiosk", "portal"],
        "exempt_destination_ids": [nurse],
    }

    bells = {
        "action": "bells",
        "period_day_type": ["Regular", "Regular", "Late start", ""],
        "period_name": ["Period 1", "Period 2", "Period 1", ""],
        "period_start": ["08:00", "09:00", "10:00", ""],
        "period_end": ["08:50", "09:50", "10:50", ""],
        **{f"weekday_{i}": "Regular" for i in range(5)},
        "date_date": ["2026-12-24", ""],
        "date_day_type": ["", ""],
    }
    assert (await send(cleo, own_school, bells)).status_code == 303
    schedule = (await rules(server, own_school))["bell_schedule"]
    assert [t["name"] for t in schedule["day_types"]] == ["Regular", "Late start"]
    assert schedule["weekdays"] == ["Regular"] * 5 + [None, None]
    assert schedule["dates"] == [{"date": "2026-12-24", "day_type": None}]

    blackouts = {
        "action": "blackouts",
        "b_kind": ["edges", "window", ""],
        "b_name": ["", "Lunch", ""],
        "b_first": ["10", "", ""],
        "b_last": ["5", "", ""],
        "b_start": ["", "11:30", ""],
        "b_end": ["", "12:00", ""],
        "b_days": ["", "Mon wed 2026-12-23", ""],
        "b_place": ["", nurse, ""],
    }
    assert (await send(cleo, own_school, blackouts)).status_code == 303
    edges, lunch = (await rules(server, own_school))["blackouts"]
    assert (edges["first_minutes"], edges["last_minutes"], edges["destination_ids"]) == (10, 5, [])
    assert (lunch["start"], lunch["weekdays"], lunch["dates"]) == ("11:30", [0, 2], ["2026-12-23"])
    assert lunch["destination_ids"] == [nurse]

    page = await cleo.get(path(own_school))
    assert 'value="Lunch"' in page.text and 'value="Late start"' in page.text


async def test_bad_input_draws_the_page_again_and_saves_nothing(
    server: LiveServer, cleo: httpx.AsyncClient, own_school: SchoolFixture
) -> None:
    for data, says in (
        ({"action": "limits", "per_day": "1000"}, "per_day"),
        ({"action": "limits", "per_day": "two"}, "per_day"),
        (
            {
                "action": "bells",
                "period_day_type": ["A"],
                "period_name": ["P"],
                "period_start": ["09:00"],
                "period_end": ["08:00"],
            },
            "must start before it ends",
        ),
        ({"action": "bells", "weekday_0": "Holiday"}, "not a day type"),
        (
            {"action": "blackouts", "b_kind": ["window"], "b_start": ["11:00"], "b_end": ["10:00"]},
            "start before",
        ),
        ({"action": "blackouts", "b_kind": ["window"], "b_start": ["1"], "b_end": ["2"]}, "HH:MM"),
        ({"action": "guess"}, "Choose the limits"),
    ):
        before = await server.runtime.store.max_notification_id()
        r = await send(cleo, own_school, data)
        assert r.status_code == 422, (data, r.status_code)
        assert says in r.text, (data, r.text[-2000:])
        assert await server.runtime.store.max_notification_id() == before


async def test_teachers_and_other_schools_are_refused(
    server: LiveServer, cleo: httpx.AsyncClient, own_school: SchoolFixture, other_school: SchoolFixture
) -> None:
    assert (await cleo.get(path(other_school))).status_code == 404
    teacher = await html_browser(server.url, own_school.emails["Ada"], PASSWORD)
    try:
        assert (await teacher.get(path(own_school))).status_code == 403
    finally:
        await teacher.aclose()
