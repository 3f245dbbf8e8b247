"""Real `hallpass web | projector | worker` processes, started as an operator would start them."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx

from support.server import SECRET, free_port


class Hallpass:
    """One `hallpass <kind>` process in its own process group (a worker has children)."""

    def __init__(self, kind: str, env: dict[str, str], log_dir: Path, *, port: int | None = None) -> None:
        self.kind = kind
        self.port = port
        self.url = f"http://127.0.0.1:{port}" if port is not None else ""
        self.log_path = log_dir / f"{kind}-{port or os.urandom(3).hex()}.log"
        full_env = {**env, "HALLPASS_PORT": str(port or 0), "PYTHONUNBUFFERED": "1"}
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "hallpass.cli", kind],
                env=full_env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def log(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def wait_ready(self, timeout: float = 60) -> None:
        """A web process answers HTTP; a worker says its Dramatiq workers are ready; `run` says
        how to stop it, once its web answers."""
        if self.kind == "web":
            self.wait_for(self._answers, timeout)
        elif self.kind == "worker":
            self.wait_for(lambda: "ready for action" in self.log(200), timeout)
        elif self.kind == "run":
            self.wait_for(lambda: "Press Ctrl-C to stop." in self.log(200), timeout)
        else:  # a projector: running is all there is to see
            self.wait_for(lambda: True, timeout)

    def wait_for(self, check: Callable[[], bool], timeout: float = 60, poll: float = 0.1) -> None:
        """Until `check()` is true, while the process runs."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"{self.kind} exited:\n{self.log()}"
            if check():
                return
            time.sleep(poll)
        raise AssertionError(f"{self.kind} did not get ready:\n{self.log()}")

    def _answers(self) -> bool:
        with contextlib.suppress(httpx.HTTPError):
            return httpx.get(f"{self.url}/api/v1/openapi.json", timeout=2).status_code == 200
        return False

    def kill(self) -> None:
        """kill -9, children included: no clean-up of any kind."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(30)

    def stop(self) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)


class Cluster:
    """The processes of one test against one database and one Redis namespace."""

    def __init__(self, database_url: str, redis_url: str, namespace: str, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "HALLPASS_REDIS_NAMESPACE": namespace,
            "HALLPASS_DATA_DIR": str(data_dir),
            "HALLPASS_SECRET_KEY": SECRET,
            "HALLPASS_HOST": "127.0.0.1",
            "HALLPASS_SEED_DEMO": "false",
        }
        self.processes: list[Hallpass] = []

    def start(self, kind: str) -> Hallpass:
        port = free_port() if kind == "web" else None
        process = Hallpass(kind, self.env, self.data_dir, port=port)
        self.processes.append(process)
        return process

    def web(self) -> Hallpass:
        process = self.start("web")
        process.wait_ready()
        return process

    def stop(self) -> None:
        for process in self.processes:
            process.stop()


@contextlib.contextmanager
def cluster(database_url: str, redis_url: str, namespace: str, data_dir: Path) -> Iterator[Cluster]:
    running = Cluster(database_url, redis_url, namespace, data_dir)
    try:
        yield running
    finally:
        running.stop()
