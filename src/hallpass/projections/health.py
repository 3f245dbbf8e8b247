"""How far each projection is behind the log, and what it has parked: for status and /readyz."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

import asyncpg
import orjson

from hallpass.eventstore import EventStore
from hallpass.projections.base import Projection
from hallpass.projections.parking import ParkedEvents

# A projection that serves requests and is this far behind makes a web process not ready.
READY_LAG_SECONDS = 30.0


@dataclass(frozen=True)
class ProjectionHealth:
    name: str
    serves_requests: bool
    position: int
    head: int
    lag_events: int
    lag_seconds: float
    parked: int

    @property
    def ready(self) -> bool:
        return not self.serves_requests or self.lag_seconds <= READY_LAG_SECONDS

    def as_json(self) -> dict[str, Any]:
        return {**asdict(self), "ready": self.ready}


async def projection_health(
    pool: asyncpg.Pool, store: EventStore, projections: Sequence[Projection], now: datetime
) -> list[ProjectionHealth]:
    """Position, head of the log, lag (notification ids and seconds) and parked count of each.

    The lag in seconds is the age of the oldest event the projection has not processed yet,
    by the time the event records (0 when caught up).
    """
    async with pool.acquire() as conn:
        head = await conn.fetchval(f"SELECT max(notification_id) FROM {store.events_table}") or 0
        rows = await conn.fetch(
            f"SELECT application_name, max(notification_id) AS position FROM {store.tracking_table}"
            " GROUP BY application_name"
        )
        positions: dict[str, int] = {row["application_name"]: row["position"] for row in rows}
        parked = await ParkedEvents(pool).counts(conn)
        ages: dict[int, float] = {}
        found = []
        for projection in projections:
            position = positions.get(projection.name, 0)
            if position < head and position not in ages:
                ages[position] = await _age_of_next(conn, store, position, now)
            found.append(
                ProjectionHealth(
                    name=projection.name,
                    serves_requests=projection.serves_requests,
                    position=position,
                    head=head,
                    lag_events=head - position,
                    lag_seconds=ages.get(position, 0.0) if position < head else 0.0,
                    parked=parked.get(projection.name, 0),
                )
            )
    return found


async def _age_of_next(conn: asyncpg.Connection, store: EventStore, position: int, now: datetime) -> float:
    state = await conn.fetchval(
        f"SELECT state FROM {store.events_table} WHERE notification_id > $1 ORDER BY notification_id LIMIT 1",
        position,
    )
    try:
        age = (now - datetime.fromisoformat(orjson.loads(state)["timestamp"])).total_seconds()
    except (TypeError, KeyError, ValueError, orjson.JSONDecodeError):
        return 0.0
    return max(0.0, round(age, 3))


async def autovacuum_on(pool: asyncpg.Pool) -> bool:
    """Whether the server runs autovacuum, which keeps the read models' and the log's statistics,
    and so the plans cached on the connections, abreast of their growth (decision 121)."""
    on: bool = await pool.fetchval("SELECT current_setting('autovacuum')::boolean")
    return on
