"""Per-student limits over HTTP: administrators set them; a pass over a limit is refused with a
409 naming the rule, for staff (who may override with a reason, recorded on the pass), at a
kiosk and in the Student Portal (told plainly, never overridden); and a burst of concurrent
creates for one student never goes past the daily limit."""

from __future__ import annotations

import asyncio
from typing import Any
from uuid import UUID, uuid4

import httpx

from support.api_client import ApiClient
from support.fixtures import module_portal
from support.kiosk_client import KioskClient
from support.portal import PortalSchool, StudentClient, hall_pass_id, portal_ada, portal_admin  # noqa: F401 (the fixtures `ada` and `admin`)
from support.rules import refusal
from support.school import SchoolFixture
from support.server import LiveServer

portal = module_portal("Limits", students=16, midday=True)


def rules_path(school_id: UUID) -> str:
    return f"/api/v1/admin/schools/{school_id}/rules"


async def set_limits(admin: ApiClient, school_id: UUID, **limits: Any) -> httpx.Response:
    r = await admin.http.put(f"{rules_path(school_id)}/limits", json=limits)
    assert r.status_code == 200, r.text
    return r


async def out_and_back(
    client: ApiClient, school: SchoolFixture, student: UUID, place: str = "Library"
) -> str:
    made = await client.create_passes(school.rooms["Room 101"], school.rooms[place], [student])
    assert made.status_code == 201, made.text
    pass_id = str(made.json()["passes"][0]["id"])
    assert (await client.complete(pass_id)).status_code == 200
    return pass_id


async def test_limits_are_set_by_administrators_and_checked(
    admin: ApiClient, ada: ApiClient, portal: PortalSchool, other_school: SchoolFixture
) -> None:
    path = f"{rules_path(portal.id)}/limits"
    assert (await ada.http.put(path, json={"per_day": 3})).status_code == 403
    assert (
        await admin.http.put(f"{rules_path(other_school.id)}/limits", json={"per_day": 3})
    ).status_code == 404
    assert (await admin.http.put(f"{rules_path(uuid4())}/limits", json={"per_day": 3})).status_code == 404
    assert (await admin.http.put(path, json={"per_day": 0})).status_code == 422
    assert (await admin.http.put(path, json={"per_day": 101})).status_code == 422
    assert (await admin.http.put(path, json={"sources": ["bus"]})).status_code == 422
    assert (await admin.http.put(path, json={"per_day": "three"})).status_code == 422
    assert (await admin.http.put(path, json={"later": True})).status_code == 422
    elsewhere = other_school.rooms["Nurse"]
    assert (await admin.http.put(path, json={"exempt_destination_ids": [str(elsewhere)]})).status_code == 404
    nurse = str(portal.school.rooms["Nurse"])
    twice = await admin.http.put(path, json={"exempt_destination_ids": [nurse, nurse]})
    assert twice.status_code == 422

    body = {"per_day": 4, "per_week": 12, "sources": ["kiosk", "staff"], "exempt_destination_ids": [nurse]}
    set_ = await admin.http.put(path, json=body)
    assert set_.status_code == 200, set_.text
    read = (await admin.http.get(rules_path(portal.id))).json()["rules"]
    assert read["limits"] == {**body, "sources": ["kiosk", "staff"]}
    assert (await ada.http.get(rules_path(portal.id))).status_code == 403


