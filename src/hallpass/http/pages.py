"""Staff pages: the Hall Pass dashboard and Create Hall Pass, server-rendered."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode
from uuid import UUID

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from hallpass.actors import Actor
from hallpass.aggregates.passes import Source, Status, TerminationReason
from hallpass.commands.messages import CreatePasses, TerminatePass
from hallpass.errors import DomainError, Invalid
from hallpass.http.auth import csrf_token, current_actor, require_staff
from hallpass.http.common import now, runtime
from hallpass.http.errors import status_for
from hallpass.http.passes_api import filters_from, pass_json

REASONS = {
    TerminationReason.LEFT_EARLY: "Left early",
    TerminationReason.CHECKED_IN_ELSEWHERE: "Checked in elsewhere",
    TerminationReason.OTHER: "Other",
}
STATUS_LABELS = {s.value: s.value.capitalize() for s in Status}


def _sign_in_redirect(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse("/sign-in?" + urlencode({"next": target}), status_code=303)


def _staff_or_none(request: Request, form: FormData | None = None) -> Actor | None:
    csrf = str(form.get("csrf", "")) if form is not None else None
    actor = current_actor(request, form_csrf=csrf)
    return actor if actor is not None and actor.is_staff else None


async def _context(request: Request, actor: Actor, **extra: Any) -> dict[str, Any]:
    rt = runtime(request)
    school = await rt.directory.school(actor.school_id)
    return {
        "actor": actor,
        "school": school,
        "tz": school["timezone"] if school else "UTC",
        "csrf": csrf_token(request),
        "status_labels": STATUS_LABELS,
        "reasons": REASONS,
        **extra,
    }


async def _rows(request: Request, actor: Actor, tz: str) -> tuple[list[dict[str, Any]], int]:
    filters = await filters_from(request, tz)
    rows, total = await runtime(request).passes.list(actor.school_id, filters)
    return [pass_json(r) for r in rows], total


async def home(request: Request) -> Response:
    return RedirectResponse("/hall-pass", status_code=303)


async def dashboard(request: Request) -> Response:
    actor = _staff_or_none(request)
    if actor is None:
        return _sign_in_redirect(request)
    rt = runtime(request)
    context = await _context(request, actor)
    passes, total = await _rows(request, actor, context["tz"])
    return request.app.state.templates.TemplateResponse(  # type: ignore[no-any-return]
        request,
        "dashboard.html",
        {
            **context,
            "passes": passes,
            "total": total,
            "query": request.query_params,
            "query_string": request.url.query,
            "locations": await rt.directory.locations(actor.school_id),
            "staff": await rt.directory.staff(actor.school_id),
            "statuses": [s.value for s in Status],
            "sources": [s.value for s in Source],
            "flash": request.session.pop("flash", ""),
        },
    )


async def dashboard_rows(request: Request) -> Response:
    actor = _staff_or_none(request)
    if actor is None:
        return Response("sign in first", status_code=401)
    context = await _context(request, actor)
    passes, total = await _rows(request, actor, context["tz"])
    return request.app.state.templates.TemplateResponse(  # type: ignore[no-any-return]
        request, "_pass_rows.html", {**context, "passes": passes, "total": total}
    )


async def _create_form(
    request: Request,
    actor: Actor,
    *,
    error: str = "",
    status: int = 200,
    values: dict[str, Any] | None = None,
) -> Response:
    rt = runtime(request)
    context = await _context(request, actor)
    locations = await rt.directory.locations(actor.school_id)
    me = await rt.directory.staff_member(actor.id) if actor.id else None
    values = values or {}
    params = request.query_params
    carried = [UUID(v) for v in params.getlist("selected") if _is_uuid(v)]
    carried += [UUID(v) for v in values.get("student_ids", []) if _is_uuid(v)]
    homeroom = params.get("homeroom_id", "")
    if "homeroom_id" not in params and me and me["room_id"]:
        homeroom = str(me["room_id"])
    grade = params.get("grade", "")
    students = await rt.directory.students(
        actor.school_id,
        name=params.get("q", "")[:100],
        grade=int(grade) if grade.isdigit() else None,
        homeroom_id=UUID(homeroom) if _is_uuid(homeroom) else None,
        limit=200,
    )
    chosen = await rt.directory.students_by_ids(actor.school_id, carried[:500]) if carried else []
    chosen_ids = {s["student_id"] for s in chosen}
    students = chosen + [s for s in students if s["student_id"] not in chosen_ids]
    return request.app.state.templates.TemplateResponse(  # type: ignore[no-any-return]
        request,
        "create.html",
        {
            **context,
            "locations": locations,
            "origin_id": values.get("origin_id")
            or params.get("origin_id")
            or (str(me["room_id"]) if me and me["room_id"] else ""),
            "destination_id": values.get("destination_id") or params.get("destination_id", ""),
            "selected": {str(c) for c in carried},
            "students": students,
            "grades": await rt.directory.grades(actor.school_id),
            "q": params.get("q", ""),
            "grade": grade,
            "homeroom_id": homeroom,
            "error": error,
        },
        status_code=status,
    )


def _is_uuid(text: str) -> bool:
    try:
        UUID(text)
    except ValueError:
        return False
    return True


def _uuid_field(form: FormData, name: str, label: str) -> UUID:
    raw = str(form.get(name, "")).strip()
    if not _is_uuid(raw):
        raise Invalid(f"choose {label}", field=name)
    return UUID(raw)


async def create_page(request: Request) -> Response:
    form = await request.form() if request.method == "POST" else None
    actor = _staff_or_none(request, form)
    if actor is None:
        return _sign_in_redirect(request)
    if form is None:
        return await _create_form(request, actor)
    student_ids = [str(s) for s in form.getlist("student_ids")]
    values = {
        "origin_id": str(form.get("origin_id", "")),
        "destination_id": str(form.get("destination_id", "")),
        "student_ids": student_ids,
    }
    try:
        if not student_ids or not all(_is_uuid(s) for s in student_ids):
            raise Invalid("select at least one student", field="student_ids")
        command = CreatePasses(
            origin_id=_uuid_field(form, "origin_id", "where the student is Leaving From"),
            destination_id=_uuid_field(form, "destination_id", "where the student is Going To"),
            student_ids=[UUID(s) for s in student_ids],
        )
        outcome = await runtime(request).app.create_passes(
            actor,
            command,
            now=now(request),
            idempotency_key=str(form.get("idempotency_key", "")) or None,
        )
    except DomainError as e:
        return await _create_form(request, actor, error=e.message, status=status_for(e), values=values)
    await runtime(request).watcher.wait_for(outcome.notification_id)
    count = len(outcome.body.get("passes", []))
    request.session["flash"] = f"Created {count} hall pass{'es' if count != 1 else ''}."
    return RedirectResponse("/hall-pass", status_code=303)


async def complete_form(request: Request) -> Response:
    form = await request.form()
    actor = require_staff(request, form_csrf=str(form.get("csrf", "")))
    pass_id = UUID(request.path_params["pass_id"]) if _is_uuid(request.path_params["pass_id"]) else None
    if pass_id is None:
        raise Invalid("no such pass")
    outcome = await runtime(request).app.complete_pass(actor, pass_id, now=now(request))
    await runtime(request).watcher.wait_for(outcome.notification_id)
    return RedirectResponse("/hall-pass", status_code=303)


async def terminate_form(request: Request) -> Response:
    form = await request.form()
    actor = require_staff(request, form_csrf=str(form.get("csrf", "")))
    raw = request.path_params["pass_id"]
    if not _is_uuid(raw):
        raise Invalid("no such pass")
    try:
        reason = TerminationReason(str(form.get("reason", "")))
    except ValueError as e:
        raise Invalid("choose a reason", field="reason") from e
    command = TerminatePass(reason=reason, note=str(form.get("note", ""))[:500])
    outcome = await runtime(request).app.terminate_pass(actor, UUID(raw), command, now=now(request))
    await runtime(request).watcher.wait_for(outcome.notification_id)
    return RedirectResponse("/hall-pass", status_code=303)


routes = [
    Route("/", home, methods=["GET"]),
    Route("/hall-pass", dashboard, methods=["GET"]),
    Route("/hall-pass/rows", dashboard_rows, methods=["GET"]),
    Route("/hall-pass/new", create_page, methods=["GET", "POST"]),
    Route("/hall-pass/{pass_id}/complete", complete_form, methods=["POST"]),
    Route("/hall-pass/{pass_id}/terminate", terminate_form, methods=["POST"]),
]
