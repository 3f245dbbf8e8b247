"""An idle timer consumer waits on its queue's wake channel and is woken by an enqueue."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import redis
from dramatiq import Message

from hallpass.timers import broker as timer_broker
from hallpass.timers.broker import QUEUE, PromptRedisBroker, TimerSettings, WakingConsumer, make_broker


@pytest.fixture
def broker(redis_url: str) -> Iterator[PromptRedisBroker]:
    namespace = f"hallpass-wake-test-{secrets.token_hex(6)}"
    made = make_broker(TimerSettings("postgresql://unused", redis_url, namespace))
    assert isinstance(made, PromptRedisBroker)
    made.declare_queue(QUEUE)
    yield made
    client = redis.Redis.from_url(redis_url)
    try:
        keys = list(client.scan_iter(match=f"{namespace}*", count=1000))
        if keys:
            client.delete(*keys)
    finally:
        client.close()
        made.close()


def message(n: int) -> Message[None]:
    return Message(queue_name=QUEUE, actor_name="expire_pass", args=(str(n), ""), kwargs={}, options={})


@contextmanager
def consuming(broker: PromptRedisBroker, monkeypatch: pytest.MonkeyPatch) -> Iterator[WakingConsumer]:
    """A consumer of the queue, closed afterwards, whose idle wait is far longer than any test:
    only an announcement can end it."""
    monkeypatch.setattr(timer_broker, "IDLE_WAIT_MS", 600_000)
    consumer = broker.consume(QUEUE, prefetch=4)
    assert isinstance(consumer, WakingConsumer)
    try:
        yield consumer
    finally:
        consumer.close()


@pytest.fixture
def sent_first(broker: PromptRedisBroker, monkeypatch: pytest.MonkeyPatch) -> Iterator[WakingConsumer]:
    """A consumer started after message 2 was enqueued: it has something to fetch at once."""
    broker.enqueue(message(2))
    with consuming(broker, monkeypatch) as consumer:
        yield consumer


def next_in_thread(consumer: WakingConsumer) -> tuple[threading.Thread, list[object]]:
    got: list[object] = []
    thread = threading.Thread(target=lambda: got.append(next(consumer)), daemon=True)
    thread.start()
    return thread, got


def test_an_idle_consumer_is_woken_by_an_enqueue_and_then_fetches_it(
    broker: PromptRedisBroker, monkeypatch: pytest.MonkeyPatch
) -> None:
    with consuming(broker, monkeypatch) as consumer:
        # The first wait may end on the subscription's own confirmation; the second cannot.
        consumer.subscription.get_message(timeout=5)
        waiting, got = next_in_thread(consumer)
        waiting.join(0.5)
        assert waiting.is_alive() and got == []  # blocked, holding nothing
        broker.enqueue(message(1))
        waiting.join(60)
        assert not waiting.is_alive() and got == [None]  # woken; the worker loop comes round
        fetched = next(consumer)
        assert fetched is not None and fetched.args == ("1", "")


def test_a_message_sent_before_the_wait_is_fetched_without_waiting(sent_first: WakingConsumer) -> None:
    fetched = next(sent_first)
    assert fetched is not None and fetched.args == ("2", "")


def test_a_consumer_holding_a_message_polls_instead_of_waiting(sent_first: WakingConsumer) -> None:
    """A worker thread's acknowledgement frees a prefetch slot without any announcement."""
    held = next(sent_first)
    assert held is not None and sent_first.outstanding_message_count == 1
    polling, got = next_in_thread(sent_first)
    polling.join(60)
    assert not polling.is_alive() and got == [None]  # a short poll, not the idle wait
    sent_first.ack(held)  # type: ignore[no-untyped-call]
    assert sent_first.outstanding_message_count == 0


def test_a_delayed_message_is_announced_on_the_delay_queue(broker: PromptRedisBroker) -> None:
    listener = broker.client.pubsub(ignore_subscribe_messages=True)
    try:
        listener.subscribe(timer_broker.wake_channel(broker.namespace, f"{QUEUE}.DQ"))
        listener.get_message(timeout=5)  # the subscription's confirmation
        broker.enqueue(message(4), delay=60_000)
        announced = listener.get_message(timeout=30)
        assert announced is not None
        assert announced["channel"] == f"{broker.namespace}:{QUEUE}.DQ.wake".encode()
    finally:
        listener.close()