async def test_staff_over_the_daily_limit_are_refused_and_may_override_with_a_reason(
    admin: ApiClient, ada: ApiClient, portal: PortalSchool
) -> None:
    school = portal.school
    await set_limits(admin, portal.id, per_day=2, exempt_destination_ids=[str(school.rooms["Nurse"])])
    student = school.students[0]
    await out_and_back(ada, school, student)
    await out_and_back(ada, school, student)
    await out_and_back(ada, school, student, "Nurse")  # exempt: neither refused nor counted

    error = refusal(await ada.create_passes(school.rooms["Room 101"], school.rooms["Library"], [student]))
    assert error["details"]["rule"] == "daily_limit"
    assert error["details"]["overridable"] is True
    (named,) = error["details"]["rules"]
    assert (named["student_id"], named["count"], named["limit"]) == (str(student), 2, 2)
    assert school.student_names[student] in error["message"]

    room, library = school.rooms["Room 101"], school.rooms["Library"]
    blank = await ada.create_passes(room, library, [student], override={"reason": "   "})
    assert blank.status_code == 422
    made = await ada.create_passes(
        room, library, [student], override={"reason": "sent to see the counsellor"}
    )
    assert made.status_code == 201, made.text
    created = made.json()["passes"][0]
    assert created["overridden"] == ["daily_limit"]

    shown = (await ada.http.get(f"/api/v1/passes/{created['id']}")).json()["pass"]
    assert shown["override"] == {
        "rules": ["daily_limit"],
        "reason": "sent to see the counsellor",
        "by": str(school.teachers["Ada"]),
    }
    history = (await admin.http.get(f"/api/v1/audit/passes/{created['id']}/history")).json()["events"]
    overridden = [e for e in history if e["kind"] == "RulesOverridden"]
    assert len(overridden) == 1
    assert overridden[0]["actor_id"] == str(school.teachers["Ada"])
    assert overridden[0]["why"]["reason"] == "sent to see the counsellor"


async def test_an_override_is_recorded_only_where_a_rule_refused(
    admin: ApiClient, ada: ApiClient, portal: PortalSchool
) -> None:
    school = portal.school
    await set_limits(admin, portal.id, per_day=1)
    spent, fresh = school.students[1], school.students[2]
    await out_and_back(ada, school, spent)
    made = await ada.create_passes(
        school.rooms["Room 101"], school.rooms["Library"], [spent, fresh], override={"reason": "assembly"}
    )
    assert made.status_code == 201, made.text
    by_student = {p["student"]["id"]: p for p in made.json()["passes"]}
    assert by_student[str(spent)]["overridden"] == ["daily_limit"]
    assert by_student[str(fresh)]["overridden"] == []
    fresh_pass = (await ada.http.get(f"/api/v1/passes/{by_student[str(fresh)]['id']}")).json()["pass"]
    assert fresh_pass["override"] is None


async def test_only_the_sources_that_count_are_counted_and_refused(
    admin: ApiClient, ada: ApiClient, portal: PortalSchool
) -> None:
    school = portal.school
    await set_limits(admin, portal.id, per_day=1, sources=["kiosk", "portal"])
    student = school.students[3]
    await out_and_back(ada, school, student)
    await out_and_back(ada, school, student)


async def test_the_weekly_limit_is_named(admin: ApiClient, ada: ApiClient, portal: PortalSchool) -> None:
    school = portal.school
    await set_limits(admin, portal.id, per_week=1)
    student = school.students[4]
    await out_and_back(ada, school, student)
    error = refusal(await ada.create_passes(school.rooms["Room 101"], school.rooms["Library"], [student]))
    assert error["details"]["rule"] == "weekly_limit"
    assert "this week" in error["message"]


async def test_a_kiosk_is_refused_plainly_and_cannot_override(
    server: LiveServer, admin: ApiClient, ada: ApiClient, portal: PortalSchool
) -> None:
    school = portal.school
    await set_limits(admin, portal.id, per_day=1)
    kiosk = await KioskClient.started(ada, server.url, school.rooms["Room 101"], [school.rooms["Library"]])
    try:
        student = school.students[5]
        assert (await kiosk.create(student, school.rooms["Library"])).status_code == 201
        assert (await kiosk.complete(student)).status_code == 200
        error = refusal(await kiosk.create(student, school.rooms["Library"]))
        assert error["details"]["rule"] == "daily_limit"
        assert error["details"]["overridable"] is False
        assert error["message"] == "You have reached today's limit of 1 pass. Ask your teacher."
        body = {"student_id": str(student), "destination_id": str(school.rooms["Library"])}
        sneaky = await kiosk.http.post(
            "/api/v1/kiosk/passes",
            json={**body, "override": {"reason": "please"}},
            headers={"Idempotency-Key": "k"},
        )
        assert sneaky.status_code == 422
    finally:
        await kiosk.close()


