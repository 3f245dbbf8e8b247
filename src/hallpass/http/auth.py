"""Who is calling: a signed session cookie (browsers) or a bearer token (API clients).

Browsers also carry a CSRF token: in a hidden form field, or the X-CSRF-Token header.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
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


PORTAL_IDLE_SECONDS = 20 * 60


def sign_in_student(request: Request, actor: Actor, *, must_change: bool) -> str:
    """A student's portal session; it ends after PORTAL_IDLE_SECONDS without activity."""
    sign_in_session(request, actor)
    request.session["portal"] = {"must_change": must_change, "seen": request.app.state.clock().timestamp()}
    return str(request.session["csrf"])


def require_student(
    request: Request,
    *,
    form_csrf: str | None = None,
    touch: bool = True,
    allow_must_change: bool = False,
) -> Actor:
    """The signed-in student. Passive requests (live updates) do not keep a session alive."""
    actor = current_actor(request, form_csrf=form_csrf)
    portal = request.session.get("portal")
    if actor is None or actor.kind != "student" or not isinstance(portal, dict):
        raise Unauthenticated("sign in to the Student Portal first")
    moment = request.app.state.clock().timestamp()
    if moment - float(portal.get("seen", 0)) > PORTAL_IDLE_SECONDS:
        request.session.clear()
        raise Unauthenticated(
            f"your session ended after {PORTAL_IDLE_SECONDS // 60} minutes without activity; sign in again"
        )
    if portal.get("must_change") and not allow_must_change:
        raise Forbidden("choose a new password before using the Student Portal")
    if touch:
        request.session["portal"] = {**portal, "seen": moment}
    return actor


KIOSK_COOKIE = "hallpass_kiosk"
KIOSK_TOKEN_MAX_AGE = 366 * 24 * 3600


@dataclass(frozen=True)
class KioskClaims:
    """What a kiosk device token says: which kiosk, and the secret only that device holds."""

    kiosk_id: UUID
    secret: str


def kiosk_serializer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt="hallpass-kiosk-token")


def issue_kiosk_token(request: Request, kiosk_id: UUID, secret: str) -> str:
    return kiosk_serializer(request.app.state.settings.secret_key).dumps({"k": str(kiosk_id), "s": secret})


def kiosk_claims(request: Request, *, form_csrf: str | None = None) -> KioskClaims | None:
    """The kiosk token sent as `Authorization: Bearer` or in the kiosk cookie (signature only).

    A change sent with the cookie also needs the session's CSRF token.
    """
    header = request.headers.get("authorization", "")
    from_cookie = not header.lower().startswith("bearer ")
    raw = request.cookies.get(KIOSK_COOKIE, "") if from_cookie else header[7:].strip()
    if not raw:
        return None
    try:
        data = kiosk_serializer(request.app.state.settings.secret_key).loads(raw, max_age=KIOSK_TOKEN_MAX_AGE)
        claims = KioskClaims(UUID(str(data["k"])), str(data["s"]))
    except (BadSignature, KeyError, TypeError, ValueError) as e:
        raise Unauthenticated("the kiosk token is not valid or has expired") from e
    if from_cookie and request.method not in SAFE_METHODS:
        sent = form_csrf or request.headers.get("x-csrf-token", "")
        expected = request.session.get("csrf", "")
        if not sent or not expected or not hmac.compare_digest(str(sent), str(expected)):
            raise Forbidden("this screen is out of date; start again")
    return claims
