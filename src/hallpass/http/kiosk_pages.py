"""The kiosk screens a student uses: Create Pass, Complete Pass, and leaving kiosk mode.

Every screen needs the kiosk cookie; a device holding one reaches nothing else (`KioskLock`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any
from urllib.parse import urlencode
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from hallpass.acting import Acting, Actor
from hallpass.aggregates.kiosks import Kiosk, KioskLocked
from hallpass.commands import Outcome
from hallpass.commands.base import settled
from hallpass.commands.kiosk import KioskCompletePass, KioskCreatePass
from hallpass.commands.kiosk_lines import KioskLine
from hallpass.errors import DestinationFull, DomainError, Invalid, StudentAlreadyOut, Unauthenticated
from hallpass.http.auth import (
    KIOSK_COOKIE,
    KIOSK_SCOPE_KEY,
    KioskClaims,
    cookie_secure,
    csrf_token,
    issue_kiosk_token,
    set_kiosk_cookie,
)
from hallpass.http.common import acting, form_key, is_uuid, query_search, runtime, visible
from hallpass.http.errors import outcome_status, status_for
from hallpass.http.kiosk_api import destinations, kiosk_view, require_kiosk, room_name, try_exit
from hallpass.http.live import EmergencyMode, Watched, changes, school_events
from hallpass.messages import say
from hallpass.projections.classes import class_rooms
from hallpass.text import sentence

KIOSK_PATHS = ("/kiosk", "/api/v1/kiosk", "/api/v1/openapi.json")
KIOSK_PREFIXES = ("/kiosk/", "/api/v1/kiosk/", "/static/")
IDLE_SECONDS = 30
LINE_IDLE_SECONDS = 900
"""A student's waiting screen stays up while they wait (the line's offer is live on it)."""


class KioskLock:
    """On a device holding a kiosk cookie, every page but the kiosk's own leads to the kiosk."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # No header lets a kiosk device out: only the exit password (or staff revoking the kiosk,
        # or the token running out) ends the cookie.
        locked = scope["type"] == "http" and not _kiosk_path(scope["path"])
        if locked and Request(scope).cookies.get(KIOSK_COOKIE):
            await RedirectResponse("/kiosk", status_code=303)(scope, receive, send)
            return
        await self.app(scope, receive, send)


def _kiosk_path(path: str) -> bool:
    return path in KIOSK_PATHS or path.startswith(KIOSK_PREFIXES)


def _render(request: Request, name: str, status: int = 200, **context: Any) -> Response:
    response: Response = request.app.state.templates.TemplateResponse(
        request,
        f"kiosk/{name}",
        {"csrf": csrf_token(request), "idle_seconds": IDLE_SECONDS, **context},
        status_code=status,
    )
    _renew(request, response)
    return response


def _renew(request: Request, response: Response) -> None:
    """A kiosk in use keeps its cookie: each screen issues the token again for 30 more days."""
    claims = request.scope.get(KIOSK_SCOPE_KEY)
    if isinstance(claims, KioskClaims) and request.cookies.get(KIOSK_COOKIE):
        set_kiosk_cookie(request, response, issue_kiosk_token(request, claims.kiosk_id, claims.secret))


def _ended(request: Request, message: str) -> Response:
    response = _render(request, "ended.html", 401, message=message)
    response.delete_cookie(
        KIOSK_COOKIE, path="/", secure=cookie_secure(request), httponly=True, samesite="strict"
    )
    return response


async def _kiosk(request: Request, form_csrf: str | None = None) -> tuple[Actor, Kiosk] | Response:
    if not request.cookies.get(KIOSK_COOKIE):
        return _ended(request, say("kiosk.not_a_kiosk"))
    try:
        return await require_kiosk(request, form_csrf=form_csrf)
    except Unauthenticated as e:
        return _ended(request, e.message)


async def _school_tz(request: Request, kiosk: Kiosk) -> str:
    school = await runtime(request).directory.school(kiosk.school_id)
    return str(school["timezone"]) if school else "UTC"


async def _student(request: Request, kiosk: Kiosk, raw: str) -> dict[str, Any] | None:
    """The allowed student named by a form or query value, or None."""
    try:
        student_id = UUID(raw)
    except ValueError:
        return None
    rows = await runtime(request).directory.students_by_ids(kiosk.school_id, [student_id])
    if not rows:
        return None
    row = rows[0]
    allowed = kiosk.scope.allows(
        student_id=student_id,
        grade=row["grade"],
        homeroom_id=row["homeroom_id"],
        class_rooms=await class_rooms(runtime(request).pool, student_id),
    )
    return row if allowed else None


