"""Parked events: events a projection could not apply, set aside so it can move on.

A projection that fails on an event parks it here, in the same transaction as its other rows and
its tracking position, and carries on with the next event. Later events of the same stream are
parked behind it ("held"), so a read model never shows a stream's later state without its
earlier one. `retry` replays them in log order once the cause is fixed (docs/decisions/032).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import asyncpg
from eventsourcing.persistence import Notification

from hallpass.eventstore.store import DbConnection, EventStore
from hallpass.outages import is_outage

PARKED_CHANNEL = "hallpass_parked"
# Per projection of `$1`, each stream with a parked event and its first parked notification.
HELD = (
    "SELECT projection, originator_id, min(notification_id) FROM hallpass_parked_events"
    " WHERE projection = ANY($1::text[]) GROUP BY projection, originator_id"
)
Held = dict[str, dict[UUID, int]]
MAX_ERROR_LENGTH = 2000

SCHEMA = """
CREATE TABLE IF NOT EXISTS hallpass_parked_events (
    projection text NOT NULL,
    notification_id bigint NOT NULL,
    originator_id uuid NOT NULL,
    originator_version bigint NOT NULL,
    topic text NOT NULL,
    error text NOT NULL,
    held_behind bigint,
    parked_at timestamptz NOT NULL DEFAULT now(),
    last_tried_at timestamptz NOT NULL DEFAULT now(),
    attempts integer NOT NULL DEFAULT 1,
    PRIMARY KEY (projection, notification_id)
);
CREATE INDEX IF NOT EXISTS hallpass_parked_events_stream
    ON hallpass_parked_events (projection, originator_id, notification_id);
"""

# An outage (hallpass.outages.is_outage) and these classes besides: connection, transaction
# rollback (serialization failure, deadlock), insufficient resources, object not in prerequisite
# state (lock not available), operator intervention (shutdown,
# cancel), system and internal errors, invalid transaction state, configuration file errors.
TRANSIENT_SQLSTATE_CLASSES = frozenset({"08", "25", "40", "53", "55", "57", "58", "F0", "XX"})


def is_transient(error: BaseException) -> bool:
    """True for failures of the database or the connection, which retrying the same event may cure.

    Anything else (a decoding error, a value the read model's tables refuse, a bug in a handler)
    is the event's own failure, and parks it.
    """
    if isinstance(error, asyncpg.exceptions._base.DataError):
        return False  # a value asyncpg could not encode: the event's own
    if is_outage(error) or isinstance(error, MemoryError | asyncpg.InterfaceError):
        return True
    if isinstance(error, asyncpg.PostgresError):
        return str(error.sqlstate or "")[:2] in TRANSIENT_SQLSTATE_CLASSES
    return False


def describe(error: BaseException) -> str:
    text = f"{type(error).__name__}: {error}"
    return text if len(text) <= MAX_ERROR_LENGTH else text[: MAX_ERROR_LENGTH - 1] + "…"


@dataclass(frozen=True)
class ParkedEvent:
    projection: str
    notification_id: int
    originator_id: UUID
    originator_version: int
    topic: str
    error: str
    held_behind: int | None
    parked_at: datetime
    last_tried_at: datetime
    attempts: int


class ParkedEvents:
    """The table of parked events of every projection."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def create_schema(self, conn: DbConnection) -> None:
        await conn.execute(SCHEMA)

    async def positions_and_held(
        self, conn: DbConnection, store: EventStore, projections: Sequence[str]
    ) -> tuple[dict[str, int], Held]:
        """The projections' tracking positions and, in the same statement, their streams with a
        parked event: projection -> stream -> first parked notification."""
        positions, rows = await store.tracking_positions_beside(projections, HELD, conn)
        return positions, _held(rows)

    async def positions_held_and_after(
        self, conn: DbConnection, store: EventStore, projections: Sequence[str], limit: int
    ) -> tuple[dict[str, int], Held, list[Notification]]:
        """`positions_and_held`, and up to `limit` notifications after the lowest position, in the
        same statement: what a projection batch reads before it applies anything."""
        positions, rows, notifications = await store.tracking_positions_beside_and_after(
            projections, HELD, limit, conn
        )
        return positions, _held(rows), notifications

    async def park(
        self,
        conn: DbConnection,
        projection: str,
        notification: Notification,
        error: str,
        held_behind: int | None = None,
    ) -> None:
        await conn.execute(
            """
            INSERT INTO hallpass_parked_events (projection, notification_id, originator_id,
                originator_version, topic, error, held_behind)
            VALUES ($1, $2, $3, $4, $5, $6, $7)
            ON CONFLICT (projection, notification_id) DO UPDATE
            SET error = EXCLUDED.error, held_behind = EXCLUDED.held_behind,
                last_tried_at = now(), attempts = hallpass_parked_events.attempts + 1
            """,
            projection,
            notification.id,
            notification.originator_id,
            notification.originator_version,
            notification.topic,
            error,
            held_behind,
        )
        await conn.execute("SELECT pg_notify($1, $2)", PARKED_CHANNEL, f"{projection}:{notification.id}")

    async def failed_again(
        self, conn: DbConnection, projection: str, notification_id: int, error: str, held_behind: int | None
    ) -> None:
        await conn.execute(
            "UPDATE hallpass_parked_events SET error = $3, held_behind = $4, last_tried_at = now(),"
            " attempts = attempts + 1 WHERE projection = $1 AND notification_id = $2",
            projection,
            notification_id,
            error,
            held_behind,
        )

    async def held_again(
        self, conn: DbConnection, projection: str, notification_id: int, held_behind: int
    ) -> None:
        await conn.execute(
            "UPDATE hallpass_parked_events SET held_behind = $3, error = $4"
            " WHERE projection = $1 AND notification_id = $2",
            projection,
            notification_id,
            held_behind,
            held_error(held_behind),
        )

    async def remove(self, conn: DbConnection, projection: str, notification_id: int) -> None:
        await conn.execute(
            "DELETE FROM hallpass_parked_events WHERE projection = $1 AND notification_id = $2",
            projection,
            notification_id,
        )

    async def clear(self, conn: DbConnection, projection: str) -> None:
        await conn.execute("DELETE FROM hallpass_parked_events WHERE projection = $1", projection)

    async def entries(
        self, conn: DbConnection | None = None, projection: str | None = None, limit: int | None = None
    ) -> list[ParkedEvent]:
        rows = await (conn or self.pool).fetch(
            "SELECT * FROM hallpass_parked_events WHERE ($1::text IS NULL OR projection = $1)"
            " ORDER BY notification_id, projection LIMIT $2",
            projection,
            limit,
        )
        return [ParkedEvent(**dict(row)) for row in rows]

    async def counts(self, conn: DbConnection | None = None) -> dict[str, int]:
        rows = await (conn or self.pool).fetch(
            "SELECT projection, count(*) AS parked FROM hallpass_parked_events GROUP BY projection"
        )
        return {row["projection"]: row["parked"] for row in rows}


def held_error(held_behind: int) -> str:
    return f"held behind parked event {held_behind} of the same stream"


def _held(rows: Sequence[asyncpg.Record]) -> Held:
    held: Held = {}
    for projection, stream, first in rows:
        held.setdefault(projection, {})[stream] = first
    return held
