"""Student Portal pages: sign in, new password, home with the current pass, Create Pass, View Passes."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from hallpass.acting import Actor
from hallpass.commands.base import settled
from hallpass.commands.lines import JoinLine, LeaveLine
from hallpass.commands.portal import RequestPortalPass
from hallpass.credentials import TooManyAttempts
from hallpass.errors import DestinationFull, DomainError, Invalid, StudentAlreadyOut, Unauthenticated
from hallpass.http.auth import (
    PORTAL_IDLE_SECONDS,
    cookie_secure,
    csrf_ok,
    csrf_token,
    end_session,
    portal_session,
    require_student,
)
from hallpass.http.common import acting, form_key, is_uuid, parse_form, runtime, visible_on_page
from hallpass.http.errors import status_for
from hallpass.http.live import EmergencyMode, Watched, changes, school_events
from hallpass.http.portal_api import NewPassword, PortalSignIn, own_passes, portal_locations
from hallpass.http.portal_auth import choose_password, sign_in
from hallpass.messages import say
from hallpass.projections.emergency import EmergencyView
from hallpass.projections.wait_lines import WaitLinesView
from hallpass.text import sentence

SCHOOL_COOKIE = "hallpass_portal_school"
LABELS = {
    "requested": "Waiting for teacher approval",
    "active": "Active",
    "expired": "Expired",
    "completed": "Completed",
    "denied": "Denied",
    "cancelled": "Cancelled",
    "terminated": "Ended",
    "scheduled": "Scheduled",
}


def _render(request: Request, name: str, context: dict[str, Any], status: int = 200) -> Response:
    return request.app.state.templates.TemplateResponse(  # type: ignore[no-any-return]
        request,
        f"portal/{name}",
        {"labels": LABELS, "csrf": csrf_token(request), **context},
        status_code=status,
    )


def _to_sign_in(request: Request, message: str = "") -> Response:
    school = request.cookies.get(SCHOOL_COOKIE, "")
    if not is_uuid(school):
        return _render(request, "signed_out.html", {"message": message}, 401)
    suffix = "?ended=1" if "without activity" in message else ""
    return RedirectResponse(f"/portal/{school}{suffix}", status_code=303)


def _student(
    request: Request, form: FormData | None = None, *, touch: bool = True, allow_must_change: bool = False
) -> Actor | Response:
    csrf = str(form.get("csrf", "")) if form is not None else None
    try:
        return require_student(request, form_csrf=csrf, touch=touch, allow_must_change=allow_must_change)
    except Unauthenticated as e:
        return _to_sign_in(request, e.message)
    except DomainError as e:
        record = portal_session(request)
        if record is not None and record.must_change:
            return RedirectResponse("/portal/password", status_code=303)
        raise e


async def sign_in_page(request: Request) -> Response:
    school_id = UUID(str(request.path_params["school_id"]))
    school = await runtime(request).directory.school(school_id)
    context: dict[str, Any] = {"school": school, "school_id": school_id, "username": "", "error": ""}
    if request.query_params.get("ended"):
        context["error"] = say("portal.session_idle", minutes=PORTAL_IDLE_SECONDS // 60)
    status = 200
    if request.method == "POST":
        form = await request.form()
        username = str(form.get("username", "")).strip()[:64]
        context["username"] = username
        if not csrf_ok(request, str(form.get("csrf", ""))):
            context["error"] = say("portal.form_expired")
            return _with_school(request, _render(request, "sign_in.html", context, 403), school_id)
        try:
            password = str(form.get("password", ""))
            typed = parse_form(request, {"username": username, "password": password}, PortalSignIn)
            _actor, must_change, _csrf = await sign_in(request, school_id, typed.username, typed.password)
        except TooManyAttempts as e:
            minutes = max(1, round(e.retry_after / 60))
            context["error"] = say("portal.locked", minutes=minutes)
            status = 429
        except DomainError as e:
            context["error"], status = sentence(e.message), status_for(e)
        else:
            target = "/portal/password" if must_change else "/portal/home"
            return _with_school(request, RedirectResponse(target, status_code=303), school_id)
    return _with_school(request, _render(request, "sign_in.html", context, status), school_id)


def _with_school(request: Request, response: Response, school_id: UUID) -> Response:
    """Remember the school, so signing out or an ended session leads to its sign-in page."""
    response.set_cookie(
        SCHOOL_COOKIE, str(school_id), max_age=365 * 86400, samesite="lax", secure=cookie_secure(request)
    )
    return response


async def password_page(request: Request) -> Response:
    form = await request.form() if request.method == "POST" else None
    actor = _student(request, form, allow_must_change=True)
    if isinstance(actor, Response):
        return actor
    context: dict[str, Any] = {"actor": actor, "error": ""}
    if form is not None:
        new, again = str(form.get("new_password", "")), str(form.get("confirm_password", ""))
        try:
            if new != again:
                raise Invalid(say("portal.passwords_differ"), field="confirm_password")
            new = parse_form(request, {"new_password": new}, NewPassword).new_password
            await choose_password(request, actor, new)
        except DomainError as e:
            context["error"] = sentence(e.message)
            return _render(request, "password.html", context, status_for(e))
        request.session["portal_flash"] = say("portal.password_saved")
        return RedirectResponse("/portal/home", status_code=303)
    return _render(request, "password.html", context)


async def _current(request: Request, actor: Actor) -> dict[str, Any] | None:
    recent = await own_passes(request, actor, limit=10)
    waiting_or_out = [p for p in recent if p["status"] in ("requested", "active") or p["overdue"]]
    choices = waiting_or_out or recent
    return choices[0] if choices else None


def _holds(current: dict[str, Any] | None) -> bool:
    """A pass the student is waiting on or is out on: no new pass until it ends."""
    return current is not None and (current["status"] in ("requested", "active") or current["overdue"])


def _already_out(current: dict[str, Any] | None, tz: str, where: str | None = None) -> str:
    """What a student who holds a pass is told when they ask for another ("" when they hold
    none); `where`: the place a refusal named, when the read model does not show the pass yet."""
    if current is None or not _holds(current):
        if where is None:
            return ""
        return (
            say("portal.already_out_somewhere", place=where) if where else say("portal.already_out_elsewhere")
        )
    place = current["destination"]["name"]
    if current["status"] == "requested":
        return say("portal.already_asked", place=place)
    since = current["start_at"].astimezone(ZoneInfo(tz)).strftime("%-I:%M %p")
    return say("portal.already_out", place=place, since=since)


async def home(request: Request) -> Response:
    actor = _student(request)
    if isinstance(actor, Response):
        return actor
    context = {
        "actor": actor,
        "current": await _current(request, actor),
        "lines": await _lines(request, actor),
        "flash": request.session.pop("portal_flash", ""),
        "tz": await _tz(request, actor),
        "emergency": await EmergencyView(runtime(request).pool).on(actor.school_id),
    }
    return _render(request, "home.html", context)


async def current_fragment(request: Request) -> Response:
    actor = _student(request, touch=False)
    if isinstance(actor, Response):
        return Response("signed out", status_code=401)
    context = {
        "current": await _current(request, actor),
        "lines": await _lines(request, actor),
        "tz": await _tz(request, actor),
    }
    return _render(request, "_current.html", context)


async def _tz(request: Request, actor: Actor) -> str:
    school = await runtime(request).directory.school(actor.school_id)
    return str(school["timezone"]) if school else "UTC"


async def create_page(request: Request) -> Response:
    form = await request.form() if request.method == "POST" else None
    actor = _student(request, form)
    if isinstance(actor, Response):
        return actor
    context: dict[str, Any] = {
        "actor": actor,
        "error": "",
        "origin_id": "",
        "destination_id": "",
        "emergency": await EmergencyView(runtime(request).pool).on(actor.school_id),
    }
    status = 200
    tz = await _tz(request, actor)
    context["already_out"] = _already_out(await _current(request, actor), tz)
    if form is not None:
        context["origin_id"] = str(form.get("origin_id", ""))
        context["destination_id"] = str(form.get("destination_id", ""))
        try:
            if not is_uuid(context["origin_id"]):
                raise Invalid(say("portal.choose_origin"), field="origin_id")
            if not is_uuid(context["destination_id"]):
                raise Invalid(say("portal.choose_destination"), field="destination_id")
            command = parse_form(
                request,
                {"origin_id": context["origin_id"], "destination_id": context["destination_id"]},
                RequestPortalPass,
            )
            keyed = acting(request, actor, form_key(form, "idempotency_key"))
            outcome = settled(await runtime(request).app.request_portal_pass(keyed, command))
        except StudentAlreadyOut as e:
            where = str(e.details.get("destination_name") or "")
            context["already_out"] = _already_out(await _current(request, actor), tz, where)
            status = status_for(e)
        except DomainError as e:
            context["error"], status = sentence(e.message), status_for(e)
            context["join_line"] = isinstance(e, DestinationFull)
        else:
            headers = await visible_on_page(request, outcome.notification_id, "portal_flash")
            return RedirectResponse("/portal/home", status_code=303, headers=headers)
    try:
        context["places"] = await portal_locations(request, actor)
    except DomainError as e:
        context["error"], status, context["places"] = e.message, status_for(e), None
    context["idempotency_key"] = str(uuid4())
    return _render(request, "create.html", context, status)


async def act(request: Request) -> Response:
    """Complete Pass or Cancel Request from the portal's home page."""
    form = await request.form()
    actor = _student(request, form)
    if isinstance(actor, Response):
        return actor
    raw, action = request.path_params["pass_id"], request.path_params["action"]
    app = runtime(request).app
    try:
        if not is_uuid(raw) or action not in ("complete", "cancel"):
            raise Invalid(say("portal.no_such_action"))
        if action == "complete":
            outcome = await app.complete_pass(acting(request, actor), UUID(raw))
        else:
            outcome = await app.cancel_request(acting(request, actor), UUID(raw))
    except DomainError as e:
        request.session["portal_flash"] = sentence(e.message)
        return RedirectResponse("/portal/home", status_code=303)
    done = say("portal.completed" if action == "complete" else "portal.cancelled")
    request.session["portal_flash"] = done
    headers = await visible_on_page(request, outcome.notification_id, "portal_flash")
    return RedirectResponse("/portal/home", status_code=303, headers=headers)


