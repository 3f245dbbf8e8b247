"""Create, list, complete and terminate passes through HTTP, as a teacher's client would."""

from __future__ import annotations

from datetime import datetime

from support.api_client import ApiClient
from support.school import SchoolFixture


async def test_create_one_pass_makes_it_active_and_listed(teacher: ApiClient, school: SchoolFixture) -> None:
    student = school.students[0]
    r = await teacher.create_passes(school.rooms["Room 101"], school.rooms["Nurse"], [student])
    assert r.status_code == 201, r.text
    [created] = r.json()["passes"]
    assert created["status"] == "active"
    assert created["destination"]["name"] == "Nurse"

    listed = (await teacher.passes(student_id=str(student))).json()["passes"]
    assert [p["id"] for p in listed] == [created["id"]]
    assert listed[0]["status"] == "active"
    assert listed[0]["marker"] == ""
    assert listed[0]["created_by"]["name"] == "Ada"


async def test_create_for_many_students_at_once(teacher: ApiClient, school: SchoolFixture) -> None:
    students = school.students[1:4]
    r = await teacher.create_passes(school.rooms["Room 101"], school.rooms["Library"], students)
    assert r.status_code == 201, r.text
    passes = r.json()["passes"]
    assert sorted(p["student"]["id"] for p in passes) == sorted(str(s) for s in students)
    assert {p["status"] for p in passes} == {"active"}


async def test_complete_records_the_return_and_cannot_repeat(
    teacher: ApiClient, school: SchoolFixture
) -> None:
    r = await teacher.create_passes(school.rooms["Room 101"], school.rooms["Library"], [school.students[4]])
    pass_id = r.json()["passes"][0]["id"]

    done = await teacher.complete(pass_id)
    assert done.status_code == 200, done.text
    assert done.json()["pass"]["status"] == "completed"
    returned = datetime.fromisoformat(done.json()["pass"]["returned_at"])
    listed = (await teacher.http.get(f"/api/v1/passes/{pass_id}")).json()["pass"]
    assert listed["status"] == "completed"
    assert datetime.fromisoformat(listed["returned_at"]) == returned

    again = await teacher.complete(pass_id)
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "illegal_transition"
    assert again.json()["error"]["details"]["status"] == "completed"


async def test_terminate_with_a_reason(teacher: ApiClient, school: SchoolFixture) -> None:
    r = await teacher.create_passes(school.rooms["Room 101"], school.rooms["Library"], [school.students[5]])
    pass_id = r.json()["passes"][0]["id"]

    ended = await teacher.terminate(pass_id, "left_early", "picked up by parent")
    assert ended.status_code == 200, ended.text
    row = (await teacher.http.get(f"/api/v1/passes/{pass_id}")).json()["pass"]
    assert (row["status"], row["end_reason"], row["end_note"]) == (
        "terminated",
        "left_early",
        "picked up by parent",
    )
    assert (await teacher.terminate(pass_id, "other", "again")).status_code == 409
    new = await teacher.create_passes(school.rooms["Room 101"], school.rooms["Nurse"], [school.students[5]])
    assert new.status_code == 201, "a terminated pass frees the student"


async def test_other_reason_needs_a_note(teacher: ApiClient, school: SchoolFixture) -> None:
    r = await teacher.create_passes(school.rooms["Room 101"], school.rooms["Library"], [school.students[6]])
    pass_id = r.json()["passes"][0]["id"]
    refused = await teacher.terminate(pass_id, "other")
    assert refused.status_code == 422
    assert refused.json()["error"]["details"]["field"] == "note"


async def test_each_filter_narrows_the_list(teacher: ApiClient, school: SchoolFixture) -> None:
    a, b = school.students[7], school.students[8]
    one = await teacher.create_passes(school.rooms["Room 102"], school.rooms["Library"], [a])
    two = await teacher.create_passes(school.rooms["Room 101"], school.rooms["Nurse"], [b])
    first, second = one.json()["passes"][0]["id"], two.json()["passes"][0]["id"]
    await teacher.complete(second)

    async def ids(**params: str) -> set[str]:
        r = await teacher.passes(limit="500", **params)
        assert r.status_code == 200, r.text
        return {p["id"] for p in r.json()["passes"]}

    assert first in await ids(origin_id=str(school.rooms["Room 102"]))
    assert second not in await ids(origin_id=str(school.rooms["Room 102"]))
    assert first in await ids(destination_id=str(school.rooms["Library"]))
    assert second not in await ids(destination_id=str(school.rooms["Library"]))
    assert second in await ids(status="completed")
    assert first not in await ids(status="completed")
    assert {first, second} <= await ids(status="active,completed")
    assert await ids(student=school.student_names[a]) == {first}
    assert {first, second} <= await ids(creator_id=str(school.teachers["Ada"]))
    assert not await ids(creator_id=str(school.teachers["Bo"]))
    assert {first, second} <= await ids(source="staff")
    assert not await ids(source="kiosk")
    assert {first, second} <= await ids(**{"from": "2000-01-01", "to": "2100-01-01"})
    assert not await ids(**{"from": "2000-01-01", "to": "2000-01-02"})


async def test_bad_filters_are_a_422(teacher: ApiClient) -> None:
    for params in ({"status": "lost"}, {"from": "yesterday"}, {"limit": "0"}, {"origin_id": "x"}):
        r = await teacher.passes(**params)
        assert r.status_code == 422, params
        assert r.json()["error"]["code"] == "invalid"
