"""`hallpass setup`: an empty database gets its district, first school and administrator, once."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from hallpass.aggregates.staff import Role
from support.runtime import runtime_on

ANSWERS = ["--district", "Maple District", "--school", "Maple High", "--timezone", "America/Denver"]
ADMIN = ["--name", "Pat Admin", "--email", "pat@maple.example.org"]


def setup(database_url: str, data_dir: Path, password: str, *flags: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "HALLPASS_DATA_DIR": str(data_dir),
        "HALLPASS_SECRET_KEY": "k",
    }
    return subprocess.run(
        [sys.executable, "-m", "hallpass.cli", "setup", *flags],
        env=env,
        input=f"{password}\n",
        capture_output=True,
        text=True,
        timeout=120,
    )


async def test_setup_creates_the_district_school_and_administrator_once(
    fresh_database_url: str, tmp_path: Path
) -> None:
    weak = setup(fresh_database_url, tmp_path, "password", *ANSWERS, *ADMIN)
    assert weak.returncode == 1 and "too common" in weak.stderr
    done = setup(fresh_database_url, tmp_path, "maple leaves in autumn", *ANSWERS, *ADMIN)
    assert done.returncode == 0, done.stderr
    async with runtime_on(fresh_database_url) as runtime:
        actor = await runtime.app.sign_in_staff(
            "pat@maple.example.org", "maple leaves in autumn", now=datetime.now(UTC)
        )
        assert actor is not None and actor.has_role(Role.DISTRICT_ADMIN)
        school = await runtime.directory.school(actor.school_id)
        assert school is not None and (school["name"], school["timezone"]) == ("Maple High", "America/Denver")
    again = setup(fresh_database_url, tmp_path, "maple leaves in autumn", *ANSWERS, *ADMIN)
    assert again.returncode == 1 and "already set up" in again.stderr
