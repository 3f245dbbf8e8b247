"""Hall pass commands per second through HTTP, beside the pgbench ceiling on the same server.

Usage::

    .venv/bin/python bench/passes.py [--clients 1,16,64] [--seconds 10] [--web-processes N]
        [--no-stock] [--database-url URL]

1. Creates a throwaway database ``bench_<hex>`` on the server (dropped at the end, even on Ctrl-C).
2. Ceiling: pgbench runs ``BEGIN; LOCK TABLE ... IN EXCLUSIVE MODE; INSERT one event-like row;
   COMMIT`` in that database at each client count.
3. The real system: child processes (this script with ``--serve-projector`` and ``--serve``) run
   the projection runners and N web processes under uvicorn sharing one port, as ``hallpass run``
   separates them; this process drives concurrent client loops, each with its own students,
   doing create (one student) then complete, and times every request. For 1 in 20 created
   passes it polls the ``pass_list`` read model until the row is visible.
4. The baseline: eventsourcing's stock ``Application`` (bench/stock.py, ``--serve-stock``) doing
   the same create/complete on the same server, in the same number of web processes.

No test asserts a time; this prints figures only.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import importlib.metadata
import math
import os
import platform
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from uuid import UUID, uuid4

import asyncpg
import httpx
from scratch import create_database, drop_database, rss_mb, with_database
from wire import Answer, WireClient, WireError

from hallpass.loops import run as run_loop

ROOT = Path(__file__).resolve().parent.parent
BENCH = str(ROOT / "bench")
DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
SAMPLE_EVERY = 20  # poll the read model for 1 in this many created passes
POLL_INTERVAL = 0.001
POLL_LIMIT = 5.0
CLASH_COUNT_EVERY = 0.1  # seconds between a web process's writes of its clash count
PAYLOAD_BYTES = 240  # about the size of a hall pass event's state (measured: ~230 bytes)
CEILING_TABLE = """
CREATE TABLE bench_ceiling (
    originator_id uuid NOT NULL,
    originator_version bigint NOT NULL,
    topic text NOT NULL,
    state bytea,
    notification_id bigserial,
    PRIMARY KEY (originator_id, originator_version)
);
CREATE UNIQUE INDEX bench_ceiling_notification_id_idx ON bench_ceiling (notification_id);
"""
# No ':' inside the literal: pgbench would read ":name" as a variable.
CEILING_SCRIPT = f"""BEGIN;
LOCK TABLE bench_ceiling IN EXCLUSIVE MODE;
INSERT INTO bench_ceiling (originator_id, originator_version, topic, state) VALUES (gen_random_uuid(), 1, \
'hallpass.aggregates.passes.Pass.Created', convert_to(repeat('x', {PAYLOAD_BYTES}), 'UTF8'));
COMMIT;
"""

T = TypeVar("T")
CHILDREN: list[subprocess.Popen[bytes]] = []  # stopped by main() whatever happens


def use_tests_support() -> None:
    """Make ``support`` (tests/support) importable, as pytest's ``pythonpath`` does."""
    tests = str(ROOT / "tests")
    if tests not in sys.path:
        sys.path.insert(0, tests)


def event_loop_name() -> str:
    try:
        return f"uvloop {importlib.metadata.version('uvloop')}"
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover
        return "asyncio"


# -- the server child ----------------------------------------------------------------------------


def reuse_port_socket(port: int) -> socket.socket:
    """A listening socket that several server processes share; the kernel spreads connections."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(2048)
    return sock


async def serve_until_orphaned(server: Any, port: int) -> None:
    parent = os.getppid()

    async def exit_when_orphaned() -> None:
        while not server.should_exit:
            if os.getppid() != parent:
                server.should_exit = True
            await asyncio.sleep(0.5)

    async def announce() -> None:
        while not server.started:  # noqa: ASYNC110 - uvicorn offers no event for it
            await asyncio.sleep(0.05)
        print("ready", flush=True)

    watchdog = asyncio.create_task(exit_when_orphaned())
    announcer = asyncio.create_task(announce())
    try:
        await server.serve(sockets=[reuse_port_socket(port)])
    finally:
        watchdog.cancel()
        announcer.cancel()


async def count_clashes(runtime: Any, folder: str) -> None:
    """Keep `folder`/clashes.<pid> holding how many of this process's saves have clashed."""
    path = Path(folder) / f"clashes.{os.getpid()}"
    written = None
    while True:
        if runtime.app.repository.clashes != written:
            written = runtime.app.repository.clashes
            path.write_text(str(written))
        await asyncio.sleep(CLASH_COUNT_EVERY)


def clashes_in(folder: Path) -> int:
    """The web processes' clashed saves so far (`count_clashes`)."""
    return sum(int(p.read_text() or 0) for p in folder.glob("clashes.*"))


