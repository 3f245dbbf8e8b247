"""Kiosk clients post commands with the kiosk token; every refusal is a clear 4xx."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest_asyncio

from hallpass.aggregates.kiosks import Kiosk
from support.api_client import ApiClient
from support.kiosk_client import EXIT_PASSWORD, KioskClient, set_up_kiosk
from support.school import SchoolFixture
from support.server import LiveServer


@pytest_asyncio.fixture(loop_scope="session")
async def kiosk(
    server: LiveServer, own_school: SchoolFixture, own_teacher: ApiClient
) -> AsyncIterator[KioskClient]:
    """A kiosk in Room 101 for the first 20 students, to the Nurse and the Restroom."""
    client = await KioskClient.started(
        own_teacher,
        server.url,
        own_school.rooms["Room 101"],
        [own_school.rooms["Nurse"], own_school.rooms["Restroom"]],
        students={"mode": "list", "student_ids": [str(s) for s in own_school.students[:20]]},
    )
    yield client
    await client.close()


async def test_create_then_complete_a_kiosk_pass(
    kiosk: KioskClient, own_teacher: ApiClient, own_school: SchoolFixture
) -> None:
    student = own_school.students[0]
    r = await kiosk.create(student, own_school.rooms["Nurse"])
    assert r.status_code == 201, r.text
    created = r.json()["passes"][0]
    assert (created["status"], created["source"], created["marker"]) == ("active", "kiosk", "(K)")
    assert created["origin"]["name"] == "Room 101"

    listed = (await own_teacher.passes(source="kiosk", student_id=str(student))).json()["passes"]
    assert [p["id"] for p in listed] == [created["id"]]
    assert listed[0]["marker"] == "(K)"

    done = await kiosk.complete(student)
    assert done.status_code == 200, done.text
    assert done.json()["pass"]["status"] == "completed"
    assert done.json()["pass"]["returned_at"] is not None
    again = await kiosk.complete(student)
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "no_open_pass"


async def test_student_not_allowed_is_a_403(kiosk: KioskClient, own_school: SchoolFixture) -> None:
    r = await kiosk.create(own_school.students[30], own_school.rooms["Nurse"])
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "student_not_allowed"
    assert (await kiosk.complete(own_school.students[30])).status_code == 403


async def test_destination_not_allowed_is_a_403(kiosk: KioskClient, own_school: SchoolFixture) -> None:
    r = await kiosk.create(own_school.students[1], own_school.rooms["Library"])
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "destination_not_allowed"


async def test_student_already_out_is_a_409_saying_where(
    kiosk: KioskClient, own_teacher: ApiClient, own_school: SchoolFixture
) -> None:
    student = own_school.students[2]
    r = await own_teacher.create_passes(own_school.rooms["Room 102"], own_school.rooms["Library"], [student])
    assert r.status_code == 201
    refused = await kiosk.create(student, own_school.rooms["Nurse"])
    assert refused.status_code == 409
    error = refused.json()["error"]
    assert error["code"] == "student_already_out"
    assert "Library" in error["message"]
    assert error["details"]["destination_name"] == "Library"


async def test_the_same_key_retried_makes_one_pass(
    kiosk: KioskClient, own_teacher: ApiClient, own_school: SchoolFixture
) -> None:
    student = own_school.students[3]
    key = str(uuid.uuid4())
    answers = await asyncio.gather(
        *(kiosk.create(student, own_school.rooms["Nurse"], key=key) for _ in range(4))
    )
    assert {a.status_code for a in answers} == {201}
    assert len({a.json()["passes"][0]["id"] for a in answers}) == 1
    later = await kiosk.create(student, own_school.rooms["Nurse"], key=key)
    assert later.status_code == 201
    assert later.headers["Idempotent-Replayed"] == "true"
    listed = (await own_teacher.passes(student_id=str(student))).json()["passes"]
    assert len(listed) == 1
    completions = await asyncio.gather(*(kiosk.complete(student, key="back-" + key) for _ in range(3)))
    assert {c.status_code for c in completions} == {200}


async def test_revoked_or_forged_token_is_a_401(
    server: LiveServer, own_teacher: ApiClient, own_school: SchoolFixture
) -> None:
    r = await set_up_kiosk(own_teacher, own_school.rooms["Room 102"], [own_school.rooms["Nurse"]])
    assert r.status_code == 201
    device = KioskClient(server.url, r.json()["token"])
    assert (await device.find("Ana")).status_code == 200
    revoked = await own_teacher.http.post(f"/api/v1/kiosks/{r.json()['kiosk']['id']}/revoke")
    assert revoked.status_code == 200
    refused = await device.create(own_school.students[4], own_school.rooms["Nurse"])
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "unauthenticated"
    assert (await device.find("Ana")).status_code == 401
    await device.close()

    forged = KioskClient(server.url, r.json()["token"][:-3] + "abc")
    assert (await forged.find("Ana")).status_code == 401
    await forged.close()
    staff_token = KioskClient(server.url, own_teacher.http.headers["Authorization"][7:])
    assert (await staff_token.find("Ana")).status_code == 401
    await staff_token.close()
    async with httpx.AsyncClient(base_url=server.url) as anon:
        assert (await anon.get("/api/v1/kiosk")).status_code == 401


async def test_a_kiosk_token_reaches_only_kiosk_endpoints(kiosk: KioskClient) -> None:
    assert (await kiosk.http.get("/api/v1/kiosk")).status_code == 200
    assert (await kiosk.http.get("/api/v1/passes")).status_code == 401
    assert (await kiosk.http.post("/api/v1/kiosks", json={})).status_code == 401


async def test_six_wrong_exit_passwords_lock_the_kiosk(
    server: LiveServer, own_teacher: ApiClient, own_school: SchoolFixture
) -> None:
    device = await KioskClient.started(
        own_teacher, server.url, own_school.rooms["Room 102"], [own_school.rooms["Nurse"]]
    )
    answers = [await device.exit("0000") for _ in range(6)]
    assert [a.status_code for a in answers] == [403, 403, 403, 403, 423, 423]
    assert answers[0].json()["error"]["code"] == "wrong_exit_password"
    assert answers[3].json()["error"]["details"]["tries_left"] == 1
    locked = answers[5].json()["error"]
    assert locked["code"] == "kiosk_locked"
    assert "5 more minutes" in locked["message"]
    assert 0 < int(answers[5].headers["Retry-After"]) <= 300
    right_but_locked = await device.exit(EXIT_PASSWORD)
    assert right_but_locked.status_code == 423
    assert (await device.find("Ana")).status_code == 200

    kiosk_id = uuid.UUID((await device.http.get("/api/v1/kiosk")).json()["id"])
    events = [type(e).__name__ for e in await _events(server, kiosk_id)]
    assert events.count("ExitFailed") == 5
    assert events.count("LockedOut") == 1
    await device.close()


async def test_the_right_exit_password_ends_kiosk_mode(
    server: LiveServer, own_teacher: ApiClient, own_school: SchoolFixture
) -> None:
    device = await KioskClient.started(
        own_teacher, server.url, own_school.rooms["Room 102"], [own_school.rooms["Nurse"]]
    )
    assert (await device.exit("1111")).status_code == 403
    r = await device.exit(EXIT_PASSWORD)
    assert r.status_code == 200
    assert r.json()["kiosk"]["status"] == "exited"
    assert (await device.find("Ana")).status_code == 401
    await device.close()


async def test_search_finds_only_allowed_students(kiosk: KioskClient, own_school: SchoolFixture) -> None:
    allowed = {str(s) for s in own_school.students[:20]}
    found = (await kiosk.find("tester")).json()["students"]
    assert 0 < len(found) <= 8
    assert {s["id"] for s in found} <= allowed
    name = own_school.student_names[own_school.students[5]]
    typo = name.replace("Tester", "Tetser")
    assert str(own_school.students[5]) == (await kiosk.find(typo)).json()["students"][0]["id"]
    outside = own_school.student_names[own_school.students[35]]
    assert str(own_school.students[35]) not in {
        s["id"] for s in (await kiosk.find(outside)).json()["students"]
    }
    short = await kiosk.find("a")
    assert short.status_code == 422
    assert "at least 2" in short.json()["error"]["message"]


async def test_bad_input_is_a_clear_4xx(
    kiosk: KioskClient, own_teacher: ApiClient, own_school: SchoolFixture
) -> None:
    no_key = await kiosk.http.post(
        "/api/v1/kiosk/passes",
        json={"student_id": str(own_school.students[6]), "destination_id": str(own_school.rooms["Nurse"])},
    )
    assert no_key.status_code == 422
    assert no_key.json()["error"]["details"]["field"] == "Idempotency-Key"
    bad = await kiosk.http.post(
        "/api/v1/kiosk/passes", json={"student_id": "x"}, headers={"Idempotency-Key": "k1"}
    )
    assert bad.status_code == 422
    ghost = await kiosk.create(uuid.uuid4(), own_school.rooms["Nurse"])
    assert ghost.status_code == 404
    assert (await kiosk.http.post("/api/v1/kiosk/exit", content=b"{nope")).status_code == 422

    weak = await set_up_kiosk(
        own_teacher, own_school.rooms["Room 101"], [own_school.rooms["Nurse"]], password="12ab"
    )
    assert weak.status_code == 422
    assert weak.json()["error"]["details"]["field"] == "exit_password"
    itself = await set_up_kiosk(own_teacher, own_school.rooms["Room 101"], [own_school.rooms["Room 101"]])
    assert itself.status_code == 422
    empty = await set_up_kiosk(
        own_teacher, own_school.rooms["Room 101"], [own_school.rooms["Nurse"]], students={"mode": "grade"}
    )
    assert empty.status_code == 422


async def _events(server: LiveServer, kiosk_id: uuid.UUID) -> list[Kiosk.Event]:
    mapper = server.runtime.app.repository.mapper
    return [mapper.to_domain_event(r) for r in await server.runtime.store.read_stream(kiosk_id)]  # type: ignore[misc]
