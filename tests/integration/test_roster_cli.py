"""`hallpass roster import`: a dry run prints what would change and changes nothing; then it imports."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from hallpass.bootstrap import Runtime
from support import oneroster


def roster_import(database_url: str, data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": database_url, "HALLPASS_DATA_DIR": str(data_dir), "COLUMNS": "120"}
    return subprocess.run(
        [sys.executable, "-m", "hallpass.cli", "roster", "import", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


async def test_a_dry_run_then_an_import(runtime: Runtime, fresh_database_url: str, tmp_path: Path) -> None:
    await runtime.app.found_district(name="Cli District", now=datetime.now(UTC))
    for runner in runtime.runners:
        await runner.catch_up()
    sample = str(oneroster.samples() / "v1p1-full")
    before = await runtime.store.max_notification_id()

    dry = roster_import(fresh_database_url, tmp_path, sample, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "would change" in dry.stdout
    assert [line.split()[:3] for line in dry.stdout.splitlines() if "students" in line] == [
        ["│", "students", "│"]
    ]
    assert " 3 " in next(line for line in dry.stdout.splitlines() if "students" in line)
    assert await runtime.store.max_notification_id() == before

    done = roster_import(fresh_database_url, tmp_path, sample)
    assert done.returncode == 0, done.stderr
    assert "16 events" in done.stdout
    assert await runtime.pool.fetchval("SELECT count(*) FROM dir_students") == 3


async def test_a_bad_file_exits_1_with_its_line(
    runtime: Runtime, fresh_database_url: str, tmp_path: Path
) -> None:
    await runtime.app.found_district(name="Cli District", now=datetime.now(UTC))
    for runner in runtime.runners:
        await runner.catch_up()
    files = oneroster.roster(
        users=[*oneroster.USERS, dict(oneroster.USERS[1], sourcedId="s-9", role="wizard")]
    )
    for name, text in files.texts.items():
        (tmp_path / name).write_text(text)
    result = roster_import(fresh_database_url, tmp_path / "data", str(tmp_path))
    assert result.returncode == 1
    assert "users.csv:6 role: 'wizard' is not a role Hallpass knows" in result.stdout
    assert "Nothing was imported" in result.stdout
    assert await runtime.pool.fetchval("SELECT count(*) FROM dir_students") == 0


async def test_the_school_set_up_by_hand_is_the_rosters_school_of_that_name(
    runtime: Runtime, fresh_database_url: str, tmp_path: Path
) -> None:
    """Its read model not yet caught up: the command catches up before it matches by name."""
    now = datetime.now(UTC)
    district = await runtime.app.found_district(name="Cli District", now=now)
    school = await runtime.app.register_school(
        name="Elm School", timezone="America/Chicago", district_id=district.id, now=now
    )
    folder = tmp_path / "roster"
    folder.mkdir()
    for name, text in oneroster.roster().texts.items():
        (folder / name).write_text(text)
    result = roster_import(fresh_database_url, tmp_path / "data", str(folder))
    assert result.returncode == 0, result.stdout + result.stderr
    for runner in runtime.runners:
        await runner.catch_up()
    assert await runtime.pool.fetchval("SELECT count(*) FROM dir_schools") == 1
    assert {r["school_id"] for r in await runtime.pool.fetch("SELECT school_id FROM dir_students")} == {
        school.id
    }
