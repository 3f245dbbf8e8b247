"""`hallpass web` and `hallpass run` on their embedded services, stopped the way a service manager
or a container runtime stops them: a signal to the process alone. Their embedded PostgreSQL and
Redis stop with them, and `run` stops every process it started."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from hallpass.local.postgres import postgres_answers
from hallpass.local.redis import redis_answers
from support.processes import Hallpass
from support.server import free_port

pytestmark = pytest.mark.slow

EMBEDDED = re.compile(r"embedded (PostgreSQL|Redis) running \(data [^,]+, (\S+)\)")


@contextlib.contextmanager
def on_embedded_services(kind: str, tmp_path: Path, *, demo: bool = False) -> Iterator[Hallpass]:
    """`hallpass <kind>` as at an operator's first start: no service configured, a data
    directory of its own; killed at the end, with whatever a failure left running."""
    (tmp_path / "data").mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env |= {"HALLPASS_DATA_DIR": str(tmp_path / "data"), "HALLPASS_SEED_DEMO": str(demo).lower()}
    process = Hallpass(kind, env, tmp_path, port=free_port())
    try:
        yield process
    finally:
        process.kill()
        subprocess.run(["pkill", "-f", str(tmp_path)], check=False)


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
    with on_embedded_services("web", tmp_path) as web:
        web.wait_ready(timeout=120)
        urls = embedded_urls(web)
        web.process.send_signal(sig)  # the process alone, as `docker stop` signals a container's
        assert web.process.wait(30) == (130 if sig == signal.SIGINT else 0), web.log()
        assert_stopped(urls)


def test_hallpass_run_stopped_by_sigterm_stops_every_process_it_started(tmp_path: Path) -> None:
    with on_embedded_services("run", tmp_path) as run:
        run.wait_ready(timeout=120)
        urls = embedded_urls(run)
        started = children_of(run.process.pid)
        assert len(started) == 3, started  # web, projector, worker

        run.process.send_signal(signal.SIGTERM)
        assert run.process.wait(60) == 0, run.log()
        assert not [pid for pid in started if alive(pid)]
        assert_stopped(urls)


def test_hallpass_run_stopped_by_sigterm_while_it_starts_stops_its_embedded_services(tmp_path: Path) -> None:
    """The signal comes once both servers run, while the schema and the demo school are made,
    before the supervisor has taken the signals over."""
    with on_embedded_services("run", tmp_path, demo=True) as run:
        run.wait_for(lambda: len(EMBEDDED.findall(run.log(200))) == 2, timeout=120, poll=0.01)
        urls = dict(EMBEDDED.findall(run.log(200)))  # no probe: the signal goes at once
        run.process.send_signal(signal.SIGTERM)
        assert run.process.wait(60) == 0, run.log()
        assert "Press Ctrl-C to stop." not in run.log(200)  # it was still starting
        assert_stopped(urls)
