"""The dashboard's wait lines: who waits for each full place, who is offered a slot until when,
and a form to let a student go first (with a reason) or take them out of the line."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from hallpass.acting import Actor
from hallpass.commands.lines import JumpLine, LeaveLine
from hallpass.errors import DomainError, Invalid
from hallpass.http.auth import current_actor, require_staff
from hallpass.http.common import (
    acting,
    is_uuid,
    parse_form,
    path_uuid,
    runtime,
    staff_fragment,
    visible_on_page,
)
from hallpass.messages import say
from hallpass.projections.wait_lines import WaitLinesView
from hallpass.text import sentence


async def school_lines(
    request: Request, actor: Actor, line_ids: list[UUID] | None = None
) -> list[dict[str, Any]]:
    """The school's lines anyone waits in, each offer's time also as a datetime (`until_at`).
    `line_ids`: the school's lines, where the caller has read them (`DashboardView.frame`)."""
    if line_ids is None:
        line_ids = await WaitLinesView(runtime(request).pool).line_ids(actor.school_id)
    lines = await runtime(request).app.school_lines(actor, line_ids)
    for line in lines:
        for offer in line["offers"]:
            offer["until_at"] = datetime.fromisoformat(offer["until"])
    return lines


async def lines_fragment(request: Request) -> Response:
    actor = current_actor(request)
    if actor is None or not actor.is_staff:
        return Response(say("auth.sign_in"), status_code=401)
    return await staff_fragment(request, actor, "_lines.html", lines=await school_lines(request, actor))


async def line_form(request: Request) -> Response:
    """Let a waiting student go first (`jump`, with a reason) or take them out (`remove`)."""
    form = await request.form()
    actor = require_staff(request, form_csrf=str(form.get("csrf", "")))
    location_id = path_uuid(request, "location_id", "location")
    action, student = request.path_params["action"], str(form.get("student_id", ""))
    app = runtime(request).app
    try:
        if not is_uuid(student):
            raise Invalid(say("line.choose_student"), field="student_id")
        if action == "jump":
            body = parse_form(
                request, {"student_id": student, "reason": str(form.get("reason", ""))}, JumpLine
            )
            outcome = await app.jump_line(acting(request, actor), location_id, body)
            request.session["flash"] = say("line.jumped")
        elif action == "remove":
            outcome = await app.leave_line(
                acting(request, actor), location_id, LeaveLine(student_id=UUID(student))
            )
            request.session["flash"] = say("line.removed")
        else:
            raise Invalid(say("portal.no_such_line"))
    except DomainError as e:
        request.session["flash"] = sentence(e.message)
        return RedirectResponse("/hall-pass", status_code=303)
    headers = await visible_on_page(request, outcome.notification_id)
    return RedirectResponse("/hall-pass", status_code=303, headers=headers)


routes = [
    Route("/hall-pass/lines", lines_fragment, methods=["GET"]),
    Route("/hall-pass/lines/{location_id}/{action}", line_form, methods=["POST"]),
]
