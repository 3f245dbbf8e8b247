"""The dashboard's reads (decision 119): the period comes from rules the web process keeps, so a
page whose school's rules and time zone have not changed reads nothing of them from the log,
and a change of the bell schedule or of the school's time zone shows on the very next page
after the change is answered; the overdue alerts are one statement."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

import pytest

from hallpass.acting import Acting
from hallpass.commands.messages import CreatePasses
from support.api_client import ApiClient
from support.fixtures import module_portal
from support.pass_rows import ListedPass, put_passes
from support.portal import PortalSchool, portal_ada, portal_admin  # noqa: F401 (the fixtures `ada` and `admin`)
from support.server import LiveServer

portal = module_portal("Kept rules", students=4, midday=True)

FAR_ZONES = ("Pacific/Kiritimati", "Pacific/Pago_Pago")
"""UTC+14 and UTC-11: one of them is at least 12 hours from any zone, so its date is another
day's where the other zone's clock is at midday. Their clocks, though, read nearly the same hour:
UTC+14 reads what UTC-10 reads, a day on."""

DIAL_ZONES = ("UTC", "Asia/Shanghai", "Pacific/Pitcairn")
"""UTC, UTC+8 and UTC-8, none of them with summer time: one of their clocks is at least eight
hours from any zone's, on a 24-hour dial."""


def clocks_apart(zone: str, other: timedelta, at: datetime) -> timedelta:
    """How far `zone`'s clock is from that of a zone `other` ahead of UTC, on a 24-hour dial."""
    apart = ((at.astimezone(ZoneInfo(zone)).utcoffset() or timedelta()) - other) % timedelta(days=1)
    return min(apart, timedelta(days=1) - apart)


def hm(at: datetime) -> str:
    return at.strftime("%H:%M")


async def zone_of(admin: ApiClient, school_id: UUID) -> str:
    r = await admin.http.get(f"/api/v1/admin/schools/{school_id}/rules")
    assert r.status_code == 200, r.text
    return str(r.json()["rules"]["timezone"])


async def set_period(admin: ApiClient, school_id: UUID, name: str) -> None:
    """Every day, `name` began two minutes ago (school time, to the minute) and ends in an hour."""
    now = datetime.now(UTC).astimezone(ZoneInfo(await zone_of(admin, school_id)))
    start = (now - timedelta(minutes=2)).replace(second=0, microsecond=0)
    period = {"name": name, "start": hm(start), "end": hm(start + timedelta(hours=1))}
    schedule = {"day_types": [{"name": "Regular", "periods": [period]}], "weekdays": ["Regular"] * 7}
    r = await admin.http.put(f"/api/v1/admin/schools/{school_id}/rules/bell-schedule", json=schedule)
    assert r.status_code == 200, r.text
    assert "X-Hallpass-Visible" not in r.headers


async def period_shown(ada: ApiClient) -> str | None:
    """The name of the period the dashboard shows, or None."""
    page = await ada.http.get("/hall-pass")
    assert page.status_code == 200, page.text
    marker = 'id="current-period">'
    if marker not in page.text:
        return None
    return page.text.split(marker, 1)[1].split(" <span", 1)[0]


def count_reads(server: LiveServer, monkeypatch: pytest.MonkeyPatch) -> list[UUID]:
    """The schools whose policy the web process works out from the log from now on."""
    app = server.runtime.app
    read: list[UUID] = []
    original: Callable[[UUID], Awaitable[object]] = app._policy_read

    async def counted(school_id: UUID) -> object:
        read.append(school_id)
        return await original(school_id)

    monkeypatch.setattr(app, "_policy_read", counted)
    return read


