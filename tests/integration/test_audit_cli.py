"""`hallpass audit checkpoint` and `hallpass audit verify`: a clean log passes, a changed row
is named and the exit status is 1."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from hallpass.bootstrap import Runtime


def audit(database_url: str, secret: str, data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "HALLPASS_DATA_DIR": str(data_dir),
        "HALLPASS_SECRET_KEY": secret,
        "COLUMNS": "120",
    }
    return subprocess.run(
        [sys.executable, "-m", "hallpass.cli", "audit", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


async def test_verify_passes_then_names_a_changed_row(
    runtime: Runtime, fresh_database_url: str, tmp_path: Path
) -> None:
    await runtime.app.found_district(name="Audit District", now=datetime.now(UTC))
    events = await runtime.store.max_notification_id()
    assert events

    signed = audit(fresh_database_url, "k1", tmp_path, "checkpoint")
    assert signed.returncode == 0, signed.stderr
    assert f"checkpoint 1: {events} events up to #{events}" in signed.stdout

    clean = audit(fresh_database_url, "k1", tmp_path, "verify")
    assert clean.returncode == 0, clean.stderr
    assert f"intact: {events} of {events} events checked; 1 signed checkpoints match" in clean.stdout

    other_key = audit(fresh_database_url, "k2", tmp_path, "verify", "--since", "2999-01-01")
    assert other_key.returncode == 1
    assert "checkpoint 1" in other_key.stdout and "signature" in other_key.stdout

    await runtime.pool.execute(
        "UPDATE hallpass_events SET state = state || ' '::bytea WHERE notification_id = 1"
    )
    changed = audit(fresh_database_url, "k1", tmp_path, "verify")
    assert changed.returncode == 1
    assert "NOT INTACT: event #1 " in changed.stdout and "the row was changed" in changed.stdout
