"""Embedded PostgreSQL through ``pgserver``, and helpers for any PostgreSQL server.

``EmbeddedPostgres(<data_dir>/postgres)`` starts (or joins) a server on a unix socket and
creates the ``hallpass`` database; the server stops when the last process using it closes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import threading
import warnings
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote, urlsplit, urlunsplit

import asyncpg

from hallpass.local.closing import Closing
from hallpass.local.processes import pid_alive

T = TypeVar("T")

DEFAULT_DATABASE = "hallpass"
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}\Z")


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
    alive = [pid for pid in pids if isinstance(pid, int) and pid_alive(pid)]
    if alive != pids:
        handles.write_text(json.dumps(alive))


def _postgres_socket_url(socket_dir: Path, port: int | None, database: str) -> str:
    query = "host=" + quote(str(socket_dir), safe="/")
    if port is not None and port != 5432:
        query += f"&port={port}"
    return f"postgresql://postgres@/{quote(database, safe='')}?{query}"


class EmbeddedPostgres(Closing):
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