async def _lines(request: Request, actor: Actor) -> list[dict[str, Any]]:
    """The lines the student waits in, and any slot offered to them: nothing about anyone else."""
    assert actor.id is not None
    line_ids = await WaitLinesView(runtime(request).pool).line_ids(actor.school_id)
    found = await runtime(request).app.standings(actor.school_id, actor.id, line_ids)
    for line in found:
        until = line["offered_until"]
        line["offered_until_at"] = datetime.fromisoformat(until) if until else None
    return found


async def line_action(request: Request) -> Response:
    """Join a full place's line, leave it, or take the slot it offers (Create Pass from the line)."""
    form = await request.form()
    actor = _student(request, form)
    if isinstance(actor, Response):
        return actor
    action = request.path_params["action"]
    destination, origin = str(form.get("destination_id", "")), str(form.get("origin_id", ""))
    app = runtime(request).app
    try:
        if not is_uuid(destination) or action not in ("join", "leave", "accept"):
            raise Invalid(say("portal.no_such_line"))
        place = UUID(destination)
        if action == "leave":
            outcome = await app.leave_line(acting(request, actor), place, LeaveLine())
            done = say("portal.line_left")
        else:
            if not is_uuid(origin):
                raise Invalid(say("portal.choose_origin"), field="origin_id")
            if action == "join":
                joined = JoinLine(origin_id=UUID(origin))
                outcome = await app.join_line(acting(request, actor, form_key(form, "key")), place, joined)
                done = say("portal.line_joined")
            else:
                asked = RequestPortalPass(origin_id=UUID(origin), destination_id=place)
                outcome = settled(await app.request_portal_pass(acting(request, actor), asked))
                done = say("portal.line_taken")
    except DomainError as e:
        request.session["portal_flash"] = sentence(e.message)
        return RedirectResponse("/portal/home", status_code=303)
    request.session["portal_flash"] = done
    headers = await visible_on_page(request, outcome.notification_id, "portal_flash")
    return RedirectResponse("/portal/home", status_code=303, headers=headers)