async def start(request: Request) -> Response:
    found = await _kiosk(request)
    if isinstance(found, Response):
        return found
    _, kiosk = found
    return _render(request, "start.html", kiosk=kiosk, room=await room_name(request, kiosk))


async def find(request: Request) -> Response:
    found = await _kiosk(request)
    if isinstance(found, Response):
        return found
    _, kiosk = found
    flow = "complete" if request.url.path.startswith("/kiosk/complete") else "create"
    query = query_search(request)
    students: list[Any] = []
    message = ""
    if query.strip():
        try:
            students = await kiosk_view(request).find_students(kiosk.school_id, kiosk.scope, query)
        except Invalid as e:
            message = sentence(e.message)
        else:
            if not students:
                message = say("kiosk.no_student")
    return _render(request, "find.html", flow=flow, q=query, students=students, message=message)


async def choose_destination(request: Request) -> Response:
    found = await _kiosk(request)
    if isinstance(found, Response):
        return found
    _, kiosk = found
    student = await _student(request, kiosk, request.query_params.get("student_id", ""))
    if student is None:
        return RedirectResponse("/kiosk/create", status_code=303)
    out = await _already_out(request, kiosk, student)
    if out is not None:
        return out
    return _render(
        request, "destination.html", student=student, destinations=await destinations(request, kiosk)
    )


async def _already_out(
    request: Request, kiosk: Kiosk, student: dict[str, Any], status: int = 200, where: str | None = None
) -> Response | None:
    """A student who is already out is told so, as soon as the kiosk knows who they are, with
    the way to end that pass first; None for a student who may go.

    `where` is given when the command refused a pass the read model does not show yet: the
    place the student is in, or "" when the refusal did not name it."""
    open_pass = None
    if student["open_pass_id"] is not None:
        open_pass = await runtime(request).passes.get(kiosk.school_id, student["open_pass_id"])
    if open_pass is None and where is None:
        return None
    tz = await _school_tz(request, kiosk)
    return _render(
        request,
        "already_out.html",
        status,
        student=student,
        hall_pass=open_pass,
        message=already_out_message(open_pass, where, tz),
    )


def already_out_message(open_pass: dict[str, Any] | None, where: str | None, tz: str) -> str:
    if open_pass is None:
        return (
            say("kiosk.already_out_somewhere", place=where) if where else say("kiosk.already_out_elsewhere")
        )
    place = open_pass["destination_name"]
    if open_pass["status"] == "requested":
        return say("kiosk.already_asked", place=place)
    since = open_pass["start_at"].astimezone(ZoneInfo(tz)).strftime("%-I:%M %p")
    return say("kiosk.already_out", place=place, since=since)


async def create_summary(request: Request) -> Response:
    found = await _kiosk(request)
    if isinstance(found, Response):
        return found
    params = request.query_params
    return await _create_summary(
        request, found[1], params.get("student_id", ""), params.get("destination_id", "")
    )


async def _create_summary(
    request: Request,
    kiosk: Kiosk,
    student_raw: str,
    destination_raw: str,
    error: str = "",
    status: int = 200,
    where: str | None = None,
    *,
    full: bool = False,
) -> Response:
    student = await _student(request, kiosk, student_raw)
    if student is None:
        return RedirectResponse("/kiosk/create", status_code=303)
    out = await _already_out(request, kiosk, student, status, where)
    if out is not None:
        return out
    places = {str(p["id"]): p for p in await destinations(request, kiosk)}
    place = places.get(destination_raw)
    if place is None:
        return RedirectResponse(f"/kiosk/create/destination?student_id={student['student_id']}", 303)
    return _render(
        request,
        "create_summary.html",
        status,
        student=student,
        destination=place,
        room=await room_name(request, kiosk),
        key=str(uuid4()),
        error=error,
        full=full,
    )