async def test_the_portal_is_refused_plainly_and_cannot_override(
    server: LiveServer, admin: ApiClient, portal: PortalSchool
) -> None:
    school = portal.school
    await set_limits(admin, portal.id, per_day=1)
    student = StudentClient(server.url, portal.id)
    try:
        await student.ready(await hall_pass_id(server.runtime, school.students[6]))
        room, library = school.rooms["Room 101"], school.rooms["Library"]
        made = await student.request_pass(room, library)
        assert made.status_code == 201, made.text
        assert (await student.complete(made.json()["pass"]["id"])).status_code == 200
        error = refusal(await student.request_pass(room, library))
        assert error["details"]["rule"] == "daily_limit"
        assert error["message"].startswith("You have reached today's limit")
        sneaky = await student.request_pass(room, library, override={"reason": "please"})
        assert sneaky.status_code == 422
    finally:
        await student.close()


async def test_the_check_shows_counts_limits_and_refusals_before_create(
    admin: ApiClient, ada: ApiClient, portal: PortalSchool, other_school: SchoolFixture
) -> None:
    school = portal.school
    await set_limits(admin, portal.id, per_day=1, exempt_destination_ids=[str(school.rooms["Nurse"])])
    spent, fresh = school.students[7], school.students[8]
    await out_and_back(ada, school, spent)
    params = {"student_id": f"{spent},{fresh}", "destination_id": str(school.rooms["Library"])}
    r = await ada.http.get("/api/v1/passes/check", params=params)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["limits"]["per_day"] == 1
    first, second = body["students"]
    assert (first["student_id"], first["today"], first["week"]) == (str(spent), 1, 1)
    assert [x["rule"] for x in first["refusals"]] == ["daily_limit"]
    assert (second["today"], second["refusals"]) == (0, [])
    nurse = await ada.http.get(
        "/api/v1/passes/check",
        params={"student_id": str(spent), "destination_id": str(school.rooms["Nurse"])},
    )
    assert nurse.json()["students"][0]["refusals"] == []

    assert (await ada.http.get("/api/v1/passes/check")).status_code == 422
    assert (await ada.http.get("/api/v1/passes/check", params={"student_id": "nope"})).status_code == 422
    elsewhere = {"student_id": str(other_school.students[0])}
    assert (await ada.http.get("/api/v1/passes/check", params=elsewhere)).status_code == 404
    place = {"student_id": str(fresh), "destination_id": str(other_school.rooms["Nurse"])}
    assert (await ada.http.get("/api/v1/passes/check", params=place)).status_code == 404
    async with httpx.AsyncClient(base_url=str(ada.http.base_url)) as anonymous:
        assert (await anonymous.get("/api/v1/passes/check", params=params)).status_code == 401


async def test_a_burst_of_concurrent_creates_never_passes_the_daily_limit(
    admin: ApiClient, ada: ApiClient, portal: PortalSchool
) -> None:
    school = portal.school
    await set_limits(admin, portal.id, per_day=3)
    student = school.students[9]
    room, library = school.rooms["Room 101"], school.rooms["Library"]
    created: list[str] = []
    refusals: list[str] = []

    async def keep_sending() -> None:
        for _ in range(40):
            r = await ada.create_passes(room, library, [student])
            if r.status_code == 201:
                pass_id = r.json()["passes"][0]["id"]
                created.append(pass_id)
                await ada.complete(pass_id)
                continue
            assert r.status_code == 409, r.text
            code = r.json()["error"]["code"]
            if code == "rule_refused":
                refusals.append(r.json()["error"]["details"]["rule"])
                return
            assert code == "student_already_out", r.text

    await asyncio.gather(*(keep_sending() for _ in range(8)))
    assert len(created) == 3
    assert refusals == ["daily_limit"] * 8
