"""Idle cost: transactions, CPU and memory of an idle ``hallpass run`` (web, projector, worker).

Usage::

    .venv/bin/python bench/idle.py [--seconds 30] [--settle 10] [--database-url URL] [--redis-url URL]

1. Starts a private PostgreSQL server (``pgserver``, in a temporary folder) unless
   ``--database-url`` names one, creates a throwaway database ``bench_idle_<hex>`` on it (dropped
   at the end) and a Redis namespace (its keys deleted at the end), and starts ``hallpass run``
   on them (the demo school is seeded).
2. Waits until ``/readyz`` answers 200, then ``--settle`` seconds more.
3. Over ``--seconds`` seconds of doing nothing, counts the transactions committed in that
   database (``xact_commit`` of ``pg_stat_database``, read from another database so the count
   does not include its own reads) and the CPU time of the whole process tree.
4. Prints transactions per second, CPU as a percentage of one core, and each process's RSS.

The statistics of a backend reach ``pg_stat_database`` when it goes idle (at most a second
late in PostgreSQL 15), so a short wait before each reading lets them arrive. No test asserts
these figures.

Why a private server: a backend that LISTENs runs a transaction of its own each time the server
signals it to read the notification queue, and it is signalled for NOTIFYs sent in *other*
databases of the server too (whenever it is four queue pages behind). Those transactions run no
SQL of ours but count in ``xact_commit`` (they reach it with the listener's next statement, its
30 s check), so on a server where other work sends NOTIFYs the count is that work's, not the
idle system's: hundreds of transactions a minute on the project's shared test server.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import asyncpg
import redis
from scratch import arguments, process_tree, with_database

from hallpass.local.postgres import EmbeddedPostgres

ROOT = Path(__file__).resolve().parent.parent
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / TICKS


def describe(pid: int) -> tuple[str, float]:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
        rss = 0.0
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1]) / 1024
    except OSError:
        return "", 0.0
    return cmdline, rss


async def commits(admin: asyncpg.Connection, name: str) -> int:
    await asyncio.sleep(1.5)  # let idle backends report their statistics
    await admin.execute("SELECT pg_stat_clear_snapshot()")
    value: int = await admin.fetchval("SELECT xact_commit FROM pg_stat_database WHERE datname = $1", name)
    return value


def wait_ready(url: str, process: subprocess.Popen[bytes], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"hallpass run exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/readyz", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise RuntimeError("hallpass run did not become ready")


async def run(args: argparse.Namespace) -> None:
    if args.database_url is not None:
        print(f"server: {args.database_url} (NOTIFYs of its other databases add transactions)")
        await measure(args, args.database_url)
        return
    with tempfile.TemporaryDirectory() as folder:
        server = EmbeddedPostgres(Path(folder) / "postgres", database=None)
        try:
            print("server: a private PostgreSQL (pgserver)")
            await measure(args, server.server_url)
        finally:
            server.close()


async def measure(args: argparse.Namespace, server_url: str) -> None:
    name = f"bench_idle_{secrets.token_hex(4)}"
    namespace = f"hallpass-bench-{secrets.token_hex(4)}"
    admin = await asyncpg.connect(server_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    process: subprocess.Popen[bytes] | None = None
    port = 18000 + secrets.randbelow(2000)
    with tempfile.TemporaryDirectory() as data_dir:
        env = {
            **os.environ,
            "DATABASE_URL": with_database(server_url, name),
            "REDIS_URL": args.redis_url,
            "HALLPASS_REDIS_NAMESPACE": namespace,
            "HALLPASS_DATA_DIR": data_dir,
            "HALLPASS_PORT": str(port),
        }
        try:
            process = subprocess.Popen(  # noqa: ASYNC220 - started once, before measuring
                [sys.executable, "-m", "hallpass.cli", "run"],
                env=env,
                cwd=ROOT,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
            wait_ready(f"http://127.0.0.1:{port}", process)
            await asyncio.sleep(args.settle)
            pids = process_tree(process.pid)
            each_before = {pid: cpu_seconds([pid]) for pid in pids}
            before, cpu_before, started = await commits(admin, name), cpu_seconds(pids), time.monotonic()
            await asyncio.sleep(args.seconds)
            after, cpu_after = await commits(admin, name), cpu_seconds(pids)
            each = {pid: cpu_seconds([pid]) - each_before[pid] for pid in pids}
            elapsed = time.monotonic() - started
            # The reading itself runs in another database; none of these commits are its own.
            count = after - before
            print(f"idle for {elapsed:.0f} s: {count} transactions, {count / elapsed:.2f}/s")
            print(f"CPU of the process tree: {100 * (cpu_after - cpu_before) / elapsed:.2f}% of one core")
            for pid in pids:
                cmdline, rss = describe(pid)
                if cmdline:
                    print(f"  {rss:6.0f} MB  {100 * each[pid] / elapsed:5.2f}% CPU  {cmdline[:90]}")
        finally:
            if process is not None and process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(30)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.close()
            client = redis.Redis.from_url(args.redis_url)
            keys = list(client.scan_iter(match=f"{namespace}*", count=1000))
            if keys:
                client.delete(*keys)
            client.close()


def main() -> None:
    parser = arguments(__doc__)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--settle", type=float, default=10.0)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.set_defaults(database_url=None)  # a private server unless one is named
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
