"""Who is calling: a signed session cookie (browsers) or a bearer token (API clients).

Browsers also carry a CSRF token: in a hidden form field, or the X-CSRF-Token header.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Any
from uuid import UUID

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.requests import Request

from hallpass.actors import Actor
from hallpass.errors import Forbidden, Unauthenticated

TOKEN_MAX_AGE = 12 * 3600
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def token_serializer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt="hallpass-api-token")


def actor_to_dict(actor: Actor) -> dict[str, Any]:
    return {
        "kind": actor.kind,
        "id": str(actor.id) if actor.id else None,
        "school_id": str(actor.school_id),
        "role": actor.role,
        "name": actor.name,
    }


def actor_from_dict(data: dict[str, Any]) -> Actor:
    return Actor(
        kind=data["kind"],
        id=UUID(data["id"]) if data.get("id") else None,
        school_id=UUID(data["school_id"]),
        role=data.get("role"),
        name=data.get("name", ""),
    )


def issue_token(request: Request, actor: Actor) -> str:
    serializer = token_serializer(request.app.state.settings.secret_key)
    return serializer.dumps(actor_to_dict(actor))


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return str(token)


def sign_in_session(request: Request, actor: Actor) -> None:
    request.session.clear()
    request.session["actor"] = actor_to_dict(actor)
    request.session["csrf"] = secrets.token_urlsafe(32)


def current_actor(request: Request, *, form_csrf: str | None = None) -> Actor | None:
    """The caller, or None. Raises when a cookie-authenticated change lacks its CSRF token."""
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        serializer = token_serializer(request.app.state.settings.secret_key)
        try:
            data = serializer.loads(header[7:].strip(), max_age=TOKEN_MAX_AGE)
        except BadSignature as e:
            raise Unauthenticated("the bearer token is not valid or has expired") from e
        return actor_from_dict(data)
    data = request.session.get("actor")
    if not data:
        return None
    if request.method not in SAFE_METHODS:
        sent = form_csrf or request.headers.get("x-csrf-token", "")
        expected = request.session.get("csrf", "")
        if not sent or not expected or not hmac.compare_digest(str(sent), str(expected)):
            raise Forbidden("missing or wrong CSRF token; reload the page and try again")
    return actor_from_dict(data)


def require_actor(request: Request, *, form_csrf: str | None = None) -> Actor:
    actor = current_actor(request, form_csrf=form_csrf)
    if actor is None:
        raise Unauthenticated("sign in first")
    return actor


def require_staff(request: Request, *, form_csrf: str | None = None) -> Actor:
    actor = require_actor(request, form_csrf=form_csrf)
    if not actor.is_staff:
        raise Forbidden("this needs a staff account")
    return actor
