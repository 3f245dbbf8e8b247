"""The pass list at scale's rules, through HTTP: open passes first then newest first, keyset
pages that visit every pass once, a count that stops at 500, and the dashboard's default view
(today in the school's time zone plus every pass still open). Rows go straight into pass_list,
as the projection would write them, so each test controls start times and statuses exactly."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

import pytest_asyncio

from support.api_client import ApiClient
from support.pass_rows import ListedPass, put_passes
from support.school import PASSWORD, SchoolFixture, make_school
from support.server import LiveServer

SCHOOL_TZ = ZoneInfo("America/Chicago")  # make_school's time zone


@dataclass(frozen=True)
class Row:
    pass_id: UUID
    start_at: datetime
    status: str
    returned: bool

    @property
    def open(self) -> bool:
        return self.status in ("active", "expired") and not self.returned


@dataclass
class Lists:
    school: SchoolFixture
    client: ApiClient
    server: LiveServer

    async def put(self, rows: list[Row]) -> None:
        """Write rows into pass_list as the projection would (no events: only the list is tested)."""
        s = self.school
        listed = [
            ListedPass(
                r.pass_id,
                s.students[i % len(s.students)],
                r.start_at,
                r.status,
                r.start_at + timedelta(minutes=5) if r.returned or not r.open else None,
            )
            for i, r in enumerate(rows)
        ]
        await put_passes(self.server.runtime.pool, s, listed)

    async def walk(self, **params: str) -> tuple[list[str], list[dict[str, Any]]]:
        """Every page from the first, following `next`: the ids in order, and each page's body."""
        ids: list[str] = []
        bodies: list[dict[str, Any]] = []
        after: dict[str, str] = {}
        while True:
            r = await self.client.passes(**params, **after)
            assert r.status_code == 200, r.text
            body = r.json()
            bodies.append(body)
            ids += [p["id"] for p in body["passes"]]
            if body["next"] is None:
                return ids, bodies
            after = {"after": body["next"]}
            assert len(bodies) < 100


@pytest_asyncio.fixture(loop_scope="session")
async def lists(server: LiveServer) -> AsyncIterator[Lists]:
    school = await make_school(server.runtime, label="Lists", students=6)
    client = await ApiClient.signed_in(server.url, school.emails["Ada"], PASSWORD)
    yield Lists(school, client, server)
    await client.close()


def expected_order(rows: list[Row]) -> list[str]:
    ordered = sorted(rows, key=lambda r: (r.open, r.start_at, r.pass_id), reverse=True)
    return [str(r.pass_id) for r in ordered]


async def test_pages_list_open_passes_first_then_newest_and_visit_each_pass_once(lists: Lists) -> None:
    base = datetime.now(UTC).replace(microsecond=0) - timedelta(days=40)
    statuses = ["completed", "active", "expired", "terminated", "cancelled", "scheduled", "denied"]
    rows = [
        Row(
            uuid4(),
            base + timedelta(hours=7 * (i // 2)),  # two passes share each start time
            statuses[i % len(statuses)],
            returned=i % 5 == 0,
        )
        for i in range(23)
    ]
    await lists.put(rows)
    everything = {"from": "2000-01-01"}

    ids, pages = await lists.walk(limit="4", **everything)

    assert ids == expected_order(rows)
    assert len(pages) == 6
    assert {(p["total"], p["total_exact"]) for p in pages} == {(23, True)}
    by_offset = (await lists.client.passes(limit="4", offset="8", **everything)).json()["passes"]
    assert [p["id"] for p in by_offset] == ids[8:12]
    # The count rides on the rows (decision 127): a page after the last pass (a cursor from
    # before 1970), with no row to carry it, still says how many passes match; a filter no
    # pass matches says none.
    past = (await lists.client.passes(limit="4", after=f"c0.{uuid4().hex}", **everything)).json()
    assert (past["passes"], past["total"], past["total_exact"], past["next"]) == ([], 23, True, None)
    none = (await lists.client.passes(status="denied", student_id=str(uuid4()), **everything)).json()
    assert (none["passes"], none["total"]) == ([], 0)
    only_closed, _ = await lists.walk(limit="5", status="completed", **everything)
    assert only_closed == expected_order([r for r in rows if r.status == "completed"])


async def test_the_count_stops_at_500_and_pages_still_reach_every_pass(lists: Lists) -> None:
    start = datetime.now(UTC) - timedelta(days=100)
    rows = [Row(uuid4(), start + timedelta(minutes=i), "completed", returned=True) for i in range(520)]
    await lists.put(rows)

    ids, pages = await lists.walk(limit="500", **{"from": "2000-01-01"})

    assert ids == expected_order(rows)
    assert [(p["total"], p["total_exact"]) for p in pages] == [(501, False), (501, False)]
    html = (await lists.client.http.get("/hall-pass/rows", params={"from": "2000-01-01"})).text
    assert 'data-total="500+"' in html


async def test_the_dashboard_shows_today_and_every_open_pass_unless_dates_are_chosen(lists: Lists) -> None:
    now = datetime.now(UTC)
    today = Row(uuid4(), now, "completed", returned=True)
    later = Row(uuid4(), now + timedelta(days=2), "scheduled", returned=False)
    old_open = Row(uuid4(), now - timedelta(days=3), "expired", returned=False)
    old_closed = Row(uuid4(), now - timedelta(days=3, minutes=1), "completed", returned=True)
    await lists.put([today, later, old_open, old_closed])

    page = (await lists.client.http.get("/hall-pass")).text
    shown = re.findall(r'id="pass-([0-9a-f-]{36})"', page)

    assert shown == [str(old_open.pass_id), str(later.pass_id), str(today.pass_id)]
    local_today = now.astimezone(SCHOOL_TZ)
    assert f"today ({local_today:%A} {local_today.day} {local_today:%B}) and every pass still open" in page
    three_days_ago = (now - timedelta(days=3)).astimezone(SCHOOL_TZ).date().isoformat()
    rows = (await lists.client.http.get("/hall-pass/rows", params={"from": three_days_ago})).text
    assert str(old_closed.pass_id) in rows
    assert 'data-total="4"' in rows
    # The kept rows go in as bytes where the template marks them (decision 127): inside the
    # table's body, with no mark left; with no rows, the table says so.
    body = page[page.index('<tbody id="pass-rows"') : page.index("</tbody>")]
    assert re.findall(r'id="pass-([0-9a-f-]{36})"', body) == shown and "<!--" not in page
    empty = (await lists.client.http.get("/hall-pass/rows", params={"student_id": str(uuid4())})).text
    assert 'class="empty"' in empty and 'data-total="0"' in empty and "<!--" not in empty


async def test_a_cursor_from_nowhere_is_a_422(lists: Lists) -> None:
    for after in ("x", "o12.nothex", "c1.", "z1." + uuid4().hex, "c" + "9" * 30 + "." + uuid4().hex):
        r = await lists.client.passes(after=after)
        assert r.status_code == 422, after
        assert r.json()["error"]["code"] == "invalid"
        assert r.json()["error"]["details"]["field"] == "after"
