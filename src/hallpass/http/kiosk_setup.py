"""Staff pages for kiosks: Kiosk Mode set-up (the browser becomes a kiosk) and the kiosk list."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from hallpass import bounds
from hallpass.acting import Actor
from hallpass.commands.kiosk import KioskSetUp
from hallpass.errors import DomainError, Invalid
from hallpass.http.auth import csrf_token, current_actor, end_session, require_staff, set_kiosk_cookie
from hallpass.http.common import (
    acting,
    is_uuid,
    parse_form,
    path_uuid,
    query_grade,
    query_int,
    query_search,
    query_uuid,
    runtime,
    visible,
    visible_on_page,
)
from hallpass.http.errors import status_for
from hallpass.http.kiosk_api import kiosk_view, set_up_kiosk
from hallpass.messages import say

PICK_PAGE = 50
"""Students per page of the set-up's hand-pick list."""
MODES = {
    "all": "All students",
    "classroom": "By classroom",
    "grade": "By grade",
    "list": "Hand-picked students",
}


def _staff(request: Request, form: FormData | None = None) -> Actor | None:
    actor = current_actor(request, form_csrf=str(form.get("csrf", "")) if form is not None else None)
    return actor if actor is not None and actor.is_staff else None


async def _form_page(
    request: Request, actor: Actor, *, values: dict[str, Any], error: str = "", status: int = 200
) -> Response:
    rt = runtime(request)
    locations = await rt.directory.locations(actor.school_id)
    me = await rt.directory.staff_member(actor.id) if actor.id else None
    room = values.get("room_id") or (str(me["room_id"]) if me and me["room_id"] else "")
    return request.app.state.templates.TemplateResponse(  # type: ignore[no-any-return]
        request,
        "kiosk/setup.html",
        {
            "actor": actor,
            "school": await rt.directory.school(actor.school_id),
            "csrf": csrf_token(request),
            "locations": locations,
            "classrooms": [loc for loc in locations if loc["kind"] == "classroom"],
            "grades": await rt.directory.grades(actor.school_id),
            "chosen": await _chosen(request, actor, values.get("student_ids", [])),
            "modes": MODES,
            "room_id": room,
            "values": values,
            "error": error,
        },
        status_code=status,
    )


async def _chosen(request: Request, actor: Actor, raw: list[str]) -> list[dict[str, Any]]:
    """The hand-picked students a form sent back (after a refusal), to show ticked again."""
    ids = [UUID(v) for v in raw[: bounds.MAX_KIOSK_STUDENTS] if is_uuid(v)]
    return await runtime(request).directory.students_by_ids(actor.school_id, ids) if ids else []


async def pick_students(request: Request) -> Response:
    """One page of the set-up's hand-pick list (name or ID, classroom, grade), or with `all=1`
    every match (for Move all): the set-up page itself carries no student."""
    actor = _staff(request)
    if actor is None:
        return Response("sign in first", status_code=401)
    everyone = request.query_params.get("all", "") == "1"
    offset = query_int(request, "offset", 0, 0, 1_000_000)
    limit = bounds.MAX_KIOSK_STUDENTS if everyone else PICK_PAGE
    students = await runtime(request).directory.students(
        actor.school_id,
        name=query_search(request),
        grade=query_grade(request),
        homeroom_id=query_uuid(request, "homeroom_id"),
        limit=limit + 1,
        offset=0 if everyone else offset,
    )
    more = len(students) > limit
    return request.app.state.templates.TemplateResponse(  # type: ignore[no-any-return]
        request,
        "kiosk/_pick_students.html",
        {"students": students[:limit], "next": offset + limit if more else None},
    )


def _values(form: FormData) -> dict[str, Any]:
    return {
        "room_id": str(form.get("room_id", "")),
        "name": str(form.get("name", "")),
        "destination_ids": [str(v) for v in form.getlist("destination_ids")],
        "mode": str(form.get("mode", "all")),
        "homeroom_ids": [str(v) for v in form.getlist("homeroom_ids")],
        "grades": [str(v) for v in form.getlist("grades")],
        "student_ids": [str(v) for v in form.getlist("student_ids")],
    }


