"""The bell schedule and blackout windows over HTTP: administrators set them; the current period
shows in the rules and on the dashboard; a pass in a blackout is refused with a 409 naming the
rule, for staff (who may override, recorded), at a kiosk and in the Student Portal (plainly)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import httpx

from support.api_client import ApiClient
from support.fixtures import module_portal
from support.kiosk_client import KioskClient
from support.portal import PortalSchool, StudentClient, hall_pass_id, portal_ada, portal_admin  # noqa: F401 (the fixtures `ada` and `admin`)
from support.rules import overridden, refusal
from support.school import SchoolFixture
from support.server import LiveServer

portal = module_portal("Bells", students=12, midday=True)


async def local_now(admin: ApiClient, school_id: UUID) -> datetime:
    zone = (await admin.http.get(f"/api/v1/admin/schools/{school_id}/rules")).json()["rules"]["timezone"]
    return datetime.now(UTC).astimezone(ZoneInfo(zone))


def hm(at: datetime) -> str:
    return at.strftime("%H:%M")


def window_around(now: datetime, **fields: Any) -> dict[str, Any]:
    """A blackout window from half an hour before `now` to half an hour after, with `fields`."""
    start, end = hm(now - timedelta(minutes=30)), hm(now + timedelta(minutes=30))
    return {"kind": "window", "start": start, "end": end, **fields}


async def put(admin: ApiClient, school_id: UUID, what: str, body: Any) -> httpx.Response:
    return await admin.http.put(f"/api/v1/admin/schools/{school_id}/rules/{what}", json=body)


async def a_period_began_two_minutes_ago(admin: ApiClient, school_id: UUID) -> datetime:
    """Every day, "Period 3" began two minutes ago (to the minute) and ends in an hour."""
    now = await local_now(admin, school_id)
    start = (now - timedelta(minutes=2)).replace(second=0, microsecond=0)
    schedule = {
        "day_types": [
            {
                "name": "Regular",
                "periods": [{"name": "Period 3", "start": hm(start), "end": hm(start + timedelta(hours=1))}],
            }
        ],
        "weekdays": ["Regular"] * 7,
    }
    r = await put(admin, school_id, "bell-schedule", schedule)
    assert r.status_code == 200, r.text
    return start


async def test_the_bell_schedule_is_set_by_administrators_and_checked(
    admin: ApiClient, ada: ApiClient, portal: PortalSchool, other_school: SchoolFixture
) -> None:
    regular = {"name": "Regular", "periods": [{"name": "Period 1", "start": "08:00", "end": "08:50"}]}
    good = {"day_types": [regular], "weekdays": ["Regular"] * 5 + [None, None]}
    assert (await put(ada, portal.id, "bell-schedule", good)).status_code == 403
    assert (await put(admin, other_school.id, "bell-schedule", good)).status_code == 404
    overlapping = {
        "name": "Regular",
        "periods": [
            {"name": "Period 1", "start": "08:00", "end": "08:50"},
            {"name": "Period 2", "start": "08:40", "end": "09:30"},
        ],
    }
    for bad in (
        {**good, "day_types": [overlapping]},
        {**good, "weekdays": ["Holiday"] + [None] * 6},
        {**good, "weekdays": [None] * 6},
        {**good, "dates": [{"date": "2026-12-24", "day_type": "Holiday"}]},
        {**good, "dates": [{"date": "1999-12-24"}]},
        {
            **good,
            "day_types": [{"name": "Regular", "periods": [{"name": "P", "start": "9:00", "end": "10:00"}]}],
        },
        {
            **good,
            "day_types": [{"name": "Regular", "periods": [{"name": "P", "start": "10:00", "end": "09:00"}]}],
        },
    ):
        r = await put(admin, portal.id, "bell-schedule", bad)
        assert r.status_code == 422, (bad, r.text)

    start = await a_period_began_two_minutes_ago(admin, portal.id)
    rules = (await admin.http.get(f"/api/v1/admin/schools/{portal.id}/rules")).json()["rules"]
    period = rules["current_period"]
    assert (period["name"], period["day_type"], period["starts"]) == ("Period 3", "Regular", hm(start))
    assert rules["bell_schedule"]["weekdays"] == ["Regular"] * 7
    dashboard = await ada.http.get("/hall-pass")
    assert dashboard.status_code == 200
    assert 'id="current-period">Period 3' in dashboard.text


async def test_the_first_minutes_of_a_period_are_refused_and_staff_override_with_a_reason(
    admin: ApiClient, ada: ApiClient, portal: PortalSchool
) -> None:
    school = portal.school
    start = await a_period_began_two_minutes_ago(admin, portal.id)
    r = await put(admin, portal.id, "blackouts", {"blackouts": [{"kind": "edges", "first_minutes": 10}]})
    assert r.status_code == 200, r.text
    room, library = school.rooms["Room 101"], school.rooms["Library"]
    error = refusal(await ada.create_passes(room, library, [school.students[0]]))
    assert error["details"]["rule"] == "blackout"
    until = hm(start + timedelta(minutes=10))
    assert error["message"].startswith(
        f"No passes to Library in the first 10 minutes of Period 3, until {until}."
    )

    made = await ada.create_passes(
        room, library, [school.students[0]], override={"reason": "fire drill briefing"}
    )
    assert made.status_code == 201, made.text
    shown = (await ada.http.get(f"/api/v1/passes/{made.json()['passes'][0]['id']}")).json()["pass"]
    assert overridden(shown) == (["blackout"], "fire drill briefing")


async def test_a_blackout_for_one_destination_leaves_the_others_open(
    admin: ApiClient, ada: ApiClient, portal: PortalSchool
) -> None:
    school = portal.school
    now = await local_now(admin, portal.id)
    window = window_around(now, name="Library closed", destination_ids=[str(school.rooms["Library"])])
    assert (await put(admin, portal.id, "blackouts", {"blackouts": [window]})).status_code == 200
    room = school.rooms["Room 101"]
    error = refusal(await ada.create_passes(room, school.rooms["Library"], [school.students[1]]))
    assert error["details"]["rules"][0]["blackout"]["name"] == "Library closed"
    nurse = await ada.create_passes(room, school.rooms["Nurse"], [school.students[1]])
    assert nurse.status_code == 201, nurse.text


async def test_a_window_on_another_date_refuses_nothing_today(
    admin: ApiClient, ada: ApiClient, portal: PortalSchool
) -> None:
    school = portal.school
    now = await local_now(admin, portal.id)
    window = window_around(now, dates=[(now + timedelta(days=1)).date().isoformat()])
    assert (await put(admin, portal.id, "blackouts", {"blackouts": [window]})).status_code == 200
    made = await ada.create_passes(school.rooms["Room 101"], school.rooms["Library"], [school.students[2]])
    assert made.status_code == 201, made.text
    today = {**window, "dates": [now.date().isoformat()]}
    assert (await put(admin, portal.id, "blackouts", {"blackouts": [today]})).status_code == 200
    refusal(await ada.create_passes(school.rooms["Room 101"], school.rooms["Nurse"], [school.students[3]]))


async def test_blackouts_are_checked(
    admin: ApiClient, ada: ApiClient, portal: PortalSchool, other_school: SchoolFixture
) -> None:
    edges = {"blackouts": [{"kind": "edges", "first_minutes": 5}]}
    assert (await put(ada, portal.id, "blackouts", edges)).status_code == 403
    assert (await put(admin, other_school.id, "blackouts", edges)).status_code == 404
    elsewhere = {"kind": "edges", "first_minutes": 5, "destination_ids": [str(other_school.rooms["Nurse"])]}
    assert (await put(admin, portal.id, "blackouts", {"blackouts": [elsewhere]})).status_code == 404
    for bad in (
        {"kind": "edges"},
        {"kind": "edges", "first_minutes": 500},
        {"kind": "window", "start": "10:00"},
        {"kind": "window", "start": "11:00", "end": "10:00"},
        {"kind": "window", "start": "10:00", "end": "11:00", "weekdays": [9]},
        {"kind": "sometimes"},
    ):
        r = await put(admin, portal.id, "blackouts", {"blackouts": [bad]})
        assert r.status_code == 422, (bad, r.text)


async def test_a_kiosk_and_the_portal_are_refused_plainly_in_a_blackout(
    server: LiveServer, admin: ApiClient, ada: ApiClient, portal: PortalSchool
) -> None:
    school = portal.school
    await a_period_began_two_minutes_ago(admin, portal.id)
    r = await put(admin, portal.id, "blackouts", {"blackouts": [{"kind": "edges", "first_minutes": 10}]})
    assert r.status_code == 200
    library = school.rooms["Library"]
    kiosk = await KioskClient.started(ada, server.url, school.rooms["Room 101"], [library])
    student = StudentClient(server.url, portal.id)
    try:
        at_kiosk = refusal(await kiosk.create(school.students[4], library))
        assert at_kiosk["details"]["rule"] == "blackout"
        assert at_kiosk["message"].startswith("Passes are not allowed in the first 10 minutes of Period 3.")
        await student.ready(await hall_pass_id(server.runtime, school.students[5]))
        in_portal = refusal(await student.request_pass(school.rooms["Room 101"], library))
        assert in_portal["details"]["rule"] == "blackout" and in_portal["details"]["overridable"] is False
    finally:
        await kiosk.close()
        await student.close()
