"""A LISTEN connection that comes back after the database does.

NOTIFYs sent while no connection listens are lost, so each time the connection is (re)made the
owner's `on_connect` runs after LISTEN is in place: it re-reads whatever it may have missed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import asyncpg

from hallpass.outages import Backoff, is_outage, wait_any

log = logging.getLogger(__name__)

Handler = Callable[[Any, int, str, str], None]
OnConnect = Callable[[asyncpg.Connection], Awaitable[None]]


class Listener:
    """Holds one pooled connection listening on `channels`; reconnects with a bounded backoff."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        channels: Mapping[str, Handler],
        *,
        name: str,
        on_connect: OnConnect | None = None,
        check_interval: float = 30.0,
        backoff: Backoff | None = None,
    ) -> None:
        self.pool = pool
        self.channels = dict(channels)
        self.name = name
        self.on_connect = on_connect
        self.check_interval = check_interval
        self.backoff = backoff or Backoff()
        self.connected = asyncio.Event()
        self.backend_pid: int | None = None
        self.connections = 0

    async def run(self, stop: asyncio.Event) -> None:
        """Listen until `stop` is set, reconnecting whenever the connection is lost."""
        while not stop.is_set():
            try:
                await self._listen(stop)
            except Exception as e:
                if not is_outage(e):
                    log.exception("%s: listening failed; reconnecting", self.name)
                else:
                    log.warning("%s: lost the database (%s); reconnecting", self.name, e)
            if not stop.is_set():
                await wait_any(stop, timeout=self.backoff.next())

    async def _listen(self, stop: asyncio.Event) -> None:
        conn = await self.pool.acquire()
        lost = asyncio.Event()

        def on_lost(_: Any) -> None:
            lost.set()

        conn.add_termination_listener(on_lost)
        try:
            for channel, handler in self.channels.items():
                await conn.add_listener(channel, handler)
            if self.on_connect is not None:
                await self.on_connect(conn)
            self.backend_pid = conn.get_server_pid()
            self.connections += 1
            self.connected.set()
            self.backoff.reset()
            while not stop.is_set():
                await wait_any(stop, lost, timeout=self.check_interval)
                if lost.is_set():
                    log.warning("%s: the database closed the connection; reconnecting", self.name)
                    return
                if not stop.is_set():
                    # A connection cut without a word (a dead network) only shows when used.
                    await conn.fetchval("SELECT 1", timeout=self.check_interval)
        finally:
            self.connected.clear()
            self.backend_pid = None
            # A connection the server closed is already back in the pool: nothing to undo.
            try:
                with contextlib.suppress(Exception):
                    conn.remove_termination_listener(on_lost)
                    for channel, handler in self.channels.items():
                        await conn.remove_listener(channel, handler)
            finally:
                with contextlib.suppress(Exception):
                    await self.pool.release(conn, timeout=5)