async def serve(database_url: str, port: int, clash_dir: str | None = None) -> None:
    """One web process, as ``hallpass web`` runs it: the app under uvicorn, no projectors."""
    use_tests_support()
    import uvicorn

    from hallpass.bootstrap import build_runtime
    from hallpass.http.app import create_app
    from hallpass.settings import Settings
    from support.server import SECRET

    with tempfile.TemporaryDirectory(prefix="hallpass-bench-") as data_dir:
        settings = Settings(
            database_url=database_url, redis_url=None, data_dir=Path(data_dir), secret_key=SECRET
        )
        runtime = await build_runtime(database_url)
        config = uvicorn.Config(
            create_app(settings, runtime=runtime, settle_heap=True),
            log_level="warning",
            lifespan="on",
            access_log=False,
        )
        counting = asyncio.create_task(count_clashes(runtime, clash_dir)) if clash_dir else None
        try:
            await serve_until_orphaned(uvicorn.Server(config), port)
        finally:
            if counting is not None:
                counting.cancel()
            await runtime.close()


@dataclass
class LagRecorder:
    """Appends, for each event of a committed batch, the time, the seconds since its timestamp,
    the kind of read models and the event's notification id."""

    path: str
    file: Any = None

    def __post_init__(self) -> None:
        self.file = Path(self.path).open("a", encoding="utf-8")  # noqa: SIM115 - closed at exit

    def runner(self, serving: bool) -> Callable[[dict[int, Any]], None]:
        """What a runner tells; `serving`: it feeds read models that answers wait for."""
        kind = "serving" if serving else "background"

        def visible(events: dict[int, Any]) -> None:
            now = time.time()
            stamps = [
                (n, e.timestamp.timestamp())
                for n, e in events.items()
                if getattr(e, "timestamp", None) is not None
            ]
            self.file.write("".join(f"{now:.6f} {now - t:.6f} {kind} {n}\n" for n, t in stamps))
            self.file.flush()

        return visible


async def serve_projector(database_url: str, lag_file: str | None) -> None:
    """The projector process, as ``hallpass projector`` runs it: every projection runner.

    With `lag_file`, each batch appends a line per event once its transaction has committed:
    the wall-clock time then and the seconds since the event's own timestamp (taken by the
    command before it appended the event, so an upper bound on commit -> visible).
    """
    use_tests_support()
    from hallpass.bootstrap import build_runtime
    from hallpass.heap import freeze_start_up
    from support.server import projectors

    parent = os.getppid()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    runtime = await build_runtime(database_url)
    lags = LagRecorder(lag_file) if lag_file else None
    if lags is not None:
        for runner in runtime.runners:
            runner.on_visible = lags.runner(any(p.serves_requests for p in runner.projections))
    freeze_start_up()
    try:
        async with projectors(runtime):
            print("ready", flush=True)
            while not stop.is_set() and os.getppid() == parent:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), 0.5)
    finally:
        await runtime.close()
        if lags is not None:
            lags.file.close()


async def serve_stock(database_url: str, port: int) -> None:
    """One web process of the stock eventsourcing baseline (bench/stock.py)."""
    import uvicorn

    sys.path.insert(0, BENCH)
    create_stock_app = importlib.import_module("stock").create_stock_app

    config = uvicorn.Config(
        create_stock_app(database_url), log_level="warning", lifespan="on", access_log=False
    )
    await serve_until_orphaned(uvicorn.Server(config), port)


def start_child(*args: str) -> subprocess.Popen[bytes]:
    child = subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve()), *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,  # it says "ready" there
        start_new_session=True,  # Ctrl-C reaches only us; we stop the child in order
    )
    CHILDREN.append(child)
    return child


def stop_server(child: subprocess.Popen[bytes]) -> None:
    if child.poll() is not None:
        return
    child.terminate()
    try:
        child.wait(timeout=15)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait(timeout=5)


async def wait_ready(child: subprocess.Popen[bytes], limit: float = 120) -> None:
    """Wait until the child prints "ready" (uvicorn accepting, or the projector running)."""
    assert child.stdout is not None
    try:
        line = await asyncio.wait_for(asyncio.to_thread(child.stdout.readline), limit)
    except TimeoutError:
        raise RuntimeError(f"a server process was not ready within {limit:.0f}s") from None
    if line.strip() != b"ready":
        raise RuntimeError(f"a server process exited with code {child.wait()}")


# -- database ------------------------------------------------------------------------------------


@dataclass
class Facts:
    cpus: int
    postgres: str
    synchronous_commit: str
    fsync: str
    max_connections: str


async def server_facts(url: str) -> Facts:
    conn = await asyncpg.connect(url)
    try:
        return Facts(
            cpus=os.cpu_count() or 0,
            postgres=str(await conn.fetchval("SHOW server_version")),
            synchronous_commit=str(await conn.fetchval("SHOW synchronous_commit")),
            fsync=str(await conn.fetchval("SHOW fsync")),
            max_connections=str(await conn.fetchval("SHOW max_connections")),
        )
    finally:
        await conn.close()


# -- the ceiling: pgbench ------------------------------------------------------------------------

TPS = re.compile(r"^tps = ([0-9.]+) \(without initial connection time\)", re.MULTILINE)
ANY_TPS = re.compile(r"^tps = ([0-9.]+)", re.MULTILINE)


