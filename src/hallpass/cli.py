"""The ``hallpass`` command: run everything locally, one process type, or a maintenance task."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit
from uuid import UUID

import asyncpg
from eventsourcing.persistence import PersistenceError
from rich.console import Console
from rich.progress import MofNCompleteColumn, Progress

from hallpass import bounds, cli_audit, cli_setup, loops
from hallpass.audit.checkpoints import checkpoint_key, sign_periodically
from hallpass.bootstrap import Runtime, build_runtime
from hallpass.commands.admin_messages import SetUp
from hallpass.errors import DomainError
from hallpass.heap import freeze_start_up
from hallpass.local.services import started_services
from hallpass.local.supervisor import (
    STOP_SIGNALS,
    child_env,
    log,
    run_dramatiq,
    sigterm_unwinds,
    supervise,
    with_free_port,
)
from hallpass.projections.health import projection_health
from hallpass.projections.runner import ProjectionRunner, RetryReport
from hallpass.roster import console as roster_console
from hallpass.roster.outcome import ImportOutcome
from hallpass.roster.source import UnreadableRoster
from hallpass.seed import DemoSchool, describe_demo_school, print_welcome, seed_demo_school, welcome
from hallpass.settings import Settings

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
    UnreadableRoster,
    roster_console.ImportRefused,
)


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


@contextlib.contextmanager
def progress_bar(label: str) -> Iterator[Callable[[int, int], None]]:
    """A progress bar on stderr (rich): the log's events done, of how many, and time left."""
    columns = (*Progress.get_default_columns(), MofNCompleteColumn())
    with Progress(*columns, console=Console(stderr=True)) as bar:
        task = bar.add_task(label, total=None)
        yield lambda done, total: bar.update(task, completed=done, total=total)


async def catch_up(runtime: Runtime) -> int:
    total = 0
    for runner in runtime.runners:
        with progress_bar(f"catching up {runner.label}") as shown:
            total += await runner.catch_up(shown)
    return total


async def rebuild(runtime: Runtime) -> int:
    """Rebuild every read model in one pass over the log (decision 057), whichever runner feeds
    it live; return the number of events in the log."""
    runner = ProjectionRunner(runtime.pool, runtime.store, *runtime.projections)
    with progress_bar("rebuilding the read models") as shown:
        return await runner.rebuild(shown)


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
        counts = f"{demo.locations} locations, {demo.staff} staff, {demo.students:,} students"
        address = f"http://{settings.host}:{settings.port}"
        print(
            f"seeded {demo.name}: {counts}\nWhen `hallpass run` (or `hallpass web`) serves it at {address}:"
        )
        print(welcome(demo, address))
    return 0


async def set_up(url: str, values: dict[str, str]) -> str:
    async with opened_runtime(url) as runtime:
        actor, _ = await runtime.app.set_up(bounds.convert(values, SetUp, now=now()), now=now())
        await catch_up(runtime)
        return actor.name


def command_setup(settings: Settings, args: argparse.Namespace) -> int:
    """The first run without the demo: the district, its first school and its administrator."""
    values = cli_setup.answers(args)
    with started_services(settings, redis=False) as resolved:
        name = asyncio.run(set_up(database_url(resolved), values))
    print(
        f"set up {values['district_name']} and {values['school_name']}; {name} signs in as {values['email']}"
    )
    return 0


async def rebuild_read_models(url: str) -> tuple[int, int]:
    async with opened_runtime(url) as runtime:
        return len(runtime.projections), await rebuild(runtime)


def command_rebuild(settings: Settings, args: argparse.Namespace) -> int:
    with started_services(settings, redis=False) as resolved:
        started = time.monotonic()
        models, events = asyncio.run(rebuild_read_models(database_url(resolved)))
    elapsed = time.monotonic() - started
    print(f"rebuilt {models} read models from {events:,} events in {elapsed:.1f}s")
    return 0


def chosen_runners(runtime: Runtime, name: str | None) -> list[ProjectionRunner]:
    names = [p.name for r in runtime.runners for p in r.projections]
    if name is not None and name not in names:
        raise CommandError(f"no projection named {name!r}; the projections are {', '.join(names)}")
    return [r for r in runtime.runners if name is None or name in (p.name for p in r.projections)]


async def projections_status(url: str, name: str | None) -> str:
    async with opened_runtime(url) as runtime:
        runners = chosen_runners(runtime, name)
        projections = [p for r in runners for p in r.chosen(name)]
        health = await projection_health(runtime.pool, runtime.store, projections, now())
        parked = [e for p in projections for e in await runners[0].parked.entries(projection=p.name)]
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
        runners = chosen_runners(runtime, name)
        return [report for r in runners for report in await r.retry_parked(notification_id, name)]


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


async def import_roster(url: str, args: argparse.Namespace) -> ImportOutcome:
    console = Console(stderr=True)
    async with opened_runtime(url) as runtime:
        await catch_up(runtime)  # the import matches a school and its rooms set up by hand by name
        outcome = await roster_console.import_from_path(
            runtime,
            args.path,
            district=args.district,
            dry_run=args.dry_run,
            valid_rows=args.valid_rows,
            console=console,
        )
        if outcome.applied and outcome.events:
            await catch_up(runtime)
    roster_console.describe(outcome, dry_run=args.dry_run, console=Console())
    return outcome


