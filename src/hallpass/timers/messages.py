"""Sending timer messages: any process with a broker can send them, actors or not.

Expiries that fall due together travel in one message (`expire_passes`), delayed until the last
of them is due, so the worker expires them in one unit of work: at most `GROUP_WINDOW_MS`
apart and `GROUP_MOST` passes. A lone one, and every other kind, has a message of its own.
"""

from __future__ import annotations

from collections.abc import Sequence

from dramatiq import Broker, Message

from hallpass.projections.timers import TimerKind
from hallpass.timers.broker import QUEUE
from hallpass.timers.sweep import Due, Send

ACTOR_NAMES = {
    TimerKind.EXPIRE: "expire_pass",
    TimerKind.ACTIVATE: "activate_pass",
    TimerKind.DISMISS: "dismiss_school",
    TimerKind.OFFER: "expire_offers",
}
EXPIRE_MANY = "expire_passes"
GROUP_WINDOW_MS = 100
GROUP_MOST = 200


def message_for(due: Due) -> Message[None]:
    return Message(
        queue_name=QUEUE,
        actor_name=ACTOR_NAMES[due.kind],
        args=(str(due.pass_id), due.due_at.isoformat()),
        kwargs={},
        options={},
    )


def grouped(dues: Sequence[Due]) -> list[list[Due]]:
    """Expiries in due order, cut where the window or the size would be exceeded; others alone."""
    groups: list[list[Due]] = []
    current: list[Due] = []
    for due in sorted(dues, key=lambda d: d.due_at):
        if due.kind is not TimerKind.EXPIRE:
            groups.append([due])
            continue
        if current and (
            len(current) >= GROUP_MOST
            or (due.due_at - current[0].due_at).total_seconds() * 1000 > GROUP_WINDOW_MS
        ):
            groups.append(current)
            current = []
        current.append(due)
    if current:
        groups.append(current)
    return groups


def messages_for(dues: Sequence[Due]) -> list[tuple[Message[None], int]]:
    """Each message to send and its delay in milliseconds: when the last timer in it is due."""
    sent: list[tuple[Message[None], int]] = []
    for group in grouped(dues):
        last = max(group, key=lambda d: d.due_at)
        if len(group) == 1:
            message = message_for(last)
        else:
            message = Message(
                queue_name=QUEUE,
                actor_name=EXPIRE_MANY,
                args=([str(d.pass_id) for d in group], last.due_at.isoformat()),
                kwargs={},
                options={},
            )
        sent.append((message, max(d.delay_ms for d in group)))
    return sent


def make_sender(broker: Broker) -> Send:
    """Send due timers: delayed until they are due, or at once when they already are."""

    def send(dues: Sequence[Due]) -> None:
        for message, delay_ms in messages_for(dues):
            broker.enqueue(message, delay=delay_ms or None)

    return send