async def pgbench(url: str, script: Path, clients: int, seconds: float) -> float:
    args = [
        "pgbench", "-n", "-f", str(script), "-c", str(clients), "-j", str(min(clients, 2)),
        "-T", str(max(1, round(seconds))), "-M", "prepared", url,
    ]  # fmt: skip
    proc = await asyncio.create_subprocess_exec(
        *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout=seconds + 60)
    except BaseException:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        raise
    text = out.decode(errors="replace")
    found = TPS.search(text) or ANY_TPS.search(text)
    if proc.returncode != 0 or found is None or "aborted" in err.decode(errors="replace"):
        raise RuntimeError(f"pgbench failed ({proc.returncode}):\n{text}\n{err.decode(errors='replace')}")
    return float(found.group(1))


@dataclass(frozen=True)
class Ceiling:
    """pgbench's locked appends per second at one client count, and where the CPU went."""

    tps: float
    census: dict[str, float]  # Census.since over the pgbench run

    def per_transaction(self, of: str) -> str:
        """CPU milliseconds per transaction that `of` (a key of `Census.since`) spent."""
        spent, done = self.census.get(of, math.nan), self.tps * self.census.get("wall", math.nan)
        return "-" if math.isnan(spent) or not done or math.isnan(done) else f"{spent / done * 1000:.2f}"


async def measure_ceiling(url: str, client_counts: list[int], seconds: float) -> dict[int, Ceiling]:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(CEILING_TABLE)
    finally:
        await conn.close()
    results: dict[int, Ceiling] = {}
    with tempfile.TemporaryDirectory(prefix="hallpass-bench-") as tmp:
        script = Path(tmp) / "ceiling.sql"
        script.write_text(CEILING_SCRIPT)
        for n in client_counts:
            before = Census.now()
            tps = await pgbench(url, script, n, seconds)
            results[n] = Ceiling(tps, Census.now().since(before))
            print(f"  ceiling  clients={n:<3} {tps:8.0f} tps", file=sys.stderr)
    return results


# -- the real system: HTTP client loops ----------------------------------------------------------


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)  # seconds, successful commands only
    conflicts: int = 0  # 409 answers
    other_errors: int = 0  # any other non-2xx answer
    failures: int = 0  # timeouts and transport errors
    lag_after_response: list[float] = field(default_factory=list)
    lag_after_send: list[float] = field(default_factory=list)
    visible_at_first_poll: int = 0
    never_visible: int = 0
    statuses: dict[str, int] = field(default_factory=dict)

    def error(self, response: Answer) -> None:
        if response.status_code == 409:
            self.conflicts += 1
        else:
            self.other_errors += 1
        try:
            code = str(response.json()["error"]["code"])
        except Exception:
            code = "?"
        key = f"{response.status_code} {code}"
        self.statuses[key] = self.statuses.get(key, 0) + 1


@dataclass
class Plan:
    origin: UUID
    destination: UUID
    students: list[UUID]


async def visible_at(pool: asyncpg.Pool, pass_id: UUID, responded: float, tally: Tally) -> float | None:
    """Poll ``pass_list`` every millisecond until the pass shows; return when it was seen."""
    async with pool.acquire() as conn:
        polls = 0
        while True:
            found = await conn.fetchval("SELECT 1 FROM pass_list WHERE pass_id = $1", pass_id)
            seen = time.perf_counter()
            polls += 1
            if found:
                if polls == 1:
                    tally.visible_at_first_poll += 1
                return seen
            if seen - responded > POLL_LIMIT:
                tally.never_visible += 1
                return None
            await asyncio.sleep(POLL_INTERVAL)


async def timed(call: Awaitable[Answer], tally: Tally) -> tuple[Answer | None, float, float]:
    sent = time.perf_counter()
    try:
        response = await call
    except WireError:
        tally.failures += 1
        return None, sent, time.perf_counter()
    return response, sent, time.perf_counter()


async def client_loop(
    api: WireClient, plan: Plan, deadline: float, tally: Tally, poller: asyncpg.Pool, *, sample: bool
) -> None:
    create = {"origin_id": str(plan.origin), "destination_id": str(plan.destination)}
    students = list(plan.students)
    turn = 0
    while students and time.perf_counter() < deadline:
        student = students[turn % len(students)]
        turn += 1
        created, sent, responded = await timed(
            api.post("/api/v1/passes", json={**create, "student_ids": [str(student)]}), tally
        )
        if created is None:
            students.remove(student)  # it may have been created after all; never reuse the student
            continue
        if not created.is_success:
            tally.error(created)
            await asyncio.sleep(0.01)
            continue
        tally.latencies.append(responded - sent)
        pass_id = str(created.json()["passes"][0]["id"])
        if sample and turn % SAMPLE_EVERY == 1:
            seen = await visible_at(poller, UUID(pass_id), responded, tally)
            if seen is not None:
                tally.lag_after_response.append(seen - responded)
                tally.lag_after_send.append(seen - sent)
        completed, sent, responded = await timed(
            api.post(f"/api/v1/passes/{pass_id}/complete", json={}), tally
        )
        if completed is None or not completed.is_success:
            if completed is not None:
                tally.error(completed)
            students.remove(student)  # still out (or unknown): leave it be
            continue
        tally.latencies.append(responded - sent)


