"""/api/v1/reports and /reports through a real server: who may read which school's figures (a
school administrator their own school, a district analyst or administrator any school of their
district or the whole district, a teacher nothing), the CSV holding the table's rows, and hostile
input answered with a readable 4xx, never a 500."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import uuid4

import pytest
import pytest_asyncio

from hallpass.aggregates.staff import Role
from hallpass.commands.directory import NewStaff
from support.api_client import ApiClient
from support.audit import a_past_pass
from support.school import SchoolFixture, give_password, make_school
from support.server import LiveServer

NOVEMBER = {"from": "2026-11-01", "to": "2026-11-30"}
REPORTS = ("hours", "students", "destinations", "teachers", "sources", "overdue")


@dataclass
class District:
    own: SchoolFixture
    sibling: SchoolFixture  # the same district
    stranger: SchoolFixture  # another district


async def hire(server: LiveServer, school: SchoolFixture, name: str, role: Role) -> str:
    email = f"{name.lower()}.{uuid4().hex[:6]}@example.org"
    now = datetime.now(UTC)
    (member,) = await server.runtime.app.hire_staff(
        school.id, [NewStaff(name, email, (role,), None)], now=now
    )
    await give_password(server.runtime, email, member.id, school.id, now)
    return email


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def district(server: LiveServer, own_school: SchoolFixture) -> District:
    sibling = await make_school(
        server.runtime, label="Sibling", students=3, district_id=own_school.district_id
    )
    stranger = await make_school(server.runtime, label="Stranger", students=3)
    for school in (own_school, sibling, stranger):
        await a_past_pass(server.runtime, school, school.students[0])
    return District(own_school, sibling, stranger)


@pytest_asyncio.fixture(loop_scope="session")
async def admin(server: LiveServer, district: District) -> AsyncIterator[ApiClient]:
    async with ApiClient.session(server.url, district.own.emails["Cleo"]) as client:
        yield client


@pytest_asyncio.fixture(loop_scope="session")
async def analyst(server: LiveServer, district: District) -> AsyncIterator[ApiClient]:
    email = await hire(server, district.own, "Ana Lyst", Role.ANALYST)
    async with ApiClient.session(server.url, email) as client:
        yield client


def nurse_passes(body: dict[str, object]) -> int:
    rows = body["rows"]
    assert isinstance(rows, list)
    return sum(r["passes"] for r in rows if r["destination"] == "Nurse")


@pytest.mark.asyncio(loop_scope="session")
async def test_a_school_administrator_reads_their_own_school_only(
    admin: ApiClient, district: District
) -> None:
    own = await admin.http.get(
        "/api/v1/reports/destinations", params={"school": str(district.own.id), **NOVEMBER}
    )
    assert own.status_code == 200, own.text
    assert nurse_passes(own.json()) == 1 and own.json()["schools"] == [str(district.own.id)]
    for name in REPORTS:
        assert (await admin.http.get(f"/api/v1/reports/{name}", params=NOVEMBER)).status_code == 200
    for other in (district.sibling, district.stranger):
        refused = await admin.http.get(
            "/api/v1/reports/destinations", params={"school": str(other.id), **NOVEMBER}
        )
        assert refused.status_code == 404 and refused.json()["error"]["code"] == "not_found"
    whole = await admin.http.get("/api/v1/reports/destinations", params={"school": "district", **NOVEMBER})
    assert whole.status_code == 403
    page = await admin.http.get(
        "/reports", params={"school": str(district.sibling.id)}, headers={"Accept": "text/html"}
    )
    assert page.status_code == 404 and "Not found" in page.text


@pytest.mark.asyncio(loop_scope="session")
async def test_a_district_analyst_reads_any_school_of_the_district_or_all_of_it(
    analyst: ApiClient, district: District
) -> None:
    whole = await analyst.http.get("/api/v1/reports/destinations", params={"school": "district", **NOVEMBER})
    assert whole.status_code == 200, whole.text
    assert nurse_passes(whole.json()) == 2
    assert set(whole.json()["schools"]) == {str(district.own.id), str(district.sibling.id)}
    sibling = await analyst.http.get(
        "/api/v1/reports/students", params={"school": str(district.sibling.id), **NOVEMBER}
    )
    assert sibling.status_code == 200 and [r["student_id"] for r in sibling.json()["rows"]] == [
        str(district.sibling.students[0])
    ]
    stranger = await analyst.http.get(
        "/api/v1/reports/students", params={"school": str(district.stranger.id)}
    )
    assert stranger.status_code == 404
    page = await analyst.http.get("/reports", params={"school": "district", **NOVEMBER})
    assert page.status_code == 200 and "Whole district" in page.text
    assert all(f'data-chart="{name}"' in page.text for name in REPORTS)
    assert 'id="report-charts"' in page.text and "<script>" not in page.text


@pytest.mark.asyncio(loop_scope="session")
async def test_a_teacher_is_refused_with_a_readable_page(own_teacher: ApiClient, district: District) -> None:
    api = await own_teacher.http.get("/api/v1/reports/hours")
    assert api.status_code == 403 and api.json()["error"]["code"] == "forbidden"
    page = await own_teacher.http.get("/reports", headers={"Accept": "text/html"})
    assert page.status_code == 403 and "Not allowed" in page.text and "administrators" in page.text


@pytest.mark.asyncio(loop_scope="session")
async def test_the_csv_holds_the_tables_rows(admin: ApiClient, district: District) -> None:
    for name in REPORTS:
        params = {"school": str(district.own.id), **NOVEMBER}
        body = (await admin.http.get(f"/api/v1/reports/{name}", params=params)).json()
        got = await admin.http.get(f"/api/v1/reports/{name}", params={**params, "format": "csv"})
        assert got.status_code == 200 and got.headers["content-type"].startswith("text/csv")
        assert "attachment" in got.headers["content-disposition"]
        lines = [line for line in got.text.splitlines() if not line.startswith("# ")]
        heading, *rows = list(csv.reader(io.StringIO("\n".join(lines))))
        assert heading == [c["heading"] for c in body["columns"]]
        expected = [
            ["" if r[c["key"]] is None else str(r[c["key"]]) for c in body["columns"]] for r in body["rows"]
        ]
        assert rows == expected


HOSTILE = [
    ("/api/v1/reports/hours", {"from": "2026-13-01"}, 422),
    ("/api/v1/reports/hours", {"from": "yesterday"}, 422),
    ("/api/v1/reports/hours", {"to": "2026-11-01\x00"}, 422),
    ("/api/v1/reports/hours", {"from": "2026-11-30", "to": "2026-11-01"}, 422),
    ("/api/v1/reports/hours", {"from": "2020-01-01", "to": "2026-11-01"}, 422),
    ("/api/v1/reports/hours", {"from": "1999-12-31", "to": "2000-01-05"}, 422),
    ("/api/v1/reports/hours", {"from": "9" * 5000}, 422),
    ("/api/v1/reports/hours", {"school": "'; DROP TABLE report_passes; --"}, 422),
    ("/api/v1/reports/hours", {"school": str(uuid4())}, 404),
    ("/api/v1/reports/hours", {"format": "xml"}, 422),
    ("/api/v1/reports/..%2f..%2fetc", {}, 404),
    ("/api/v1/reports/nothing", {}, 404),
]


@pytest.mark.asyncio(loop_scope="session")
@pytest.mark.parametrize(("path", "params", "status"), HOSTILE)
async def test_hostile_input_is_a_readable_4xx(
    admin: ApiClient, path: str, params: dict[str, str], status: int
) -> None:
    answer = await admin.http.get(path, params=params)
    assert answer.status_code == status, answer.text
    assert answer.json()["error"]["message"]
    if path.endswith("/hours") and "format" not in params:  # the page reads all but `format`
        page = await admin.http.get("/reports", params=params, headers={"Accept": "text/html"})
        assert page.status_code == status and re.search(r"<h1>[^<]+</h1>", page.text)
