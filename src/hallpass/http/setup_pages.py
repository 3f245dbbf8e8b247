"""Pages anyone may open: the first run's set-up of an empty instance, and choosing a password
through a one-time link."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from hallpass.commands.admin_messages import SetUp
from hallpass.errors import DomainError
from hallpass.http.auth import csrf_ok, csrf_token, sign_in_session
from hallpass.http.common import now, parse_form, runtime, visible
from hallpass.http.errors import status_for

SET_UP_FIELDS = ("district_name", "school_name", "timezone", "name", "email")
STALE_FORM = "This form had expired. Please try again."


def _page(request: Request, template: str, status: int = 200, **context: Any) -> Response:
    return request.app.state.templates.TemplateResponse(  # type: ignore[no-any-return]
        request, template, {"actor": None, "csrf": csrf_token(request), **context}, status_code=status
    )


async def set_up_page(request: Request) -> Response:
    """The first visit to an empty instance: create the district, its first school and its
    district administrator, who is then signed in."""
    rt = runtime(request)
    if not await rt.app.needs_set_up():
        return RedirectResponse("/sign-in", status_code=303)
    values: dict[str, str] = {"timezone": "America/New_York"}
    error, status = "", 200
    if request.method == "POST":
        form = await request.form()
        values = {name: str(form.get(name, "")).strip() for name in SET_UP_FIELDS}
        try:
            if not csrf_ok(request, str(form.get("csrf", ""))):
                return _page(request, "setup.html", 403, values=values, error=STALE_FORM)
            command = parse_form(request, {**values, "password": str(form.get("password", ""))}, SetUp)
            actor, notification_id = await rt.app.set_up(command, now=now(request))
            await sign_in_session(request, actor)
            await visible(request, notification_id)
            return RedirectResponse("/admin", status_code=303)
        except DomainError as e:
            error, status = e.message, status_for(e)
    return _page(request, "setup.html", status, values=values, error=error)


async def choose_password_page(request: Request) -> Response:
    """A one-time link: the member of staff chooses their password (at most once)."""
    token = str(request.path_params["token"])[:200]
    app = runtime(request).app
    email = await app.staff_reset_login(token, now=now(request))
    if email is None:
        return _page(
            request, "password.html", 404, email=None, error="This link was used, replaced or has expired."
        )
    error, status = "", 200
    if request.method == "POST":
        form = await request.form()
        password = str(form.get("password", ""))
        if not csrf_ok(request, str(form.get("csrf", ""))):
            error, status = STALE_FORM, 403
        elif password != str(form.get("confirm", "")):
            error, status = "The two passwords are not the same.", 422
        else:
            try:
                if await app.choose_staff_password(token, password, now=now(request)):
                    return _page(request, "password.html", email=email, saved=True)
                error, status = "This link was used, replaced or has expired.", 404
            except DomainError as e:
                error, status = e.message, status_for(e)
    return _page(request, "password.html", status, email=email, error=error)


routes = [
    Route("/setup", set_up_page, methods=["GET", "POST"]),
    Route("/password/{token}", choose_password_page, methods=["GET", "POST"]),
]
