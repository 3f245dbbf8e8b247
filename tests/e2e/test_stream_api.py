"""GET /api/v1/stream: a district's pass events as CloudEvents in JSON lines, page by page after a
cursor; only the token's schools; pseudonymised unless granted identified access; refused without
a good token, beyond its schools, past its rate limit, and with a cursor it did not give."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import httpx
import orjson
import pytest
import pytest_asyncio

from hallpass.acting import Acting
from hallpass.aggregates.passes import TerminationReason
from hallpass.commands.messages import CompletePass, CreatePasses, TerminatePass
from hallpass.http import stream_api
from support.api_client import ApiClient
from support.school import SchoolFixture, make_school
from support.server import LiveServer
from support.stream import STREAM, TOKENS, bearer, hire_district_admin, issue, lines, read_all

OWN_SCHOOL_STUDENTS = 6
NOTE = "Sensitive: went to see the counsellor"


@dataclass
class District:
    first: SchoolFixture
    second: SchoolFixture
    admin: ApiClient
    passes: dict[UUID, list[UUID]]
    """Each school's passes, in the order they were made."""


async def some_passes(server: LiveServer, school: SchoolFixture, count: int) -> list[UUID]:
    app, now = server.runtime.app, datetime.now(UTC)
    made = await app.create_passes(
        Acting(school.teacher(), now),
        CreatePasses(
            origin_id=school.rooms["Room 101"],
            destination_id=school.rooms["Library"],
            student_ids=school.students[:count],
            note=NOTE,
        ),
    )
    ids = [UUID(p["id"]) for p in made.body["passes"]]
    for n, pass_id in enumerate(ids):
        if n % 2:
            await app.complete_pass(Acting(school.teacher(), now), pass_id, CompletePass())
        else:
            ended = TerminatePass(reason=TerminationReason.OTHER, note=NOTE)
            await app.terminate_pass(Acting(school.teacher(), now), pass_id, ended)
    return ids


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def district(server: LiveServer, own_school: SchoolFixture) -> AsyncIterator[District]:
    second = await make_school(server.runtime, label="Second", students=4, district_id=own_school.district_id)
    _, email = await hire_district_admin(server.runtime, own_school)
    passes = {
        own_school.id: await some_passes(server, own_school, 6),
        second.id: await some_passes(server, second, 4),
    }
    async with ApiClient.session(server.url, email) as admin:
        yield District(own_school, second, admin, passes)


def passes_in(events: list[dict[str, Any]]) -> list[str]:
    return [e["subject"].removeprefix("passes/") for e in events if e["type"].startswith("hallpass.pass.")]


@pytest.mark.asyncio(loop_scope="session")
async def test_a_district_token_reads_its_schools_only_in_log_order(
    district: District, other_school: SchoolFixture, server: LiveServer
) -> None:
    _, secret = await issue(district.admin.http)
    http = district.admin.http
    events, _ = await read_all(http, secret)
    assert all(e["specversion"] == "1.0" and e["datacontenttype"] == "application/json" for e in events)
    documented = stream_api.CLOUDEVENT
    for event in events:
        assert set(documented["required"]) <= set(event) <= set(documented["properties"])
        assert event["type"] in documented["properties"]["type"]["enum"]
    sources = {e["source"] for e in events}
    assert sources == {f"/hallpass/schools/{district.first.id}", f"/hallpass/schools/{district.second.id}"}
    ids = [e["id"] for e in events]
    assert len(ids) == len(set(ids))
    for school_id, made in district.passes.items():
        of_school = [e for e in events if e["source"].endswith(str(school_id))]
        subjects = passes_in(of_school)
        assert [s for s in dict.fromkeys(subjects) if UUID(s) in made] == [str(p) for p in made]
        started = [e for e in of_school if e["type"] == "hallpass.pass.started"]
        assert {e["subject"] for e in started} >= {f"passes/{p}" for p in made}

    one, _ = await read_all(http, secret, school=str(district.second.id))
    assert {e["source"] for e in one} == {f"/hallpass/schools/{district.second.id}"}
    ended, _ = await read_all(http, secret, type="hallpass.pass.completed,hallpass.pass.terminated")
    assert {e["type"] for e in ended} == {"hallpass.pass.completed", "hallpass.pass.terminated"}
    assert len(ended) == sum(len(p) for p in district.passes.values())
    refused = await http.get(STREAM, params={"school": str(other_school.id)}, headers=bearer(secret))
    assert refused.status_code == 404 and refused.json()["error"]["code"] == "not_found"