async def passes_page(request: Request) -> Response:
    actor = _student(request)
    if isinstance(actor, Response):
        return actor
    context = {"actor": actor, "passes": await own_passes(request, actor), "tz": await _tz(request, actor)}
    return _render(request, "passes.html", context)


async def events(request: Request) -> Response:
    """Tells the student's page when their own latest pass changed; nothing about anyone else."""
    actor = _student(request, touch=False)
    if isinstance(actor, Response):
        return Response("signed out", status_code=401)

    async def signature() -> tuple[Any, ...]:
        current = await _current(request, actor)
        lines = tuple((line["location_id"], line["position"]) for line in await _lines(request, actor))
        return ((current["id"], current["status"], current["returned_at"]) if current else (), lines)

    own = Watched("pass", signature, await signature())
    mode = EmergencyMode(request, actor.school_id)

    async def own_pass_changed() -> bytes | None:
        return await changes(mode, own) or None

    return school_events(request, str(actor.school_id), own_pass_changed, mode.greeting)


async def sign_out(request: Request) -> Response:
    """POST only, with the session's CSRF token: the session ends at once."""
    form = await request.form()
    if portal_session(request) is not None and not csrf_ok(request, str(form.get("csrf", ""))):
        return RedirectResponse("/portal/home", status_code=303)
    await end_session(request)
    return _to_sign_in(request)


routes = [
    Route("/portal/home", home, methods=["GET"]),
    Route("/portal/password", password_page, methods=["GET", "POST"]),
    Route("/portal/create", create_page, methods=["GET", "POST"]),
    Route("/portal/passes", passes_page, methods=["GET"]),
    Route("/portal/current", current_fragment, methods=["GET"]),
    Route("/portal/events", events, methods=["GET"]),
    Route("/portal/sign-out", sign_out, methods=["POST"]),
    Route("/portal/passes/{pass_id}/{action}", act, methods=["POST"]),
    Route("/portal/lines/{action}", line_action, methods=["POST"]),
    Route("/portal/{school_id:uuid}", sign_in_page, methods=["GET", "POST"]),
]
