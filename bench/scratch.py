"""What the benches share: a throwaway database of their own, and the processes they started."""

from __future__ import annotations

import argparse
import math
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from hallpass import loops

SERVER_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
T = TypeVar("T")
Counts = Mapping[str, int | tuple[int, str]]
"""Whole-number options of a bench: `--name` to its default, or to its default and its help."""


def with_database(url: str, name: str) -> str:
    """`url` pointing at database `name` on the same server."""
    return urlunsplit(urlsplit(url)._replace(path="/" + name))


def arguments(
    doc: str | None, *, database_url: str = SERVER_URL, counts: Counts | None = None
) -> argparse.ArgumentParser:
    """A bench's command line: its docstring as the help, the server it may create databases on,
    and its whole-number options (`counts`)."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--database-url", default=database_url, help="a server where the user may create databases"
    )
    for option, given in (counts or {}).items():
        default, explained = given if isinstance(given, tuple) else (given, None)
        parser.add_argument(option, type=int, default=default, help=explained)
    return parser


async def _on_server(admin_url: str, statement: str) -> None:
    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


async def create_database(admin_url: str, name: str) -> None:
    await _on_server(admin_url, f'CREATE DATABASE "{name}"')


async def drop_database(admin_url: str, name: str) -> None:
    await _on_server(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@asynccontextmanager
async def scratch_database(admin_url: str, prefix: str) -> AsyncIterator[str]:
    """A new database `<prefix>_<random>` on the server of `admin_url`; dropped afterwards,
    whatever happened. Yields its URL."""
    name = f"{prefix}_{secrets.token_hex(4)}"
    await create_database(admin_url, name)
    try:
        yield with_database(admin_url, name)
    finally:
        await drop_database(admin_url, name)


async def in_scratch_database(admin_url: str, prefix: str, work: Callable[[str], Awaitable[T]]) -> T:
    """What `work` returns, given the URL of a scratch database (see `scratch_database`)."""
    async with scratch_database(admin_url, prefix) as url:
        return await work(url)


def measure_and_print(
    doc: str | None,
    prefix: str,
    measure: Callable[[str, argparse.Namespace], Awaitable[str]],
    counts: Counts,
    argv: list[str] | None = None,
) -> int:
    """A whole bench: its command line (see `arguments`), then what `measure` answers given a
    scratch database named after `prefix` and the parsed options, printed."""
    args = arguments(doc, counts=counts).parse_args(argv)
    print(loops.run(in_scratch_database(args.database_url, prefix, lambda url: measure(url, args))))
    return 0


def process_tree(pid: int) -> list[int]:
    """`pid` and every process below it (from /proc), e.g. to add up their CPU or memory."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


def rss_mb(pid: int) -> float:
    """Resident memory of a process now, in MB (Linux /proc); NaN where it cannot be read."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return math.nan


async def timings(call: Callable[[], Awaitable[Any]], runs: int, warmup: int = 3) -> list[float]:
    """Milliseconds each of `runs` calls took, after `warmup` calls that are not counted."""
    for _ in range(min(warmup, runs)):
        await call()
    out = []
    for _ in range(runs):
        started = time.perf_counter()
        await call()
        out.append((time.perf_counter() - started) * 1000)
    return out


def pct(values: list[float], q: float) -> float:
    """The `q` quantile of `values` (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]
