"""The Dramatiq broker for timer messages: Redis, namespaced, with async actors enabled."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import dramatiq
import redis
from dramatiq import Broker, Message, Worker
from dramatiq.asyncio import EventLoopThread, set_event_loop_thread
from dramatiq.broker import Consumer, MessageProxy
from dramatiq.brokers.redis import RedisBroker, _RedisConsumer
from dramatiq.errors import ConnectionClosed
from dramatiq.middleware import AsyncIO

QUEUE = "hallpass_timers"
POLL_MS = 50
DELAY_POLL_MS = 1000
IDLE_WAIT_MS = 1000
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


def wake_channel(namespace: str, queue_name: str) -> str:
    """The Redis channel a message's arrival on `queue_name` is announced on."""
    return f"{namespace}:{queue_name}.wake"


class WakingConsumer(_RedisConsumer):
    """Dramatiq's Redis consumer, but an idle one waits on a channel instead of polling.

    Holding nothing (no message fetched and not yet acknowledged), after a fetch that found the
    queue empty it blocks on `wake_channel` (subscribed before its first fetch, so an
    announcement made after any fetch is never missed) for at most IDLE_WAIT_MS, then fetches
    again: a message sent to an idle worker is fetched at once, and an idle worker makes one
    fetch a second per queue instead of twenty. A message that arrives unannounced (one moved
    back from a dead worker, one requeued at shutdown) waits at most IDLE_WAIT_MS.

    Holding something, it polls as Dramatiq does (up to `timeout` between fetches): a worker
    thread acknowledging a message frees a prefetch slot without announcing it, and the delay
    queue's consumer must come round to hand on the delayed messages it holds when they fall due.
    """

    def __init__(self, broker: PromptRedisBroker, queue_name: str, prefetch: int, timeout: int) -> None:
        super().__init__(broker, queue_name, prefetch, timeout)  # type: ignore[no-untyped-call]
        self.subscription = broker.client.pubsub(ignore_subscribe_messages=True)
        try:
            self.subscription.subscribe(wake_channel(broker.namespace, queue_name))
        except redis.ConnectionError as e:
            raise ConnectionClosed(e) from None  # type: ignore[no-untyped-call]

    def __next__(self) -> MessageProxy | None:
        if self.message_cache or self.outstanding_message_count:
            return super().__next__()  # type: ignore[no-untyped-call,no-any-return]
        try:
            self.message_cache = self.broker.do_fetch(self.queue_name, self.prefetch)
            if self.message_cache:
                return super().__next__()  # type: ignore[no-untyped-call,no-any-return]
            self.subscription.get_message(timeout=IDLE_WAIT_MS / 1000)
            while self.subscription.get_message(timeout=0) is not None:
                pass  # several announcements need one fetch
        except redis.ConnectionError as e:
            raise ConnectionClosed(e) from None  # type: ignore[no-untyped-call]
        return None

    def close(self) -> None:
        self.subscription.close()


class PromptRedisBroker(RedisBroker):
    """A Redis broker whose idle consumers wait for a message instead of polling (WakingConsumer).

    Every enqueue is announced on its queue's `wake_channel`. While a consumer holds messages it
    polls the work queue at least every POLL_MS, so a freed prefetch slot is filled promptly
    (Dramatiq backs off up to the worker timeout, 1 s by default). Timers are sent when due (the
    sweep wakes on time), so the delay queue mostly carries retries and the small delays of
    expiries sent together; it is polled every DELAY_POLL_MS while it holds one.
    """

    @property
    def consumer_class(self) -> type[WakingConsumer]:
        return WakingConsumer

    def consume(self, queue_name: str, prefetch: int = 1, timeout: int = 5000) -> Consumer:
        most = DELAY_POLL_MS if queue_name.endswith(".DQ") else POLL_MS
        return super().consume(queue_name, prefetch=prefetch, timeout=min(timeout, most))

    def enqueue(self, message: Message[Any], *, delay: int | None = None) -> Message[Any]:
        sent: Message[Any] = super().enqueue(message, delay=delay)
        try:
            self.client.publish(wake_channel(self.namespace, sent.queue_name), b"")
        except redis.ConnectionError as e:
            raise ConnectionClosed(e) from None  # type: ignore[no-untyped-call]
        return sent


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
