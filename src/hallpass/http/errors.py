"""Status codes, said in one place: for what came of a command and for each error.

One JSON error shape for the API, readable pages for browsers; never a stack trace.
"""

from __future__ import annotations

import logging
from typing import Any

import asyncpg
import redis
from eventsourcing.persistence import PersistenceError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from hallpass import errors
from hallpass.aggregates.kiosks import KioskLocked
from hallpass.commands.base import Outcome, OutcomeKind
from hallpass.messages import say
from hallpass.outages import RETRY_AFTER_SECONDS, is_outage

log = logging.getLogger(__name__)

OUTCOME_STATUS = {
    OutcomeKind.CREATED: 201,
    OutcomeKind.DONE: 200,
    OutcomeKind.WAITING: 503,
}
"""The status of each outcome but REFUSED, which answers with its refusal's status (`STATUS`)."""

STATUS: dict[type[errors.DomainError], int] = {
    errors.NotFound: 404,
    errors.Conflict: 409,
    errors.Forbidden: 403,
    errors.Invalid: 422,
    errors.Unauthenticated: 401,
    KioskLocked: 423,
    errors.TryLater: 429,
    errors.BadRequest: 400,
}
"""The status of each family of domain errors; an error answers with its nearest family's."""


def status_for(error: errors.DomainError) -> int:
    for cls in type(error).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 400


def outcome_status(outcome: Outcome) -> int:
    if outcome.refusal is not None:
        return status_for(outcome.refusal)
    return OUTCOME_STATUS[outcome.kind]


def refusal_headers(error: errors.DomainError) -> dict[str, str]:
    """`Retry-After` for a refusal that passes with time (a kiosk's locked exit, a rate limit)."""
    if isinstance(error, errors.TryLater):
        return {"Retry-After": str(error.retry_after)}
    return {}


def error_body(code: str, message: str, /, **details: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "message": message}
    if details:
        body["details"] = details
    return {"error": body}


def json_error(status: int, code: str, message: str, /, **details: Any) -> JSONResponse:
    return JSONResponse(error_body(code, message, **details), status_code=status)


def wants_html(request: Request) -> bool:
    return not request.url.path.startswith("/api/") and "text/html" in request.headers.get(
        "accept", "text/html"
    )


async def domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, errors.DomainError)
    status = status_for(exc)
    if wants_html(request):
        templates = request.app.state.templates
        return templates.TemplateResponse(  # type: ignore[no-any-return]
            request, "error.html", {"status": status, "message": exc.message}, status_code=status
        )
    response = json_error(status, exc.code, exc.message, **exc.details)
    response.headers.update(refusal_headers(exc))
    return response


HTTP_MESSAGES = {404: "http.not_found", 405: "http.method_not_allowed", 401: "auth.sign_in"}
"""What a reader is told for Starlette's own errors, instead of its reason phrases ("Not Found")."""


def _http_message(exc: HTTPException) -> str:
    if exc.status_code in HTTP_MESSAGES:
        return say(HTTP_MESSAGES[exc.status_code])
    if isinstance(exc.detail, str) and exc.detail and exc.detail[0].isupper() and exc.detail[-1] == ".":
        return exc.detail
    return say("http.failed")


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    message = _http_message(exc)
    if wants_html(request):
        templates = request.app.state.templates
        return templates.TemplateResponse(  # type: ignore[no-any-return]
            request,
            "error.html",
            {"status": exc.status_code, "message": message},
            status_code=exc.status_code,
        )
    code = {404: "not_found", 405: "method_not_allowed", 401: "unauthenticated", 413: "too_large"}.get(
        exc.status_code, "http_error"
    )
    return json_error(exc.status_code, code, message)


# Raised by PostgreSQL, Redis or the event store: handled inside the app (no traceback per request
# during an outage); `unexpected_error` tells an outage (503) from a bug (500).
OUTAGE_ERRORS: tuple[type[Exception], ...] = (
    OSError,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
    PersistenceError,
    redis.RedisError,
)
UNAVAILABLE_MESSAGE = say("http.unavailable")


async def unavailable_error(request: Request, exc: Exception) -> Response:
    """503 with `Retry-After` while PostgreSQL or Redis is unreachable; it passes by itself."""
    log.warning("unavailable on %s %s: %s", request.method, request.url.path, exc)
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
    if wants_html(request):
        templates = request.app.state.templates
        return templates.TemplateResponse(  # type: ignore[no-any-return]
            request,
            "error.html",
            {"status": 503, "message": UNAVAILABLE_MESSAGE},
            status_code=503,
            headers=headers,
        )
    response = json_error(503, "unavailable", UNAVAILABLE_MESSAGE, retry_after=RETRY_AFTER_SECONDS)
    response.headers.update(headers)
    return response


async def unexpected_error(request: Request, exc: Exception) -> Response:
    if is_outage(exc):
        return await unavailable_error(request, exc)
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    return json_error(500, "internal_error", say("http.internal"))
