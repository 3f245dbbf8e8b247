"""The Student Portal through HTTP: sign-in rules, own passes only, and teacher approval."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio

from hallpass.credentials import StudentSignIns
from support.api_client import ApiClient
from support.fixtures import module_portal
from support.portal import NEW_PASSWORD, PortalSchool, StudentClient, hall_pass_id, make_portal_school
from support.rules import school_at_midday, set_rules
from support.school import PASSWORD
from support.server import LiveServer

portal = module_portal("Portal", students=12, needs_approval=True)


@pytest_asyncio.fixture(loop_scope="session")
async def student(server: LiveServer, portal: PortalSchool) -> AsyncIterator[StudentClient]:
    client = StudentClient(server.url, portal.id)
    yield client
    await client.close()


async def teacher_client(server: LiveServer, portal: PortalSchool, name: str) -> ApiClient:
    return await ApiClient.signed_in(server.url, portal.school.emails[name], PASSWORD)


async def test_portal_off_is_refused_with_a_clear_message(server: LiveServer) -> None:
    closed = await make_portal_school(server.runtime, label="Closed", enabled=False, students=2)
    client = StudentClient(server.url, closed.id)
    sid = await hall_pass_id(server.runtime, closed.school.students[0])
    r = await client.sign_in(sid, sid)
    await client.close()
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "forbidden"
    assert "Student Portal is turned off" in r.json()["error"]["message"]


async def test_first_sign_in_new_password_then_sign_in_again(
    server: LiveServer, portal: PortalSchool, student: StudentClient
) -> None:
    sid = await hall_pass_id(server.runtime, portal.school.students[0])
    first = await student.sign_in(sid, sid)
    assert first.status_code == 201
    assert first.json()["must_change_password"] is True
    blocked = await student.request_pass(portal.school.rooms["Room 101"], portal.school.rooms["Nurse"])
    assert blocked.status_code == 403
    assert (await student.set_password(NEW_PASSWORD)).status_code == 200

    again = StudentClient(server.url, portal.id)
    assert (await again.sign_in(sid, sid)).status_code == 401
    signed = await again.sign_in(sid, NEW_PASSWORD)
    await again.close()
    assert signed.status_code == 201
    assert signed.json()["must_change_password"] is False


async def test_external_id_with_hash_signs_in_the_first_time(
    server: LiveServer, portal: PortalSchool
) -> None:
    external = f"#{int(await hall_pass_id(server.runtime, portal.school.students[1])):09d}"
    client = StudentClient(server.url, portal.id)
    r = await client.sign_in(external, external)
    await client.close()
    assert r.status_code == 201
    assert r.json()["student"]["id"] == str(portal.school.students[1])


async def test_wrong_password_is_401(
    server: LiveServer, portal: PortalSchool, student: StudentClient
) -> None:
    sid = await hall_pass_id(server.runtime, portal.school.students[2])
    r = await student.sign_in(sid, "not-the-id")
    assert r.status_code == 401
    assert r.json()["error"] == {"code": "unauthenticated", "message": "Wrong ID or password."}
    unknown = await student.sign_in("999999999999", "999999999999")
    assert unknown.status_code == 401


async def test_ten_failures_lock_the_account_for_fifteen_minutes(
    server: LiveServer, portal: PortalSchool, student: StudentClient
) -> None:
    sid = await hall_pass_id(server.runtime, portal.school.students[3])
    for _ in range(10):
        assert (await student.sign_in(sid, "wrong-guess")).status_code == 401
    locked = await student.sign_in(sid, sid)
    assert locked.status_code == 429
    assert locked.json()["error"]["code"] == "locked_out"
    assert 14 * 60 < int(locked.headers["Retry-After"]) <= 15 * 60
    lockouts = await StudentSignIns(server.runtime.credentials).lockouts(
        f"student:{portal.school.students[3]}"
    )
    assert len(lockouts) == 1


async def test_weak_new_passwords_are_refused_naming_the_rule(
    server: LiveServer, portal: PortalSchool, student: StudentClient
) -> None:
    sid = await hall_pass_id(server.runtime, portal.school.students[4])
    assert (await student.sign_in(sid, sid)).status_code == 201
    for weak, rule, words in [
        ("short1", "length", "at least 8 characters"),
        (sid, "not_id", "must not be your ID"),
        ("password123", "common", "too common"),
    ]:
        r = await student.set_password(weak)
        assert r.status_code == 422
        error = r.json()["error"]
        assert error["details"]["rule"] == rule
        assert words in error["message"]


async def test_a_student_cannot_read_another_students_pass(server: LiveServer, portal: PortalSchool) -> None:
    rooms = portal.school.rooms
    owner, other = StudentClient(server.url, portal.id), StudentClient(server.url, portal.id)
    await owner.ready(await hall_pass_id(server.runtime, portal.school.students[5]))
    await other.ready(await hall_pass_id(server.runtime, portal.school.students[6]))
    created = await owner.request_pass(rooms["Room 101"], rooms["Library"])
    assert created.status_code == 201
    pass_id = created.json()["pass"]["id"]
    assert (await owner.get_pass(pass_id)).status_code == 200
    assert (await other.get_pass(pass_id)).status_code == 404
    assert (await other.cancel(pass_id)).status_code == 404
    assert (await other.complete(pass_id)).status_code == 404
    listed = (await other.passes()).json()["passes"]
    assert all(p["id"] != pass_id for p in listed)
    await owner.cancel(pass_id)
    await owner.close()
    await other.close()


async def test_request_waits_then_the_origin_teacher_approves(
    server: LiveServer, portal: PortalSchool
) -> None:
    rooms = portal.school.rooms
    client = StudentClient(server.url, portal.id)
    await client.ready(await hall_pass_id(server.runtime, portal.school.students[7]))
    created = await client.request_pass(rooms["Room 101"], rooms["Nurse"])
    assert created.status_code == 201
    body = created.json()["pass"]
    assert (body["status"], body["source"], body["marker"]) == ("requested", "portal", "(S)")
    again = await client.request_pass(rooms["Room 101"], rooms["Library"])
    assert again.status_code == 409

    bo, ada = await teacher_client(server, portal, "Bo"), await teacher_client(server, portal, "Ada")
    refused = await bo.http.post(f"/api/v1/passes/{body['id']}/approve", json={})
    assert refused.status_code == 403
    assert "Room 101" in refused.json()["error"]["message"]
    pending = (await ada.http.get("/api/v1/approvals")).json()["requests"]
    assert [p["id"] for p in pending] == [body["id"]]
    approved = await ada.http.post(f"/api/v1/passes/{body['id']}/approve", json={"note": "Be quick"})
    assert approved.status_code == 200
    assert approved.json()["pass"]["status"] == "active"

    mine = (await client.get_pass(body["id"])).json()["pass"]
    assert (mine["status"], mine["note"]) == ("active", "Be quick")
    done = await client.complete(body["id"])
    assert done.status_code == 200
    assert done.json()["pass"]["returned_at"] is not None
    for c in (bo, ada, client):
        await c.close()


async def test_approving_a_cancelled_request_is_a_conflict(server: LiveServer, portal: PortalSchool) -> None:
    rooms = portal.school.rooms
    client = StudentClient(server.url, portal.id)
    await client.ready(await hall_pass_id(server.runtime, portal.school.students[8]))
    pass_id = (await client.request_pass(rooms["Room 101"], rooms["Nurse"])).json()["pass"]["id"]
    cancelled = await client.cancel(pass_id)
    assert cancelled.json()["pass"]["status"] == "cancelled"
    ada = await teacher_client(server, portal, "Ada")
    r = await ada.http.post(f"/api/v1/passes/{pass_id}/approve", json={})
    assert r.status_code == 409
    assert r.json()["error"]["details"]["status"] == "cancelled"
    free = await client.request_pass(rooms["Room 101"], rooms["Nurse"])
    assert free.status_code == 201
    denied = await ada.http.post(f"/api/v1/passes/{free.json()['pass']['id']}/deny", json={"note": "Not now"})
    assert denied.json()["pass"]["status"] == "denied"
    await ada.close()
    await client.close()


async def test_without_approval_the_pass_is_active_at_once(server: LiveServer) -> None:
    open_school = await make_portal_school(server.runtime, label="Open", needs_approval=False, students=2)
    rooms = open_school.school.rooms
    client = StudentClient(server.url, open_school.id)
    await client.ready(await hall_pass_id(server.runtime, open_school.school.students[0]))
    created = await client.request_pass(rooms["Room 101"], rooms["Restroom"])
    assert created.status_code == 201
    assert created.json()["pass"]["status"] == "active"
    staff_view = await teacher_client(server, open_school, "Ada")
    listed = (await staff_view.passes(source="portal")).json()["passes"]
    assert [(p["marker"], p["status"]) for p in listed] == [("(S)", "active")]
    await staff_view.close()
    await client.close()


async def test_bad_input_is_a_clear_4xx(server: LiveServer, portal: PortalSchool) -> None:
    rooms = portal.school.rooms
    client = StudentClient(server.url, portal.id)
    await client.ready(await hall_pass_id(server.runtime, portal.school.students[9]))
    same = await client.request_pass(rooms["Room 101"], rooms["Room 101"])
    assert same.status_code == 422
    missing = await client.request_pass(rooms["Room 101"], portal.school.students[0])
    assert missing.status_code == 404
    junk = await client.http.post("/api/v1/portal/passes", content=b"{not json")
    assert junk.status_code == 422
    assert (await client.passes()).json()["passes"] == []
    await client.close()


async def test_only_an_admin_changes_portal_settings(server: LiveServer, portal: PortalSchool) -> None:
    ada = await teacher_client(server, portal, "Ada")
    body = {"enabled": True, "needs_approval": True}
    assert (await ada.http.put("/api/v1/school/portal-settings", json=body)).status_code == 403
    admin = await ApiClient.signed_in(server.url, portal.admin_email, PASSWORD)
    r = await admin.http.put(
        "/api/v1/school/portal-settings", json={**body, "approval_destination_ids": [str(portal.id)]}
    )
    assert r.status_code == 404
    r = await admin.http.put("/api/v1/school/portal-settings", json=body)
    assert r.status_code == 200
    assert r.json()["portal_path"] == f"/portal/{portal.id}"
    await ada.close()
    await admin.close()


async def test_approval_over_a_limit_is_refused_by_name_and_approved_with_an_override_reason(
    server: LiveServer,
) -> None:
    made = await make_portal_school(server.runtime, label="PortalRules", needs_approval=True, students=2)
    await school_at_midday(server.runtime, made.school)
    rooms, who = made.school.rooms, made.school.students[0]
    ada = await teacher_client(server, made, "Ada")
    earlier = await ada.create_passes(rooms["Room 101"], rooms["Library"], [who])
    assert (await ada.complete(earlier.json()["passes"][0]["id"])).status_code == 200
    client = StudentClient(server.url, made.id)
    await client.ready(await hall_pass_id(server.runtime, who))
    pass_id = (await client.request_pass(rooms["Room 101"], rooms["Nurse"])).json()["pass"]["id"]
    await set_rules(server.runtime, made.admin, made.id, limits={"per_day": 1})

    refused = await ada.http.post(f"/api/v1/passes/{pass_id}/approve", json={})
    assert refused.status_code == 409, refused.text
    error = refused.json()["error"]
    assert (error["code"], error["details"]["rule"], error["details"]["overridable"]) == (
        "rule_refused",
        "daily_limit",
        True,
    )
    bad_bodies: list[dict[str, object]] = [
        {"override": {"reason": "   "}},
        {"override": {}},
        {"override": "yes"},
        {"reason": "x"},
    ]
    for bad in bad_bodies:
        r = await ada.http.post(f"/api/v1/passes/{pass_id}/approve", json=bad)
        assert r.status_code == 422, (bad, r.text)
    stranger = await make_portal_school(server.runtime, label="PortalRulesOther", students=1)
    theirs = await teacher_client(server, stranger, "Ada")
    elsewhere = await theirs.http.post(
        f"/api/v1/passes/{pass_id}/approve", json={"override": {"reason": "mine now"}}
    )
    assert elsewhere.status_code == 404
    approved = await ada.http.post(
        f"/api/v1/passes/{pass_id}/approve", json={"override": {"reason": "make-up test at the nurse"}}
    )
    assert approved.status_code == 200, approved.text
    assert approved.json()["pass"]["status"] == "active"
    for c in (ada, theirs, client):
        await c.close()
