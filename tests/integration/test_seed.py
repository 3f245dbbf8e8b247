from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest

from hallpass.bootstrap import Runtime
from hallpass.seed import (
    DEMO_PASSWORD,
    SCHOOL_ID,
    DemoSchool,
    describe_demo_school,
    seed_demo_school,
    welcome,
)
from support.runtime import runtime_on

NOW = datetime(2026, 1, 12, 14, 30, tzinfo=UTC)


@pytest.fixture(scope="module")
def seed_database_url(make_database: Callable[[], AbstractContextManager[str]]) -> Iterator[str]:
    with make_database() as url:
        yield url


@pytest.fixture(scope="module")
async def runtime(seed_database_url: str) -> AsyncIterator[Runtime]:
    async with runtime_on(seed_database_url) as rt:
        yield rt


@pytest.fixture(scope="module")
async def demo(runtime: Runtime) -> DemoSchool:
    seeded = await seed_demo_school(runtime, now=NOW)
    assert seeded is not None
    for runner in runtime.runners:
        await runner.catch_up()
    return seeded


async def test_the_demo_school_is_registered(runtime: Runtime, demo: DemoSchool) -> None:
    school = await runtime.pool.fetchrow("SELECT * FROM dir_schools")
    assert school["school_id"] == demo.school_id == SCHOOL_ID
    assert (school["name"], school["timezone"]) == ("Lincoln Middle School", "America/New_York")


async def test_locations_have_time_allotted_and_some_a_capacity(runtime: Runtime, demo: DemoSchool) -> None:
    row = await runtime.pool.fetchrow(
        "SELECT count(*) AS n, count(capacity) AS limited, min(allotted_minutes) AS shortest,"
        " count(*) FILTER (WHERE kind = 'classroom') AS classrooms FROM dir_locations"
    )
    assert row["n"] == demo.locations >= 40
    assert row["limited"] > 0
    assert row["shortest"] >= 1
    assert row["classrooms"] >= 30


async def test_every_member_of_staff_has_a_room_and_an_ascii_email(
    runtime: Runtime, demo: DemoSchool
) -> None:
    rows = await runtime.pool.fetch("SELECT email, role, room_id FROM dir_staff")
    emails = [r["email"] for r in rows]
    assert len(rows) == demo.staff >= 60
    assert all(r["room_id"] is not None for r in rows)
    assert len(set(emails)) == len(emails)
    assert all(e.isascii() and e.endswith("@lincoln.example.org") for e in emails)
    assert {"teacher", "office", "admin", "compliance", "analyst"} <= {r["role"] for r in rows}


async def test_students_have_unique_ids_and_a_classroom_homeroom(runtime: Runtime, demo: DemoSchool) -> None:
    row = await runtime.pool.fetchrow(
        "SELECT count(*) AS n, count(DISTINCT hall_pass_id) AS pass_ids,"
        " count(DISTINCT external_id) AS external_ids, array_agg(DISTINCT grade) AS grades,"
        " count(*) FILTER (WHERE l.kind = 'classroom') AS in_classrooms"
        " FROM dir_students s LEFT JOIN dir_locations l ON l.location_id = s.homeroom_id"
    )
    assert row["n"] == demo.students >= 1200
    assert row["pass_ids"] == row["external_ids"] == row["in_classrooms"] == row["n"]
    assert sorted(row["grades"]) == [6, 7, 8]


async def test_a_teacher_signs_in_with_the_demo_password(runtime: Runtime, demo: DemoSchool) -> None:
    credential = await runtime.credentials.verify(demo.teacher_email, DEMO_PASSWORD, now=NOW)
    assert credential is not None
    assert (credential.principal_kind, credential.school_id) == ("staff", demo.school_id)
    role = await runtime.pool.fetchval(
        "SELECT role FROM dir_staff WHERE staff_id = $1", credential.principal_id
    )
    assert role == "teacher"


