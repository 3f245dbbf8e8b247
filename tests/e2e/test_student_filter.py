"""The pass list's Student filter (the dashboard's and `GET /api/v1/passes?student=`) finds a
student by part of the name, by hall pass ID or by `#` and a school ID, and nobody else's."""

from __future__ import annotations

from support.api_client import ApiClient
from support.portal import hall_pass_id
from support.school import SchoolFixture
from support.server import LiveServer

OWN_SCHOOL_STUDENTS = 6


async def _students(client: ApiClient, typed: str) -> set[str]:
    r = await client.passes(student=typed, **{"from": "2000-01-01"})
    assert r.status_code == 200, r.text
    return {p["student"]["id"] for p in r.json()["passes"]}


async def test_a_hall_pass_id_or_a_school_id_names_one_student(
    server: LiveServer,
    own_school: SchoolFixture,
    own_teacher: ApiClient,
    other_school: SchoolFixture,
    other_teacher: ApiClient,
) -> None:
    # Through the API, which answers once the pass list shows the passes.
    wanted, other = own_school.students[0], own_school.students[1]
    rooms = own_school.rooms
    assert (
        await own_teacher.create_passes(rooms["Room 101"], rooms["Library"], [wanted, other])
    ).status_code == 201
    number = await hall_pass_id(server.runtime, wanted)
    assert await _students(own_teacher, number) == {str(wanted)}
    assert await _students(own_teacher, f" #{int(number):09d} ") == {str(wanted)}
    assert await _students(own_teacher, own_school.student_names[other]) == {str(other)}

    stranger = await hall_pass_id(server.runtime, other_school.students[0])
    theirs = other_school.rooms
    made = await other_teacher.create_passes(
        theirs["Room 101"], theirs["Library"], [other_school.students[0]]
    )
    assert made.status_code in (201, 409)  # 409: already out from another test of the same school
    assert await _students(own_teacher, stranger) == set()
    assert await _students(own_teacher, f"#{int(stranger):09d}") == set()


async def test_odd_student_filters_find_nobody_without_an_error(
    own_school: SchoolFixture, own_teacher: ApiClient
) -> None:
    for typed in ("#", "# ", "0", "99999999999999999999999", "#%", "%", "_", "12345678901234567890123"):
        r = await own_teacher.passes(student=typed)
        assert r.status_code == 200, (typed, r.text)
    page = await own_teacher.http.get("/hall-pass/rows", params={"student": "#nobody"})
    assert page.status_code == 200 and "No hall passes match these filters." in page.text
