"""Create Hall Pass uses the roster's class lists: a teacher's own classes come first, their first
class is the default filter, and any class of the school narrows the students to its roster."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

from hallpass.aggregates import ids
from support.oneroster import CLASSES, ENROLLMENTS, USERS, roster
from support.pages import staff_browser
from support.school import PASSWORD, give_password
from support.server import LiveServer


async def test_create_hall_pass_filters_by_the_teachers_classes(server: LiveServer) -> None:
    rt, now, tag = server.runtime, datetime.now(UTC), uuid4().hex[:8]
    district = await rt.app.found_district(name=f"Class District {tag}", now=now)
    email, other = f"ada.{tag}@elm.example.org", f"bo.{tag}@elm.example.org"
    users = [
        dict(USERS[0], email=email),
        *USERS[1:],
        dict(USERS[0], sourcedId="t-2", email=other, givenName="Bo"),
    ]
    art = dict(CLASSES[0], sourcedId="c-2", title="Art", classType="scheduled", location="Art Room")
    enrollments = [
        *ENROLLMENTS,
        dict(ENROLLMENTS[0], sourcedId="e-t2", classSourcedId="c-2", userSourcedId="t-2"),
        dict(ENROLLMENTS[1], sourcedId="e-art1", classSourcedId="c-2", userSourcedId="s-1"),
    ]
    files = roster(users=users, classes=[*CLASSES, art], enrollments=enrollments)
    outcome = await rt.app.import_roster(
        files, district_id=district.id, now=now, by={"actor_kind": "system", "actor_id": None}
    )
    assert outcome.applied and outcome.report.ok
    assert await rt.watcher.wait_for(outcome.notification_id)
    ada = ids.staff_email_index(email)
    school_id = await rt.pool.fetchval("SELECT school_id FROM dir_staff WHERE staff_id = $1", ada)
    await give_password(rt, email, ada, school_id, now)

    browser = await staff_browser(server, email, PASSWORD)
    try:
        page = (await browser.get("/hall-pass/new")).text
        mine, everyone = page.split('<optgroup label="My classes">', 1)[1].split(
            '<optgroup label="All classes">', 1
        )
        assert "Homeroom 7A" in mine and "selected" in mine and "Art" not in mine
        assert "Art (Bo Byron)" in everyone
        assert all(f"Pupil{n} Elm" in page for n in (1, 2, 3))

        art_id = ids.class_id(district.id, "c-2")
        page = (await browser.get("/hall-pass/new", params={"class_id": str(art_id), "homeroom_id": ""})).text
        assert "Pupil1 Elm" in page
        assert "Pupil2 Elm" not in page and "Pupil3 Elm" not in page
    finally:
        await browser.aclose()