@dataclass
class Run:
    clients: int
    seconds: float
    tally: Tally
    events: int
    cpu_web: float = math.nan  # CPU seconds the web processes used during the run
    cpu_projector: float = math.nan
    rss_web: float = math.nan  # peak resident MB of the largest web process during the run
    rss_projector: float = math.nan
    # Per event committed during the run: event timestamp -> visible in the read models (s), in
    # those that answers wait for and in those only background work reads.
    event_to_visible: list[float] = field(default_factory=list)
    event_to_background: list[float] = field(default_factory=list)
    census: dict[str, float] = field(default_factory=dict)  # Census.since over the run
    clashes: int = 0  # the web processes' saves that clashed with another's append (decided again)
    # Per event, the commit PostgreSQL recorded -> visible (s), by kind; None: not recorded.
    commit_to_visible: dict[str, list[float]] | None = None


def cpu_seconds(child: subprocess.Popen[bytes] | int, *, reaped: bool = False) -> float:
    """User + system CPU time of a process so far (Linux /proc), NaN elsewhere. `reaped`: with
    that of its children it has waited for (the postmaster reaps each backend that ends, a pool's
    connection closed during the run, which would otherwise take its time out of a sum)."""
    pid = child if isinstance(child, int) else child.pid
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return math.nan
    return sum(int(f) for f in fields[11 : 15 if reaped else 13]) / os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Census:
    """Where the machine's CPU time went between two readings (Linux /proc), to tell a run bound
    by the cores from one bound by waiting: the whole machine's busy time, this process's (the
    load generator), and the PostgreSQL server's (every process named ``postgres``, so other
    work on the same server counts too; on a quiet machine it is this run's)."""

    at: float
    machine: float  # busy CPU seconds of every core (user, nice, system, irq, softirq, steal)
    load_generator: float
    postgres: float

    @classmethod
    def now(cls) -> Census:
        try:
            ticks = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        except OSError:
            return cls(time.monotonic(), math.nan, time.process_time(), math.nan)
        hz = os.sysconf("SC_CLK_TCK")
        busy = (sum(ticks[:8]) - ticks[3] - ticks[4]) / hz  # all but idle and iowait
        server = (cpu_seconds(pid, reaped=True) for pid in _postgres_pids())
        return cls(time.monotonic(), busy, time.process_time(), sum(t for t in server if not math.isnan(t)))

    def since(self, before: Census) -> dict[str, float]:
        """CPU seconds spent since `before`, and the wall seconds between the readings."""
        return {
            "wall": self.at - before.at,
            "machine": self.machine - before.machine,
            "load generator": self.load_generator - before.load_generator,
            "postgres": self.postgres - before.postgres,
        }


def _postgres_pids() -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if (entry / "comm").read_text().strip() == "postgres":
                    pids.append(int(entry.name))
    return pids


async def sample_rss(children: list[subprocess.Popen[bytes]], peak: list[float], stop: asyncio.Event) -> None:
    """Keep the peak RSS of each child in `peak` until `stop` is set (every 0.5 s)."""
    while not stop.is_set():
        for n, child in enumerate(children):
            peak[n] = max(peak[n], rss_mb(child.pid))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 0.5)


async def run_loops(
    loops: list[asyncio.Task[None]], started: float, seconds: float, closing: list[Coroutine[Any, Any, None]]
) -> float:
    """Wait for the client loops (cancelling any that overrun), close the clients, re-raise a
    loop's failure; return the seconds elapsed since `started`."""
    try:
        _, late = await asyncio.wait(loops, timeout=seconds + 120)
        if late:
            print(f"  warning: {len(late)} client loops overran; counting what finished", file=sys.stderr)
    finally:
        elapsed = time.perf_counter() - started
        for loop in loops:
            loop.cancel()
        outcomes = await asyncio.gather(*loops, return_exceptions=True)
        await asyncio.gather(*closing, return_exceptions=True)
    for outcome in outcomes:
        if isinstance(outcome, Exception) and not isinstance(outcome, asyncio.CancelledError):
            raise outcome
    return elapsed


async def drive(
    base_url: str, token: str, plans: list[Plan], seconds: float, poller: asyncpg.Pool, *, sample: bool
) -> tuple[Tally, float]:
    tally = Tally()
    apis = [WireClient(base_url, {"Authorization": f"Bearer {token}"}) for _ in plans]
    started = time.perf_counter()
    deadline = started + seconds
    loops = [
        asyncio.create_task(client_loop(api, plan, deadline, tally, poller, sample=sample))
        for api, plan in zip(apis, plans, strict=True)
    ]
    elapsed = await run_loops(loops, started, seconds, [api.aclose() for api in apis])
    return tally, elapsed


