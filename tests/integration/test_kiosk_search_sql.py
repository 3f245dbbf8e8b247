"""Kiosk search narrowed by PostgreSQL (pg_trgm) answers as the rules over every allowed student do."""

from __future__ import annotations

import random
from uuid import UUID, uuid4

import pytest

from hallpass.aggregates.kiosks import StudentMode, StudentScope
from hallpass.bootstrap import Runtime
from hallpass.demo_names import FIRST_NAMES, LAST_NAMES
from hallpass.errors import Invalid
from hallpass.projections.directory import STUDENT_ROW, fold
from hallpass.projections.kiosks import KioskView

ROOMS = [uuid4(), uuid4()]
NAMED = [
    ("Chloé", "Martínez"),
    ("Chris", "Lee"),
    ("Emily", "Brontë"),
    ("Seo-yeon", "Da Silva"),
    ("Liam", "O'Brien"),
    ("Zoë", "Søndergaard"),
    ("Ana", "50% Off"),
    ("Under_Score", "Back\\Slash"),
]
QUERIES = [
    "chloe martinez",
    "CHLOÉ",
    "Martinez",
    "chole martinez",
    "martniez",
    "Chloe Martimez",
    "Bronte",
    "emily bronte",
    "em br",
    "da silva",
    "silva",
    "seo",
    "o'brien",
    "zoe sondergaard",
    "50%",
    "%",
    "_a",
    "under_",
    "back\\",
    "an",
    "ana",
    "zz",
    "zzzz qqqq",
    "100001",
    "100002",
    "99999999999999999999999",
    "#000100003",
    "#XYZ",
]


@pytest.fixture
async def school(runtime: Runtime) -> tuple[UUID, list[UUID]]:
    """A school of 400 students straight into the read model: the names above, then drawn ones."""
    school_id = uuid4()
    rng = random.Random(70)
    names = NAMED + [(rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)) for _ in range(400 - len(NAMED))]
    rows = [
        (
            uuid4(),
            school_id,
            first,
            last,
            6 + i % 3,
            ROOMS[i % 2],
            100_001 + i,
            f"{100_001 + i:09d}" if i % 3 else None,
            fold(f"{first} {last}"),
            None,
        )
        for i, (first, last) in enumerate(names)
    ]
    await runtime.pool.copy_records_to_table("dir_students", records=rows, columns=STUDENT_ROW)
    await runtime.pool.execute("ANALYZE dir_students")
    return school_id, [r[0] for r in rows]


def scopes(students: list[UUID]) -> list[StudentScope]:
    return [
        StudentScope(StudentMode.ALL),
        StudentScope(StudentMode.GRADE, grades=frozenset({7})),
        StudentScope(StudentMode.CLASSROOM, homeroom_ids=frozenset({ROOMS[0]})),
        StudentScope(StudentMode.LIST, student_ids=frozenset(students[::5])),
    ]


def drawn_queries(rng: random.Random) -> list[str]:
    """Word starts of drawn names, and names with two neighbouring letters swapped (not the first)."""
    out = []
    for _ in range(60):
        first, last = fold(rng.choice(FIRST_NAMES)), fold(rng.choice(LAST_NAMES))
        out.append(f"{first[: rng.randint(2, len(first))]} {last[: rng.randint(1, len(last))]}")
        if len(last) >= 4:
            i = rng.randrange(1, len(last) - 1)
            out.append(f"{first} {last[:i]}{last[i + 1]}{last[i]}{last[i + 2 :]}")
    return out


async def test_the_directory_has_a_trigram_index_where_the_server_has_pg_trgm(runtime: Runtime) -> None:
    available = await runtime.pool.fetchval(
        "SELECT count(*) FROM pg_available_extensions WHERE name = 'pg_trgm'"
    )
    assert runtime.kiosks.trigrams is bool(available)
    index = await runtime.pool.fetchval(
        "SELECT indexdef FROM pg_indexes WHERE indexname = 'dir_students_search'"
    )
    if available:
        assert "gin_trgm_ops" in index
    else:
        assert index is None


async def test_the_database_narrows_to_the_answers_of_the_rules(
    runtime: Runtime, school: tuple[UUID, list[UUID]]
) -> None:
    if not runtime.kiosks.trigrams:
        pytest.skip("this PostgreSQL has no pg_trgm: every search reads every allowed student")
    school_id, students = school
    every_row = KioskView(runtime.pool, trigrams=False)
    asked = 0
    for query in QUERIES + drawn_queries(random.Random(71)):
        for scope in scopes(students):
            try:
                expected = await every_row.find_students(school_id, scope, query)
            except Invalid:
                with pytest.raises(Invalid):
                    await runtime.kiosks.find_students(school_id, scope, query)
                continue
            found = await runtime.kiosks.find_students(school_id, scope, query)
            assert [c.student_id for c in found] == [c.student_id for c in expected], (query, scope.mode)
            asked += 1
    assert asked > 400


async def test_accents_typos_and_ids_find_the_student(
    runtime: Runtime, school: tuple[UUID, list[UUID]]
) -> None:
    school_id, _ = school
    everyone = StudentScope(StudentMode.ALL)
    for query in ["Bronte", "emily bronte", "Emliy Bronte", "em br", "100003", "#000100003"]:
        found = await runtime.kiosks.find_students(school_id, everyone, query)
        assert ("Emily", "Brontë") in [(c.first_name, c.last_name) for c in found], query
