"""Scheduled and repeating passes and the dismissal time, through HTTP."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from support.api_client import ApiClient
from support.school import PASSWORD, SchoolFixture
from support.server import LiveServer


def later(minutes: int = 30) -> str:
    return (datetime.now(UTC) + timedelta(minutes=minutes)).isoformat()


def body(school: SchoolFixture, index: int, **extra: object) -> dict[str, object]:
    return {
        "origin_id": str(school.rooms["Room 101"]),
        "destination_id": str(school.rooms["Nurse"]),
        "student_ids": [str(school.students[index])],
        **extra,
    }


async def test_schedule_edit_and_cancel_a_pass(teacher: ApiClient, school: SchoolFixture) -> None:
    r = await teacher.http.post("/api/v1/passes/scheduled", json=body(school, 30, start_at=later()))
    assert r.status_code == 201, r.text
    pass_id = r.json()["passes"][0]["id"]
    row = (await teacher.http.get(f"/api/v1/passes/{pass_id}")).json()["pass"]
    assert row["status"] == "scheduled"

    moved = later(90)
    r = await teacher.http.patch(f"/api/v1/passes/{pass_id}/schedule", json={"start_at": moved})
    assert r.status_code == 200, r.text
    row = (await teacher.http.get(f"/api/v1/passes/{pass_id}")).json()["pass"]
    assert datetime.fromisoformat(row["start_at"]) == datetime.fromisoformat(moved)

    r = await teacher.http.post(f"/api/v1/passes/{pass_id}/cancel", json={})
    assert r.status_code == 200, r.text
    assert (await teacher.http.get(f"/api/v1/passes/{pass_id}")).json()["pass"]["status"] == "cancelled"
    again = await teacher.http.post(f"/api/v1/passes/{pass_id}/cancel", json={})
    assert again.status_code == 409
    assert again.json()["error"]["details"]["status"] == "cancelled"


async def test_editing_a_pass_that_started_is_a_409(teacher: ApiClient, school: SchoolFixture) -> None:
    r = await teacher.create_passes(school.rooms["Room 101"], school.rooms["Library"], [school.students[31]])
    pass_id = r.json()["passes"][0]["id"]
    edit = await teacher.http.patch(f"/api/v1/passes/{pass_id}/schedule", json={"start_at": later()})
    assert edit.status_code == 409
    assert edit.json()["error"]["details"]["status"] == "active"
    cancel = await teacher.http.post(f"/api/v1/passes/{pass_id}/cancel", json={})
    assert cancel.status_code == 409


async def test_bad_schedules_are_a_422_with_the_reason(teacher: ApiClient, school: SchoolFixture) -> None:
    past = await teacher.http.post("/api/v1/passes/scheduled", json=body(school, 32, start_at=later(-5)))
    assert past.status_code == 422
    today = date.today()
    repeating = body(school, 32, weekdays=[0, 2, 4], at="10:15:00", first_date=str(today + timedelta(days=7)))
    backwards = await teacher.http.post(
        "/api/v1/schedules", json={**repeating, "last_date": str(today + timedelta(days=1))}
    )
    assert backwards.status_code == 422
    assert "last date" in backwards.json()["error"]["message"]
    zone = await teacher.http.post(
        "/api/v1/schedules",
        json={**repeating, "last_date": str(today + timedelta(days=21)), "timezone": "Mars/Olympus"},
    )
    assert zone.status_code == 422
    assert "Mars/Olympus" in zone.json()["error"]["message"]


async def test_repeating_schedule_makes_scheduled_passes_and_cancels_them(
    teacher: ApiClient, school: SchoolFixture
) -> None:
    start = date.today() + timedelta(days=7)
    r = await teacher.http.post(
        "/api/v1/schedules",
        json=body(
            school,
            33,
            weekdays=[0, 1, 2, 3, 4],
            at="09:30:00",
            first_date=str(start),
            last_date=str(start + timedelta(days=13)),
        ),
    )
    assert r.status_code == 201, r.text
    planned = r.json()["passes"]
    assert len(planned) == 10
    listed = (await teacher.passes(student_id=str(school.students[33]), status="scheduled")).json()
    assert listed["total"] == 10
    cancel = await teacher.http.post(f"/api/v1/schedules/{r.json()['schedule_id']}/cancel", json={})
    assert cancel.status_code == 200, cancel.text
    left = (await teacher.passes(student_id=str(school.students[33]), status="scheduled")).json()
    assert left["total"] == 0


async def test_only_an_admin_sets_the_dismissal_time(
    teacher: ApiClient, server: LiveServer, school: SchoolFixture
) -> None:
    r = await teacher.http.put("/api/v1/school/dismissal-time", json={"time": "15:30:00"})
    assert r.status_code == 403
    admin = await ApiClient.signed_in(server.url, school.emails["Cleo"], PASSWORD)
    try:
        ok = await admin.http.put("/api/v1/school/dismissal-time", json={"time": "15:30:00"})
        assert ok.status_code == 200, ok.text
        assert ok.json() == {"dismissal_time": "15:30:00", "timezone": "America/Chicago"}
        bad = await admin.http.put("/api/v1/school/dismissal-time", json={"time": "25:00:00"})
        assert bad.status_code == 422
        assert bad.json()["error"]["details"]["field"] == "time"
    finally:
        await admin.close()
