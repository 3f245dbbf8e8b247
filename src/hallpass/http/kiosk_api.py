"""/api/v1/kiosks (staff set up and revoke) and /api/v1/kiosk (a kiosk device's own commands)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from hallpass.acting import Actor
from hallpass.aggregates.kiosks import Kiosk
from hallpass.commands import Hallpass, Outcome
from hallpass.commands.kiosk import KioskExit, KioskSetUp
from hallpass.errors import Invalid, Unauthenticated
from hallpass.http.auth import KIOSK_SCOPE_KEY, issue_kiosk_token, kiosk_claims, require_staff
from hallpass.http.common import (
    ORJSONResponse,
    acting,
    command_endpoint,
    idempotency_key,
    parse_body,
    query_search,
    respond,
    runtime,
)
from hallpass.http.openapi import Query, get, post
from hallpass.messages import say
from hallpass.projections.kiosks import KioskView


def kiosk_view(request: Request) -> KioskView:
    return runtime(request).kiosks


async def require_kiosk(request: Request, *, form_csrf: str | None = None) -> tuple[Actor, Kiosk]:
    """The kiosk whose device token came with the request; 401 if none, forged or revoked."""
    claims = kiosk_claims(request, form_csrf=form_csrf)
    if claims is None:
        raise Unauthenticated(say("kiosk.token_needed"))
    kiosk = await runtime(request).app.kiosk(claims.kiosk_id, claims.secret)
    return Actor("kiosk", kiosk.id, kiosk.school_id, None, kiosk.name), kiosk


async def set_up_kiosk(request: Request, actor: Actor, setup: KioskSetUp) -> tuple[Outcome, str]:
    """Set the kiosk up (its exit password kept apart from the log); returns its device token."""
    outcome, kiosk_id, secret = await runtime(request).app.set_up_kiosk(acting(request, actor), setup)
    return outcome, issue_kiosk_token(request, kiosk_id, secret)


async def destinations(request: Request, kiosk: Kiosk) -> list[dict[str, Any]]:
    """The kiosk's destinations in its order, each marked available unless at capacity."""
    places = {p["location_id"]: p for p in await runtime(request).directory.locations(kiosk.school_id)}
    chosen = []
    for location_id in kiosk.destination_ids:
        place = places.get(location_id)
        if place is None:
            continue
        full = place["capacity"] is not None and place["occupants"] >= place["capacity"]
        chosen.append(
            {
                "id": location_id,
                "name": place["name"],
                "allotted_minutes": place["allotted_minutes"],
                "capacity": place["capacity"],
                "occupants": place["occupants"],
                "available": not full,
            }
        )
    return chosen


async def room_name(request: Request, kiosk: Kiosk) -> str:
    room = await runtime(request).directory.location(kiosk.room_id)
    return str(room["name"]) if room is not None else ""


async def try_exit(request: Request, actor: Actor, password: str) -> Outcome:
    return await runtime(request).app.exit_kiosk(acting(request, actor), password)


async def keyed_kiosk(request: Request) -> Actor:
    """The kiosk calling, which sends an Idempotency-Key with each command (422 without one)."""
    actor, _ = await require_kiosk(request)
    if idempotency_key(request) is None:
        raise Invalid(say("kiosk.idempotency_key_needed"), field="Idempotency-Key")
    return actor


def student_json(c: Any) -> dict[str, Any]:
    return {
        "id": c.student_id,
        "name": c.full_name,
        "grade": c.grade,
        "has_open_pass": c.open_pass_id is not None,
    }


# -- staff --------------------------------------------------------------------------


async def create_kiosk(request: Request) -> Response:
    """Kiosk Mode: set up a kiosk; returns its device token"""
    actor = require_staff(request)
    setup = await parse_body(request, KioskSetUp)
    outcome, token = await set_up_kiosk(request, actor, setup)
    return await respond(request, outcome, also={"token": token, "token_type": "bearer"})


async def list_kiosks(request: Request) -> Response:
    """The caller's kiosks"""
    actor = require_staff(request)
    rows = await kiosk_view(request).for_staff(actor.school_id, actor.id)
    return ORJSONResponse({"kiosks": rows})


revoke_kiosk = command_endpoint("Revoke a kiosk: its token stops working", Hallpass.revoke_kiosk, keyed=False)


# -- a kiosk device -----------------------------------------------------------------


async def this_kiosk(request: Request) -> Response:
    """This kiosk: its room, destinations, and its token issued again for 30 more days

    A client that calls this keeps its token fresh.
    """
    _, kiosk = await require_kiosk(request)
    places = await destinations(request, kiosk)
    claims = request.scope[KIOSK_SCOPE_KEY]
    return ORJSONResponse(
        {
            "token": issue_kiosk_token(request, claims.kiosk_id, claims.secret),
            "id": kiosk.id,
            "name": kiosk.name,
            "room": {"id": kiosk.room_id, "name": await room_name(request, kiosk)},
            "destinations": places,
            "locked_until": kiosk.locked_until,
        }
    )


async def find_students(request: Request) -> Response:
    """Find an allowed student by full name (2+ letters, small typos ok), hall pass ID or #ID"""
    _, kiosk = await require_kiosk(request)
    query = query_search(request)
    found = await kiosk_view(request).find_students(kiosk.school_id, kiosk.scope, query)
    return ORJSONResponse({"students": [student_json(c) for c in found]})


create_pass = command_endpoint(
    "Create Pass at the kiosk (source kiosk, shown as (K)); Idempotency-Key required",
    Hallpass.kiosk_create_pass,
    keyed_kiosk,
)
complete_pass = command_endpoint(
    "Complete Pass at the kiosk: the student's open pass; Idempotency-Key required",
    Hallpass.kiosk_complete_pass,
    keyed_kiosk,
)


async def exit_kiosk(request: Request) -> Response:
    """Leave kiosk mode with the exit password; 5 wrong in a row lock it for 5 minutes"""
    actor, _ = await require_kiosk(request)
    body = await parse_body(request, KioskExit)
    return await respond(request, await try_exit(request, actor, body.password))


NAME_SEARCH = (Query("q", "Name, hall pass ID, or #external ID"),)

# Staff set kiosks up; a kiosk device sends its own token (security "kiosk").
routes = [
    post("/api/v1/kiosks", create_kiosk, body=KioskSetUp, ok=201, errors=(401, 403, 404, 422)),
    get("/api/v1/kiosks", list_kiosks, errors=(401, 403)),
    post("/api/v1/kiosks/{kiosk_id}/revoke", revoke_kiosk, errors=(401, 403, 404, 409)),
    get("/api/v1/kiosk", this_kiosk, errors=(401,), security="kiosk"),
    get("/api/v1/kiosk/students", find_students, query=NAME_SEARCH, errors=(401, 422), security="kiosk"),
    post("/api/v1/kiosk/passes", create_pass, ok=201, errors=(401, 403, 404, 409, 422), security="kiosk"),
    post("/api/v1/kiosk/passes/complete", complete_pass, errors=(401, 403, 404, 409, 422), security="kiosk"),
    post("/api/v1/kiosk/exit", exit_kiosk, body=KioskExit, errors=(401, 403, 422, 423), security="kiosk"),
]
