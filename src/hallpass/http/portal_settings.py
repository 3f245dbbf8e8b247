"""Student Portal settings for administrators: the API and a settings page."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from hallpass.acting import Actor
from hallpass.commands import Hallpass
from hallpass.commands.portal import ChangePortalSettings, settings_body
from hallpass.errors import DomainError, Forbidden
from hallpass.http.auth import csrf_token, current_actor, require_staff
from hallpass.http.common import (
    ORJSONResponse,
    acting,
    command_endpoint,
    is_uuid,
    parse_form,
    runtime,
    school_settings,
    visible,
)
from hallpass.http.errors import status_for
from hallpass.http.openapi import get, put
from hallpass.messages import say


def _admin(actor: Actor) -> Actor:
    if not actor.administers:
        raise Forbidden(say("admin.portal_settings"))
    return actor


async def read_settings(request: Request) -> Response:
    """Student Portal settings (admin)"""
    actor = _admin(require_staff(request))
    return ORJSONResponse(settings_body(await school_settings(request, actor.school_id)))


change_settings = command_endpoint(
    "Change the Student Portal settings (admin)",
    Hallpass.change_portal_settings,
    keyed=False,
)


async def settings_page(request: Request) -> Response:
    form = await request.form() if request.method == "POST" else None
    actor = current_actor(request, form_csrf=str(form.get("csrf", "")) if form is not None else None)
    if actor is None or not actor.is_staff:
        return RedirectResponse("/sign-in?next=/admin/portal", status_code=303)
    _admin(actor)
    rt = runtime(request)
    context: dict[str, Any] = {"error": "", "saved": False}
    status = 200
    if form is not None:
        chosen = [UUID(str(v)) for v in form.getlist("approval_destination_ids") if is_uuid(str(v))]
        try:
            command = parse_form(
                request,
                {
                    "enabled": form.get("enabled") == "on",
                    "needs_approval": form.get("needs_approval") == "on",
                    "approval_destination_ids": chosen,
                },
                ChangePortalSettings,
            )
            outcome = await rt.app.change_portal_settings(acting(request, actor), command)
            await visible(request, outcome.notification_id)  # the page reads the school itself
            context["saved"] = True
        except DomainError as e:
            context["error"], status = e.message, status_for(e)
    school = await school_settings(request, actor.school_id)
    directory_school = await rt.directory.school(actor.school_id)
    return request.app.state.templates.TemplateResponse(  # type: ignore[no-any-return]
        request,
        "portal/settings.html",
        {
            **context,
            "actor": actor,
            "school": directory_school,
            "settings": settings_body(school),
            "locations": await rt.directory.locations(actor.school_id),
            "csrf": csrf_token(request),
            "portal_url": f"{request.base_url}portal/{school.id}",
        },
        status_code=status,
    )


routes = [
    get("/api/v1/school/portal-settings", read_settings, errors=(401, 403)),
    put("/api/v1/school/portal-settings", change_settings, errors=(401, 403, 404, 422)),
    Route("/admin/portal", settings_page, methods=["GET", "POST"]),
]
