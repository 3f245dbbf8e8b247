"""Teacher approval of Student Portal requests: the API and the dashboard's pending panel."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from hallpass.acting import Actor
from hallpass.aggregates.passes import Status
from hallpass.aggregates.staff import Role
from hallpass.commands import Hallpass
from hallpass.commands.base import settled
from hallpass.commands.portal import ApproveRequest, DecideRequest
from hallpass.errors import DomainError, NotFound
from hallpass.http.auth import current_actor, require_staff
from hallpass.http.common import (
    ORJSONResponse,
    acting,
    command_endpoint,
    parse_form,
    path_uuid,
    runtime,
    staff_fragment,
    visible_on_page,
)
from hallpass.http.openapi import get, post
from hallpass.http.passes_api import pass_json
from hallpass.messages import say
from hallpass.projections.queries import PassFilters


async def pending_for(request: Request, actor: Actor) -> list[dict[str, Any]]:
    """Requests waiting on this member of staff: their room's, or every one for admin and office."""
    rt = runtime(request)
    origin_id: UUID | None = None
    if not actor.has_role(Role.ADMIN, Role.DISTRICT_ADMIN, Role.OFFICE):
        me = await rt.directory.staff_member(actor.id) if actor.id else None
        if me is None or me["room_id"] is None:
            return []
        origin_id = me["room_id"]
    filters = PassFilters(statuses=(Status.REQUESTED.value,), origin_id=origin_id, limit=200)
    rows = (await rt.passes.page(actor.school_id, filters)).rows
    return [pass_json(r) for r in sorted(rows, key=lambda r: r["created_at"])]


async def list_approvals(request: Request) -> Response:
    """Requests waiting on the caller"""
    actor = require_staff(request)
    return ORJSONResponse({"requests": await pending_for(request, actor)})


approve = command_endpoint(
    "Approve a Requested pass (teacher of the origin room, office or admin)",
    Hallpass.approve_request,
)
deny = command_endpoint("Deny a Requested pass, with an optional note", Hallpass.deny_request)


async def panel(request: Request) -> Response:
    """The dashboard's pending-requests panel, as HTML, refreshed live by static/portal.approvals.js."""
    actor = current_actor(request)
    if actor is None or not actor.is_staff:
        return Response("sign in first", status_code=401)
    return await staff_fragment(
        request, actor, "portal/_approval_rows.html", requests=await pending_for(request, actor)
    )


async def decide_form(request: Request) -> Response:
    """No-script fallback: the panel's Approve / Deny forms post here and return to the dashboard."""
    form = await request.form()
    actor = require_staff(request, form_csrf=str(form.get("csrf", "")))
    pass_id = path_uuid(request, "pass_id", "pass")
    if request.path_params["decision"] not in ("approve", "deny"):
        raise NotFound(say("http.not_found"))
    app = runtime(request).app
    try:
        if request.path_params["decision"] == "approve":
            fields: dict[str, Any] = {"note": str(form.get("note", ""))}
            if reason := str(form.get("override_reason", "")).strip():
                fields["override"] = {"reason": reason}
            approval = parse_form(request, fields, ApproveRequest)
            outcome = settled(await app.approve_request(acting(request, actor), pass_id, approval))
        else:
            command = parse_form(request, {"note": str(form.get("note", ""))}, DecideRequest)
            outcome = settled(await app.deny_request(acting(request, actor), pass_id, command))
    except DomainError as e:
        request.session["flash"] = e.message
        return RedirectResponse("/hall-pass", status_code=303)
    headers = await visible_on_page(request, outcome.notification_id)
    return RedirectResponse("/hall-pass", status_code=303, headers=headers)


routes = [
    get("/api/v1/approvals", list_approvals, errors=(401, 403)),
    post("/api/v1/passes/{pass_id}/approve", approve, errors=(401, 403, 404, 409, 422)),
    post("/api/v1/passes/{pass_id}/deny", deny, errors=(401, 403, 404, 409, 422)),
    Route("/hall-pass/approvals", panel, methods=["GET"]),
    Route("/hall-pass/requests/{pass_id}/{decision:str}", decide_form, methods=["POST"]),
]