async def measure_system(
    url: str, client_counts: list[int], seconds: float, warmup: float, students: int, web_processes: int
) -> tuple[list[Run], float]:
    use_tests_support()
    from hallpass.bootstrap import build_runtime
    from support.api_client import ApiClient
    from support.school import PASSWORD, make_school
    from support.server import free_port

    runtime = await build_runtime(url)
    try:
        school = await make_school(runtime, label="Bench", students=students)
    finally:
        await runtime.close()
    origin, destination = school.rooms["Room 101"], school.rooms["Nurse"]  # the nurse has no capacity

    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    runs: list[Run] = []
    lag_file = Path(tempfile.mkdtemp(prefix="hallpass-bench-")) / "lags"
    children = [start_child("--serve-projector", url, "--lag-file", str(lag_file))]
    try:
        await wait_ready(children[0])
        for _ in range(web_processes):
            children.append(start_child("--serve", url, str(port), "--clash-dir", str(lag_file.parent)))
            await wait_ready(children[-1])
        teacher = await ApiClient.signed_in(base_url, school.emails["Ada"], PASSWORD)
        token = teacher.http.headers["Authorization"].removeprefix("Bearer ")
        await teacher.close()
        poller = await asyncpg.create_pool(url, min_size=1, max_size=8)
        try:
            for n in client_counts:
                plans = [Plan(origin, destination, school.students[i::n]) for i in range(n)]
                if warmup > 0:
                    await drive(base_url, token, plans, warmup, poller, sample=False)
                await asyncio.sleep(2 * CLASH_COUNT_EVERY)
                clashed_before = clashes_in(lag_file.parent)
                before = await poller.fetchval("SELECT count(*) FROM hallpass_events")
                cpu_before = [cpu_seconds(c) for c in children]
                census = Census.now()
                peak = [0.0] * len(children)
                sampled = asyncio.Event()
                sampler = asyncio.create_task(sample_rss(children, peak, sampled))
                window = time.time()
                try:
                    tally, elapsed = await drive(base_url, token, plans, seconds, poller, sample=True)
                finally:
                    sampled.set()
                    await sampler
                # Every event made visible from the start until the last client stopped (a loop
                # may finish its last command after the deadline).
                seen = visible_events(lag_file, window, time.time())
                lags = by_kind([(of, lag) for _, lag, of, _ in seen])
                committed = await commit_lags(poller, seen)
                cpu = [cpu_seconds(c) - b for c, b in zip(children, cpu_before, strict=True)]
                spent = Census.now().since(census)
                after = await poller.fetchval("SELECT count(*) FROM hallpass_events")
                await asyncio.sleep(2 * CLASH_COUNT_EVERY)
                clashed = clashes_in(lag_file.parent) - clashed_before
                runs.append(
                    Run(
                        n,
                        elapsed,
                        tally,
                        int(after - before),
                        sum(cpu[1:]),
                        cpu[0],
                        max(peak[1:]),
                        peak[0],
                        lags["serving"],
                        lags["background"],
                        spent,
                        clashed,
                        committed,
                    )
                )
                rate = len(tally.latencies) / elapsed
                print(f"  hallpass clients={n:<3} {rate:8.0f} cmds/s", file=sys.stderr)
                for child in children:
                    if child.poll() is not None:
                        raise RuntimeError(f"a server process exited with code {child.returncode}")
            state_bytes = await poller.fetchval(
                "SELECT coalesce(avg(octet_length(state)), 0) FROM hallpass_events WHERE topic LIKE '%Pass%'"
            )
        finally:
            await poller.close()
    finally:
        for child in reversed(children):
            await asyncio.to_thread(stop_server, child)
        for path in [lag_file, *lag_file.parent.glob("clashes.*")]:
            path.unlink(missing_ok=True)
        lag_file.parent.rmdir()
    return runs, float(state_bytes)


def by_kind(lags: list[tuple[str, float]]) -> dict[str, list[float]]:
    """Lags (seconds) by the kind of read models: "serving" (those that answers wait for) and
    "background"."""
    found: dict[str, list[float]] = {"serving": [], "background": []}
    for of, lag in lags:
        found[of].append(lag)
    return found


def visible_events(lag_file: Path, start: float, end: float) -> list[tuple[float, float, str, int]]:
    """(made visible at, event -> visible seconds, kind, notification id) of each event the
    projector made visible in [start, end]."""
    found: list[tuple[float, float, str, int]] = []
    if not lag_file.exists():
        return found
    for line in lag_file.read_text(encoding="utf-8").splitlines():
        at, lag, of, notification_id = line.split()
        if start <= float(at) <= end:
            found.append((float(at), float(lag), of, int(notification_id)))
    return found


async def commit_lags(
    poller: asyncpg.Pool, seen: list[tuple[float, float, str, int]]
) -> dict[str, list[float]] | None:
    """Commit -> visible (seconds) of the events `seen` made visible (`visible_events`), by kind
    of read models, from the time PostgreSQL recorded each event's transaction committing
    (`pg_xact_commit_timestamp`); None when the server does not record it
    (`track_commit_timestamp = off`)."""
    if await poller.fetchval("SHOW track_commit_timestamp") != "on":
        return None
    committed = dict(
        await poller.fetch(
            "SELECT notification_id, extract(epoch FROM pg_xact_commit_timestamp(xmin))::float8"
            " FROM hallpass_events WHERE notification_id = ANY($1::bigint[])",
            [n for *_, n in seen],
        )
    )
    return by_kind([(of, at - committed[n]) for at, _, of, n in seen if committed.get(n) is not None])


# -- the baseline: stock eventsourcing Application (bench/stock.py) ------------------------------


