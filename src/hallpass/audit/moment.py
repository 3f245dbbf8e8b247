"""The hallway at a past moment: who was out, from where, to where, since when, replayed from the
events of that school's passes up to that instant, in the log's order (decision 080).

`audit_streams` only narrows which passes to replay: those created by then and not ended before.
Their state at the instant comes from their own events, as the aggregate applies them, never from
today's read models; `hallway_replayed_in_full` replays every pass of the school, and the tests
hold the two equal.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from hallpass.aggregates.passes import Pass, Status
from hallpass.audit.history import AuditLog


@dataclass(frozen=True, order=True)
class OutOfRoom:
    """A student out at the instant."""

    since: datetime
    pass_id: UUID
    student_id: UUID
    origin_id: UUID
    destination_id: UUID
    due_at: datetime
    overdue: bool

    def minutes_out(self, at: datetime) -> int:
        return int((at - self.since).total_seconds() // 60)

    def as_json(self, at: datetime) -> dict[str, Any]:
        return {
            "pass_id": str(self.pass_id),
            "student_id": str(self.student_id),
            "origin_id": str(self.origin_id),
            "destination_id": str(self.destination_id),
            "since": self.since.isoformat(),
            "due_at": self.due_at.isoformat(),
            "minutes_out": self.minutes_out(at),
            "overdue": self.overdue,
        }


_CANDIDATES = (
    "SELECT stream_id FROM audit_streams WHERE kind = 'Pass' AND span @> $2::timestamptz AND school_id = $1"
)
_EVERY_PASS = "SELECT stream_id FROM audit_streams WHERE school_id = $1 AND kind = 'Pass'"


async def hallway_at(log: AuditLog, school_id: UUID, at: datetime) -> list[OutOfRoom]:
    return await _replayed(log, _CANDIDATES, school_id, at)


async def hallway_replayed_in_full(log: AuditLog, school_id: UUID, at: datetime) -> list[OutOfRoom]:
    return await _replayed(log, _EVERY_PASS, school_id, at)


async def _replayed(log: AuditLog, streams_sql: str, school_id: UUID, at: datetime) -> list[OutOfRoom]:
    args: tuple[Any, ...] = (school_id, at) if "$2" in streams_sql else (school_id,)
    rows = await log.pool.fetch(
        "SELECT notification_id, originator_id, originator_version, topic, state "
        f"FROM {log.events_table} WHERE originator_id IN ({streams_sql}) ORDER BY notification_id",
        *args,
    )
    passes: dict[UUID, Pass | None] = {}
    finished: set[UUID] = set()
    for row in rows:
        stream = row["originator_id"]
        if stream in finished:
            continue
        event = log.domain_event(row)
        if event.timestamp > at:
            finished.add(stream)  # the log says nothing more of this pass at that instant
            continue
        passes[stream] = event.mutate(passes.get(stream))
    out = [
        OutOfRoom(
            since=p.start_at,
            pass_id=p.id,
            student_id=p.student_id,
            origin_id=p.origin_id,
            destination_id=p.destination_id,
            due_at=p.due_at,
            overdue=p.status is Status.EXPIRED or p.due_at <= at,
        )
        for p in passes.values()
        if p is not None and p.is_out
    ]
    return sorted(out)