@pytest.mark.asyncio(loop_scope="session")
async def test_a_token_for_named_schools_sees_those_only(district: District) -> None:
    _, secret = await issue(district.admin.http, school_ids=[str(district.second.id)])
    events, _ = await read_all(district.admin.http, secret)
    assert events and {e["source"] for e in events} == {f"/hallpass/schools/{district.second.id}"}
    asked = await district.admin.http.get(
        STREAM, params={"school": str(district.first.id)}, headers=bearer(secret)
    )
    assert asked.status_code == 404 and asked.json()["error"]["code"] == "not_found"


@pytest.mark.asyncio(loop_scope="session")
async def test_the_cursor_gives_the_same_events_and_moves_past_what_a_filter_leaves_out(
    district: District,
) -> None:
    http = district.admin.http
    _, secret = await issue(http)
    whole, head = await read_all(http, secret)
    pages, _ = await read_all(http, secret, limit=3)
    assert [e["id"] for e in pages] == [e["id"] for e in whole]
    middle = whole[len(whole) // 2]
    after, _ = await read_all(http, secret, after=middle["hallpasscursor"])
    assert [e["id"] for e in after] == [e["id"] for e in whole[len(whole) // 2 + 1 :]]
    again, _ = await read_all(http, secret, after=middle["hallpasscursor"])
    assert again == after
    rare = await http.get(STREAM, params={"type": "hallpass.emergency.declared"}, headers=bearer(secret))
    assert lines(rare) == [] and rare.headers["x-hallpass-cursor"] == head
    assert rare.headers["x-hallpass-at-head"] == "true"


@pytest.mark.asyncio(loop_scope="session")
async def test_a_pseudonymised_stream_names_no_student_and_carries_no_note(
    district: District, server: LiveServer
) -> None:
    http = district.admin.http
    token_id, secret = await issue(http)
    events, _ = await read_all(http, secret)
    text = orjson.dumps(events).decode()
    rows = await server.runtime.pool.fetch(
        "SELECT student_id, first_name, last_name, hall_pass_id, external_id FROM dir_students "
        "WHERE school_id = ANY($1::uuid[])",
        [district.first.id, district.second.id],
    )
    assert len(rows) == 10
    for row in rows:
        for secret_value in (
            str(row["student_id"]),
            row["student_id"].hex,
            f"{row['first_name']} {row['last_name']}",
            row["last_name"],
            str(row["hall_pass_id"]),
            row["external_id"],
        ):
            assert secret_value not in text, secret_value
    assert NOTE not in text and "counsellor" not in text
    started = [e for e in events if e["type"] == "hallpass.pass.started"]
    assert all(e["data"]["student"].startswith("s_") for e in started)
    assert all(e["hallpassidentity"] == "pseudonymised" for e in events)

    granted = await http.put(f"{TOKENS}/{token_id}/identified", json={"identified": True})
    assert granted.status_code == 200, granted.text
    named, _ = await read_all(http, secret)
    named_text = orjson.dumps(named).decode()
    assert NOTE in named_text and str(rows[0]["student_id"]) in named_text
    assert {e["id"] for e in named} == {e["id"] for e in events}


@pytest.mark.asyncio(loop_scope="session")
async def test_no_token_a_bad_token_or_another_kind_of_token_is_401(
    district: District, own_teacher: ApiClient, server: LiveServer
) -> None:
    async with httpx.AsyncClient(base_url=server.url) as anon:
        for headers in (
            {},
            {"Authorization": "Bearer hpt_nothing"},
            {"Authorization": f"Bearer hpt_{'0' * 32}_secret"},
            {"Authorization": "Basic abc"},
        ):
            answer = await anon.get(STREAM, headers=headers)
            assert answer.status_code == 401 and answer.json()["error"]["code"] == "unauthenticated"
        token_id, secret = await issue(district.admin.http)
        wrong = secret[:-4] + ("aaaa" if not secret.endswith("aaaa") else "bbbb")
        assert (await anon.get(STREAM, headers=bearer(wrong))).status_code == 401
    staff = await own_teacher.http.get(STREAM)
    assert staff.status_code == 401 and staff.json()["error"]["code"] == "unauthenticated"
    assert token_id


@pytest.mark.asyncio(loop_scope="session")
async def test_a_cursor_the_stream_did_not_give_and_bad_parameters_are_refused(district: District) -> None:
    http = district.admin.http
    _, secret = await issue(http)
    first = await http.get(STREAM, params={"limit": "1"}, headers=bearer(secret))
    cursor = first.headers["x-hallpass-cursor"]
    flipped = cursor[:-2] + ("AA" if not cursor.endswith("AA") else "BB")
    for bad in ("garbage", "c1.", "c1.!!!!", flipped, "c1." + "A" * 30, "12", cursor + "x"):
        answer = await http.get(STREAM, params={"after": bad}, headers=bearer(secret))
        assert answer.status_code == 400, (bad, answer.text)
        assert answer.json()["error"]["code"] == "invalid_cursor"
    bad_params = ({"limit": "0"}, {"limit": "1001"}, {"limit": "x"}, {"type": "nope"}, {"school": "x"})
    for params in bad_params:
        answer = await http.get(STREAM, params=params, headers=bearer(secret))
        assert answer.status_code == 422, (params, answer.text)


@pytest.mark.asyncio(loop_scope="session")
async def test_past_its_rate_limit_a_token_gets_429_with_retry_after(district: District) -> None:
    http = district.admin.http
    _, secret = await issue(http, rate_per_minute=3)
    for _ in range(3):
        assert (await http.get(STREAM, params={"limit": "1"}, headers=bearer(secret))).status_code == 200
    limited = await http.get(STREAM, headers=bearer(secret))
    assert limited.status_code == 429, limited.text
    assert limited.json()["error"]["code"] == "rate_limited"
    assert int(limited.headers["retry-after"]) >= 1
    _, fresh = await issue(http, rate_per_minute=3)
    assert (await http.get(STREAM, headers=bearer(fresh))).status_code == 200


@pytest.mark.asyncio(loop_scope="session")
async def test_another_districts_token_sees_none_of_this_district(
    district: District, server: LiveServer
) -> None:
    other_school = await make_school(server.runtime, label="Elsewhere", students=2)
    _, email = await hire_district_admin(server.runtime, other_school)
    await some_passes(server, other_school, 2)
    async with ApiClient.session(server.url, email) as other_admin:
        _, theirs = await issue(other_admin.http)
        events, _ = await read_all(other_admin.http, theirs)
        assert events and {e["source"] for e in events} == {f"/hallpass/schools/{other_school.id}"}
        for school in (district.first, district.second):
            asked = await other_admin.http.get(
                STREAM, params={"school": str(school.id)}, headers=bearer(theirs)
            )
            assert asked.status_code == 404 and asked.json()["error"]["code"] == "not_found"
        _, ours = await issue(district.admin.http)
        mine = {e["id"] for e in (await read_all(district.admin.http, ours))[0]}
        assert mine.isdisjoint(e["id"] for e in events)
        student = str(other_school.students[0])
        assert all(student not in str(e) for e in events)