def command_roster_import(settings: Settings, args: argparse.Namespace) -> int:
    """Exit 1 when the files have errors (a dry run included), 0 otherwise."""
    with started_services(settings, redis=False) as resolved:
        outcome = asyncio.run(import_roster(database_url(resolved), args))
    return 0 if outcome.report.ok else 1


async def audit_verify(url: str, secret_key: str, args: argparse.Namespace) -> int:
    async with opened_runtime(url) as runtime:
        with progress_bar("verifying the event log") as shown:
            verification = await cli_audit.run_verify(runtime, secret_key, args, shown)
    return cli_audit.describe(verification)


def command_audit_verify(settings: Settings, args: argparse.Namespace) -> int:
    """Exit 1 when an event or checkpoint does not match."""
    with started_services(settings, redis=False) as resolved:
        return asyncio.run(audit_verify(database_url(resolved), resolved.secret_key, args))


async def audit_checkpoint(url: str, secret_key: str) -> str:
    async with opened_runtime(url) as runtime:
        return await cli_audit.run_checkpoint(runtime, secret_key)


def command_audit_checkpoint(settings: Settings, args: argparse.Namespace) -> int:
    with started_services(settings, redis=False) as resolved:
        print(asyncio.run(audit_checkpoint(database_url(resolved), resolved.secret_key)))
    return 0


# -- process types -------------------------------------------------------------------------


def command_web(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    from hallpass.http.app import create_app

    # Stopped by SIGTERM, it closes its embedded services as on Ctrl-C, and ends with 0.
    with sigterm_unwinds(), started_services(settings) as resolved:
        config = uvicorn.Config(
            create_app(resolved, settle_heap=True),
            host=resolved.host,
            port=resolved.port,
            log_level="warning",
            timeout_graceful_shutdown=3,
        )
        uvicorn.Server(config).run()
    return 0


async def follow_log(url: str, secret_key: str) -> None:
    """Run every projection, and sign a checkpoint of the log every few minutes, until SIGINT or
    SIGTERM; the first failure stops them all."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in STOP_SIGNALS:
        loop.add_signal_handler(sig, stop.set)
    async with opened_runtime(url) as runtime:
        freeze_start_up()
        tasks = [asyncio.create_task(runner.run(stop)) for runner in runtime.runners]
        signing = sign_periodically(
            runtime.pool, runtime.store.events_table, checkpoint_key(secret_key), stop
        )
        tasks.append(asyncio.create_task(signing))
        await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
        stop.set()
        results = await asyncio.gather(*tasks, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result


def command_projector(settings: Settings, args: argparse.Namespace) -> int:
    with started_services(settings, redis=False) as resolved:
        loops.run(follow_log(database_url(resolved), resolved.secret_key))
    return 0


def command_worker(settings: Settings, args: argparse.Namespace) -> int:
    with started_services(settings) as resolved:
        return run_dramatiq(child_env(resolved))


# -- everything together ------------------------------------------------------------------


async def prepare(settings: Settings) -> DemoSchool | None:
    """Create the schema, seed an empty database if wanted, and bring the read models up."""
    async with opened_runtime(database_url(settings)) as runtime:
        if settings.seed_demo:
            seeded = await seed_demo_school(runtime, now=now())
            if seeded is not None:
                log(f"created the demo school {seeded.name}")
        await catch_up(runtime)
        return await describe_demo_school(runtime)


def command_run(settings: Settings, args: argparse.Namespace) -> int:
    # SIGTERM before the supervisor takes the signals (while the schema and the demo are made)
    # closes the embedded services too.
    with sigterm_unwinds(), started_services(settings) as resolved:
        resolved = with_free_port(resolved)
        demo = asyncio.run(prepare(resolved))
        supervise(resolved, on_ready=lambda url: print_welcome(demo, url))
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
    cli_setup.add_arguments(
        add(
            "setup",
            command_setup,
            "set up an empty database: district, first school, administrator",
        )
    )
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
    roster = add("roster", command_roster_import, "OneRoster CSV roster files")
    roster_actions = roster.add_subparsers(dest="action", required=True, metavar="ACTION")
    imports = roster_actions.add_parser(
        "import", help="import a OneRoster 1.1 or 1.2 roster (zip file or folder) into a district"
    )
    imports.add_argument("path", type=Path, metavar="PATH", help="a zip file or a folder of CSV files")
    imports.add_argument("--district", type=UUID, metavar="ID", help="the district (default: the only one)")
    imports.add_argument("--dry-run", action="store_true", help="print what would change; change nothing")
    imports.add_argument(
        "--valid-rows", action="store_true", help="import the rows without errors even if others have some"
    )
    cli_audit.add_arguments(
        add("audit", command_audit_verify, "tamper evidence of the event log"),
        command_audit_verify,
        command_audit_checkpoint,
    )
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
