"""Invariants under concurrent requests: one open pass per student, idempotent retries."""

from __future__ import annotations

import asyncio

from support.api_client import ApiClient
from support.school import SchoolFixture


async def test_twenty_concurrent_creates_for_one_student_make_one_pass(
    teacher: ApiClient, school: SchoolFixture
) -> None:
    student = school.students[20]
    answers = await asyncio.gather(
        *(
            teacher.create_passes(school.rooms["Room 101"], school.rooms["Library"], [student])
            for _ in range(20)
        )
    )
    codes = sorted(r.status_code for r in answers)
    assert codes == [201] + [409] * 19, codes
    refused = [r.json()["error"] for r in answers if r.status_code == 409]
    assert all(e["code"] == "student_already_out" for e in refused)
    assert all("already out" in e["message"] for e in refused)
    listed = (await teacher.passes(student_id=str(student))).json()["passes"]
    assert len(listed) == 1


async def test_same_idempotency_key_ten_times_concurrently_makes_one_pass(
    teacher: ApiClient, school: SchoolFixture
) -> None:
    student = school.students[21]
    answers = await asyncio.gather(
        *(
            teacher.create_passes(
                school.rooms["Room 101"], school.rooms["Nurse"], [student], key="retry-key-21"
            )
            for _ in range(10)
        )
    )
    assert {r.status_code for r in answers} == {201}
    bodies = {r.text for r in answers}
    assert len({tuple(p["id"] for p in r.json()["passes"]) for r in answers}) == 1, bodies
    assert sum(r.headers.get("Idempotent-Replayed") == "true" for r in answers) == 9
    listed = (await teacher.passes(student_id=str(student))).json()["passes"]
    assert len(listed) == 1


async def test_key_reused_for_a_different_request_is_refused(
    teacher: ApiClient, school: SchoolFixture
) -> None:
    first = await teacher.create_passes(
        school.rooms["Room 101"], school.rooms["Nurse"], [school.students[22]], key="reused-22"
    )
    assert first.status_code == 201
    other = await teacher.create_passes(
        school.rooms["Room 101"], school.rooms["Nurse"], [school.students[23]], key="reused-22"
    )
    assert other.status_code == 409
    assert other.json()["error"]["code"] == "idempotency_key_reused"
    assert (await teacher.passes(student_id=str(school.students[23]))).json()["passes"] == []


async def test_complete_retried_with_a_key_answers_the_same(
    teacher: ApiClient, school: SchoolFixture
) -> None:
    r = await teacher.create_passes(school.rooms["Room 101"], school.rooms["Nurse"], [school.students[24]])
    pass_id = r.json()["passes"][0]["id"]
    first = await teacher.complete(pass_id, key="done-24")
    second = await teacher.complete(pass_id, key="done-24")
    assert first.status_code == second.status_code == 200
    assert first.json() == second.json()