async def _send(
    request: Request,
    flow: str,
    send: Callable[[Acting, FormData], Awaitable[Outcome]],
    again: Callable[[Kiosk, FormData, DomainError], Awaitable[Response]],
) -> Response:
    """A kiosk screen's command: the done screen, or on a refusal the summary again saying why."""
    form = await request.form()
    found = await _kiosk(request, str(form.get("csrf", "")))
    if isinstance(found, Response):
        return found
    actor, kiosk = found
    try:
        outcome = await send(acting(request, actor, form_key(form, "key")), form)
    except DomainError as e:
        return await again(kiosk, form, e)
    headers = await visible(request, outcome.notification_id)
    hall_pass = outcome.body["passes"][0] if flow == "create" else outcome.body["pass"]
    response = _render(
        request,
        "done.html",
        flow=flow,
        hall_pass=hall_pass,
        moment=datetime.fromisoformat(hall_pass["due_at" if flow == "create" else "returned_at"]),
        tz=await _school_tz(request, kiosk),
    )
    response.headers.update(headers)
    return response


async def create(request: Request) -> Response:
    async def send(by: Acting, form: FormData) -> Outcome:
        command = KioskCreatePass(
            student_id=_uuid(str(form.get("student_id", "")), say("kiosk.choose_student")),
            destination_id=_uuid(str(form.get("destination_id", "")), say("kiosk.choose_destination")),
        )
        return settled(await runtime(request).app.kiosk_create_pass(by, command))

    async def again(kiosk: Kiosk, form: FormData, e: DomainError) -> Response:
        student_raw, destination_raw = str(form.get("student_id", "")), str(form.get("destination_id", ""))
        where = str(e.details.get("destination_name") or "") if isinstance(e, StudentAlreadyOut) else None
        return await _create_summary(
            request,
            kiosk,
            student_raw,
            destination_raw,
            sentence(e.message),
            status_for(e),
            where,
            full=isinstance(e, DestinationFull),
        )

    return await _send(request, "create", send, again)


async def complete_summary(request: Request) -> Response:
    found = await _kiosk(request)
    if isinstance(found, Response):
        return found
    return await _complete_summary(request, found[1], request.query_params.get("student_id", ""))


async def _complete_summary(
    request: Request, kiosk: Kiosk, student_raw: str, error: str = "", status: int = 200
) -> Response:
    student = await _student(request, kiosk, student_raw)
    if student is None:
        return RedirectResponse("/kiosk/complete", status_code=303)
    open_pass = None
    if student["open_pass_id"] is not None:
        open_pass = await runtime(request).passes.get(kiosk.school_id, student["open_pass_id"])
    return _render(
        request,
        "complete_summary.html",
        status,
        student=student,
        hall_pass=open_pass,
        key=str(uuid4()),
        error=error,
        tz=await _school_tz(request, kiosk),
    )


async def complete(request: Request) -> Response:
    async def send(by: Acting, form: FormData) -> Outcome:
        command = KioskCompletePass(
            student_id=_uuid(str(form.get("student_id", "")), say("kiosk.choose_student"))
        )
        return await runtime(request).app.kiosk_complete_pass(by, command)

    async def again(kiosk: Kiosk, form: FormData, e: DomainError) -> Response:
        student_raw = str(form.get("student_id", ""))
        return await _complete_summary(request, kiosk, student_raw, sentence(e.message), status_for(e))

    return await _send(request, "complete", send, again)


async def leave(request: Request) -> Response:
    form = await request.form() if request.method == "POST" else None
    found = await _kiosk(request, str(form.get("csrf", "")) if form is not None else None)
    if isinstance(found, Response):
        return found
    actor, _ = found
    if form is None:
        return _render(request, "exit.html", error="")
    try:
        outcome = await try_exit(request, actor, str(form.get("password", ""))[:64])
    except KioskLocked as e:
        return _render(request, "exit.html", 423, error=sentence(e.message))
    if outcome.refusal is not None:
        message = sentence(outcome.refusal.message)
        return _render(request, "exit.html", outcome_status(outcome), error=message)
    request.session.clear()
    response = RedirectResponse("/sign-in", status_code=303)
    response.delete_cookie(
        KIOSK_COOKIE, path="/", secure=cookie_secure(request), httponly=True, samesite="strict"
    )
    return response


async def events(request: Request) -> Response:
    """Tells the kiosk's screen whether its school is in emergency mode: at once, then on each
    switch; on a student's waiting screen (`student_id` and `destination_id`), also `line` when
    their place in the line changes."""
    found = await _kiosk(request)
    if isinstance(found, Response):
        return Response("kiosk mode is off", status_code=401)
    actor, kiosk = found
    mode = EmergencyMode(request, kiosk.school_id)
    waiting = _line_query(request)

    async def standing() -> str:
        if waiting is None:
            return ""
        try:
            return _shown(await runtime(request).app.kiosk_standing(actor, waiting))
        except DomainError:
            return ""

    # What the waiting screen showed (`shown`), so a change made before this stream began is told.
    line = Watched("line", standing, request.query_params.get("shown", "")[:40])

    async def greeting() -> bytes:
        return await (changes(mode, line) if waiting is not None else mode.greeting())

    async def switched() -> bytes | None:
        return await changes(mode, line) or None

    return school_events(request, str(kiosk.school_id), switched, greeting)


