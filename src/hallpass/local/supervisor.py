"""The process supervisor behind ``hallpass run``, and the worker process's Dramatiq child.

``supervise`` starts one ``python -m hallpass.cli <kind>`` process per kind (web, projector,
worker), restarts one that dies with a delay growing to 30 s (reset once it has run for 30 s),
and on SIGINT or SIGTERM stops them all, killing any that has not stopped after 10 s.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import select
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import FrameType

from hallpass.settings import Settings

CHILD_PROCESSES = ("web", "projector", "worker")
ACTORS_MODULE = "hallpass.timers.actors"
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
WEB_START_TIMEOUT = 60.0
CHILD_STOP_TIMEOUT = 10.0
STABLE_AFTER = 30.0
MAX_BACKOFF = 30.0
WATCH_INTERVAL = 5.0


def log(message: str) -> None:
    print(f"hallpass: {message}", file=sys.stderr, flush=True)


def child_env(settings: Settings) -> dict[str, str]:
    if settings.database_url is None:
        raise ValueError("no database configured")
    env = dict(os.environ)
    env.update(
        DATABASE_URL=settings.database_url,
        REDIS_URL=settings.redis_url or "",
        HALLPASS_SECRET_KEY=settings.secret_key,
        HALLPASS_DATA_DIR=str(settings.data_dir),
        HALLPASS_HOST=settings.host,
        HALLPASS_PORT=str(settings.port),
        HALLPASS_REDIS_NAMESPACE=settings.redis_namespace,
        PYTHONUNBUFFERED="1",
    )
    return env


class Terminated(Exception):
    """SIGTERM, raised where the main thread stands (`sigterm_unwinds`)."""


@contextlib.contextmanager
def sigterm_unwinds() -> Iterator[None]:
    """Inside, SIGTERM unwinds the main thread as Ctrl-C does, instead of ending the process
    where it stands: the blocks around it (a server's embedded PostgreSQL and Redis) close, and
    the block ends quietly. uvicorn shuts a server down on SIGTERM, then raises the signal again
    with the handler it found: this one, so its process no longer dies by the signal once its
    server has stopped, leaving its embedded services running (as `docker stop` or a service
    manager stopping `hallpass web` did)."""

    def terminated(_signum: int, _frame: FrameType | None) -> None:
        raise Terminated

    previous = signal.signal(signal.SIGTERM, terminated)
    try:
        yield
    except Terminated:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)


class StopSignal:
    """Set by SIGINT or SIGTERM once installed; `sleep` ends early on any signal, SIGCHLD included.

    The signals are written to a pipe (`signal.set_wakeup_fd`) that `sleep` waits on, so the
    supervisor sleeps until a child exits, a stop is asked for or a restart is due, instead of
    waking ten times a second to look.
    """

    def __init__(self) -> None:
        self.received: int | None = None
        self._wakeups: int | None = None

    def install(self) -> None:
        read, write = os.pipe()
        os.set_blocking(read, False)
        os.set_blocking(write, False)
        signal.set_wakeup_fd(write, warn_on_full_buffer=False)
        self._wakeups = read
        for sig in STOP_SIGNALS:
            signal.signal(sig, self._handle)
        signal.signal(signal.SIGCHLD, self._child_changed)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self.received = signum

    def _child_changed(self, signum: int, frame: FrameType | None) -> None:
        """Only there so that SIGCHLD reaches the wakeup pipe; `Supervisor.check` reaps."""

    def is_set(self) -> bool:
        return self.received is not None

    def sleep(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while not self.is_set() and (left := deadline - time.monotonic()) > 0:
            if self._wakeups is None:
                time.sleep(min(0.1, left))
                continue
            ready, _, _ = select.select([self._wakeups], [], [], left)
            if ready:
                with contextlib.suppress(BlockingIOError):
                    while os.read(self._wakeups, 512):
                        pass
                return


@dataclass
class Child:
    name: str
    argv: list[str]
    process: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    failures: int = 0
    restart_at: float | None = None


class Supervisor:
    """Keeps child processes running, restarting one that dies with a growing delay."""

    def __init__(self, names: tuple[str, ...], env: dict[str, str]) -> None:
        self.env = env
        self.children = [Child(n, [sys.executable, "-m", "hallpass.cli", n]) for n in names]

    def start(self) -> None:
        for child in self.children:
            self._spawn(child)

    def _spawn(self, child: Child) -> None:
        child.process = subprocess.Popen(child.argv, env=self.env)
        child.started_at = time.monotonic()
        child.restart_at = None

    def check(self) -> None:
        for child in self.children:
            self._check(child, time.monotonic())

    def _check(self, child: Child, at: float) -> None:
        if child.restart_at is not None:
            if at >= child.restart_at:
                log(f"restarting {child.name}")
                self._spawn(child)
            return
        code = child.process.poll() if child.process else None
        if code is None:
            return
        stable = at - child.started_at >= STABLE_AFTER
        child.failures = 1 if stable else child.failures + 1
        delay = min(MAX_BACKOFF, 0.5 * 2 ** (child.failures - 1))
        child.restart_at = at + delay
        log(f"{child.name} exited unexpectedly (code {code}); restarting in {delay:.1f}s")

    def watch(self, stop: StopSignal) -> None:
        """Check the children whenever a signal arrives (a child exiting sends SIGCHLD), when a
        restart is due, and every WATCH_INTERVAL seconds in case a signal was missed."""
        while not stop.is_set():
            self.check()
            now = time.monotonic()
            due = [c.restart_at - now for c in self.children if c.restart_at is not None]
            stop.sleep(min([WATCH_INTERVAL, *due]))

    def stop(self, timeout: float = CHILD_STOP_TIMEOUT) -> None:
        running = [c.process for c in self.children if c.process and c.process.poll() is None]
        for process in running:
            process.terminate()
        deadline = time.monotonic() + timeout
        for process in running:
            try:
                process.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def probe_host(host: str) -> str:
    return {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)


def web_url(settings: Settings) -> str:
    host = probe_host(settings.host)
    return f"http://[{host}]:{settings.port}" if ":" in host else f"http://{host}:{settings.port}"


def with_free_port(settings: Settings) -> Settings:
    if settings.port != 0:
        return settings
    with socket.socket() as sock:
        sock.bind((probe_host(settings.host), 0))
        port = sock.getsockname()[1]
    return dataclasses.replace(settings, port=port)


def answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def wait_for_web(settings: Settings, supervisor: Supervisor, stop: StopSignal) -> bool:
    deadline = time.monotonic() + WEB_START_TIMEOUT
    while not stop.is_set() and time.monotonic() < deadline:
        supervisor.check()
        if answers(probe_host(settings.host), settings.port):
            return True
        stop.sleep(0.2)
    return False


def supervise(settings: Settings, on_ready: Callable[[str], None]) -> None:
    """Run the child processes until SIGINT or SIGTERM; ``on_ready(url)`` once the web answers."""
    stop = StopSignal()
    stop.install()
    supervisor = Supervisor(CHILD_PROCESSES, child_env(settings))
    supervisor.start()
    try:
        if wait_for_web(settings, supervisor, stop):
            on_ready(web_url(settings))
            print("Press Ctrl-C to stop.", flush=True)
        elif not stop.is_set():
            log(f"the web server is not answering at {web_url(settings)} yet")
        supervisor.watch(stop)
    finally:
        log("stopping")
        supervisor.stop()


def run_dramatiq(env: dict[str, str]) -> int:
    argv = [sys.executable, "-m", "dramatiq", ACTORS_MODULE, "--processes", "1", "--threads", "4"]
    worker = subprocess.Popen(argv, env=env)
    signal.signal(signal.SIGTERM, lambda signum, frame: worker.send_signal(signum))
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    return worker.wait()
