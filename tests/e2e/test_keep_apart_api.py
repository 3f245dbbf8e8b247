"""Keep-apart groups over HTTP: administrators form them; a pass that would put two members out
together answers 409 naming the rule and nothing about anyone else; the encounter is listed for
administrators only; another school's students and groups are 404; the page forms and removes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from uuid import uuid4

import httpx
import pytest
import pytest_asyncio

from hallpass.aggregates.keep_apart import NEUTRAL
from support.api_client import ApiClient, form_csrf, sign_in_form
from support.school import PASSWORD, SchoolFixture, make_school
from support.server import LiveServer

OWN_SCHOOL_STUDENTS = 8


@pytest_asyncio.fixture(loop_scope="session")
async def admin(server: LiveServer, own_school: SchoolFixture) -> AsyncIterator[ApiClient]:
    async with ApiClient.session(server.url, own_school.emails["Cleo"]) as client:
        yield client


def path(school: SchoolFixture) -> str:
    return f"/api/v1/admin/schools/{school.id}/keep-apart"


async def form(admin: ApiClient, school: SchoolFixture, members: list[Any], reason: str) -> httpx.Response:
    body = {"name": "Group", "student_ids": [str(m) for m in members], "reason": reason}
    return await admin.http.post(path(school), json=body, headers={"Idempotency-Key": str(uuid4())})


@pytest.mark.asyncio(loop_scope="session")
async def test_a_refusal_names_the_rule_and_no_one_and_administrators_see_the_encounter(
    admin: ApiClient, own_teacher: ApiClient, own_school: SchoolFixture
) -> None:
    s = own_school.students
    formed = await form(admin, own_school, [s[0], s[1]], "private reason 7731")
    assert formed.status_code == 201, formed.text
    room, library = own_school.rooms["Room 101"], own_school.rooms["Library"]
    out = await own_teacher.create_passes(room, library, [s[0]])
    assert out.status_code == 201, out.text

    refused = await own_teacher.create_passes(room, library, [s[1]])
    assert refused.status_code == 409, refused.text
    error = refused.json()["error"]
    assert error == {
        "code": "keep_apart",
        "message": NEUTRAL,
        "details": {"rule": "keep_apart", "overridable": True},
    }
    for secret in (str(s[0]), own_school.student_names[s[0]], "private reason 7731", "Group"):
        assert secret not in refused.text

    listed = (await admin.http.get(path(own_school))).json()
    (group,) = [g for g in listed["groups"] if g["id"] == formed.json()["group"]["id"]]
    assert group["reason"] == "private reason 7731" and group["encounters_prevented"] == 1
    (encounter,) = [e for e in listed["encounters"] if e["group_id"] == group["id"]]
    assert encounter["student"]["id"] == str(s[1]) and encounter["out"][0]["id"] == str(s[0])
    assert encounter["destination"]["name"] == "Library" and encounter["source"] == "staff"

    # A member of staff overrides with a reason: the pass records it.
    body = {
        "origin_id": str(room),
        "destination_id": str(own_school.rooms["Nurse"]),
        "student_ids": [str(s[1])],
        "override": {"reason": "sent by the principal"},
    }
    overridden = await own_teacher.http.post(
        "/api/v1/passes", json=body, headers={"Idempotency-Key": str(uuid4())}
    )
    assert overridden.status_code == 201, overridden.text
    made = overridden.json()["passes"][0]
    assert made["overridden"] == ["keep_apart"]
    shown = (await own_teacher.http.get(f"/api/v1/passes/{made['id']}")).json()["pass"]
    assert "keep_apart" in str(shown.get("override"))
    assert (await own_teacher.complete(made["id"])).status_code == 200

    # A teacher may not read or change the groups.
    assert (await own_teacher.http.get(path(own_school))).status_code == 403
    assert (await form(own_teacher, own_school, [s[2], s[3]], "")).status_code == 403

    removed = await admin.http.post(f"/api/v1/admin/keep-apart/{group['id']}/remove")
    assert removed.status_code == 200, removed.text
    again = await own_teacher.create_passes(room, library, [s[1]])
    assert again.status_code == 201, again.text


@pytest.mark.asyncio(loop_scope="session")
async def test_another_schools_ids_and_hostile_input_are_refused(
    admin: ApiClient, own_school: SchoolFixture, other_school: SchoolFixture
) -> None:
    s = own_school.students
    theirs = await form(admin, own_school, [s[4], other_school.students[0]], "")
    assert theirs.status_code == 404, theirs.text
    assert (await form(admin, other_school, other_school.students[:2], "")).status_code == 404
    assert (await admin.http.get(path(other_school))).status_code == 404
    assert (await form(admin, own_school, [s[4]], "")).status_code == 422
    assert (await form(admin, own_school, [s[4], s[5]], "bad\x00")).status_code == 422
    unknown = f"/api/v1/admin/keep-apart/{uuid4()}"
    change = {"name": "x", "student_ids": [str(s[4]), str(s[5])]}
    assert (await admin.http.put(unknown, json=change)).status_code == 404
    assert (await admin.http.put("/api/v1/admin/keep-apart/not-an-id", json=change)).status_code == 404
    assert (await admin.http.post(f"{unknown}/remove")).status_code == 404
    made = await form(admin, own_school, [s[4], s[5]], "")
    group = made.json()["group"]["id"]
    moved = await admin.http.put(f"/api/v1/admin/keep-apart/{group}", json={**change, "name": "Renamed"})
    assert moved.status_code == 200 and moved.json()["group"]["name"] == "Renamed"
    stray = {**change, "student_ids": [str(s[4]), str(other_school.students[0])]}
    assert (await admin.http.put(f"/api/v1/admin/keep-apart/{group}", json=stray)).status_code == 404


@pytest.mark.asyncio(loop_scope="session")
async def test_the_page_forms_a_group_by_hall_pass_ids_and_removes_it(
    server: LiveServer, admin: ApiClient, own_school: SchoolFixture
) -> None:
    s = own_school.students
    ids = [
        (await admin.http.get(f"/api/v1/admin/students/{m}")).json()["student"]["hall_pass_id"]
        for m in s[6:8]
    ]
    page = f"/admin/schools/{own_school.id}/keep-apart"
    async with httpx.AsyncClient(base_url=server.url, timeout=30, headers={"Accept": "text/html"}) as http:
        assert (await sign_in_form(http, own_school.emails["Cleo"], PASSWORD)).status_code == 303
        drawn = await http.get(page)
        assert drawn.status_code == 200
        csrf = form_csrf(drawn.text)
        bad = await http.post(page, data={"csrf": csrf, "name": "Pair", "students": "12, 999999999999"})
        assert bad.status_code == 422 and "no student with the hall pass ID 12" in bad.text
        saved = await http.post(
            page,
            data={"csrf": csrf, "name": "Pair", "students": f"{ids[0]}, {ids[1]}", "reason": "page reason"},
        )
        assert saved.status_code == 303, saved.text
        shown = (await http.get(page)).text
        assert "page reason" in shown and own_school.student_names[s[6]] in shown
        listed = (await admin.http.get(path(own_school))).json()["groups"]
        (pair,) = [g for g in listed if g["name"] == "Pair"]
        removed = await http.post(page, data={"csrf": csrf, "action": "remove", "group_id": pair["id"]})
        assert removed.status_code == 303
        assert "page reason" not in (await http.get(page)).text
        hostile = await http.post(page, data={"csrf": csrf, "action": "remove", "group_id": "x"})
        assert hostile.status_code == 404


@pytest.mark.asyncio(loop_scope="session")
async def test_the_create_preview_shows_keep_apart_neutrally_and_a_full_place(server: LiveServer) -> None:
    own_school = await make_school(server.runtime, label="Preview", students=8)
    async with (
        ApiClient.session(server.url, own_school.emails["Cleo"]) as admin,
        ApiClient.session(server.url, own_school.emails["Ada"]) as own_teacher,
    ):
        await preview_shows_refusals(admin, own_teacher, own_school)


async def preview_shows_refusals(admin: ApiClient, own_teacher: ApiClient, own_school: SchoolFixture) -> None:
    s = own_school.students
    formed = await form(admin, own_school, [s[5], s[6]], "private reason 5150")
    assert formed.status_code == 201, formed.text
    room, library, restroom = (own_school.rooms[n] for n in ("Room 101", "Library", "Restroom"))

    async def preview(students: list[Any], place: Any) -> dict[str, list[tuple[str, str]]]:
        params = {"student_id": ",".join(str(x) for x in students), "destination_id": str(place)}
        r = await own_teacher.http.get("/api/v1/passes/check", params=params)
        assert r.status_code == 200, r.text
        for secret in (str(s[5]), own_school.student_names[s[5]], "private reason 5150", "Group"):
            assert all(secret not in str(x["refusals"]) for x in r.json()["students"])
        return {
            x["student_id"]: [(f["rule"], f["message"]) for f in x["refusals"]] for x in r.json()["students"]
        }

    together = await preview([s[5], s[6]], library)  # two members ticked at once
    assert together == {str(s[5]): [("keep_apart", NEUTRAL)], str(s[6]): [("keep_apart", NEUTRAL)]}
    assert await preview([s[6], s[7]], library) == {str(s[6]): [], str(s[7]): []}
    out = await own_teacher.create_passes(room, library, [s[5]])
    assert out.status_code == 201, out.text
    assert (await preview([s[6]], library))[str(s[6])] == [("keep_apart", NEUTRAL)]

    # The Restroom holds two: with one inside, the first ticked takes the last slot.
    inside = await own_teacher.create_passes(room, restroom, [s[0]])
    assert inside.status_code == 201, inside.text
    full = await preview([s[1], s[2]], restroom)
    assert full[str(s[1])] == []
    assert [rule for rule, _ in full[str(s[2])]] == ["destination_full"]
    assert "Restroom" in full[str(s[2])][0][1]
    refused = await own_teacher.create_passes(room, restroom, [s[1], s[2]])
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "destination_full"
