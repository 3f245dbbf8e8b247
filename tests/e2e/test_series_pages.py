"""The page of a repeating pass and its Cancel the series form, as a browser posts it: another
school's series and a malformed id answer 404, a form without its CSRF field 403, and a series
cancelled once answers 409 the second time, each as a readable page."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time, timedelta
from uuid import uuid4

import httpx
import pytest_asyncio

from support.forms import csrf_of, staff_browser
from support.school import PASSWORD, SchoolFixture, weekly_series
from support.server import LiveServer

OWN_SCHOOL_STUDENTS = 4


@pytest_asyncio.fixture(loop_scope="session")
async def ada(server: LiveServer, own_school: SchoolFixture) -> AsyncIterator[httpx.AsyncClient]:
    http = await staff_browser(server.url, own_school.emails["Ada"], PASSWORD)
    yield http
    await http.aclose()


async def _series(server: LiveServer, school: SchoolFixture, first: date) -> str:
    outcome = await weekly_series(
        server.runtime, school, "Library", school.students[0], first=first, at=time(9, 30), days=7
    )
    return str(outcome.body["schedule_id"])


async def test_another_schools_series_and_odd_ids_are_not_found(
    server: LiveServer, ada: httpx.AsyncClient, other_school: SchoolFixture
) -> None:
    theirs = await _series(server, other_school, datetime.now(UTC).date() + timedelta(days=3))
    csrf = await csrf_of(ada, "/hall-pass")
    for schedule_id in (theirs, str(uuid4()), "not-an-id", "%00"):
        page = await ada.get(f"/hall-pass/schedules/{schedule_id}", headers={"Accept": "text/html"})
        assert page.status_code == 404 and "There is no repeating schedule" in page.text
        posted = await ada.post(
            f"/hall-pass/schedules/{schedule_id}/cancel", data={"csrf": csrf}, headers={"Accept": "text/html"}
        )
        assert posted.status_code == 404 and "<html" in posted.text.lower()


async def test_cancel_needs_the_csrf_field_and_happens_once(
    server: LiveServer, own_school: SchoolFixture, ada: httpx.AsyncClient
) -> None:
    ours = await _series(server, own_school, datetime.now(UTC).date() + timedelta(days=4))
    path = f"/hall-pass/schedules/{ours}"
    forged = await ada.post(f"{path}/cancel", data={"csrf": "forged"}, headers={"Accept": "text/html"})
    assert forged.status_code == 403
    csrf = await csrf_of(ada, path)
    done = await ada.post(f"{path}/cancel", data={"csrf": csrf}, headers={"Accept": "text/html"})
    assert done.status_code == 303 and done.headers["location"] == path
    shown = await ada.get(path)
    assert "Cancelled the series: 2 passes will not start." in shown.text
    assert "Cancel the series</button>" not in shown.text
    again = await ada.post(f"{path}/cancel", data={"csrf": csrf}, headers={"Accept": "text/html"})
    assert again.status_code == 409 and "already cancelled" in again.text
