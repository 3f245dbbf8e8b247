"""The Audit pages, /audit/...: a student's (or any record's) history, the hallway at a past
moment stepped through the day, who looked, and links to the same as CSV and JSON lines
(docs/decisions/080). The same checks as /api/v1/audit: the role (403), then the school (404)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode
from uuid import UUID

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from hallpass.acting import Actor
from hallpass.audit.access import require_auditor
from hallpass.audit.history import find_students, places
from hallpass.errors import Invalid
from hallpass.http.audit_api import SUBJECT_ROUTES, audit, history_filter
from hallpass.http.auth import csrf_token, current_actor
from hallpass.http.common import now, path_uuid, query_text, query_uuid, runtime
from hallpass.messages import say

PLURAL = {kind: plural for kind, plural, _, _ in SUBJECT_ROUTES}
STEPS = (
    (-10, "10 minutes earlier"),
    (-1, "1 minute earlier"),
    (1, "1 minute later"),
    (10, "10 minutes later"),
)


def page(
    handler: Callable[[Request, Actor], Awaitable[Response]],
) -> Callable[[Request], Awaitable[Response]]:
    """An audit page: signed-in staff only (else the sign-in page), auditors only (else 403)."""

    async def endpoint(request: Request) -> Response:
        actor = current_actor(request)
        if actor is None or not actor.is_staff:
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse("/sign-in?" + urlencode({"next": target}), status_code=303)
        require_auditor(actor)
        return await handler(request, actor)

    return endpoint


def render(request: Request, template: str, actor: Actor, **context: Any) -> Response:
    return request.app.state.templates.TemplateResponse(  # type: ignore[no-any-return]
        request, template, {"actor": actor, "csrf": csrf_token(request), **context}
    )


async def school_record(request: Request, school_id: UUID) -> dict[str, Any]:
    row = await runtime(request).directory.school(school_id)
    return {"school_id": school_id, "name": row["name"] if row else ""}


async def index(request: Request, actor: Actor) -> Response:
    school_id = query_uuid(request, "school") or actor.school_id
    service = await audit(request)
    tz = await service.school(actor, school_id)
    q = query_text(request, "q")
    students = await find_students(runtime(request).pool, school_id, q) if q else []
    today = now(request).astimezone(tz)
    return render(
        request,
        "audit/index.html",
        actor,
        school=await school_record(request, school_id),
        q=q,
        students=students,
        places=await places(runtime(request).pool, school_id),
        date=today.date().isoformat(),
        time=today.strftime("%H:%M"),
        timezone=str(tz),
    )


def history_page(kind: str, key: str) -> Callable[[Request, Actor], Awaitable[Response]]:
    async def handler(request: Request, actor: Actor) -> Response:
        subject_id = path_uuid(request, key, kind)
        service = await audit(request)
        subject, tz = await service.subject(actor, kind, subject_id)
        filters = history_filter(request, tz)
        read = await service.history(actor, kind, subject_id, filters, now(request), f"{kind} history (page)")
        query = {k: v for k, v in request.query_params.items() if k in ("from", "to", "kind") and v}
        api = f"/api/v1/audit/{PLURAL[kind]}/{subject_id}/history"
        return render(
            request,
            "audit/history.html",
            actor,
            school=await school_record(request, subject.school_id),
            kind=kind,
            title=read.names.get(subject_id, str(subject_id)),
            rows=read.rows(),
            filters={
                "from": request.query_params.get("from", ""),
                "to": request.query_params.get("to", ""),
                "kind": request.query_params.get("kind", ""),
            },
            csv=f"{api}?{urlencode({**query, 'format': 'csv'})}",
            jsonl=f"{api}?{urlencode({**query, 'format': 'jsonl'})}",
            timezone=str(tz),
        )

    return handler


async def hallway_page(request: Request, actor: Actor) -> Response:
    school_id = path_uuid(request, "school_id", "school")
    service = await audit(request)
    tz = await service.school(actor, school_id)
    day = request.query_params.get("date", "")
    clock = request.query_params.get("time", "")
    try:
        at = datetime.fromisoformat(f"{day}T{clock}").replace(tzinfo=tz) if day and clock else None
    except ValueError:
        at = None
    if at is None:
        raise Invalid(say("audit.choose_moment"), field="date")
    read = await service.hallway(actor, school_id, at, tz, now(request), "hallway at a moment (page)")
    local = at.astimezone(tz)

    def moved(minutes: int) -> str:
        then = local + timedelta(minutes=minutes)
        return "?" + urlencode({"date": then.date().isoformat(), "time": then.strftime("%H:%M")})

    api = f"/api/v1/audit/schools/{school_id}/hallway"
    stamp = local.strftime("%Y-%m-%dT%H:%M")
    return render(
        request,
        "audit/hallway.html",
        actor,
        school=await school_record(request, school_id),
        at=local,
        rows=read.rows(),
        steps=[(moved(m), label) for m, label in STEPS],
        csv=f"{api}?{urlencode({'at': stamp, 'format': 'csv'})}",
        jsonl=f"{api}?{urlencode({'at': stamp, 'format': 'jsonl'})}",
        timezone=str(tz),
    )


async def views_page(request: Request, actor: Actor) -> Response:
    school_id = path_uuid(request, "school_id", "school")
    service = await audit(request)
    tz = await service.school(actor, school_id)
    seen = await service.access.views(school_id)
    return render(
        request,
        "audit/views.html",
        actor,
        school=await school_record(request, school_id),
        views=[(v.viewed_at.astimezone(tz), v) for v in seen],
        timezone=str(tz),
    )


routes = [
    Route("/audit", page(index), methods=["GET"]),
    *(
        Route(f"/audit/{plural}/{{{key}}}", page(history_page(kind, key)), methods=["GET"])
        for kind, plural, key, _ in SUBJECT_ROUTES
    ),
    Route("/audit/schools/{school_id}/hallway", page(hallway_page), methods=["GET"]),
    Route("/audit/schools/{school_id}/views", page(views_page), methods=["GET"]),
]