@pytest.mark.parametrize(
    ("email", "administers"),
    [("jose.alvarez@lincoln.example.org", False), ("mateo.walker@lincoln.example.org", True)],
)
async def test_the_accounts_the_readme_names_sign_in(
    runtime: Runtime, demo: DemoSchool, email: str, administers: bool
) -> None:
    actor = await runtime.app.sign_in_staff(email, DEMO_PASSWORD, now=NOW)
    assert actor is not None and actor.school_id == demo.school_id
    assert actor.administers is administers
    assert actor.has_role("district_admin") is administers


async def test_one_demo_administrator_administers_the_district(runtime: Runtime, demo: DemoSchool) -> None:
    rows = await runtime.pool.fetch("SELECT email, roles FROM dir_staff WHERE school_id = $1", demo.school_id)
    district = [r["email"] for r in rows if "district_admin" in r["roles"]]
    assert district == ["mateo.walker@lincoln.example.org"]


async def test_the_read_models_describe_the_seeded_school(runtime: Runtime, demo: DemoSchool) -> None:
    assert await describe_demo_school(runtime) == demo


async def test_the_first_run_names_an_administrator_the_portal_and_the_kiosk(
    runtime: Runtime, demo: DemoSchool
) -> None:
    text = welcome(demo, "http://127.0.0.1:8000")
    assert "an administrator: Mateo Walker, mateo.walker@lincoln.example.org" in text
    assert f"Student Portal: http://127.0.0.1:8000/portal/{SCHOOL_ID}" in text
    assert f"hall pass ID {demo.sample_student.hall_pass_id} as both ID and password" in text
    assert "http://127.0.0.1:8000/hall-pass/kiosk" in text and "http://127.0.0.1:8000/kiosk\n" in text
    admin = await runtime.app.sign_in_staff(demo.admin.email, DEMO_PASSWORD, now=NOW)
    assert admin is not None and admin.name == demo.admin.name and admin.administers
    # The printed portal address opens a sign-in page: the demo turned the portal on.
    assert await runtime.pool.fetchval(
        "SELECT portal_enabled FROM school_settings WHERE school_id = $1", SCHOOL_ID
    )
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    for named in (
        demo.admin.email,
        demo.teacher_email,
        f"/portal/{SCHOOL_ID}",
        "/hall-pass/kiosk",
        DEMO_PASSWORD,
    ):
        assert named in readme


async def test_seeding_again_does_nothing(runtime: Runtime, demo: DemoSchool) -> None:
    before = await runtime.store.max_notification_id()
    assert await seed_demo_school(runtime, now=NOW) is None
    assert await runtime.store.max_notification_id() == before


def hallpass(command: str, database_url: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "HALLPASS_DATA_DIR": str(data_dir),
        "HALLPASS_SECRET_KEY": "test-secret",
    }
    return subprocess.run(
        [sys.executable, "-m", "hallpass.cli", command],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


async def test_migrate_creates_the_schema_and_can_run_again(fresh_database_url: str, tmp_path: Path) -> None:
    for _ in range(2):
        result = hallpass("migrate", fresh_database_url, tmp_path)
        assert result.returncode == 0, result.stderr
    conn = await asyncpg.connect(fresh_database_url)
    try:
        assert await conn.fetchval("SELECT to_regclass('dir_students')::text") == "dir_students"
        assert await conn.fetchval("SELECT to_regclass('credentials')::text") == "credentials"
    finally:
        await conn.close()


def test_an_unreachable_database_is_one_line_on_stderr(tmp_path: Path) -> None:
    result = hallpass("migrate", "postgresql://postgres@127.0.0.1:1/hallpass", tmp_path)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("hallpass migrate: cannot use the database")


def test_hallpass_seed_prints_whom_to_sign_in_as_and_where(fresh_database_url: str, tmp_path: Path) -> None:
    result = hallpass("seed", fresh_database_url, tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "an administrator: Mateo Walker, mateo.walker@lincoln.example.org" in [
        line.strip() for line in lines
    ]
    assert f"Student Portal: http://127.0.0.1:8000/portal/{SCHOOL_ID}" in lines
    assert any(
        line.startswith("Kiosk: a teacher opens http://127.0.0.1:8000/hall-pass/kiosk") for line in lines
    )
    assert f"every demo password is {DEMO_PASSWORD}" in result.stdout
