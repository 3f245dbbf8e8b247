"""`hallpass web` and `hallpass run` on their embedded services, stopped the way a service manager
or a container runtime stops them: a signal to the process alone. Their embedded PostgreSQL and
Redis stop with them, and `run` stops every process it started."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest

from hallpass.local.postgres import postgres_answers
from hallpass.local.redis import redis_answers
from support.processes import Hallpass
from support.server import free_port

pytestmark = pytest.mark.slow

EMBEDDED = re.compile(r"embedded (PostgreSQL|Redis) running \(data [^,]+, (\S+)\)")


def embedded_env(tmp_path: Path) -> dict[str, str]:
    """An operator's first start: no service configured, a data directory of its own."""
    (tmp_path / "data").mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    return env | {"HALLPASS_DATA_DIR": str(tmp_path / "data"), "HALLPASS_SEED_DEMO": "false"}


def embedded_urls(process: Hallpass) -> dict[str, str]:
    urls = dict(EMBEDDED.findall(process.log(200)))
    assert postgres_answers(urls["PostgreSQL"])
    assert redis_answers(urls["Redis"])
    return urls


def assert_stopped(urls: dict[str, str]) -> None:
    assert not postgres_answers(urls["PostgreSQL"]), "the embedded PostgreSQL still runs"
    assert not redis_answers(urls["Redis"]), "the embedded Redis still runs"


def children_of(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.add(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_web_process_stopped_by_a_signal_stops_its_embedded_services(
    tmp_path: Path, sig: signal.Signals
) -> None:
    web = Hallpass("web", embedded_env(tmp_path), tmp_path, port=free_port())
    try:
        web.wait_ready(timeout=120)
        urls = embedded_urls(web)
        web.process.send_signal(sig)  # the process alone, as `docker stop` signals a container's
        assert web.process.wait(30) == (130 if sig == signal.SIGINT else 0), web.log()
        assert_stopped(urls)
    finally:
        web.kill()
        subprocess.run(["pkill", "-f", str(tmp_path)], check=False)  # what a failure left running


def test_hallpass_run_stopped_by_sigterm_stops_every_process_it_started(tmp_path: Path) -> None:
    run = Hallpass("run", embedded_env(tmp_path), tmp_path, port=free_port())
    try:
        deadline = time.monotonic() + 120
        while "Press Ctrl-C to stop." not in run.log(200):
            assert run.process.poll() is None, run.log()
            assert time.monotonic() < deadline, run.log()
            time.sleep(0.1)
        urls = embedded_urls(run)
        started = children_of(run.process.pid)
        assert len(started) == 3, started  # web, projector, worker

        run.process.send_signal(signal.SIGTERM)
        assert run.process.wait(60) == 0, run.log()
        assert not [pid for pid in started if alive(pid)]
        assert_stopped(urls)
    finally:
        run.kill()
        subprocess.run(["pkill", "-f", str(tmp_path)], check=False)


def test_hallpass_run_stopped_by_sigterm_while_it_starts_stops_its_embedded_services(tmp_path: Path) -> None:
    """The signal comes once both servers run, while the schema and the demo school are made,
    before the supervisor has taken the signals over."""
    env = embedded_env(tmp_path) | {"HALLPASS_SEED_DEMO": "true"}
    run = Hallpass("run", env, tmp_path, port=free_port())
    try:
        deadline = time.monotonic() + 120
        while len(EMBEDDED.findall(run.log(200))) < 2:
            assert run.process.poll() is None, run.log()
            assert time.monotonic() < deadline, run.log()
            time.sleep(0.01)
        urls = dict(EMBEDDED.findall(run.log(200)))
        run.process.send_signal(signal.SIGTERM)
        assert run.process.wait(60) == 0, run.log()
        assert "Press Ctrl-C to stop." not in run.log(200)  # it was still starting
        assert_stopped(urls)
    finally:
        run.kill()
        subprocess.run(["pkill", "-f", str(tmp_path)], check=False)
