"""A PostgreSQL and a Redis of a test's own, which it may stop and start at will.

Never the shared servers: other test runs use those. PostgreSQL comes from pgserver (the
embedded server of `hallpass run`), restarted with its own `pg_ctl`; Redis is `redis-server`
on a free port, without persistence, so a restart loses every message as a crash would.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from hallpass.local.closing import Closing
from hallpass.local.postgres import EmbeddedPostgres, postgres_answers
from hallpass.local.redis import redis_answers, redis_server_binary
from support.server import free_port


def _pg_ctl_binary() -> Path:
    """pgserver's own `pg_ctl` (its data directory is of pgserver's PostgreSQL version)."""
    spec = importlib.util.find_spec("pgserver")
    assert spec is not None and spec.submodule_search_locations
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin" / "pg_ctl"


class PrivatePostgres(Closing):
    """`url` points at database `hallpass`; `stop()` and `start()` restart the server."""

    def __init__(self, directory: Path) -> None:
        self.embedded = EmbeddedPostgres(directory / "postgres", database="hallpass")
        self.url = self.embedded.url
        self.server_url = self.embedded.server_url
        self.pgdata = self.embedded.pgdata
        self.socket_dir = self.embedded.socket_dir
        # pgserver runs the server as an unprivileged user when the tests run as root.
        self.user = "pgserver" if os.geteuid() == 0 else None
        self.running = True

    def _pg_ctl(self, *args: str) -> None:
        subprocess.run(
            [str(_pg_ctl_binary()), "-D", str(self.pgdata), *args],
            check=True,
            user=self.user,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=60,
        )

    def stop(self) -> None:
        """Fast shutdown: open sessions are cut, as in a restart or failover."""
        self._pg_ctl("-w", "-m", "fast", "stop")
        self.running = False

    def start(self) -> None:
        self._pg_ctl(
            "-w",
            "-o",
            '-h ""',
            "-o",
            f"-k {self.socket_dir}",
            "-l",
            str(self.pgdata / "log"),
            "start",
        )
        self.running = True
        deadline = time.monotonic() + 60
        while not postgres_answers(self.url):
            assert time.monotonic() < deadline, "the private PostgreSQL did not come back"
            time.sleep(0.1)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._pg_ctl("-w", "-m", "immediate", "stop")
        self.embedded.close()


@contextlib.contextmanager
def private_postgres() -> Iterator[PrivatePostgres]:
    # Not under pytest's tmp_path: PostgreSQL runs as another user when the tests run as root,
    # and pytest makes its temporary directories private again whenever another run starts.
    directory = Path(tempfile.mkdtemp(prefix="hallpass-private-pg-"))
    directory.chmod(0o755)
    try:
        with PrivatePostgres(directory) as server:
            yield server
    finally:
        shutil.rmtree(directory, ignore_errors=True)


class PrivateRedis(Closing):
    """`redis-server` on a free port of 127.0.0.1; `stop()` kills it, `start()` brings it back empty."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.directory.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None
        self.start()

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                redis_server_binary(),
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.directory),
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while not redis_answers(self.url):
            assert self.process.poll() is None, "the private redis-server exited"
            assert time.monotonic() < deadline, "the private redis-server did not answer"
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(30)
        self.process = None

    def close(self) -> None:
        self.stop()