async def stock_call(call: Awaitable[Answer], tally: Tally) -> Answer | None:
    """One timed request to the stock server: its answer, or None (counted) when it failed."""
    response, sent, responded = await timed(call, tally)
    if response is None or not response.is_success:
        if response is not None:
            tally.error(response)
        return None
    tally.latencies.append(responded - sent)
    return response


async def stock_loop(http: WireClient, students: list[str], deadline: float, tally: Tally) -> None:
    turn = 0
    while students and time.perf_counter() < deadline:
        student = students[turn % len(students)]
        turn += 1
        created = await stock_call(
            http.post("/passes", json={"student_id": student, "destination": "Nurse"}), tally
        )
        completed = None
        if created is not None:
            completed = await stock_call(http.post(f"/passes/{created.json()['id']}/complete"), tally)
        if completed is None:
            students.remove(student)


async def drive_stock(base_url: str, plans: list[list[str]], seconds: float) -> tuple[Tally, float]:
    tally = Tally()
    clients = [WireClient(base_url) for _ in plans]
    started = time.perf_counter()
    loops = [
        asyncio.create_task(stock_loop(http, list(students), started + seconds, tally))
        for http, students in zip(clients, plans, strict=True)
    ]
    elapsed = await run_loops(loops, started, seconds, [http.aclose() for http in clients])
    return tally, elapsed


async def measure_stock(
    url: str, client_counts: list[int], seconds: float, warmup: float, students: int, web_processes: int
) -> list[Run]:
    use_tests_support()
    from support.server import free_port

    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    runs: list[Run] = []
    children: list[subprocess.Popen[bytes]] = []
    try:
        for _ in range(web_processes):
            children.append(start_child("--serve-stock", url, str(port)))
            await wait_ready(children[-1])
        async with httpx.AsyncClient(base_url=base_url, timeout=120) as http:
            answer = await http.post("/students", json={"count": students})
            answer.raise_for_status()
            student_ids: list[str] = answer.json()["ids"]
        for n in client_counts:
            plans = [student_ids[i::n] for i in range(n)]
            if warmup > 0:
                await drive_stock(base_url, plans, warmup)
            census = Census.now()
            tally, elapsed = await drive_stock(base_url, plans, seconds)
            runs.append(Run(n, elapsed, tally, 0, census=Census.now().since(census)))
            print(f"  stock    clients={n:<3} {len(tally.latencies) / elapsed:8.0f} cmds/s", file=sys.stderr)
    finally:
        for child in reversed(children):
            await asyncio.to_thread(stop_server, child)
    return runs


# -- report --------------------------------------------------------------------------------------


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile; NaN when empty."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def ms(values: list[float], p: float) -> str:
    value = percentile(values, p)
    return "-" if math.isnan(value) else f"{value * 1000:.1f}"


def per_command(run: Run, of: str) -> str:
    """CPU milliseconds per command that `of` (a key of `Census.since`) spent during the run."""
    commands = len(run.tally.latencies)
    spent = run.census.get(of, math.nan)
    return "-" if not commands or math.isnan(spent) else f"{spent / commands * 1000:.2f}"


def busy(run: Run) -> str:
    """How busy the machine's cores were during the run, all processes counted."""
    wall, spent = run.census.get("wall", math.nan), run.census.get("machine", math.nan)
    cores = os.cpu_count() or 1
    if math.isnan(spent) or not wall:
        return "machine busy: -"
    return f"machine busy {spent / wall:.2f} of {cores} cores"


def goal_line(run: Run) -> str:
    """The lag goal's verdict for one client count: on commit -> visible where the server records
    commit times, else on event -> visible (an upper bound: it begins before the commit)."""
    event = f"event->visible p99 {ms(run.event_to_visible, 99)} ms over {len(run.event_to_visible)} events"
    upper = f" send->visible p99 {ms(run.tally.lag_after_send, 99)} ms;"
    committed = run.commit_to_visible
    if committed is None or not committed["serving"]:
        return (
            f"  clients={run.clients}: {event} (goal 100 ms:"
            f" {'met' if percentile(run.event_to_visible, 99) <= 0.1 else 'not met'}; the server"
            f" records no commit times, track_commit_timestamp is off);{upper}"
            f" background read models (timers, reports, audit index) event->visible p50/p99"
            f" {ms(run.event_to_background, 50)} / {ms(run.event_to_background, 99)} ms"
        )
    serving, background = committed["serving"], committed["background"]
    verdict = "met" if percentile(serving, 99) <= 0.1 else "not met"
    return (
        f"  clients={run.clients}: commit->visible p50/p99 {ms(serving, 50)} / {ms(serving, 99)} ms"
        f" over {len(serving)} events (goal 100 ms: {verdict});"
        f" {event} (from the command's clock reading, before its commit);{upper}"
        f" background read models (timers, reports, audit index) commit->visible p50/p99"
        f" {ms(background, 50)} / {ms(background, 99)} ms"
    )


