"""What the audit's API and pages share: who may read which school's records, each read made
and recorded as a view, and the rows an export writes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from hallpass.acting import Actor
from hallpass.audit.access import AccessLog, require_auditor
from hallpass.audit.history import AuditEvent, AuditLog, HistoryFilter, Subject
from hallpass.audit.moment import OutOfRoom, hallway_at
from hallpass.bootstrap import Runtime
from hallpass.errors import NotFound
from hallpass.messages import say

HISTORY_COLUMNS = (
    "notification_id",
    "at",
    "stream",
    "stream_id",
    "version",
    "kind",
    "actor_kind",
    "actor_id",
    "actor",
    "source",
    "why",
    "cause",
    "changed",
)
HALLWAY_COLUMNS = (
    "student_id",
    "student",
    "origin",
    "destination",
    "since",
    "minutes_out",
    "due_at",
    "overdue",
    "pass_id",
)


@dataclass(frozen=True)
class Read:
    """What a read shows its rows with: the school's time zone and the names of the ids."""

    timezone: ZoneInfo
    names: dict[UUID, str]

    def local(self, moment: datetime) -> str:
        """`moment` in ISO 8601, in the school's time."""
        return moment.astimezone(self.timezone).isoformat()


@dataclass(frozen=True)
class HistoryRead(Read):
    subject: Subject
    events: list[AuditEvent]

    def rows(self) -> list[dict[str, Any]]:
        return [
            {
                **e.as_json(),
                "at": self.local(e.at),
                "actor": self.names.get(e.actor_id) if e.actor_id else None,
            }
            for e in self.events
        ]


@dataclass(frozen=True)
class HallwayRead(Read):
    school_id: UUID
    at: datetime
    out: list[OutOfRoom]

    def rows(self) -> list[dict[str, Any]]:
        return [
            {
                **o.as_json(self.at),
                "since": self.local(o.since),
                "due_at": self.local(o.due_at),
                "student": self.names.get(o.student_id, ""),
                "origin": self.names.get(o.origin_id, ""),
                "destination": self.names.get(o.destination_id, ""),
            }
            for o in self.out
        ]


class Audit:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.log = AuditLog(runtime.pool, runtime.store.events_table)
        self.access = AccessLog(runtime.pool)

    async def may_audit(self, actor: Actor, school_id: UUID) -> bool:
        if actor.school_id == school_id and actor.has_role("compliance", "admin"):
            return True
        return actor.has_role("district_admin") and await self.runtime.admin.may_administer(actor, school_id)

    async def school(self, actor: Actor, school_id: UUID) -> ZoneInfo:
        """The school's time zone, if the caller may read its records (else 403, or 404 as if the
        school were not there)."""
        require_auditor(actor)
        if not await self.may_audit(actor, school_id):
            raise NotFound(say("http.school_not_found", id=school_id), id=str(school_id))
        return ZoneInfo(await self.log.school_timezone(school_id))

    async def subject(self, actor: Actor, kind: str, subject_id: UUID) -> tuple[Subject, ZoneInfo]:
        require_auditor(actor)
        subject = await self.log.subject(kind, subject_id)
        if subject is None or not await self.may_audit(actor, subject.school_id):
            raise NotFound(say("http.record_not_found", what=kind, id=subject_id), id=str(subject_id))
        return subject, ZoneInfo(await self.log.school_timezone(subject.school_id))

    async def history(
        self, actor: Actor, kind: str, subject_id: UUID, filters: HistoryFilter, now: datetime, what: str
    ) -> HistoryRead:
        subject, tz = await self.subject(actor, kind, subject_id)
        events = await self.log.history(subject, filters)
        names = await self.log.names([subject.id, *(e.actor_id for e in events)])
        detail = {
            "kind": kind,
            "from": filters.start.isoformat() if filters.start else None,
            "to": filters.end.isoformat() if filters.end else None,
            "kinds": sorted(filters.kinds),
            "events": len(events),
        }
        await self.access.record(actor, subject.school_id, what, subject.id, detail, now)
        return HistoryRead(tz, names, subject, events)

    async def hallway(
        self, actor: Actor, school_id: UUID, at: datetime, tz: ZoneInfo, now: datetime, what: str
    ) -> HallwayRead:
        out = await hallway_at(self.log, school_id, at)
        names = await self.log.names([i for o in out for i in (o.student_id, o.origin_id, o.destination_id)])
        await self.access.record(actor, school_id, what, None, {"at": at.isoformat(), "out": len(out)}, now)
        return HallwayRead(tz, names, school_id, at, out)