async def test_an_unchanged_school_is_not_read_again_and_a_new_bell_schedule_shows_at_once(
    server: LiveServer,
    admin: ApiClient,
    ada: ApiClient,
    portal: PortalSchool,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await set_period(admin, portal.id, "Period 3")
    assert await period_shown(ada) == "Period 3"
    read = count_reads(server, monkeypatch)
    assert await period_shown(ada) == "Period 3"
    assert await period_shown(ada) == "Period 3"
    assert read == []

    await set_period(admin, portal.id, "Period 4")
    assert await period_shown(ada) == "Period 4"
    assert read == [portal.id]

    r = await admin.http.put(
        f"/api/v1/admin/schools/{portal.id}/rules/bell-schedule",
        json={"day_types": [], "weekdays": [None] * 7},
    )
    assert r.status_code == 200, r.text
    assert await period_shown(ada) is None
    period = await ada.http.get("/hall-pass/period")
    assert period.status_code == 200
    assert "current-period" not in period.text

    await set_period(admin, portal.id, "Period 5")
    period = await ada.http.get("/hall-pass/period")
    assert period.status_code == 200
    assert 'id="current-period">Period 5' in period.text


async def test_a_new_time_zone_moves_the_period_at_once(
    server: LiveServer, admin: ApiClient, ada: ApiClient, portal: PortalSchool
) -> None:
    await set_period(admin, portal.id, "Period 6")
    assert await period_shown(ada) == "Period 6"
    now = datetime.now(UTC)
    here = now.astimezone(ZoneInfo(await zone_of(admin, portal.id))).utcoffset()
    assert here is not None
    # Not the zone farthest in hours from UTC: a zone 24 hours away reads the same hour.
    far = max(DIAL_ZONES, key=lambda z: clocks_apart(z, here, now))
    assert clocks_apart(far, here, now) >= timedelta(hours=8)
    school = (await admin.http.get(f"/api/v1/admin/schools/{portal.id}")).json()["school"]
    r = await admin.http.put(
        f"/api/v1/admin/schools/{portal.id}", json={"name": school["name"], "timezone": far}
    )
    assert r.status_code == 200, r.text
    # The period is an hour of the old zone's day: where the clock reads eight hours or more from
    # it, it is not now.
    assert await period_shown(ada) is None


async def test_the_overdue_alerts_name_passes_from_the_readers_room_or_made_by_them(
    server: LiveServer, portal: PortalSchool
) -> None:
    """The alerts' one statement (decision 119) finds a pass by who made it or by the room of
    the member of staff reading, as the two reads before it did."""
    school, runtime = portal.school, server.runtime
    room_101, room_102, library = school.rooms["Room 101"], school.rooms["Room 102"], school.rooms["Library"]
    started = datetime.now(UTC) - timedelta(minutes=10)
    made: dict[str, UUID] = {}
    for key, teacher, origin, student in (
        ("Bo from Ada's room", "Bo", room_101, school.students[0]),
        ("Ada from Bo's room", "Ada", room_102, school.students[1]),
        ("Bo from his room", "Bo", room_102, school.students[2]),
    ):
        outcome = await runtime.app.create_passes(
            Acting(school.teacher(teacher), started),
            CreatePasses(origin_id=origin, destination_id=library, student_ids=[student], allotted_minutes=1),
        )
        made[key] = UUID(outcome.body["passes"][0]["id"])
        started += timedelta(minutes=1)
    for pass_id in made.values():
        expired = await runtime.app.expire_pass(pass_id, now=datetime.now(UTC))
        assert expired is not None
        assert await runtime.watcher.wait_for(expired.notification_id, timeout=15)

    def shown(text: str) -> list[str]:
        ids = {str(pass_id): key for key, pass_id in made.items()}
        listed = [part.split('"', 1)[0] for part in text.split('data-pass="')[1:]]
        return [ids[pass_id] for pass_id in listed if pass_id in ids]

    async with ApiClient.session(server.url, school.emails["Ada"]) as ada:
        alerts = await ada.http.get("/hall-pass/alerts")
    assert alerts.status_code == 200, alerts.text
    assert shown(alerts.text) == ["Bo from Ada's room", "Ada from Bo's room"]
    name = school.student_names[school.students[0]]
    assert f"{name} is <span" in alerts.text
    assert "9 min over</span> at Library (left Room 101 at" in alerts.text
    async with ApiClient.session(server.url, school.emails["Bo"]) as bo:
        alerts = await bo.http.get("/hall-pass/alerts")
    assert shown(alerts.text) == ["Bo from Ada's room", "Ada from Bo's room", "Bo from his room"]


async def test_a_new_time_zone_moves_the_dashboards_day_at_once(
    server: LiveServer, admin: ApiClient, ada: ApiClient, portal: PortalSchool
) -> None:
    """The list goes out in the zone this process read last, beside the read of the school's row
    (decision 131): after the school's zone changes, the very next page shows the new zone's
    day, the page and the live rows alike, not the day of the zone it guessed."""
    school, now = portal.school, datetime.now(UTC)
    old = await zone_of(admin, portal.id)
    here = now.astimezone(ZoneInfo(old)).utcoffset() or timedelta()
    far = max(FAR_ZONES, key=lambda z: abs((now.astimezone(ZoneInfo(z)).utcoffset() or timedelta()) - here))

    def midnight(zone: str) -> datetime:
        return now.astimezone(ZoneInfo(zone)).replace(hour=0, minute=0, second=0, microsecond=0)

    days = sorted([midnight(old), midnight(far)])
    assert days[0] != days[1]
    started = days[0] + (days[1] - days[0]) / 2  # today in one zone, yesterday in the other
    pass_id = uuid4()
    back = started + timedelta(minutes=4)
    await put_passes(
        server.runtime.pool, school, [ListedPass(pass_id, school.students[3], started, "completed", back)]
    )

    async def shown(path: str) -> bool:
        page = await ada.http.get(path)
        assert page.status_code == 200, page.text
        return f'id="pass-{pass_id}"' in page.text

    try:
        assert await shown("/hall-pass") == (started >= midnight(old))  # the process reads the old zone
        assert await shown("/hall-pass/rows") == (started >= midnight(old))
        info = (await admin.http.get(f"/api/v1/admin/schools/{portal.id}")).json()["school"]
        r = await admin.http.put(
            f"/api/v1/admin/schools/{portal.id}", json={"name": info["name"], "timezone": far}
        )
        assert r.status_code == 200, r.text
        assert await shown("/hall-pass") == (started >= midnight(far))
        assert await shown("/hall-pass/rows") == (started >= midnight(far))
    finally:
        await server.runtime.pool.execute("DELETE FROM pass_list WHERE pass_id = $1", pass_id)
