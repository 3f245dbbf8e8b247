"""Health checks for operators: /healthz (the process answers) and /readyz (it can serve well)."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import redis.asyncio as aioredis
from redis.exceptions import RedisError
from starlette.requests import Request
from starlette.responses import Response

from hallpass.http.common import ORJSONResponse, now, runtime
from hallpass.http.openapi import get
from hallpass.projections.health import READY_LAG_SECONDS, autovacuum_on, projection_health
from hallpass.projections.parking import ParkedEvents

CHECK_TIMEOUT = 2.0
PARKED_SHOWN = 20
NO_AUTOVACUUM = (
    "PostgreSQL runs with autovacuum off: the log and the read models are never analysed, so the"
    " plans cached while they were small stay, and commands slow down as they grow; turn it on,"
    " or VACUUM ANALYZE them on a schedule"
)


async def healthz(request: Request) -> Response:
    """Liveness: the process answers (checks no database or Redis)"""
    return ORJSONResponse({"status": "ok"}, headers={"Cache-Control": "no-store"})


async def readyz(request: Request) -> Response:
    """Readiness: database, Redis, each read model's lag and parked events

    200 when the database and Redis answer and the read models are not stale.

    Parked events are reported but do not make the process unready: taking every web process
    out of service would not bring them back, and every other school would lose the service
    (docs/decisions/033). Nor does a warning: a server running without autovacuum serves, ever
    more slowly as the log grows (docs/decisions/121).
    """
    database, projections, parked = await _database(request)
    redis = await _redis(request)
    ready = database["ok"] and redis["ok"] and all(p["ready"] for p in projections)
    warnings = [NO_AUTOVACUUM] if database.get("autovacuum") is False else []
    body = {
        "status": "ready" if ready else "not ready",
        "warnings": warnings,
        "database": database,
        "redis": redis,
        "projections": projections,
        "parked_events": sum(p["parked"] for p in projections),
        "parked": parked,
        "ready_lag_seconds": READY_LAG_SECONDS,
    }
    return ORJSONResponse(body, status_code=200 if ready else 503, headers={"Cache-Control": "no-store"})


async def _database(request: Request) -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]]:
    """The database check, each projection's position and lag, and the first parked events."""
    rt = runtime(request)
    projections = rt.projections
    try:
        async with asyncio.timeout(CHECK_TIMEOUT):
            health = await projection_health(rt.pool, rt.store, projections, now(request))
            autovacuum = await autovacuum_on(rt.pool)
            parked = (
                await ParkedEvents(rt.pool).entries(limit=PARKED_SHOWN)
                if any(h.parked for h in health)
                else []
            )
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as e:
        return {"ok": False, "error": _error(e)}, [], []
    shown = [
        {
            "projection": p.projection,
            "notification_id": p.notification_id,
            "topic": p.topic,
            "originator_id": p.originator_id,
            "held_behind": p.held_behind,
            "parked_at": p.parked_at,
        }
        for p in parked
    ]
    return {"ok": True, "autovacuum": autovacuum}, [h.as_json() for h in health], shown


async def _redis(request: Request) -> dict[str, Any]:
    url = request.app.state.settings.redis_url
    if url is None:
        return {"ok": True, "configured": False}
    client = aioredis.Redis.from_url(url, socket_connect_timeout=CHECK_TIMEOUT, socket_timeout=CHECK_TIMEOUT)
    try:
        await asyncio.wait_for(client.ping(), CHECK_TIMEOUT)
    except (OSError, TimeoutError, RedisError) as e:
        return {"ok": False, "configured": True, "error": _error(e)}
    finally:
        await client.aclose()
    return {"ok": True, "configured": True}


def _error(e: BaseException) -> str:
    return f"{type(e).__name__}: {e}"[:300]


READINESS = {
    "type": "object",
    "required": ["status", "database", "redis", "projections", "parked_events"],
    "properties": {
        "status": {"type": "string", "enum": ["ready", "not ready"]},
        "database": {"type": "object"},
        "redis": {"type": "object"},
        "projections": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "name": {"type": "string"},
                    "position": {"type": "integer"},
                    "head": {"type": "integer"},
                    "lag_events": {"type": "integer"},
                    "lag_seconds": {"type": "number"},
                    "parked": {"type": "integer"},
                    "ready": {"type": "boolean"},
                },
            },
        },
        "parked_events": {"type": "integer"},
        "parked": {"type": "array", "items": {"type": "object"}},
    },
}

# For operators and load balancers; no credentials.
routes = [
    get("/healthz", healthz, ok_description="Alive", errors=(), security="anyone"),
    get(
        "/readyz",
        readyz,
        ok_description="Ready (parked events are reported, not a failure)",
        answer=READINESS,
        errors=(),
        security="anyone",
        other_answers={
            503: {
                "description": "Not ready: see which check failed",
                "content": {"application/json": {"schema": READINESS}},
            }
        },
    ),
]
