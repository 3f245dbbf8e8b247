"""A background thread in each worker process that sweeps the timers table every few moments."""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any

import asyncpg
from dramatiq.middleware import Middleware

from hallpass.outages import Backoff, is_outage
from hallpass.timers.sweep import Send, SweepSettings, sweep_all

log = logging.getLogger(__name__)


class SchedulerThread(threading.Thread):
    def __init__(self, database_url: str, send: Send, settings: SweepSettings | None = None) -> None:
        super().__init__(name="hallpass-timer-sweep", daemon=True)
        self.database_url = database_url
        self.send = send
        self.settings = settings or SweepSettings()
        self.stopping = threading.Event()

    def run(self) -> None:
        asyncio.run(self._loop())

    def stop(self, timeout: float = 5.0) -> None:
        self.stopping.set()
        self.join(timeout)

    async def _loop(self) -> None:
        """Sweep until stopped; while PostgreSQL or Redis is away, retry with a short backoff.

        A sweep that cannot send rolls its claim back, so the timers it held are claimed again
        once Redis is back; due times live in PostgreSQL, so nothing is lost meanwhile.
        """
        conn: asyncpg.Connection | None = None
        backoff = Backoff(first=0.25, most=2.0)
        while not self.stopping.is_set():
            pause = self.settings.interval_s
            try:
                if conn is None or conn.is_closed():
                    conn = await asyncpg.connect(self.database_url, timeout=10)
                await sweep_all(conn, self.send, self.settings)
                backoff.reset()
            except asyncpg.UndefinedTableError:
                pause = 1.0
            except Exception as e:
                pause = backoff.next()
                if is_outage(e):
                    log.warning("timer sweep: %s; retrying in %.1fs", e, pause)
                else:
                    log.exception("timer sweep failed; retrying in %.1fs", pause)
            await asyncio.sleep(pause)
        if conn is not None:
            await conn.close()


class SchedulerMiddleware(Middleware):
    """Starts the sweep thread when a Dramatiq worker has booted, and stops it at shutdown."""

    def __init__(self, database_url: str, send: Send, settings: SweepSettings | None = None) -> None:
        self.database_url = database_url
        self.send = send
        self.settings = settings
        self.thread: SchedulerThread | None = None

    def after_worker_boot(self, broker: Any, worker: Any) -> None:
        self.thread = SchedulerThread(self.database_url, self.send, self.settings)
        self.thread.start()

    def before_worker_shutdown(self, broker: Any, worker: Any) -> None:
        if self.thread is not None:
            self.thread.stop()
            self.thread = None
