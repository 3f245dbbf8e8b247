"""Wait lines over HTTP: a full place answers 409 `destination_full`; staff put a student in its
line, see it, let one go first with a reason (422 without), take one out; a freed slot is
offered to the first; another school's place is 404, and hostile ids are 404 or 422."""

from __future__ import annotations

from datetime import datetime
from uuid import uuid4
from zoneinfo import ZoneInfo

import pytest

from support.api_client import ApiClient
from support.school import SchoolFixture

OWN_SCHOOL_STUDENTS = 8


def key() -> dict[str, str]:
    return {"Idempotency-Key": str(uuid4())}


@pytest.mark.asyncio(loop_scope="session")
async def test_staff_fill_a_line_reorder_it_and_a_freed_slot_is_offered(
    own_teacher: ApiClient, own_school: SchoolFixture, other_school: SchoolFixture
) -> None:
    s = own_school.students
    room, restroom = own_school.rooms["Room 101"], own_school.rooms["Restroom"]
    made = await own_teacher.create_passes(room, restroom, s[:2])
    assert made.status_code == 201, made.text
    full = await own_teacher.create_passes(room, restroom, [s[2]])
    assert full.status_code == 409 and full.json()["error"]["code"] == "destination_full"

    base = f"/api/v1/lines/{restroom}"
    for who in s[2:5]:
        joined = await own_teacher.http.post(
            f"{base}/join", json={"origin_id": str(room), "student_id": str(who)}, headers=key()
        )
        assert joined.status_code == 200, joined.text
        assert joined.json()["line"]["offered_until"] is None
    again = await own_teacher.http.post(
        f"{base}/join", json={"origin_id": str(room), "student_id": str(s[2])}, headers=key()
    )
    assert again.status_code == 409 and again.json()["error"]["code"] == "already_in_line"

    no_reason = await own_teacher.http.post(f"{base}/jump", json={"student_id": str(s[4])})
    assert no_reason.status_code == 422
    jumped = await own_teacher.http.post(f"{base}/jump", json={"student_id": str(s[4]), "reason": "medical"})
    assert jumped.status_code == 200, jumped.text
    assert [w["student_id"] for w in jumped.json()["line"]["waiting"]] == [str(s[4]), str(s[2]), str(s[3])]

    removed = await own_teacher.http.post(f"{base}/leave", json={"student_id": str(s[2])})
    assert removed.status_code == 200, removed.text
    first = made.json()["passes"][0]["id"]
    assert (await own_teacher.complete(first)).status_code == 200
    line = (await own_teacher.http.get(base)).json()["line"]
    assert [o["student_id"] for o in line["offers"]] == [str(s[4])]
    assert [w["student_id"] for w in line["waiting"]] == [str(s[3])]
    assert line["free_slots"] == 0
    # The dashboard's panel says until when in the school's zone, like the rest of the dashboard.
    until = datetime.fromisoformat(line["offers"][0]["until"]).astimezone(
        ZoneInfo("America/Chicago")
    )  # the fixture school's zone
    panel = (await own_teacher.http.get("/hall-pass/lines")).text
    assert f'offered a place until <time datetime="{line["offers"][0]["until"]}">' in panel
    assert until.strftime("%-I:%M %p") in panel and " UTC" not in panel
    taken = await own_teacher.create_passes(room, restroom, [s[4]])
    assert taken.status_code == 201, taken.text

    # Another school's place, or its student, is not found; hostile ids are 404 or 422.
    theirs = f"/api/v1/lines/{other_school.rooms['Restroom']}"
    assert (await own_teacher.http.get(theirs)).status_code == 404
    stranger = {"origin_id": str(room), "student_id": str(other_school.students[0])}
    assert (await own_teacher.http.post(f"{base}/join", json=stranger, headers=key())).status_code == 404
    assert (await own_teacher.http.get("/api/v1/lines/not-an-id")).status_code == 404
    bad = await own_teacher.http.post(f"{base}/join", json={"origin_id": "x"}, headers=key())
    assert bad.status_code == 422
    nurse = own_school.rooms["Nurse"]
    no_line = await own_teacher.http.post(
        f"/api/v1/lines/{nurse}/join", json={"origin_id": str(room), "student_id": str(s[6])}, headers=key()
    )
    assert no_line.status_code == 422


@pytest.mark.asyncio(loop_scope="session")
async def test_the_line_routes_are_in_the_openapi_document(own_teacher: ApiClient) -> None:
    paths = (await own_teacher.http.get("/api/v1/openapi.json")).json()["paths"]
    for path in ("/api/v1/lines/{location_id}/join", "/api/v1/portal/lines/{location_id}/join"):
        assert "post" in paths[path]
    assert "post" in paths["/api/v1/kiosk/lines/join"]
    assert "get" in paths["/api/v1/lines/{location_id}"]