def report(
    ceiling: dict[int, Ceiling],
    runs: list[Run],
    stock: list[Run],
    facts: Facts,
    state_bytes: float,
    args: argparse.Namespace,
) -> str:
    stock_rates = {r.clients: len(r.tally.latencies) / r.seconds for r in stock}
    stock_p99 = {r.clients: ms(r.tally.latencies, 99) for r in stock}
    header = [
        "clients",
        "ceiling tps (pgbench)",
        "pass cmds/s",
        "ratio to ceiling",
        "stock eventsourcing cmds/s",
        "x stock",
        "p50 ms",
        "p99 ms",
        "lag resp->visible p50/p99 ms",
        "lag send->visible p50/p99 ms",
        "lag event->visible p50/p99 ms",
        "errors 409/other/timeout",
    ]
    rows: list[list[str]] = []
    for run in runs:
        t = run.tally
        rate = len(t.latencies) / run.seconds
        top = ceiling[run.clients].tps if run.clients in ceiling else math.nan
        rows.append(
            [
                str(run.clients),
                f"{top:.0f}",
                f"{rate:.0f}",
                f"{rate / top:.3f}" if top else "-",
                f"{stock_rates[run.clients]:.0f} (p99 {stock_p99[run.clients]} ms)"
                if run.clients in stock_rates
                else "-",
                f"{rate / stock_rates[run.clients]:.1f}" if stock_rates.get(run.clients) else "-",
                ms(t.latencies, 50),
                ms(t.latencies, 99),
                f"{ms(t.lag_after_response, 50)} / {ms(t.lag_after_response, 99)}",
                f"{ms(t.lag_after_send, 50)} / {ms(t.lag_after_send, 99)}",
                f"{ms(run.event_to_visible, 50)} / {ms(run.event_to_visible, 99)}",
                f"{t.conflicts}/{t.other_errors}/{t.failures}",
            ]
        )
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]

    def line(cells: list[str]) -> str:
        return "| " + " | ".join(c.rjust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    out = [line(header), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    out += [line(r) for r in rows]
    out.append("")
    for n, pgbench_run in ceiling.items():
        # pgbench's run started with a connection per client, so the wall time covers slightly
        # more than the transactions counted: a conservative (high) figure per transaction.
        out.append(
            f"ceiling clients={n}: CPU per transaction: machine {pgbench_run.per_transaction('machine')} ms "
            f"(Postgres {pgbench_run.per_transaction('postgres')} ms, pgbench the rest)"
        )
    for run in runs:
        t = run.tally
        samples = len(t.lag_after_response) + t.never_visible
        commands = len(t.latencies)
        detail = ", ".join(f"{k}: {v}" for k, v in sorted(t.statuses.items())) or "none"
        out.append(
            f"clients={run.clients}: {commands} commands in {run.seconds:.1f}s, "
            f"{run.events / commands if commands else 0:.1f} events appended per command; "
            f"lag samples {samples} ({t.visible_at_first_poll} visible at the first poll, "
            f"{t.never_visible} not within {POLL_LIMIT:.0f}s); error answers: {detail}; "
            f"saves clashed and decided again: {run.clashes}; "
            f"CPU per command: web {run.cpu_web / commands * 1000 if commands else math.nan:.2f} ms, "
            f"projector {run.cpu_projector / commands * 1000 if commands else math.nan:.2f} ms; "
            f"load generator {per_command(run, 'load generator')} ms, "
            f"Postgres {per_command(run, 'postgres')} ms; "
            f"the whole machine {per_command(run, 'machine')} ms; {busy(run)}; "
            f"peak RSS: web {run.rss_web:.0f} MB (largest process), projector {run.rss_projector:.0f} MB"
        )
    for run in stock:
        detail = ", ".join(f"{k}: {v}" for k, v in sorted(run.tally.statuses.items())) or "none"
        out.append(
            f"stock clients={run.clients}: {len(run.tally.latencies)} commands in {run.seconds:.1f}s, "
            f"p50 {ms(run.tally.latencies, 50)} ms; error answers: {detail}, "
            f"timeouts {run.tally.failures}; CPU per command: load generator "
            f"{per_command(run, 'load generator')} ms, Postgres {per_command(run, 'postgres')} ms; "
            f"{busy(run)}"
        )
    out += ["", "goal (issue 10): commit -> visible in the read models, p99 at most 100 ms"]
    out += [goal_line(run) for run in runs]
    out += [
        "",
        f"machine: {facts.cpus} CPUs (nproc), {platform.platform()}, Python {platform.python_version()}, "
        f"{event_loop_name()} in server and load generator",
        f"postgres: {facts.postgres} at the same host; synchronous_commit={facts.synchronous_commit}, "
        f"fsync={facts.fsync}, max_connections={facts.max_connections}",
        f"run: {args.seconds:g}s per client count (+{args.warmup:g}s unmeasured warm-up for HTTP), "
        f"{args.students} students, destination without capacity",
        "",
        "notes:",
        "- pass cmds/s counts each create and each complete as one command (successful ones only);",
        "  the ceiling is pgbench `BEGIN; LOCK TABLE ... IN EXCLUSIVE MODE; INSERT one row; COMMIT`",
        f"  (-M prepared, -j min(N,2)) into an event-shaped table with a {PAYLOAD_BYTES}-byte state "
        f"(hall pass events here average {state_bytes:.0f} bytes).",
        "- p50/p99: per HTTP request, sent -> response received, in the load generator.",
        "- The API answers only after every projection has processed the command (read-your-writes,",
        "  up to 5 s), so 'resp->visible' (response received -> poll answer showing the row in",
        "  pass_list) is one poll round trip plus the load generator's own scheduling delay on the",
        "  shared CPUs; 'visible at the first poll' above says whether the row was already there. It",
        "  checks that promise and is not the commit -> visible lag. The commit instant is not",
        "  observable from outside, so 'send->visible' (request sent -> row seen) is the upper bound",
        f"  on commit -> visible. Sampled for 1 in {SAMPLE_EVERY} creates, polled every "
        f"{POLL_INTERVAL * 1000:g} ms for up to {POLL_LIMIT:g} s.",
        "- 'event->visible': recorded by the projector for every event of the run, from the event's",
        "  own timestamp (taken by the command before it appends, so before the commit) to the end",
        "  of the projection batch's commit: an upper bound on commit -> visible that both sides",
        "  share, without polling. It includes the command's time between its clock reading and its",
        "  commit (group commit included), so the true commit -> visible is lower. The table gives",
        "  it for the read models that answers wait for; the goal lines add those that only",
        "  background work reads, fed by a runner of their own (decision 112).",
        f"- Web: {args.web_processes} uvicorn process(es) sharing one port (SO_REUSEPORT), and the",
        "  projections in a projector process of their own, as `hallpass run` starts them; the load",
        "  generator, pgbench and Postgres share the same machine.",
        "- stock eventsourcing: bench/stock.py, eventsourcing's `Application` with its Postgres",
        "  persistence module (default pool), aggregate cache on, the same two aggregates per pass",
        f"  (pass, student), create then complete, behind Starlette (thread pool) in {args.web_processes}",
        "  uvicorn process(es) the same way; no auth, idempotency or read models.",
    ]
    return "\n".join(out)


# -- main ----------------------------------------------------------------------------------------


def client_counts(text: str) -> list[int]:
    try:
        counts = [int(part) for part in text.split(",") if part.strip()]
    except ValueError as e:
        raise argparse.ArgumentTypeError("give client counts like 1,16,64") from e
    if not counts or any(n < 1 for n in counts):
        raise argparse.ArgumentTypeError("client counts must be whole numbers of at least 1")
    return counts


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--clients", type=client_counts, default=[1, 16, 64], help="e.g. 1,16,64")
    parser.add_argument("--seconds", type=float, default=10.0, help="measured seconds per client count")
    parser.add_argument("--warmup", type=float, default=1.0, help="unmeasured HTTP seconds before each")
    parser.add_argument("--students", type=int, default=0, help="default: max(200, 2 x most clients)")
    parser.add_argument("--database-url", default=DEFAULT_URL, help=f"server to use (default {DEFAULT_URL})")
    parser.add_argument(
        "--web-processes", type=int, default=os.cpu_count() or 1, help="uvicorn processes (default: CPUs)"
    )
    parser.add_argument("--no-stock", action="store_true", help="skip the stock eventsourcing baseline")
    parser.add_argument("--serve", nargs=2, metavar=("DATABASE_URL", "PORT"), help=argparse.SUPPRESS)
    parser.add_argument("--clash-dir", help=argparse.SUPPRESS)
    parser.add_argument("--serve-stock", nargs=2, metavar=("DATABASE_URL", "PORT"), help=argparse.SUPPRESS)
    parser.add_argument("--serve-projector", metavar="DATABASE_URL", help=argparse.SUPPRESS)
    parser.add_argument("--lag-file", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.students <= 0:
        args.students = max(200, 2 * max(args.clients))
    return args


async def benchmark(args: argparse.Namespace, url: str) -> str:
    facts = await server_facts(url)
    print(f"ceiling: pgbench, {args.seconds:g}s per client count", file=sys.stderr)
    ceiling = await measure_ceiling(url, args.clients, args.seconds)
    print(f"hallpass: {args.students} students, {args.seconds:g}s per client count", file=sys.stderr)
    runs, state_bytes = await measure_system(
        url, args.clients, args.seconds, args.warmup, args.students, args.web_processes
    )
    stock: list[Run] = []
    if not args.no_stock:
        print(f"stock eventsourcing: {args.students} students", file=sys.stderr)
        stock = await measure_stock(
            url, args.clients, args.seconds, args.warmup, args.students, args.web_processes
        )
    return report(ceiling, runs, stock, facts, state_bytes, args)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.serve:
        from hallpass.local.supervisor import sigterm_unwinds

        with sigterm_unwinds():  # stopped by SIGTERM, it still removes its data directory
            run_loop(serve(args.serve[0], int(args.serve[1]), args.clash_dir))
        return 0
    if args.serve_stock:
        run_loop(serve_stock(args.serve_stock[0], int(args.serve_stock[1])))
        return 0
    if args.serve_projector:
        run_loop(serve_projector(args.serve_projector, args.lag_file))
        return 0
    name = f"bench_{uuid4().hex[:12]}"
    url = with_database(args.database_url, name)
    run_loop(create_database(args.database_url, name))
    print(f"created database {name}", file=sys.stderr)
    try:
        print(run_loop(benchmark(args, url)))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not skip the drop
        for child in CHILDREN:
            stop_server(child)
        run_loop(drop_database(args.database_url, name))
        print(f"dropped database {name}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