def _setup_from(request: Request, form: FormData, values: dict[str, Any]) -> KioskSetUp:
    password = str(form.get("exit_password", "")).strip()
    if password != str(form.get("exit_password_confirm", "")).strip():
        raise Invalid(say("kiosk.exit_passwords_differ"), field="exit_password_confirm")
    if not values["destination_ids"]:
        raise Invalid(say("kiosk.choose_destinations"), field="destination_ids")
    raw = {
        "room_id": values["room_id"],
        "name": values["name"],
        "destination_ids": values["destination_ids"],
        "students": {
            "mode": values["mode"],
            "homeroom_ids": values["homeroom_ids"],
            "grades": [bounds.grade(g, field="grades") for g in values["grades"] if g.strip()],
            "student_ids": values["student_ids"],
        },
        "exit_password": password,
    }
    try:
        return parse_form(request, raw, KioskSetUp)
    except Invalid as e:
        if e.details.get("field") == "exit_password":
            raise Invalid(say("kiosk.exit_password_digits"), field="exit_password") from e
        if e.details.get("field") == "room_id":
            raise Invalid(say("kiosk.choose_room"), field="room_id") from e
        raise


async def setup(request: Request) -> Response:
    form = await request.form() if request.method == "POST" else None
    actor = _staff(request, form)
    if actor is None:
        return RedirectResponse("/sign-in?next=/hall-pass/kiosk", status_code=303)
    if form is None:
        return await _form_page(request, actor, values={"mode": "all"})
    values = _values(form)
    try:
        outcome, token = await set_up_kiosk(request, actor, _setup_from(request, form, values))
    except DomainError as e:
        return await _form_page(request, actor, values=values, error=e.message, status=status_for(e))
    headers = await visible(request, outcome.notification_id)
    await end_session(request)
    response = RedirectResponse("/kiosk", status_code=303, headers=headers)
    set_kiosk_cookie(request, response, token)
    return response


async def _kiosk_list(request: Request, actor: Actor, name: str) -> Response:
    rt = runtime(request)
    school = await rt.directory.school(actor.school_id)
    return request.app.state.templates.TemplateResponse(  # type: ignore[no-any-return]
        request,
        f"kiosk/{name}",
        {
            "actor": actor,
            "school": school,
            "tz": school["timezone"] if school else "UTC",
            "csrf": csrf_token(request),
            "kiosks": await kiosk_view(request).for_staff(actor.school_id, actor.id),
            "modes": MODES,
            "flash": request.session.pop("flash", "") if name == "kiosks.html" else "",
        },
    )


async def kiosks_page(request: Request) -> Response:
    actor = _staff(request)
    if actor is None:
        return RedirectResponse("/sign-in?next=/hall-pass/kiosks", status_code=303)
    return await _kiosk_list(request, actor, "kiosks.html")


async def kiosks_fragment(request: Request) -> Response:
    actor = _staff(request)
    if actor is None:
        return Response("sign in first", status_code=401)
    return await _kiosk_list(request, actor, "_kiosks.html")


async def revoke(request: Request) -> Response:
    form = await request.form()
    actor = require_staff(request, form_csrf=str(form.get("csrf", "")))
    kiosk_id: UUID = path_uuid(request, "kiosk_id", "kiosk")
    outcome = await runtime(request).app.revoke_kiosk(acting(request, actor), kiosk_id)
    request.session["flash"] = say("kiosk.revoked")
    headers = await visible_on_page(request, outcome.notification_id)
    back = str(form.get("back", ""))
    return RedirectResponse(
        back if back in ("/hall-pass", "/hall-pass/kiosks") else "/hall-pass", 303, headers=headers
    )


routes = [
    Route("/hall-pass/kiosk", setup, methods=["GET", "POST"]),
    Route("/hall-pass/kiosk/students", pick_students, methods=["GET"]),
    Route("/hall-pass/kiosks", kiosks_page, methods=["GET"]),
    Route("/hall-pass/kiosks/rows", kiosks_fragment, methods=["GET"]),
    Route("/hall-pass/kiosks/{kiosk_id}/revoke", revoke, methods=["POST"]),
]
