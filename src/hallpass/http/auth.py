"""Who is calling: a browser session (a signed cookie holding a session id) or a bearer token.

Both name a row of `sessions` (hallpass.sessions), looked up once per request by `SessionLookup`;
ending that row ends the session everywhere. Browsers also carry a CSRF token: in a hidden form
field, or the X-CSRF-Token header. Before sign-in the cookie holds a CSRF token of its own, so
the sign-in forms are protected too.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hallpass.acting import Actor
from hallpass.errors import Forbidden, Unauthenticated
from hallpass.messages import say
from hallpass.sessions import (
    BEARER,
    COOKIE,
    SESSION_LIFETIME,
    TOKEN_LIFETIME,
    TOKEN_PREFIX,
    SessionRecord,
    SessionStore,
)

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
SCOPE_KEY = "hallpass.session"
SESSION_ID = "sid"
PORTAL_IDLE_SECONDS = 20 * 60


@dataclass
class RequestSession:
    """The session a request came with (if any), and whether it counts as activity."""

    record: SessionRecord | None
    touched: bool = False
    failure: Exception | None = None


def _bearer(scope_or_request: Request) -> str | None:
    header = scope_or_request.headers.get("authorization", "")
    return header[7:].strip() if header.lower().startswith("bearer ") else None


def bearer_token(request: Request) -> str | None:
    """What `Authorization: Bearer ...` carries, if anything."""
    return _bearer(request)


class SessionLookup:
    """Finds the request's session row once, before any endpoint; records activity after.

    Runs inside SessionMiddleware (which decodes the signed cookie). A cookie naming an ended or
    expired session is emptied, so the browser drops it.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/static/"):
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        moment: datetime = request.app.state.clock()
        found = RequestSession(None)
        try:
            found.record = await self._find(request, moment)
        except Exception as e:
            # Outside the endpoint the app's exception handlers do not apply; keeping the error
            # until an endpoint asks for the session lets them answer it (e.g. database down).
            found.failure = e
        scope[SCOPE_KEY] = found
        if not _may_touch(found.record):  # nothing to record after: the answer passes untouched
            await self.app(scope, receive, send)
            return

        async def send_after_activity(message: Message) -> None:
            if message["type"] == "http.response.start" and found.touched and found.record is not None:
                await _sessions(request).touch(found.record.id_hash, now=moment)
            await send(message)

        await self.app(scope, receive, send_after_activity)

    async def _find(self, request: Request, moment: datetime) -> SessionRecord | None:
        token = _bearer(request)
        if token is not None:
            if not token.startswith(TOKEN_PREFIX):
                return None
            return await _sessions(request).find(token, via=BEARER, now=moment)
        cookie = request.scope.get("session") or {}
        raw = cookie.get(SESSION_ID)
        if not isinstance(raw, str):
            return None
        record = await _sessions(request).find(raw, via=COOKIE, now=moment)
        if record is None:
            cookie.clear()
        return record


def _may_touch(record: SessionRecord | None) -> bool:
    """Whether a request that came with `record` may count as activity (`require_student`):
    only a student's browser session is kept alive by use; a request's record is only ever
    dropped, never replaced, on the `RequestSession` that `SessionLookup` made."""
    return record is not None and record.via == COOKIE and record.actor.kind == "student"


def request_session(request: Request) -> RequestSession:
    found = request.scope.get(SCOPE_KEY)
    if not isinstance(found, RequestSession):
        found = RequestSession(None)
        request.scope[SCOPE_KEY] = found
    if found.failure is not None:
        raise found.failure
    return found


def _sessions(request: Request) -> SessionStore:
    return request.app.state.runtime.sessions  # type: ignore[no-any-return]


def _now(request: Request) -> datetime:
    return request.app.state.clock()  # type: ignore[no-any-return]


def cookie_secure(request: Request) -> bool:
    """Cookies are `Secure` when the app is served over HTTPS (setting HALLPASS_HTTPS)."""
    return bool(getattr(request.app.state.settings, "https_only", False))


async def issue_token(request: Request, actor: Actor) -> tuple[str, datetime]:
    """A bearer token for an API client: its own revocable session. Returns it and its expiry."""
    raw, record = await _sessions(request).start(
        actor, via=BEARER, now=_now(request), lifetime=TOKEN_LIFETIME
    )
    return raw, record.expires_at


async def revoke_token(request: Request) -> None:
    """End the session of the bearer token this request presented."""
    record = request_session(request).record
    if _bearer(request) is None or record is None or record.via != BEARER:
        raise Unauthenticated(say("auth.bearer_missing"))
    await _sessions(request).revoke(record.id_hash, now=_now(request))


def csrf_token(request: Request) -> str:
    """The CSRF token forms must send back: the session's, or before sign-in the cookie's own."""
    record = request_session(request).record
    if record is not None and record.via == COOKIE:
        return record.csrf
    token = request.session.get("csrf")
    if not isinstance(token, str) or not token:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


