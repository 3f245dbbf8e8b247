"""The administration lists read model: keyed pages cover every student once, in name order,
whatever the names (equal, accented, differing in case), and searches find by name and ID."""

from __future__ import annotations

from datetime import UTC, datetime

from hallpass.bootstrap import Runtime
from hallpass.commands.directory import NewStudent
from hallpass.projections import admin_lists
from support.school import make_school

LAST_NAMES = ["Ng", "ng", "Ñúñez", "Nunez", "O'Brien", "Ng-Smith", "Zhou", "Åberg"]


async def test_pages_cover_every_student_once_in_name_order(runtime: Runtime) -> None:
    school = await make_school(runtime, label="Pages", students=0)
    students = [
        NewStudent(f"S{i % 3}", LAST_NAMES[i % len(LAST_NAMES)], 7, 5_000_000 + i, external_id=f"X{i}")
        for i in range(137)
    ]
    await runtime.app.register_students(school.id, students, now=datetime.now(UTC))
    for runner in runtime.runners:
        await runner.catch_up()
    seen: list[tuple[str, str, str]] = []
    after = None
    pages = 0
    while True:
        page = await runtime.admin.students(school.id, after=after)
        seen += [(r["last_name"], r["first_name"], str(r["student_id"])) for r in page.rows]
        pages += 1
        if page.next is None:
            break
        after = page.next
    assert pages == -(-137 // admin_lists.PAGE_SIZE)
    assert len(seen) == len(set(seen)) == 137
    ordered = await runtime.pool.fetch(
        "SELECT last_name, first_name, student_id::text FROM dir_students WHERE school_id = $1"
        " ORDER BY last_name, first_name, student_id",
        school.id,
    )
    assert seen == [tuple(r) for r in ordered]

    by_id = await runtime.admin.students(school.id, q="5000042")
    assert [r["external_id"] for r in by_id.rows] == ["X42"]
    by_school_id = await runtime.admin.students(school.id, q="#X7")
    assert [r["hall_pass_id"] for r in by_school_id.rows] == [5_000_007]
    by_name = await runtime.admin.students(school.id, q="nunez")
    assert {r["last_name"] for r in by_name.rows} == {"Ñúñez", "Nunez"}
