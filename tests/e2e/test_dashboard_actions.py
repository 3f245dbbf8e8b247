"""The dashboard's row actions without script (decision 114): the rows carry no CSRF field of
their own; each row's buttons and fields belong to the page's one form, `#pass-actions`, and a
button posts that form, with every row's fields, to its own pass's address. The server takes the
fields named after that pass, and the form's token still guards every action."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from uuid import UUID
from zoneinfo import ZoneInfo

import httpx
import pytest_asyncio

from support.forms import staff_browser
from support.load import caught_up
from support.school import PASSWORD, SchoolFixture, plan_out, send_out
from support.server import LiveServer

OWN_SCHOOL_STUDENTS = 6
SCHOOL_TZ = ZoneInfo("America/Chicago")  # make_school's
FORM = "pass-actions"


class Controls(HTMLParser):
    """What a browser sends with the form `FORM`: its own fields and those outside it that name
    it (`form="…"`), each select at its selected or first option; and each button of the form by
    the address it posts to."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}
        self.buttons: dict[str, str] = {}
        self.inside = False
        self.action = ""
        self.select: str | None = None
        self.text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and a.get("id") == FORM:
            self.inside = True
        ours = self.inside or a.get("form") == FORM
        if tag == "input" and ours and "name" in a:
            self.fields[a["name"]] = a.get("value", "")
        elif tag == "select" and ours:
            self.select = a["name"]
        elif tag == "option" and self.select and (self.select not in self.fields or "selected" in a):
            self.fields[self.select] = a["value"]
        elif tag == "button" and ours:
            self.text, self.action = "", a.get("formaction", "")

    def handle_data(self, data: str) -> None:
        self.text += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        elif tag == "select":
            self.select = None
        elif tag == "button" and self.action:
            self.buttons[self.action] = self.text.strip()
            self.action = ""


def controls(html: str) -> Controls:
    parsed = Controls()
    parsed.feed(html)
    return parsed


@pytest_asyncio.fixture(loop_scope="session")
async def ada(server: LiveServer, own_school: SchoolFixture) -> AsyncIterator[httpx.AsyncClient]:
    http = await staff_browser(server.url, own_school.emails["Ada"], PASSWORD)
    yield http
    await http.aclose()


async def _post(ada: httpx.AsyncClient, action: str, fields: dict[str, str]) -> httpx.Response:
    return await ada.post(action, data=fields, headers={"Accept": "text/html"}, follow_redirects=False)


def _status(rows: str, pass_id: UUID) -> str:
    found = re.search(rf'id="pass-{pass_id}" data-status="(\w+)"', rows)
    assert found, f"no row for {pass_id}"
    return found.group(1)


async def test_the_rows_carry_no_csrf_field_and_their_buttons_post_the_one_form(
    server: LiveServer, own_school: SchoolFixture, ada: httpx.AsyncClient
) -> None:
    out = await send_out(server.runtime, own_school, "Nurse", own_school.students[:2], datetime.now(UTC))
    await caught_up(server.runtime)
    rows = (await ada.get("/hall-pass/rows", params={"status": "active"})).text
    assert 'name="csrf"' not in rows
    assert rows.count(f'form="{FORM}"') >= 2 * 4  # per active row: ✓, reason, note, Terminate
    page = (await ada.get("/hall-pass", params={"status": "active"})).text
    assert page.count(f'<form id="{FORM}"') == 1
    form = controls(page)
    assert form.fields["csrf"]
    for pass_id in out:
        assert form.buttons[f"/hall-pass/{pass_id}/complete"] == "\u2713"
        assert form.fields[f"reason-{pass_id}"] == "left_early"
        assert form.fields[f"note-{pass_id}"] == ""


async def test_terminate_takes_its_own_rows_reason_and_note_and_needs_the_token(
    server: LiveServer, own_school: SchoolFixture, ada: httpx.AsyncClient
) -> None:
    kept, ended = await send_out(
        server.runtime, own_school, "Library", own_school.students[2:4], datetime.now(UTC)
    )
    await caught_up(server.runtime)
    form = controls((await ada.get("/hall-pass", params={"status": "active"})).text)
    fields = {**form.fields, f"reason-{ended}": "other", f"note-{ended}": "Went home ill"}
    fields[f"reason-{kept}"], fields[f"note-{kept}"] = "checked_in_elsewhere", "not this one"
    action = f"/hall-pass/{ended}/terminate"
    assert form.buttons[action] == "Terminate"

    forged = await _post(ada, action, {**fields, "csrf": "forged"})
    assert forged.status_code == 403
    assert _status((await ada.get("/hall-pass/rows")).text, ended) == "active"

    done = await _post(ada, action, fields)
    assert done.status_code == 303 and done.headers["location"] == "/hall-pass"
    rows = (await ada.get("/hall-pass/rows")).text
    assert _status(rows, ended) == "terminated" and _status(rows, kept) == "active"
    shown = (await ada.get(f"/api/v1/passes/{ended}")).json()["pass"]
    assert (shown["end_reason"], shown["end_note"]) == ("other", "Went home ill")

    completed = await _post(
        ada, f"/hall-pass/{kept}/complete", controls((await ada.get("/hall-pass")).text).fields
    )
    assert completed.status_code == 303
    assert _status((await ada.get("/hall-pass/rows")).text, kept) == "completed"


async def test_a_scheduled_rows_start_is_read_from_its_own_field(
    server: LiveServer, own_school: SchoolFixture, ada: httpx.AsyncClient
) -> None:
    now = datetime.now(UTC)
    outcome = await plan_out(
        server.runtime, own_school, "Library", own_school.students[4:5], now + timedelta(days=2), now
    )
    await caught_up(server.runtime)
    pass_id = outcome.body["passes"][0]["id"]
    form = controls((await ada.get("/hall-pass")).text)
    assert form.fields[f"start_at-{pass_id}"]
    later = (now + timedelta(days=3)).astimezone(SCHOOL_TZ).replace(hour=10, minute=15)
    fields = {**form.fields, f"start_at-{pass_id}": later.strftime("%Y-%m-%dT%H:%M")}
    moved = await _post(ada, f"/hall-pass/{pass_id}/reschedule", fields)
    assert moved.status_code == 303, moved.text
    shown = (await ada.get(f"/api/v1/passes/{pass_id}")).json()["pass"]
    assert datetime.fromisoformat(shown["start_at"]) == later.replace(second=0, microsecond=0)

    empty = await _post(ada, f"/hall-pass/{pass_id}/reschedule", {**fields, f"start_at-{pass_id}": ""})
    assert empty.status_code == 422 and "Give the date and the time the pass starts." in empty.text
