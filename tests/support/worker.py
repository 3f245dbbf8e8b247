"""Real `dramatiq` worker processes running the timer actors, as `hallpass worker` starts them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO


class Worker:
    """`python -m dramatiq hallpass.timers.actors`, as `hallpass worker` starts it."""

    def __init__(self, database_url: str, redis_url: str, namespace: str) -> None:
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "HALLPASS_REDIS_NAMESPACE": namespace,
        }
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "dramatiq",
                "hallpass.timers.actors",
                "--processes",
                "1",
                "--threads",
                "4",
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        self.ready = threading.Event()
        self.log: list[str] = []
        assert self.process.stderr is not None
        threading.Thread(target=self._read, args=(self.process.stderr,), daemon=True).start()

    def _read(self, stream: IO[bytes]) -> None:
        for raw in stream:
            line = raw.decode(errors="replace")
            self.log.append(line)
            if "ready for action" in line:
                self.ready.set()

    def wait_ready(self, timeout: float = 30) -> None:
        assert self.ready.wait(timeout), "".join(self.log[-30:])

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


@contextmanager
def workers(database_url: str, redis_url: str, namespace: str, count: int = 1) -> Iterator[list[Worker]]:
    started = [Worker(database_url, redis_url, namespace) for _ in range(count)]
    try:
        for worker in started:
            worker.wait_ready()
        yield started
    finally:
        for worker in started:
            worker.stop()
