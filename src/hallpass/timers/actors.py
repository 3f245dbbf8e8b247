"""Dramatiq entry point: `python -m dramatiq hallpass.timers.actors`.

Importing this module configures the Redis broker from DATABASE_URL, REDIS_URL and
HALLPASS_REDIS_NAMESPACE and declares the actors; a booted worker also runs the sweep.
"""

from __future__ import annotations

from uuid import UUID

import dramatiq

from hallpass.timers.broker import QUEUE, TimerSettings, configure
from hallpass.timers.messages import make_sender
from hallpass.timers.scheduler import SchedulerMiddleware
from hallpass.timers.sweep import SweepSettings, sweep_all
from hallpass.timers.worker import TimerWorker

settings = TimerSettings.from_env()
broker = configure(settings)
worker = TimerWorker(settings.database_url)
send = make_sender(broker)
broker.add_middleware(SchedulerMiddleware(settings.database_url, send))


@dramatiq.actor(queue_name=QUEUE, broker=broker, max_retries=3, min_backoff=200, max_backoff=2_000)
async def expire_pass(pass_id: str, due_at: str) -> None:
    """Expire the pass if it is Active and due; `due_at` is only informative."""
    await worker.expire(UUID(pass_id))


@dramatiq.actor(queue_name=QUEUE, broker=broker, max_retries=3, min_backoff=200, max_backoff=2_000)
async def expire_passes(pass_ids: list[str], due_at: str) -> None:
    """Expire those of the passes that are Active and due, together; `due_at` (the last) is informative."""
    await worker.expire_many([UUID(p) for p in pass_ids])


@dramatiq.actor(queue_name=QUEUE, broker=broker, max_retries=3, min_backoff=200, max_backoff=2_000)
async def activate_pass(pass_id: str, start_at: str) -> None:
    """Start the Scheduled pass if its time has come; `start_at` is only informative."""
    await worker.activate(UUID(pass_id))


@dramatiq.actor(queue_name=QUEUE, broker=broker, max_retries=3, min_backoff=200, max_backoff=2_000)
async def dismiss_school(school_id: str, at: str) -> None:
    """End the school day if its dismissal time has come: every open pass is Terminated."""
    await worker.dismiss(UUID(school_id))


@dramatiq.actor(queue_name=QUEUE, broker=broker, max_retries=3, min_backoff=200, max_backoff=2_000)
async def expire_offers(line_id: str, at: str) -> None:
    """Offers of the wait line not taken by now lapse, and the next in line are offered."""
    await worker.expire_offers(UUID(line_id))


@dramatiq.actor(queue_name=QUEUE, broker=broker, max_retries=0)
async def reconcile() -> None:
    """Send every timer that is due and not delivered (the sweep threads also do this)."""
    app = await worker.app()
    async with app.store.pool.acquire() as conn:
        await sweep_all(conn, send, SweepSettings())