def _shown(standing: dict[str, Any] | None) -> str:
    """A student's place in a line in a word: "offered", their number, or "out"."""
    if standing is None:
        return "out"
    return "offered" if standing["offered_until"] else str(standing["position"])


def _line_query(request: Request) -> KioskLine | None:
    student, destination = (
        request.query_params.get("student_id", ""),
        request.query_params.get("destination_id", ""),
    )
    if not (is_uuid(student) and is_uuid(destination)):
        return None
    return KioskLine(student_id=UUID(student), destination_id=UUID(destination))


async def line_page(request: Request) -> Response:
    """A student's place in a line at the kiosk, live: their number, or their turn with Go now."""
    found = await _kiosk(request)
    if isinstance(found, Response):
        return found
    actor, kiosk = found
    waiting = _line_query(request)
    student = await _student(request, kiosk, str(waiting.student_id)) if waiting else None
    places = {str(p["id"]): p for p in await destinations(request, kiosk)}
    place = places.get(str(waiting.destination_id)) if waiting else None
    if waiting is None or student is None or place is None:
        return RedirectResponse("/kiosk", status_code=303)
    standing = await runtime(request).app.kiosk_standing(actor, waiting)
    until = (
        datetime.fromisoformat(standing["offered_until"]) if standing and standing["offered_until"] else None
    )
    return _render(
        request,
        "line.html",
        idle_seconds=LINE_IDLE_SECONDS,
        student=student,
        destination=place,
        standing=standing,
        shown=_shown(standing),
        until=until,
        key=str(uuid4()),
        tz=await _school_tz(request, kiosk),
    )


async def line_action(request: Request) -> Response:
    """Join or leave a line at the kiosk; then the waiting screen (or the start, once left)."""
    form = await request.form()
    found = await _kiosk(request, str(form.get("csrf", "")))
    if isinstance(found, Response):
        return found
    actor, kiosk = found
    action = request.path_params["action"]
    student_raw, destination_raw = str(form.get("student_id", "")), str(form.get("destination_id", ""))
    try:
        command = KioskLine(
            student_id=_uuid(student_raw, "choose who you are"),
            destination_id=_uuid(destination_raw, "choose where you are going"),
        )
        app = runtime(request).app
        if action == "join":
            outcome = await app.kiosk_join_line(acting(request, actor, form_key(form, "key")), command)
        elif action == "leave":
            outcome = await app.kiosk_leave_line(acting(request, actor), command)
        else:
            raise Invalid(say("kiosk.no_such_action"))
    except DomainError as e:
        return await _create_summary(
            request, kiosk, student_raw, destination_raw, sentence(e.message), status_for(e)
        )
    headers = await visible(request, outcome.notification_id)
    target = (
        "/kiosk"
        if action == "leave"
        else f"/kiosk/line?{urlencode({'student_id': student_raw, 'destination_id': destination_raw})}"
    )
    return RedirectResponse(target, status_code=303, headers=headers)


def _uuid(raw: str, message: str) -> UUID:
    try:
        return UUID(raw)
    except ValueError as e:
        raise Invalid(message) from e


routes = [
    Route("/kiosk", start, methods=["GET"]),
    Route("/kiosk/create", find, methods=["GET"]),
    Route("/kiosk/create", create, methods=["POST"]),
    Route("/kiosk/create/destination", choose_destination, methods=["GET"]),
    Route("/kiosk/create/summary", create_summary, methods=["GET"]),
    Route("/kiosk/complete", find, methods=["GET"]),
    Route("/kiosk/complete", complete, methods=["POST"]),
    Route("/kiosk/complete/summary", complete_summary, methods=["GET"]),
    Route("/kiosk/exit", leave, methods=["GET", "POST"]),
    Route("/kiosk/events", events, methods=["GET"]),
    Route("/kiosk/line", line_page, methods=["GET"]),
    Route("/kiosk/line/{action}", line_action, methods=["POST"]),
]
