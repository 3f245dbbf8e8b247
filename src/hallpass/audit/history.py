"""Histories (every event of a pass, a student, a place, a member of staff or a kiosk, in log
order) and the events they are made of, read from the log itself and decoded as stored."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
from eventsourcing.persistence import StoredEvent

from hallpass.aggregates.encoding import TypedMapper
from hallpass.audit.index import stream_kind

SUBJECTS = ("pass", "student", "location", "staff", "kiosk")
_KIND_OF_SUBJECT = {
    "pass": "Pass",
    "student": "Student",
    "location": "Location",
    "staff": "Staff",
    "kiosk": "Kiosk",
}
_STANDARD = {"originator_id", "originator_version", "timestamp", "actor_kind", "actor_id", "cause"}
_WHY = ("reason", "note", "decision_note")
_SOURCE = {
    "staff": "Staff page or API client",
    "student": "Student Portal",
    "kiosk": "Kiosk",
    "system": "Worker (timers, dismissal) or import",
}


@dataclass(frozen=True)
class Subject:
    kind: str
    id: UUID
    school_id: UUID


@dataclass(frozen=True)
class AuditEvent:
    """One event as the audit shows it."""

    notification_id: int
    stream_id: UUID
    version: int
    stream: str
    kind: str
    at: datetime
    actor_kind: str | None
    actor_id: UUID | None
    source: str
    why: dict[str, str]
    cause: dict[str, Any] | None
    changed: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "notification_id": self.notification_id,
            "stream_id": str(self.stream_id),
            "version": self.version,
            "stream": self.stream,
            "kind": self.kind,
            "at": self.at.isoformat(),
            "actor_kind": self.actor_kind,
            "actor_id": None if self.actor_id is None else str(self.actor_id),
            "source": self.source,
            "why": self.why,
            "cause": self.cause,
            "changed": {k: _plain(v) for k, v in self.changed.items()},
        }


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def shown(notification_id: int, event: Any) -> AuditEvent:
    fields = dict(vars(event))
    actor_kind = fields.get("actor_kind")
    cause = fields.get("cause")
    return AuditEvent(
        notification_id=notification_id,
        stream_id=event.originator_id,
        version=event.originator_version,
        stream=stream_kind(event),
        kind=type(event).__name__,
        at=event.timestamp,
        actor_kind=actor_kind,
        actor_id=fields.get("actor_id"),
        source=_SOURCE.get(actor_kind or "", "unknown"),
        why={k: str(fields[k]) for k in _WHY if fields.get(k)},
        cause=_plain(dict(cause)) if isinstance(cause, dict) else None,
        changed={k: v for k, v in fields.items() if k not in _STANDARD and k not in _WHY},
    )


@dataclass(frozen=True)
class HistoryFilter:
    start: datetime | None = None
    end: datetime | None = None
    kinds: frozenset[str] = frozenset()

    def keeps(self, event: AuditEvent) -> bool:
        if self.start is not None and event.at < self.start:
            return False
        if self.end is not None and event.at >= self.end:
            return False
        return not self.kinds or event.kind in self.kinds


class AuditLog:
    """Reads the audit's view of the log: subjects, histories and the events of streams."""

    def __init__(self, pool: asyncpg.Pool, events_table: str = "hallpass_events") -> None:
        self.pool = pool
        self.events_table = events_table
        self.mapper = TypedMapper()

    async def subject(self, kind: str, subject_id: UUID) -> Subject | None:
        """The record, with its school, if the log has it as `kind`."""
        row = await self.pool.fetchrow(
            "SELECT school_id FROM audit_streams WHERE stream_id = $1 AND kind = $2",
            subject_id,
            _KIND_OF_SUBJECT[kind],
        )
        return None if row is None else Subject(kind, subject_id, row["school_id"])

    async def history(self, subject: Subject, filters: HistoryFilter = HistoryFilter()) -> list[AuditEvent]:
        """Every event of the subject's own stream and of the passes it took part in (a student's,
        a place's), or that it acted in (a member of staff, a kiosk), in log order."""
        streams = [subject.id]
        if subject.kind == "student":
            streams += await self._streams(
                "SELECT stream_id FROM audit_streams WHERE student_id = $1", subject.id
            )
        elif subject.kind == "location":
            streams += await self._streams(
                "SELECT stream_id FROM audit_streams WHERE origin_id = $1 UNION "
                "SELECT stream_id FROM audit_streams WHERE destination_id = $1",
                subject.id,
            )
        acted: list[int] = []
        if subject.kind in ("staff", "kiosk"):
            acted = [
                r[0]
                for r in await self.pool.fetch(
                    "SELECT notification_id FROM audit_actions WHERE actor_id = $1", subject.id
                )
            ]
        rows = await self.pool.fetch(
            "SELECT notification_id, originator_id, originator_version, topic, state "
            f"FROM {self.events_table} WHERE originator_id = ANY($1::uuid[]) "
            "UNION SELECT notification_id, originator_id, originator_version, topic, state "
            f"FROM {self.events_table} WHERE notification_id = ANY($2::bigint[]) "
            "ORDER BY notification_id",
            streams,
            acted,
        )
        events = [self.decoded(row) for row in rows]
        return [e for e in events if filters.keeps(e)]

    async def _streams(self, sql: str, subject_id: UUID) -> list[UUID]:
        return [row[0] for row in await self.pool.fetch(sql, subject_id)]

    def domain_event(self, row: asyncpg.Record) -> Any:
        return self.mapper.to_domain_event(
            StoredEvent(row["originator_id"], row["originator_version"], row["topic"], row["state"])
        )

    def decoded(self, row: asyncpg.Record) -> AuditEvent:
        return shown(row["notification_id"], self.domain_event(row))

    async def school_timezone(self, school_id: UUID) -> str:
        value: str | None = await self.pool.fetchval(
            "SELECT timezone FROM dir_schools WHERE school_id = $1", school_id
        )
        return value or "UTC"

    async def names(self, ids: Sequence[UUID | None]) -> dict[UUID, str]:
        """Display names of the people, places and kiosks named (from the directory)."""
        wanted = list({i for i in ids if i is not None})
        rows = await self.pool.fetch(
            "SELECT staff_id, name FROM dir_staff WHERE staff_id = ANY($1::uuid[]) "
            "UNION ALL SELECT student_id, first_name || ' ' || last_name FROM dir_students "
            "WHERE student_id = ANY($1::uuid[]) "
            "UNION ALL SELECT location_id, name FROM dir_locations WHERE location_id = ANY($1::uuid[]) "
            "UNION ALL SELECT kiosk_id, name FROM kiosks WHERE kiosk_id = ANY($1::uuid[])",
            wanted,
        )
        return {row[0]: row[1] for row in rows}


async def find_students(pool: asyncpg.Pool, school_id: UUID, q: str) -> list[tuple[UUID, str]]:
    """Students of the school whose name contains `q` (at most 50, by name)."""
    rows = await pool.fetch(
        "SELECT student_id, first_name || ' ' || last_name AS name FROM dir_students WHERE school_id = $1 "
        "AND (first_name || ' ' || last_name) ILIKE '%' || $2 || '%' ORDER BY last_name, first_name LIMIT 50",
        school_id,
        q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_"),
    )
    return [(row[0], row[1]) for row in rows]


async def places(pool: asyncpg.Pool, school_id: UUID) -> list[tuple[UUID, str]]:
    rows = await pool.fetch(
        "SELECT location_id, name FROM dir_locations WHERE school_id = $1 ORDER BY name", school_id
    )
    return [(row[0], row[1]) for row in rows]
