"""PassListView: every pass of a school with its status, for the Hall Pass dashboard."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any
from uuid import UUID

import asyncpg

from hallpass.aggregates.passes import Pass, Source, Status
from hallpass.projections.base import TableProjection

SCHEMA = """
CREATE TABLE IF NOT EXISTS pass_list (
    pass_id uuid PRIMARY KEY,
    school_id uuid NOT NULL,
    student_id uuid NOT NULL,
    origin_id uuid NOT NULL,
    destination_id uuid NOT NULL,
    source text NOT NULL,
    status text NOT NULL,
    created_by_kind text NOT NULL,
    created_by_id uuid,
    created_at timestamptz NOT NULL,
    start_at timestamptz NOT NULL,
    due_at timestamptz NOT NULL,
    allotted_minutes integer NOT NULL,
    returned_at timestamptz,
    ended_at timestamptz,
    ended_by_kind text,
    ended_by_id uuid,
    end_reason text,
    end_note text,
    note text NOT NULL DEFAULT '',
    version integer NOT NULL,
    notification_id bigint NOT NULL
);
ALTER TABLE pass_list ADD COLUMN IF NOT EXISTS override_rules text[];
ALTER TABLE pass_list ADD COLUMN IF NOT EXISTS override_reason text;
ALTER TABLE pass_list ADD COLUMN IF NOT EXISTS overridden_by_id uuid;
DROP INDEX IF EXISTS pass_list_school_start;
DROP INDEX IF EXISTS pass_list_school_status;
DROP INDEX IF EXISTS pass_list_student;
"""
# The list (projections/queries.py) reads open passes first, then the rest newest first, by
# (start_at DESC, pass_id DESC). Each filter has an index that leads with its column and ends
# in that order, so a page is a range scan that stops after the page (decision 054).
INDEXES = {
    "pass_list_recent": "(school_id, start_at DESC, pass_id DESC)",
    "pass_list_open": "(school_id, start_at DESC, pass_id DESC)"
    " WHERE status IN ('active', 'expired') AND returned_at IS NULL",
    "pass_list_by_status": "(school_id, status, start_at DESC, pass_id DESC)",
    "pass_list_by_source": "(school_id, source, start_at DESC, pass_id DESC)",
    "pass_list_by_student": "(student_id, start_at DESC, pass_id DESC)",
    "pass_list_by_origin": "(origin_id, start_at DESC, pass_id DESC)",
    "pass_list_by_destination": "(destination_id, start_at DESC, pass_id DESC)",
    "pass_list_by_creator": "(created_by_id, start_at DESC, pass_id DESC)",
}
SCHEMA += "".join(f"CREATE INDEX IF NOT EXISTS {n} ON pass_list {spec};\n" for n, spec in INDEXES.items())

# How each later event of a pass changes its row: the columns it sets ($4 onwards) and their
# values, taken from the event. `$1` to `$3` are the pass, its version and the notification.
ENDED = "ended_at = $5, ended_by_kind = $6, ended_by_id = $7"
ENDED_WHY = ENDED + ", end_reason = $8, end_note = $9"


def _ended(status: Status) -> Callable[[Any], tuple[Any, ...]]:
    return lambda e: (status.value, e.timestamp, e.actor_kind, e.actor_id, e.reason, e.note)


CHANGES: dict[type, tuple[str, Callable[[Any], tuple[Any, ...]]]] = {
    Pass.Completed: (
        "status = $4, returned_at = $5, " + ENDED,
        lambda e: (Status.COMPLETED.value, e.timestamp, e.actor_kind, e.actor_id),
    ),
    Pass.ReturnRecorded: (
        "returned_at = $4, ended_at = $4, ended_by_kind = $5, ended_by_id = $6",
        lambda e: (e.timestamp, e.actor_kind, e.actor_id),
    ),
    Pass.Expired: ("status = $4", lambda e: (Status.EXPIRED.value,)),
    Pass.Terminated: ("status = $4, " + ENDED_WHY, _ended(Status.TERMINATED)),
    Pass.Cancelled: ("status = $4, " + ENDED_WHY, _ended(Status.CANCELLED)),
    Pass.Activated: (
        "status = $4, start_at = $5::timestamptz,"
        " due_at = $5::timestamptz + allotted_minutes * interval '1 minute'",
        lambda e: (Status.ACTIVE.value, e.timestamp),
    ),
    Pass.Rescheduled: (
        "start_at = $4, due_at = $5, allotted_minutes = $6, note = $7",
        lambda e: (
            e.start_at,
            e.start_at + timedelta(minutes=e.allotted_minutes),
            e.allotted_minutes,
            e.note,
        ),
    ),
    Pass.Denied: (
        "status = $4, " + ENDED + ", end_reason = 'denied', end_note = $8",
        lambda e: (Status.DENIED.value, e.timestamp, e.actor_kind, e.actor_id, e.note),
    ),
    Pass.RulesOverridden: (
        "override_rules = $4, override_reason = $5, overridden_by_id = $6",
        lambda e: (list(e.rules), e.reason, e.actor_id),
    ),
    Pass.Approved: (
        "status = $4, start_at = $5, due_at = $6, end_note = $7",
        lambda e: (Status.ACTIVE.value, e.timestamp, e.due_at, e.note),
    ),
}


class PassListProjection(TableProjection):
    name = "pass_list"
    schema = SCHEMA
    events = (Pass.Creation, *CHANGES)

    async def handle(self, conn: asyncpg.Connection, event: Any, notification_id: int) -> UUID | None:
        if isinstance(event, Pass.Creation):
            return await self._insert(conn, event, notification_id)
        change = CHANGES.get(type(event))
        if change is None:
            return None
        sets, values = change
        return await self._update(conn, event, notification_id, sets, *values(event))

    async def _insert(self, conn: asyncpg.Connection, event: Pass.Creation, notification_id: int) -> UUID:
        if isinstance(event, Pass.Started):
            source, status, start_at, note = event.source, Status.ACTIVE, event.timestamp, event.note
        elif isinstance(event, Pass.Scheduled):
            source, status, start_at, note = Source.STAFF, Status.SCHEDULED, event.start_at, event.note
        elif isinstance(event, Pass.Requested):
            source, status, start_at, note = Source.PORTAL, Status.REQUESTED, event.timestamp, ""
        else:
            raise TypeError(f"no row for {type(event).__name__}")
        await conn.execute(
            """
            INSERT INTO pass_list (pass_id, school_id, student_id, origin_id, destination_id,
                source, status, created_by_kind, created_by_id, created_at, start_at, due_at,
                allotted_minutes, note, version, notification_id)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
            ON CONFLICT (pass_id) DO NOTHING
            """,
            event.originator_id,
            event.school_id,
            event.student_id,
            event.origin_id,
            event.destination_id,
            str(source),
            status.value,
            event.actor_kind,
            event.actor_id,
            event.timestamp,
            start_at,
            start_at + timedelta(minutes=event.allotted_minutes),
            event.allotted_minutes,
            note,
            event.originator_version,
            notification_id,
        )
        return event.school_id

    async def _update(
        self, conn: asyncpg.Connection, event: Any, notification_id: int, sets: str, *args: Any
    ) -> UUID | None:
        return await conn.fetchval(  # type: ignore[no-any-return]
            f"UPDATE pass_list SET version = $2, notification_id = $3, {sets}"
            " WHERE pass_id = $1 RETURNING school_id",
            event.originator_id,
            event.originator_version,
            notification_id,
            *args,
        )
