"""A background thread in each worker process that sweeps the timers table when there is work.

It sleeps until the next due time it knows of (`sweep.pause_until_next`), and is woken early by
the NOTIFY the timers projection sends when it writes a due time, so an idle system costs one
query a minute, not four a second.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from typing import Any

import asyncpg
from dramatiq.middleware import Middleware

from hallpass.outages import Backoff, is_outage, wait_any
from hallpass.projections.timers import DUE_CHANNEL
from hallpass.timers.sweep import Send, SweepSettings, pause_until_next, sweep_all

log = logging.getLogger(__name__)


class SchedulerThread(threading.Thread):
    def __init__(self, database_url: str, send: Send, settings: SweepSettings | None = None) -> None:
        super().__init__(name="hallpass-timer-sweep", daemon=True)
        self.database_url = database_url
        self.send = send
        self.settings = settings or SweepSettings()
        self.stopping = threading.Event()
        self._loop_wake: tuple[asyncio.AbstractEventLoop, asyncio.Event] | None = None

    def run(self) -> None:
        asyncio.run(self._loop())

    def stop(self, timeout: float = 5.0) -> None:
        self.stopping.set()
        woken = self._loop_wake
        if woken is not None:
            loop, wake = woken
            with contextlib.suppress(RuntimeError):  # the loop has already ended
                loop.call_soon_threadsafe(wake.set)
        self.join(timeout)

    async def _loop(self) -> None:
        """Sweep until stopped; while PostgreSQL or Redis is away, retry with a short backoff.

        A sweep that cannot send rolls its claim back, so the timers it held are claimed again
        once Redis is back; due times live in PostgreSQL, so nothing is lost meanwhile.
        """
        conn: asyncpg.Connection | None = None
        wake = asyncio.Event()
        self._loop_wake = (asyncio.get_running_loop(), wake)
        # The Unix time of the next sweep; while awake, every due time written is looked at.
        planned = float("inf")

        def on_due(_c: Any, _pid: Any, _ch: Any, payload: str) -> None:
            try:
                nearer = float(payload) - self.settings.horizon_ms / 1000 < planned
            except ValueError:
                nearer = True
            if nearer:
                wake.set()

        backoff = Backoff(first=0.25, most=2.0)
        while not self.stopping.is_set():
            pause = self.settings.max_pause_s
            try:
                if conn is None or conn.is_closed():
                    conn = await asyncpg.connect(self.database_url, timeout=10)
                    await conn.add_listener(DUE_CHANNEL, on_due)
                    conn.add_termination_listener(lambda _: wake.set())  # reconnect at once
                wake.clear()
                await sweep_all(conn, self.send, self.settings)
                pause = await pause_until_next(conn, self.settings)
                backoff.reset()
            except asyncpg.UndefinedTableError:
                pause = 1.0
            except Exception as e:
                pause = backoff.next()
                if is_outage(e):
                    log.warning("timer sweep: %s; retrying in %.1fs", e, pause)
                else:
                    log.exception("timer sweep failed; retrying in %.1fs", pause)
            if not self.stopping.is_set():
                planned = time.time() + pause
                await wait_any(wake, timeout=pause)
                planned = float("inf")
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
