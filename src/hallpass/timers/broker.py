"""The Dramatiq broker for timer messages: Redis, namespaced, with async actors enabled."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

import dramatiq
from dramatiq import Broker, Worker
from dramatiq.asyncio import EventLoopThread, set_event_loop_thread
from dramatiq.broker import Consumer
from dramatiq.brokers.redis import RedisBroker
from dramatiq.middleware import AsyncIO

QUEUE = "hallpass_timers"
POLL_MS = 50
DELAY_POLL_MS = 1000
DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


@dataclass(frozen=True)
class TimerSettings:
    database_url: str
    redis_url: str
    redis_namespace: str = "hallpass"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> TimerSettings:
        """Read DATABASE_URL, REDIS_URL and HALLPASS_REDIS_NAMESPACE, as the other processes do."""
        source = os.environ if env is None else env
        return cls(
            database_url=source.get("DATABASE_URL", "").strip() or DEFAULT_DATABASE_URL,
            redis_url=source.get("REDIS_URL", "").strip() or DEFAULT_REDIS_URL,
            redis_namespace=source.get("HALLPASS_REDIS_NAMESPACE", "").strip() or "hallpass",
        )


class PromptRedisBroker(RedisBroker):
    """Polls the idle work queue at least every POLL_MS, so a message sent now is not held back.

    Dramatiq backs off up to the worker timeout (1 s by default) when a queue is empty. Timers
    are sent when due (the sweep wakes on time), so only retries use the delay queue, which is
    polled every DELAY_POLL_MS: an idle worker does not spin on both.
    """

    def consume(self, queue_name: str, prefetch: int = 1, timeout: int = 5000) -> Consumer:
        most = DELAY_POLL_MS if queue_name.endswith(".DQ") else POLL_MS
        return super().consume(queue_name, prefetch=prefetch, timeout=min(timeout, most))


class BrokerSettings(Protocol):
    """What the broker needs; `TimerSettings` and the app's `Settings` both provide it."""

    @property
    def redis_url(self) -> str | None: ...

    @property
    def redis_namespace(self) -> str: ...


class DaemonAsyncIO(AsyncIO):
    """Dramatiq's AsyncIO middleware, with an event loop thread that cannot keep the process alive.

    A second SIGTERM makes a Dramatiq worker `sys.exit` without the shutdown hooks, and the
    stock non-daemon event loop thread would then keep the process running forever.
    """

    def before_worker_boot(self, broker: Broker, worker: Worker) -> None:
        thread = EventLoopThread(self.logger)
        thread.daemon = True
        thread.start(timeout=1.0)
        set_event_loop_thread(thread)


def make_broker(settings: BrokerSettings) -> RedisBroker:
    broker = PromptRedisBroker(  # type: ignore[no-untyped-call]
        url=settings.redis_url or DEFAULT_REDIS_URL, namespace=settings.redis_namespace
    )
    broker.add_middleware(DaemonAsyncIO())
    return broker


def configure(settings: BrokerSettings) -> RedisBroker:
    """Create the broker and make it Dramatiq's global one (actors are declared against it)."""
    broker = make_broker(settings)
    dramatiq.set_broker(broker)
    return broker
