"""Kiosk search: an ID always finds its student, and no query returns anyone not allowed."""

from __future__ import annotations

from uuid import uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hallpass.aggregates.kiosks import StudentMode, StudentScope
from hallpass.errors import Invalid
from hallpass.projections.kiosk_search import LIMIT, Candidate, search, within_one_edit

HOMEROOMS = [uuid4() for _ in range(3)]
NAME = st.text(alphabet="abcdeéilmnorstuyzÁÉ", min_size=1, max_size=10).map(str.capitalize)


@st.composite
def schools(draw: st.DrawFn) -> list[Candidate]:
    count = draw(st.integers(1, 30))
    ids = draw(st.lists(st.integers(1, 10**7), min_size=count, max_size=count, unique=True))
    return [
        Candidate(
            student_id=uuid4(),
            first_name=draw(NAME),
            last_name=draw(NAME),
            grade=draw(st.integers(6, 8)),
            homeroom_id=draw(st.sampled_from([*HOMEROOMS, None])),
            hall_pass_id=number,
            external_id=f"{number:09d}" if draw(st.booleans()) else None,
        )
        for number in ids
    ]


@st.composite
def scopes(draw: st.DrawFn, students: list[Candidate]) -> StudentScope:
    mode = draw(st.sampled_from(list(StudentMode)))
    return StudentScope(
        mode,
        homeroom_ids=frozenset(draw(st.lists(st.sampled_from(HOMEROOMS), max_size=2))),
        grades=frozenset(draw(st.lists(st.integers(6, 8), max_size=2))),
        student_ids=frozenset(s.student_id for s in draw(st.lists(st.sampled_from(students), max_size=10))),
    )


def allowed(scope: StudentScope, c: Candidate) -> bool:
    return scope.allows(student_id=c.student_id, grade=c.grade, homeroom_id=c.homeroom_id)


@given(st.data())
def test_an_id_always_finds_its_student(data: st.DataObject) -> None:
    students = data.draw(schools())
    student = data.draw(st.sampled_from(students))
    everyone = StudentScope(StudentMode.ALL)
    assert search(students, everyone, str(student.hall_pass_id)) == [student]
    assert search(students, everyone, f" {student.hall_pass_id} ") == [student]
    if student.external_id is not None:
        assert search(students, everyone, f"#{student.external_id}") == [student]
    assert student in search(students, everyone, student.full_name, limit=len(students))
    scope = data.draw(scopes(students))
    expected = [student] if allowed(scope, student) else []
    assert search(students, scope, str(student.hall_pass_id)) == expected


@given(st.data(), st.text(max_size=12))
def test_no_query_returns_a_student_outside_the_allowed_set(data: st.DataObject, query: str) -> None:
    students = data.draw(schools())
    scope = data.draw(scopes(students))
    query = data.draw(st.sampled_from([query, students[0].first_name, str(students[0].hall_pass_id)]))
    try:
        found = search(students, scope, query)
    except Invalid:
        return
    assert len(found) <= LIMIT
    assert all(allowed(scope, c) for c in found)


def student(first: str, last: str, number: int = 1) -> Candidate:
    return Candidate(
        student_id=uuid4(),
        first_name=first,
        last_name=last,
        grade=7,
        homeroom_id=None,
        hall_pass_id=number,
        external_id=None,
    )


def test_names_ignore_case_and_accents_and_a_small_typo() -> None:
    chloe = student("Chloé", "Martínez")
    others = [student("Ben", "Okafor", 2), student("Chris", "Lee", 3)]
    everyone = StudentScope(StudentMode.ALL)
    for query in ["chloe martinez", "CHLOÉ", "Martinez", "chole martinez", "martniez", "Chloe Martimez"]:
        assert search([chloe, *others], everyone, query)[0] == chloe, query
    assert search([chloe, *others], everyone, "zzzz") == []


def test_a_name_needs_two_letters_and_the_list_stays_short() -> None:
    many = [student("Ana", f"Lopez{i}", i + 1) for i in range(40)]
    everyone = StudentScope(StudentMode.ALL)
    with pytest.raises(Invalid):
        search(many, everyone, "a")
    with pytest.raises(Invalid):
        search(many, everyone, "  ")
    assert len(search(many, everyone, "an")) == LIMIT


@pytest.mark.parametrize(
    ("a", "b", "close"),
    [
        ("abc", "abc", True),
        ("abc", "abd", True),
        ("abc", "acb", True),
        ("abc", "ab", True),
        ("abc", "xabc", True),
        ("abc", "cba", False),
        ("abcd", "ab", False),
    ],
)
def test_within_one_edit(a: str, b: str, close: bool) -> None:
    assert within_one_edit(a, b) is close
