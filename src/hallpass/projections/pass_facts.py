"""PassFactsView: one row per pass for the reports: who, from where, to where, by which source,
when in the school's time zone, for how long, how late, and how a request was decided
(docs/decisions/085).

The local day, hour and weekday are generated columns of the pass's moment (its start, or for
a pass that never started, when it was asked for or planned for) in the time zone its school had
when the pass began, so a report filters and groups by them without converting a row per
request. The time zones are this projection's own table, written by school events sent as
barriers (statements without arguments, see `pipeline`): every pass queued after a school's
event reads the school's row, whichever batch or round it lands in.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any
from uuid import UUID

import asyncpg

from hallpass.aggregates.passes import Pass, Source
from hallpass.aggregates.schools import School
from hallpass.projections.base import TableProjection

SCHEMA = """
CREATE TABLE IF NOT EXISTS report_schools (
    school_id uuid PRIMARY KEY,
    timezone text NOT NULL
);
CREATE TABLE IF NOT EXISTS report_passes (
    pass_id uuid PRIMARY KEY,
    school_id uuid NOT NULL,
    timezone text NOT NULL,
    student_id uuid NOT NULL,
    origin_id uuid NOT NULL,
    destination_id uuid NOT NULL,
    source text NOT NULL,
    creator_kind text NOT NULL,
    creator_id uuid,
    teacher_id uuid,
    outcome text NOT NULL,
    decision text,
    allotted_minutes integer NOT NULL,
    requested_at timestamptz,
    anchor_at timestamptz NOT NULL,
    started_at timestamptz,
    due_at timestamptz,
    ended_at timestamptz,
    returned_at timestamptz,
    end_reason text,
    overdue boolean NOT NULL DEFAULT false,
    day date GENERATED ALWAYS AS ((anchor_at AT TIME ZONE timezone)::date) STORED,
    hour smallint GENERATED ALWAYS AS (extract(hour FROM anchor_at AT TIME ZONE timezone)::smallint) STORED,
    dow smallint GENERATED ALWAYS AS (extract(isodow FROM anchor_at AT TIME ZONE timezone)::smallint) STORED,
    seconds_out integer GENERATED ALWAYS AS (
        floor(extract(epoch FROM ended_at - started_at))::integer) STORED,
    late_seconds integer GENERATED ALWAYS AS (
        CASE WHEN overdue THEN floor(extract(epoch FROM ended_at - due_at))::integer END) STORED
);
DROP INDEX IF EXISTS report_passes_school_day;
CREATE INDEX IF NOT EXISTS report_passes_by_day ON report_passes (school_id, day) INCLUDE (hour, dow,
    student_id, destination_id, source, creator_kind, creator_id, teacher_id, requested_at, started_at,
    decision, seconds_out, overdue, late_seconds);
"""

_INSERT = """
INSERT INTO report_passes (pass_id, school_id, timezone, student_id, origin_id, destination_id, source,
    creator_kind, creator_id, teacher_id, outcome, allotted_minutes, requested_at, anchor_at,
    started_at, due_at)
VALUES ($1, $2, (SELECT timezone FROM report_schools WHERE school_id = $2), $3, $4, $5, $6, $7, $8,
    CASE WHEN $7 = 'staff' THEN $8::uuid END, $9, $10, $11, $12, $13, $14)
ON CONFLICT (pass_id) DO NOTHING
"""

# How each later event changes a pass's row: the columns it sets from $2 on ($1 is the pass).
STARTED = "outcome = 'started', anchor_at = $2, started_at = $2"
ENDED = "ended_at = $2, end_reason = $3"
CHANGES: dict[type, tuple[str, Callable[[Any], tuple[Any, ...]]]] = {
    Pass.Activated: (
        STARTED + ", due_at = $2::timestamptz + allotted_minutes * interval '1 minute'",
        lambda e: (e.timestamp,),
    ),
    Pass.Rescheduled: (
        "anchor_at = $2, allotted_minutes = $3",
        lambda e: (e.start_at, e.allotted_minutes),
    ),
    Pass.Approved: (
        STARTED + ", due_at = $3, decision = 'approved', teacher_id = $4",
        lambda e: (e.timestamp, e.due_at, e.actor_id if e.actor_kind == "staff" else None),
    ),
    Pass.Denied: (
        "outcome = 'denied', decision = 'denied', ended_at = $2, end_reason = 'denied', teacher_id = $3",
        lambda e: (e.timestamp, e.actor_id if e.actor_kind == "staff" else None),
    ),
    Pass.Cancelled: ("outcome = 'cancelled', " + ENDED, lambda e: (e.timestamp, e.reason)),
    Pass.Expired: ("overdue = true", lambda e: ()),
    Pass.Completed: ("returned_at = $2, " + ENDED, lambda e: (e.timestamp, "completed")),
    Pass.ReturnRecorded: ("returned_at = $2, " + ENDED, lambda e: (e.timestamp, "returned")),
    Pass.Terminated: (ENDED, lambda e: (e.timestamp, e.reason)),
}


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _school_barrier(school_id: UUID, timezone: str) -> str:
    """The school's row as a statement without arguments: the pipeline sends it as a barrier."""
    return (
        "INSERT INTO report_schools (school_id, timezone)"
        f" VALUES ({_literal(str(school_id))}::uuid, {_literal(timezone)})"
        " ON CONFLICT (school_id) DO UPDATE SET timezone = excluded.timezone"
    )


class PassFactsProjection(TableProjection):
    name = "report_passes"
    tables: tuple[str, ...] = ("report_passes", "report_schools")
    schema = SCHEMA
    serves_requests = False  # the reports are read later; a command's answer never waits on them

    async def handle(self, conn: asyncpg.Connection, event: Any, notification_id: int) -> UUID | None:
        if isinstance(event, (School.Registered, School.Changed)):
            await conn.execute(_school_barrier(event.originator_id, event.timezone))
        elif isinstance(event, Pass.Creation):
            await conn.execute(_INSERT, *_created(event))
        else:
            change = CHANGES.get(type(event))
            if change is not None:
                sets, values = change
                await conn.execute(
                    f"UPDATE report_passes SET {sets} WHERE pass_id = $1", event.originator_id, *values(event)
                )
        return None


def _created(event: Pass.Creation) -> tuple[Any, ...]:
    """The values of a new row: what each way a pass comes to be says of it."""
    requested_at = started_at = due_at = None
    if isinstance(event, Pass.Started):
        source, outcome, anchor_at = event.source, "started", event.timestamp
        started_at, due_at = event.timestamp, event.timestamp + timedelta(minutes=event.allotted_minutes)
    elif isinstance(event, Pass.Scheduled):
        source, outcome, anchor_at = Source.STAFF.value, "scheduled", event.start_at
    elif isinstance(event, Pass.Requested):
        source, outcome, anchor_at = Source.PORTAL.value, "requested", event.timestamp
        requested_at = event.timestamp
    else:
        raise TypeError(f"no row for {type(event).__name__}")
    return (
        event.originator_id,
        event.school_id,
        event.student_id,
        event.origin_id,
        event.destination_id,
        source,
        event.actor_kind,
        event.actor_id,
        outcome,
        event.allotted_minutes,
        requested_at,
        anchor_at,
        started_at,
        due_at,
    )
