"""The OpenAPI document at /api/v1/openapi.json; request schemas come from the commands."""

from __future__ import annotations

from typing import Any

import msgspec
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from hallpass import __version__
from hallpass.commands.messages import CompletePass, CreatePasses, TerminatePass
from hallpass.http.common import ORJSONResponse
from hallpass.http.session_api import SignIn

BODIES: tuple[type[msgspec.Struct], ...] = (CreatePasses, CompletePass, TerminatePass, SignIn)

ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "details": {"type": "object"},
            },
        }
    },
}
IDEMPOTENCY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "A retry with the same key takes effect once and returns the first answer.",
    "schema": {"type": "string", "maxLength": 200},
}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _errors(*codes: int) -> dict[str, Any]:
    text = {
        401: "Not signed in",
        403: "Not allowed",
        404: "Not found",
        409: "Conflict",
        422: "Invalid input",
        429: "Too many attempts",
    }
    return {
        str(c): {"description": text[c], "content": {"application/json": {"schema": ERROR}}} for c in codes
    }


def _op(
    summary: str,
    *,
    body: str | None = None,
    ok: int = 200,
    params: list[Any] | None = None,
    errors: tuple[int, ...] = (401, 404, 422),
    idempotent: bool = False,
) -> dict[str, Any]:
    op: dict[str, Any] = {
        "summary": summary,
        "responses": {
            str(ok): {"description": "OK", "content": {"application/json": {}}},
            **_errors(*errors),
        },
    }
    parameters = list(params or [])
    if idempotent:
        parameters.append(IDEMPOTENCY)
    if parameters:
        op["parameters"] = parameters
    if body:
        op["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": _ref(body)}},
        }
    return op


def _query(name: str, description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema or {"type": "string"},
    }


PASS_ID = {
    "name": "pass_id",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "format": "uuid"},
}


def document() -> dict[str, Any]:
    _, components = msgspec.json.schema_components(BODIES, ref_template="#/components/schemas/{name}")
    filters = [
        _query("status", "Comma-separated statuses (active, completed, expired, scheduled, ...)"),
        _query("student", "Part of the student's name"),
        _query("student_id", "A student id"),
        _query("origin_id", "Leaving From location id"),
        _query("destination_id", "Going To location id"),
        _query("creator_id", "Staff member who created the pass"),
        _query("source", "Comma-separated sources: staff, portal, kiosk"),
        _query("from", "First day (YYYY-MM-DD, school time) or date-time"),
        _query("to", "Last day (YYYY-MM-DD, school time) or date-time"),
        _query("overdue", "true: only expired passes whose student is not back"),
        _query("limit", "Page size, 1-500", {"type": "integer"}),
        _query("offset", "Rows to skip", {"type": "integer"}),
    ]
    paths: dict[str, Any] = {
        "/api/v1/auth/token": {
            "post": _op("Sign in; returns a bearer token", body="SignIn", ok=201, errors=(401, 422, 429))
        },
        "/api/v1/me": {"get": _op("Who the caller is", errors=(401,))},
        "/api/v1/passes": {
            "get": _op("List the school's passes", params=filters, errors=(401, 422)),
            "post": _op(
                "Create Hall Pass: one Active pass per student, all or none",
                body="CreatePasses",
                ok=201,
                errors=(401, 403, 404, 409, 422),
                idempotent=True,
            ),
        },
        "/api/v1/passes/{pass_id}": {"get": _op("One pass", params=[PASS_ID])},
        "/api/v1/passes/{pass_id}/complete": {
            "post": _op(
                "Complete Pass: records the return time",
                body="CompletePass",
                params=[PASS_ID],
                errors=(401, 404, 409, 422),
                idempotent=True,
            )
        },
        "/api/v1/passes/{pass_id}/terminate": {
            "post": _op(
                "End an open pass for a reason",
                body="TerminatePass",
                params=[PASS_ID],
                errors=(401, 403, 404, 409, 422),
                idempotent=True,
            )
        },
        "/api/v1/locations": {"get": _op("Locations with time allotted and capacity", errors=(401,))},
        "/api/v1/students": {
            "get": _op(
                "Search students",
                params=[
                    _query("q", "Name, hall pass ID, or #external ID"),
                    _query("grade", "Grade", {"type": "integer"}),
                    _query("homeroom_id", "Homeroom location id"),
                ],
                errors=(401, 422),
            )
        },
        "/api/v1/staff": {"get": _op("Staff of the school", errors=(401,))},
        "/api/v1/events": {
            "get": {
                "summary": "Server-sent events: 'passes' when passes change",
                "responses": {"200": {"description": "text/event-stream"}},
            }
        },
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "Hallpass API", "version": __version__},
        "components": {
            "schemas": components,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "session": {"type": "apiKey", "in": "cookie", "name": "hallpass"},
            },
        },
        "security": [{"bearer": []}, {"session": []}],
        "paths": paths,
    }


async def openapi(request: Request) -> Response:
    return ORJSONResponse(request.app.state.openapi)


routes = [Route("/api/v1/openapi.json", openapi, methods=["GET"])]
