"""Signing in and out: the sign-in page, and API tokens for clients.

The sign-in form carries a CSRF token issued before sign-in, and signing out is a POST with
the session's CSRF token, so another site can neither sign a browser in nor out.
"""

from __future__ import annotations

import msgspec
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from hallpass.acting import Actor
from hallpass.bounds import Login, Secret
from hallpass.credentials import TooManyAttempts
from hallpass.errors import Invalid, Unauthenticated
from hallpass.http.auth import (
    csrf_ok,
    csrf_token,
    end_session,
    issue_token,
    request_session,
    require_actor,
    revoke_token,
    sign_in_session,
)
from hallpass.http.common import ORJSONResponse, now, parse_body, parse_form, runtime
from hallpass.http.errors import json_error
from hallpass.http.openapi import delete, get, post
from hallpass.messages import say


class SignIn(msgspec.Struct, forbid_unknown_fields=True):
    email: Login
    password: Secret


async def _staff_actor(request: Request, email: str, password: str) -> Actor | None:
    return await runtime(request).app.sign_in_staff(email, password, now=now(request))


async def create_token(request: Request) -> Response:
    """Sign in; returns a bearer token that expires after 12 hours (`expires_at`)"""
    body = await parse_body(request, SignIn)
    try:
        actor = await _staff_actor(request, body.email, body.password)
    except TooManyAttempts as e:
        response = json_error(429, "rate_limited", say("auth.too_many"))
        response.headers["Retry-After"] = str(e.retry_after)
        return response
    if actor is None:
        raise Unauthenticated(say("auth.wrong_password"))
    token, expires_at = await issue_token(request, actor)
    return ORJSONResponse(
        {
            "token": token,
            "token_type": "bearer",
            "expires_at": expires_at,
            "staff": {
                "id": actor.id,
                "name": actor.name,
                "role": actor.role,
                "roles": list(actor.roles),
                "school_id": actor.school_id,
            },
        },
        status_code=201,
    )


async def delete_token(request: Request) -> Response:
    """Revoke the bearer token sent with this request; it stops working at once"""
    await revoke_token(request)
    return Response(status_code=204)


async def whoami(request: Request) -> Response:
    """Who the caller is"""
    actor = require_actor(request)
    return ORJSONResponse(
        {
            "kind": actor.kind,
            "id": actor.id,
            "name": actor.name,
            "role": actor.role,
            "roles": list(actor.roles),
            "school_id": actor.school_id,
        }
    )


async def sign_in_page(request: Request) -> Response:
    if request.method == "GET" and await runtime(request).app.needs_set_up():
        return RedirectResponse("/setup", status_code=303)
    error = ""
    status = 200
    email = ""
    if request.method == "POST":
        form = await request.form()
        email = str(form.get("email", "")).strip()
        password = str(form.get("password", ""))
        if not csrf_ok(request, str(form.get("csrf", ""))):
            return _sign_in_form(request, "This sign-in form had expired. Please sign in again.", email, 403)
        try:
            if email and password:
                parse_form(request, {"email": email, "password": password}, SignIn)
            actor = await _staff_actor(request, email, password) if email and password else None
        except Invalid:
            actor, error, status = None, "An email or password cannot contain control characters.", 422
        except TooManyAttempts:
            actor, error, status = (
                None,
                "Too many failed sign-ins. Try again in a few minutes.",
                429,
            )
        if actor is not None:
            await sign_in_session(request, actor)
            target = str(form.get("next", "")) or "/hall-pass"
            if not target.startswith("/") or target.startswith("//"):
                target = "/hall-pass"
            return RedirectResponse(target, status_code=303)
        if not error:
            error, status = "Wrong email or password.", 401
    return _sign_in_form(request, error, email, status)


def _sign_in_form(request: Request, error: str, email: str, status: int) -> Response:
    return request.app.state.templates.TemplateResponse(  # type: ignore[no-any-return]
        request,
        "sign_in.html",
        {
            "error": error,
            "email": email,
            "next": request.query_params.get("next", ""),
            "csrf": csrf_token(request),
        },
        status_code=status,
    )


async def sign_out(request: Request) -> Response:
    """POST only, with the session's CSRF token: the session ends at once, everywhere."""
    form = await request.form()
    if request_session(request).record is not None and not csrf_ok(request, str(form.get("csrf", ""))):
        return RedirectResponse("/hall-pass", status_code=303)
    await end_session(request)
    return RedirectResponse("/sign-in", status_code=303)


routes = [
    post("/api/v1/auth/token", create_token, body=SignIn, ok=201, errors=(401, 422, 429), security="anyone"),
    delete(
        "/api/v1/auth/token",
        delete_token,
        ok=204,
        ok_description="Revoked",
        media=None,
        errors=(401,),
        security="bearer",
    ),
    get("/api/v1/me", whoami, errors=(401,)),
    Route("/sign-in", sign_in_page, methods=["GET", "POST"]),
    Route("/sign-out", sign_out, methods=["POST"]),
]
