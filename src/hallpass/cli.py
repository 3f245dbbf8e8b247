"""The ``hallpass`` command: run everything locally, one process type, or a maintenance task."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import importlib
import importlib.util
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from types import FrameType
from typing import TextIO
from urllib.parse import urlsplit, urlunsplit

import asyncpg
from eventsourcing.persistence import PersistenceError

from hallpass.bootstrap import Runtime, build_runtime
from hallpass.errors import DomainError
from hallpass.local.services import ensure_services
from hallpass.projections.health import projection_health
from hallpass.projections.runner import ProjectionRunner, RetryReport
from hallpass.seed import DemoSchool, describe_demo_school, print_welcome, seed_demo_school
from hallpass.settings import Settings

CHILD_PROCESSES = ("web", "projector", "worker")
ACTORS_MODULE = "hallpass.timers.actors"
BROKER_MODULE = "hallpass.timers.broker"
NO_REDIS_NEEDED = "redis://redis-not-needed.invalid"
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
WEB_START_TIMEOUT = 60.0
CHILD_STOP_TIMEOUT = 10.0
STABLE_AFTER = 30.0
MAX_BACKOFF = 30.0

Command = Callable[[Settings, argparse.Namespace], int]


class CommandError(Exception):
    """A failure reported to the user in one line."""


REPORTED_ERRORS = (
    CommandError,
    ValueError,
    RuntimeError,
    OSError,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    PersistenceError,
    DomainError,
)


def log(message: str) -> None:
    print(f"hallpass: {message}", file=sys.stderr, flush=True)


def now() -> datetime:
    return datetime.now(UTC)


# -- services and the runtime --------------------------------------------------------------


def redacted(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def database_url(settings: Settings) -> str:
    if settings.database_url is None:
        raise CommandError("no database configured")
    return settings.database_url


@contextlib.contextmanager
def started_services(settings: Settings, *, redis: bool = True) -> Iterator[Settings]:
    """Settings with concrete service URLs, starting embedded servers for missing ones."""
    wanted = settings
    if not redis and settings.redis_url is None:
        wanted = dataclasses.replace(settings, redis_url=NO_REDIS_NEEDED)
    services = ensure_services(wanted)
    try:
        redis_url = services.redis_url if redis else settings.redis_url
        yield dataclasses.replace(settings, database_url=services.database_url, redis_url=redis_url)
    finally:
        services.close()


@contextlib.asynccontextmanager
async def opened_runtime(url: str) -> AsyncIterator[Runtime]:
    try:
        runtime = await build_runtime(url)
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as e:
        raise CommandError(f"cannot use the database at {redacted(url)}: {e}") from e
    try:
        yield runtime
    finally:
        await runtime.close()


# -- progress ------------------------------------------------------------------------------


class ProgressBar:
    """``label [#####.....] 1234/5678`` redrawn in place on one line."""

    def __init__(self, label: str, stream: TextIO | None = None, width: int = 30) -> None:
        self.label = label
        self.stream = stream or sys.stderr
        self.width = width
        self._last = ""

    def __call__(self, done: int, total: int) -> None:
        filled = self.width * done // total if total else self.width
        bar = "#" * filled + "." * (self.width - filled)
        line = f"\r{self.label} [{bar}] {done:,}/{total:,}"
        if line != self._last:
            self._last = line
            self.stream.write(line)
            self.stream.flush()

    def finish(self) -> None:
        if self._last:
            self.stream.write("\n")
            self.stream.flush()


async def catch_up(runtime: Runtime) -> int:
    total = 0
    for runner in runtime.runners:
        bar = ProgressBar(f"catching up {runner.projection.name}")
        total += await runner.catch_up(bar)
        bar.finish()
    return total


async def rebuild(runtime: Runtime) -> int:
    """Rebuild every read model; return the number of events in the log."""
    events = 0
    for runner in runtime.runners:
        bar = ProgressBar(f"rebuilding {runner.projection.name}")
        events = max(events, await runner.rebuild(bar))
        bar.finish()
    return events


# -- maintenance commands ------------------------------------------------------------------


async def create_schema(url: str) -> None:
    async with opened_runtime(url):
        pass


def command_migrate(settings: Settings, args: argparse.Namespace) -> int:
    with started_services(settings, redis=False) as resolved:
        asyncio.run(create_schema(database_url(resolved)))
    print("the database schema is up to date")
    return 0


async def seed(url: str) -> DemoSchool | None:
    async with opened_runtime(url) as runtime:
        demo = await seed_demo_school(runtime, now=now())
        if demo is not None:
            await catch_up(runtime)
        return demo


def command_seed(settings: Settings, args: argparse.Namespace) -> int:
    with started_services(settings, redis=False) as resolved:
        demo = asyncio.run(seed(database_url(resolved)))
    if demo is None:
        print("the database already holds data; nothing seeded")
    else:
        print(
            f"seeded {demo.name}: {demo.locations} locations, {demo.staff} staff, {demo.students:,} students"
        )
    return 0


async def rebuild_read_models(url: str) -> tuple[int, int]:
    async with opened_runtime(url) as runtime:
        return len(runtime.runners), await rebuild(runtime)


def command_rebuild(settings: Settings, args: argparse.Namespace) -> int:
    with started_services(settings, redis=False) as resolved:
        started = time.monotonic()
        models, events = asyncio.run(rebuild_read_models(database_url(resolved)))
    elapsed = time.monotonic() - started
    print(f"rebuilt {models} read models from {events:,} events in {elapsed:.1f}s")
    return 0


def chosen_runners(runtime: Runtime, name: str | None) -> list[ProjectionRunner]:
    names = [r.projection.name for r in runtime.runners]
    if name is not None and name not in names:
        raise CommandError(f"no projection named {name!r}; the projections are {', '.join(names)}")
    return [r for r in runtime.runners if name is None or r.projection.name == name]


async def projections_status(url: str, name: str | None) -> str:
    async with opened_runtime(url) as runtime:
        runners = chosen_runners(runtime, name)
        health = await projection_health(runtime.pool, runtime.store, [r.projection for r in runners], now())
        parked = [p for r in runners for p in await r.parked.entries(projection=r.projection.name)]
    lines = [f"{'projection':<14} {'position':>10} {'head':>10} {'behind':>8} {'lag (s)':>9} {'parked':>7}"]
    lines += [
        f"{h.name:<14} {h.position:>10,} {h.head:>10,} {h.lag_events:>8,}"
        f" {h.lag_seconds:>9.1f} {h.parked:>7,}"
        for h in health
    ]
    if parked:
        lines += ["", "parked events (replay them with `hallpass projections retry` once fixed):"]
        lines += [
            f"  {p.projection} #{p.notification_id} {p.topic} stream {p.originator_id}"
            f" v{p.originator_version}, parked {p.parked_at:%Y-%m-%d %H:%M:%S %Z},"
            f" {p.attempts} attempt{'s' if p.attempts != 1 else ''}: {p.error}"
            for p in sorted(parked, key=lambda p: (p.notification_id, p.projection))
        ]
    else:
        lines += ["", "no parked events"]
    return "\n".join(lines)


def command_status(settings: Settings, args: argparse.Namespace) -> int:
    with started_services(settings, redis=False) as resolved:
        print(asyncio.run(projections_status(database_url(resolved), args.projection)))
    return 0


async def retry_parked(url: str, name: str | None, notification_id: int | None) -> list[RetryReport]:
    async with opened_runtime(url) as runtime:
        return [await r.retry_parked(notification_id) for r in chosen_runners(runtime, name)]


def command_retry(settings: Settings, args: argparse.Namespace) -> int:
    """Replay parked events; exit 1 if any of those asked for are still parked."""
    with started_services(settings, redis=False) as resolved:
        reports = asyncio.run(retry_parked(database_url(resolved), args.projection, args.id))
    still = 0
    for report in reports:
        if report.applied or report.still_parked:
            print(
                f"{report.projection}: applied {len(report.applied)}, still parked {len(report.still_parked)}"
                + (f" ({', '.join(map(str, report.still_parked))})" if report.still_parked else "")
            )
        still += len(report.still_parked)
    if not any(r.applied or r.still_parked for r in reports):
        print("no parked events to retry" if args.id is None else f"event {args.id} is not parked")
    if still:
        print("see `hallpass projections status` for the errors", file=sys.stderr)
    return 1 if still else 0


# -- process types -------------------------------------------------------------------------


def command_web(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    from hallpass.http.app import create_app

    with started_services(settings) as resolved:
        config = uvicorn.Config(
            create_app(resolved),
            host=resolved.host,
            port=resolved.port,
            log_level="warning",
            timeout_graceful_shutdown=3,
        )
        uvicorn.Server(config).run()
    return 0


async def follow_log(url: str) -> None:
    """Run every projection until SIGINT or SIGTERM; the first failure stops them all."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in STOP_SIGNALS:
        loop.add_signal_handler(sig, stop.set)
    async with opened_runtime(url) as runtime:
        tasks = [asyncio.create_task(runner.run(stop)) for runner in runtime.runners]
        await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
        stop.set()
        results = await asyncio.gather(*tasks, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result


def command_projector(settings: Settings, args: argparse.Namespace) -> int:
    with started_services(settings, redis=False) as resolved:
        asyncio.run(follow_log(database_url(resolved)))
    return 0


def module_exists(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:
        return False


def wait_for_stop_signal() -> None:
    signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    signal.sigwait(STOP_SIGNALS)


def configure_broker(settings: Settings) -> None:
    if module_exists(BROKER_MODULE):
        configure = getattr(importlib.import_module(BROKER_MODULE), "configure", None)
        if callable(configure):
            configure(settings)


def run_dramatiq(env: dict[str, str]) -> int:
    argv = [sys.executable, "-m", "dramatiq", ACTORS_MODULE, "--processes", "1", "--threads", "4"]
    worker = subprocess.Popen(argv, env=env)
    signal.signal(signal.SIGTERM, lambda signum, frame: worker.send_signal(signum))
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    return worker.wait()


def command_worker(settings: Settings, args: argparse.Namespace) -> int:
    if not module_exists(ACTORS_MODULE):
        print("hallpass worker: no timer actors installed; waiting", flush=True)
        wait_for_stop_signal()
        return 0
    with started_services(settings) as resolved:
        configure_broker(resolved)
        return run_dramatiq(child_env(resolved))


# -- supervision ---------------------------------------------------------------------------


def child_env(settings: Settings) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url(settings),
        REDIS_URL=settings.redis_url or "",
        HALLPASS_SECRET_KEY=settings.secret_key,
        HALLPASS_DATA_DIR=str(settings.data_dir),
        HALLPASS_HOST=settings.host,
        HALLPASS_PORT=str(settings.port),
        HALLPASS_REDIS_NAMESPACE=settings.redis_namespace,
        PYTHONUNBUFFERED="1",
    )
    return env


class StopSignal:
    """Set by SIGINT or SIGTERM once installed."""

    def __init__(self) -> None:
        self.received: int | None = None

    def install(self) -> None:
        for sig in STOP_SIGNALS:
            signal.signal(sig, self._handle)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self.received = signum

    def is_set(self) -> bool:
        return self.received is not None

    def sleep(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while not self.is_set() and time.monotonic() < deadline:
            time.sleep(min(0.1, seconds))


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
        while not stop.is_set():
            self.check()
            stop.sleep(0.25)

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


async def prepare(settings: Settings) -> DemoSchool | None:
    """Create the schema, seed an empty database if wanted, and bring the read models up."""
    async with opened_runtime(database_url(settings)) as runtime:
        if settings.seed_demo:
            seeded = await seed_demo_school(runtime, now=now())
            if seeded is not None:
                log(f"created the demo school {seeded.name}")
        await catch_up(runtime)
        return await describe_demo_school(runtime)


def supervise(settings: Settings, demo: DemoSchool | None) -> None:
    stop = StopSignal()
    stop.install()
    supervisor = Supervisor(CHILD_PROCESSES, child_env(settings))
    supervisor.start()
    try:
        if wait_for_web(settings, supervisor, stop):
            print_welcome(demo, web_url(settings))
            print("Press Ctrl-C to stop.", flush=True)
        elif not stop.is_set():
            log(f"the web server is not answering at {web_url(settings)} yet")
        supervisor.watch(stop)
    finally:
        log("stopping")
        supervisor.stop()


def command_run(settings: Settings, args: argparse.Namespace) -> int:
    with started_services(settings) as resolved:
        resolved = with_free_port(resolved)
        demo = asyncio.run(prepare(resolved))
        supervise(resolved, demo)
    return 0


# -- entry point ---------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hallpass", description="Digital hall passes.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, handler: Command, help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text)
        sub.set_defaults(handler=handler)
        return sub

    add("run", command_run, "start the web server, projector and worker, and supervise them")
    add("web", command_web, "serve the web application")
    add("projector", command_projector, "keep the read models up to date")
    add("worker", command_worker, "run the background timer worker")
    add("migrate", command_migrate, "create or update the database schema, then exit")
    add("seed", command_seed, "create the demo school in an empty database")
    projections = add("projections", command_rebuild, "manage the read models")
    actions = projections.add_subparsers(dest="action", required=True, metavar="ACTION")
    actions.add_parser("rebuild", help="rebuild every read model from the event log")
    status = actions.add_parser(
        "status", help="each read model's position, lag behind the log and parked events"
    )
    status.add_argument("--projection", metavar="NAME", help="only this projection")
    status.set_defaults(handler=command_status)
    retry = actions.add_parser("retry", help="replay parked events after a fix; exit 1 if any stay parked")
    retry.add_argument("--projection", metavar="NAME", help="only this projection's parked events")
    retry.add_argument("--id", type=int, metavar="N", help="only the event with this notification id")
    retry.set_defaults(handler=command_retry)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler: Command = args.handler
    try:
        return handler(Settings.from_env(), args)
    except KeyboardInterrupt:
        return 130
    except REPORTED_ERRORS as e:
        print(f"hallpass {args.command}: {str(e) or type(e).__name__}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