def csrf_ok(request: Request, sent: str | None) -> bool:
    """True when `sent` (form field, else the X-CSRF-Token header) is this browser's token."""
    given = sent or request.headers.get("x-csrf-token", "")
    record = request_session(request).record
    if record is not None and record.via == COOKIE:
        expected = record.csrf
    else:
        expected = str(request.session.get("csrf") or "")
    return bool(given) and bool(expected) and hmac.compare_digest(str(given), expected)


async def sign_in_session(request: Request, actor: Actor, *, must_change: bool = False) -> SessionRecord:
    """Start a browser session: a new id in the cookie (never the one from before sign-in)."""
    await end_session(request)
    raw, record = await _sessions(request).start(
        actor, via=COOKIE, now=_now(request), lifetime=SESSION_LIFETIME, must_change=must_change
    )
    request.session.clear()
    request.session[SESSION_ID] = raw
    request.scope[SCOPE_KEY] = RequestSession(record)
    return record


async def end_session(request: Request) -> None:
    """End the browser's session, if any, at once; the cookie keeps nothing."""
    found = request_session(request)
    if found.record is not None and found.record.via == COOKIE:
        await _sessions(request).revoke(found.record.id_hash, now=_now(request))
    found.record = None
    request.session.clear()


def current_actor(request: Request, *, form_csrf: str | None = None) -> Actor | None:
    """The caller, or None. Raises when a cookie-authenticated change lacks its CSRF token."""
    record = request_session(request).record
    if _bearer(request) is not None:
        if record is None or record.via != BEARER:
            raise Unauthenticated(say("auth.bearer_invalid"))
        return record.actor
    if record is None:
        return None
    if request.method not in SAFE_METHODS and not csrf_ok(request, form_csrf):
        raise Forbidden(say("auth.csrf"))
    return record.actor


def require_actor(request: Request, *, form_csrf: str | None = None) -> Actor:
    actor = current_actor(request, form_csrf=form_csrf)
    if actor is None:
        raise Unauthenticated(say("auth.sign_in"))
    return actor


def require_staff(request: Request, *, form_csrf: str | None = None) -> Actor:
    actor = require_actor(request, form_csrf=form_csrf)
    if not actor.is_staff:
        raise Forbidden(say("auth.staff_only"))
    return actor


async def sign_in_student(request: Request, actor: Actor, *, must_change: bool) -> str:
    """A student's portal session; it ends after PORTAL_IDLE_SECONDS without activity."""
    record = await sign_in_session(request, actor, must_change=must_change)
    return record.csrf


def portal_session(request: Request) -> SessionRecord | None:
    record = request_session(request).record
    if record is None or record.via != COOKIE or record.actor.kind != "student":
        return None
    return record


def require_student(
    request: Request,
    *,
    form_csrf: str | None = None,
    touch: bool = True,
    allow_must_change: bool = False,
) -> Actor:
    """The signed-in student. Passive requests (live updates) do not keep a session alive."""
    actor = current_actor(request, form_csrf=form_csrf)
    record = portal_session(request)
    if actor is None or record is None or actor.kind != "student":
        raise Unauthenticated(say("portal.sign_in_first"))
    moment = _now(request)
    if (moment - record.last_seen_at).total_seconds() > PORTAL_IDLE_SECONDS:
        request_session(request).record = None
        request.session.clear()
        raise Unauthenticated(say("portal.session_idle", minutes=PORTAL_IDLE_SECONDS // 60))
    if record.must_change and not allow_must_change:
        raise Forbidden(say("portal.new_password_first"))
    if touch:
        assert _may_touch(record)  # SessionLookup records the activity after the answer
        record.last_seen_at = max(record.last_seen_at, moment)
        request_session(request).touched = True
    return actor


KIOSK_COOKIE = "hallpass_kiosk"
# A kiosk token lasts 30 days from when it was last issued; kiosk screens issue it again on each
# use, so only a device left unused for a month (or revoked, or exited) stops being a kiosk.
KIOSK_TOKEN_MAX_AGE = 30 * 24 * 3600
KIOSK_SCOPE_KEY = "hallpass.kiosk"


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
    token = _bearer(request)
    from_cookie = token is None
    raw = request.cookies.get(KIOSK_COOKIE, "") if token is None else token
    if not raw:
        return None
    try:
        data = kiosk_serializer(request.app.state.settings.secret_key).loads(raw, max_age=KIOSK_TOKEN_MAX_AGE)
        claims = KioskClaims(UUID(str(data["k"])), str(data["s"]))
    except (BadSignature, KeyError, TypeError, ValueError) as e:
        raise Unauthenticated(say("kiosk.token_expired")) from e
    if from_cookie and request.method not in SAFE_METHODS and not csrf_ok(request, form_csrf):
        raise Forbidden(say("kiosk.screen_out_of_date"))
    request.scope[KIOSK_SCOPE_KEY] = claims
    return claims


def set_kiosk_cookie(request: Request, response: Any, token: str) -> None:
    response.set_cookie(
        KIOSK_COOKIE,
        token,
        max_age=KIOSK_TOKEN_MAX_AGE,
        path="/",
        httponly=True,
        samesite="strict",
        secure=cookie_secure(request),
    )
