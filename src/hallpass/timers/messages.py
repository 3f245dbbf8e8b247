"""Sending timer messages: any process with a broker can send them, actors or not."""

from __future__ import annotations

from dramatiq import Broker, Message

from hallpass.projections.timers import TimerKind
from hallpass.timers.broker import QUEUE
from hallpass.timers.sweep import Due, Send

ACTOR_NAMES = {
    TimerKind.EXPIRE: "expire_pass",
    TimerKind.ACTIVATE: "activate_pass",
    TimerKind.DISMISS: "dismiss_school",
}


def message_for(due: Due) -> Message[None]:
    return Message(
        queue_name=QUEUE,
        actor_name=ACTOR_NAMES[due.kind],
        args=(str(due.pass_id), due.due_at.isoformat()),
        kwargs={},
        options={},
    )


def make_sender(broker: Broker) -> Send:
    """Send each due timer: delayed until its due time, or at once when it is already due."""

    def send(due: Due) -> None:
        broker.enqueue(message_for(due), delay=due.delay_ms or None)

    return send
