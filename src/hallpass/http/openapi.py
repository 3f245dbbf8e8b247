"""The OpenAPI document at /api/v1/openapi.json, built from the API's route declarations.

Each route of the API is an `ApiRoute`: a Starlette route with an `Operation` beside it (summary,
body type, query parameters, answers, who may call it), declared by a one-line row such as
`post(path, endpoint, ok=201)` whose summary is the endpoint's docstring (docs/decisions/074).
`document(routes)` turns the app's routes
into the document: path parameters from the path, request bodies from the msgspec body types
(`msgspec.json.schema_components`), the rest from the declaration.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal, TypedDict, Unpack

import msgspec
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from hallpass import __version__
from hallpass.http.common import COMMAND_INPUTS, Endpoint, ORJSONResponse

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
ERROR_TEXT = {
    400: "Malformed or unknown cursor",
    401: "Not signed in",
    403: "Not allowed",
    404: "Not found",
    409: "Conflict",
    422: "Invalid input",
    415: "Send JSON (Content-Type: application/json)",
    423: "Locked",
    429: "Too many attempts",
}
VISIBLE = {
    "description": "`pending` when the read models do not show the change yet (it is saved); "
    "absent when they do",
    "schema": {"type": "string", "enum": ["pending"]},
}
SECURITY_SCHEMES = {
    "bearer": {
        "type": "http",
        "scheme": "bearer",
        "description": "A token from POST /api/v1/auth/token: 12 hours, revocable by DELETE",
    },
    "session": {
        "type": "apiKey",
        "in": "cookie",
        "name": "hallpass",
        "description": "A browser session (server-side, ended by signing out); "
        "changes need its CSRF token in X-CSRF-Token",
    },
    "kiosk": {
        "type": "http",
        "scheme": "bearer",
        "description": "A kiosk device token, from POST /api/v1/kiosks",
    },
    "stream": {
        "type": "http",
        "scheme": "bearer",
        "description": "A district analyst's stream token (hpt_...), from POST /api/v1/admin/tokens",
    },
}


@dataclass(frozen=True)
class Query:
    """A query parameter the handler reads."""

    name: str
    description: str
    schema: dict[str, Any] = field(default_factory=lambda: {"type": "string"})


Caller = Literal["staff", "bearer", "kiosk", "student", "stream", "anyone"]
"""Who may call an operation: staff (bearer token or browser session, the API's default), staff
with a bearer token only, a kiosk device (its token), a Student Portal session, or anyone."""

SECURITY: dict[Caller, list[dict[str, list[str]]]] = {
    "bearer": [{"bearer": []}],
    "kiosk": [{"kiosk": []}],
    "stream": [{"stream": []}],
    "student": [{"session": []}],
    "anyone": [],
}


@dataclass(frozen=True)
class Operation:
    """What the document says about one route of the API.

    ``answer``: the JSON schema of a successful answer, where one is written down; ``media``
    its media type (None: no body).
    """

    summary: str
    body: type[msgspec.Struct] | None = None
    ok: int = 200
    ok_description: str = "OK"
    query: tuple[Query, ...] = ()
    errors: tuple[int, ...] = (401, 404, 422)
    idempotent: bool = False
    security: Caller = "staff"
    answer: dict[str, Any] | None = None
    media: str | None = "application/json"
    other_answers: dict[int, dict[str, Any]] = field(default_factory=dict)
    roles: tuple[str, ...] = ()
    """Staff roles that may call it (none: any member of staff); the document's `x-hallpass-roles`."""


class ApiRoute(Route):
    """A route of the API, with its `Operation` for the OpenAPI document."""

    def __init__(self, path: str, endpoint: Any, *, methods: list[str], doc: Operation) -> None:
        if len(methods) != 1:
            raise ValueError("an API route declares one method")
        super().__init__(path, endpoint, methods=methods)
        self.method = methods[0].lower()
        self.operation = doc


class Declared(TypedDict, total=False):
    """What a route row says of its operation beyond the endpoint's own summary and body."""

    body: type[msgspec.Struct]
    ok: int
    ok_description: str
    query: tuple[Query, ...]
    errors: tuple[int, ...]
    idempotent: bool
    security: Caller
    answer: dict[str, Any]
    media: str | None
    other_answers: dict[int, dict[str, Any]]
    roles: tuple[str, ...]


def _declare(method: str, path: str, endpoint: Endpoint, declared: Declared) -> ApiRoute:
    """An `ApiRoute` whose summary is the first line of the endpoint's docstring; an endpoint built
    by `command_endpoint` also gives its body type and whether it takes Idempotency-Key."""
    summary = (endpoint.__doc__ or "").strip().split("\n")[0]
    if not summary:
        raise ValueError(f"{method} {path}: the endpoint's docstring is the operation's summary")
    sent = COMMAND_INPUTS.get(endpoint)
    if sent is not None:
        body, keyed = sent
        declared = {**({"body": body} if body else {}), "idempotent": keyed, **declared}
    return ApiRoute(path, endpoint, methods=[method], doc=Operation(summary, **declared))


def get(path: str, endpoint: Endpoint, **declared: Unpack[Declared]) -> ApiRoute:
    return _declare("GET", path, endpoint, declared)


def post(path: str, endpoint: Endpoint, **declared: Unpack[Declared]) -> ApiRoute:
    return _declare("POST", path, endpoint, declared)


def put(path: str, endpoint: Endpoint, **declared: Unpack[Declared]) -> ApiRoute:
    return _declare("PUT", path, endpoint, declared)


def patch(path: str, endpoint: Endpoint, **declared: Unpack[Declared]) -> ApiRoute:
    return _declare("PATCH", path, endpoint, declared)


def delete(path: str, endpoint: Endpoint, **declared: Unpack[Declared]) -> ApiRoute:
    return _declare("DELETE", path, endpoint, declared)


def _errors(*codes: int) -> dict[str, Any]:
    return {
        str(c): {"description": ERROR_TEXT[c], "content": {"application/json": {"schema": ERROR}}}
        for c in codes
    }


def _path_parameters(route: ApiRoute) -> list[dict[str, Any]]:
    """Every path parameter of the API is an id (a UUID)."""
    return [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string", "format": "uuid"}}
        for name in route.param_convertors
    ]


def _operation(route: ApiRoute, body_schemas: dict[type[msgspec.Struct], Any]) -> dict[str, Any]:
    doc = route.operation
    ok: dict[str, Any] = {"description": doc.ok_description}
    if doc.media is not None:
        ok["content"] = {doc.media: {"schema": doc.answer} if doc.answer is not None else {}}
    if route.method in ("post", "put", "patch", "delete"):
        # Every successful change may carry X-Hallpass-Visible (docs/decisions/033).
        ok["headers"] = {"X-Hallpass-Visible": VISIBLE}
    op: dict[str, Any] = {
        "summary": doc.summary,
        "responses": {
            str(doc.ok): ok,
            **{str(c): a for c, a in doc.other_answers.items()},
            **_errors(*doc.errors),
        },
    }
    parameters = _path_parameters(route) + [
        {"name": q.name, "in": "query", "required": False, "description": q.description, "schema": q.schema}
        for q in doc.query
    ]
    if doc.idempotent:
        parameters.append(IDEMPOTENCY)
    if parameters:
        op["parameters"] = parameters
    if doc.body is not None:
        op["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": body_schemas[doc.body]}},
        }
    if doc.security != "staff":
        op["security"] = SECURITY[doc.security]
    if doc.roles:
        op["x-hallpass-roles"] = list(doc.roles)
    return op


def document(routes: Iterable[BaseRoute]) -> dict[str, Any]:
    """The OpenAPI document of the `ApiRoute`s among ``routes``."""
    declared = [route for route in routes if isinstance(route, ApiRoute)]
    bodies = sorted(
        {r.operation.body for r in declared if r.operation.body is not None}, key=lambda b: b.__name__
    )
    refs, components = msgspec.json.schema_components(bodies, ref_template="#/components/schemas/{name}")
    body_schemas = dict(zip(bodies, refs, strict=True))
    paths: dict[str, dict[str, Any]] = {}
    for route in declared:
        operations = paths.setdefault(route.path, {})
        if route.method in operations:
            raise ValueError(f"{route.method.upper()} {route.path} is declared twice")
        operations[route.method] = _operation(route, body_schemas)
    return {
        "openapi": "3.1.0",
        "info": {"title": "Hallpass API", "version": __version__},
        "components": {"schemas": components, "securitySchemes": SECURITY_SCHEMES},
        "security": [{"bearer": []}, {"session": []}],
        "paths": paths,
    }


async def openapi(request: Request) -> Response:
    return ORJSONResponse(request.app.state.openapi)


routes = [Route("/api/v1/openapi.json", openapi, methods=["GET"])]
