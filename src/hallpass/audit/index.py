"""AuditIndexProjection: which streams belong to which school and subject, and who acted where.

It holds no state of any record, only where to find events: the audit reads and replays the
events themselves (decision 080). `audit_streams` has one row per stream that names its school
(a pass also its student, places and the span from its creation to its end); `audit_actions`
one row per event a member of staff or a kiosk acted in.
"""

from __future__ import annotations

from functools import cache
from typing import Any
from uuid import UUID

import asyncpg

from hallpass.aggregates.encoding import event_fields
from hallpass.aggregates.passes import Pass
from hallpass.projections.base import TableProjection

SCHEMA = """
CREATE TABLE IF NOT EXISTS audit_streams (
    stream_id uuid PRIMARY KEY,
    school_id uuid NOT NULL,
    kind text NOT NULL,
    student_id uuid,
    origin_id uuid,
    destination_id uuid,
    opened_at timestamptz NOT NULL,
    closed_at timestamptz
);
CREATE INDEX IF NOT EXISTS audit_streams_open ON audit_streams (school_id, opened_at) WHERE kind = 'Pass';
CREATE INDEX IF NOT EXISTS audit_streams_student ON audit_streams (student_id) WHERE student_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS audit_streams_origin ON audit_streams (origin_id) WHERE origin_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS audit_streams_destination ON audit_streams (destination_id)
    WHERE destination_id IS NOT NULL;
-- When a pass was open, as one range, so "open at an instant" is one GiST index lookup.
ALTER TABLE audit_streams ADD COLUMN IF NOT EXISTS span tstzrange
    GENERATED ALWAYS AS (tstzrange(opened_at, closed_at, '[)')) STORED;
CREATE INDEX IF NOT EXISTS audit_streams_span ON audit_streams USING gist (span) WHERE kind = 'Pass';
CREATE TABLE IF NOT EXISTS audit_actions (
    actor_id uuid NOT NULL,
    notification_id bigint NOT NULL,
    PRIMARY KEY (actor_id, notification_id)
);
"""

PASS_ENDINGS = (Pass.Completed, Pass.ReturnRecorded, Pass.Terminated, Pass.Cancelled, Pass.Denied)

_STREAM = (
    "INSERT INTO audit_streams "
    "(stream_id, school_id, kind, student_id, origin_id, destination_id, opened_at) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (stream_id) DO NOTHING"
)
_CLOSED = "UPDATE audit_streams SET closed_at = $2 WHERE stream_id = $1"
_ACTED = "INSERT INTO audit_actions VALUES ($1, $2) ON CONFLICT DO NOTHING"


def stream_kind(event: Any) -> str:
    """The aggregate an event belongs to, as its class is named (`Pass`, `Student`, ...)."""
    return _outermost(type(event).__qualname__)


@cache
def _outermost(qualname: str) -> str:
    return qualname.split(".")[0]


class AuditIndexProjection(TableProjection):
    name = "audit_index"
    schema = SCHEMA
    tables: tuple[str, ...] = ("audit_streams", "audit_actions")
    serves_requests = False

    def handles(self, event_type: type) -> bool:
        """Events that name a school (a stream's row), end a pass, or name who acted."""
        named = event_fields(event_type)
        return issubclass(event_type, PASS_ENDINGS) or "school_id" in named or "actor_id" in named

    async def handle(self, conn: asyncpg.Connection, event: Any, notification_id: int) -> UUID | None:
        school_id = getattr(event, "school_id", None)
        if isinstance(school_id, UUID):
            await conn.execute(
                _STREAM,
                event.originator_id,
                school_id,
                stream_kind(event),
                getattr(event, "student_id", None),
                getattr(event, "origin_id", None),
                getattr(event, "destination_id", None),
                event.timestamp,
            )
        if isinstance(event, PASS_ENDINGS):
            await conn.execute(_CLOSED, event.originator_id, event.timestamp)
        actor_id = getattr(event, "actor_id", None)
        if isinstance(actor_id, UUID) and getattr(event, "actor_kind", None) in ("staff", "kiosk"):
            await conn.execute(_ACTED, actor_id, notification_id)
        return None
