"""The OpenAPI document at /api/v1/openapi.json; request schemas come from the commands."""

from __future__ import annotations

from typing import Any

import msgspec
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from hallpass import __version__
from hallpass.commands.kiosk import KioskCompletePass, KioskCreatePass, KioskExit, KioskSetUp
from hallpass.commands.messages import CompletePass, CreatePasses, TerminatePass
from hallpass.commands.portal import ChangePortalSettings, DecideRequest, RequestPortalPass
from hallpass.commands.schedules import (
    CancelScheduledPass,
    ReschedulePass,
    SchedulePasses,
    ScheduleRepeating,
)
from hallpass.http.common import ORJSONResponse
from hallpass.http.portal_api import NewPassword, PortalSignIn
from hallpass.http.schedules_api import SetDismissalTime
from hallpass.http.session_api import SignIn

BODIES: tuple[type[msgspec.Struct], ...] = (
    CreatePasses,
    CompletePass,
    TerminatePass,
    SignIn,
    SchedulePasses,
    ReschedulePass,
    CancelScheduledPass,
    ScheduleRepeating,
    SetDismissalTime,
    KioskSetUp,
    KioskCreatePass,
    KioskCompletePass,
    KioskExit,
    PortalSignIn,
    NewPassword,
    RequestPortalPass,
    DecideRequest,
    ChangePortalSettings,
)

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
        415: "Send JSON (Content-Type: application/json)",
        423: "Locked",
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
        _query("offset", "Rows to skip (prefer after: offset reads every skipped row)", {"type": "integer"}),
        _query("after", "The next value of the previous page: the page after it (keyset paging)"),
    ]
    paths: dict[str, Any] = {
        "/api/v1/auth/token": {
            "post": {
                **_op(
                    "Sign in; returns a bearer token that expires after 12 hours (`expires_at`)",
                    body="SignIn",
                    ok=201,
                    errors=(401, 422, 429),
                ),
                "security": [],
            },
            "delete": {
                "summary": "Revoke the bearer token sent with this request; it stops working at once",
                "security": [{"bearer": []}],
                "responses": {"204": {"description": "Revoked"}, **_errors(401)},
            },
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
        "/api/v1/passes/scheduled": {
            "post": _op(
                "Schedule passes for a later time (one Scheduled pass per student)",
                body="SchedulePasses",
                ok=201,
                errors=(401, 403, 404, 409, 422),
                idempotent=True,
            )
        },
        "/api/v1/passes/{pass_id}/schedule": {
            "patch": _op(
                "Edit a Scheduled pass before it starts",
                body="ReschedulePass",
                params=[PASS_ID],
                errors=(401, 403, 404, 409, 422),
                idempotent=True,
            )
        },
        "/api/v1/passes/{pass_id}/cancel": {
            "post": _op(
                "Cancel a Scheduled pass before it starts",
                body="CancelScheduledPass",
                params=[PASS_ID],
                errors=(401, 403, 404, 409, 422),
                idempotent=True,
            )
        },
        "/api/v1/schedules": {
            "post": _op(
                "A repeating schedule: weekdays, time, first and last date",
                body="ScheduleRepeating",
                ok=201,
                errors=(401, 403, 404, 409, 422),
                idempotent=True,
            )
        },
        "/api/v1/schedules/{schedule_id}/cancel": {
            "post": _op(
                "Cancel a repeating schedule's future occurrences",
                params=[
                    {
                        "name": "schedule_id",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string", "format": "uuid"},
                    }
                ],
                errors=(401, 403, 404, 409),
                idempotent=True,
            )
        },
        "/api/v1/school/dismissal-time": {
            "put": _op(
                "Set the dismissal time (admins); open passes end then with reason dismissed",
                body="SetDismissalTime",
                errors=(401, 403, 422),
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
    paths.update(_kiosk_paths())
    paths.update(_portal_paths())
    paths.update(_health_paths())
    _mark_visibility(paths)
    return {
        "openapi": "3.1.0",
        "info": {"title": "Hallpass API", "version": __version__},
        "components": {
            "schemas": components,
            "securitySchemes": {
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
            },
        },
        "security": [{"bearer": []}, {"session": []}],
        "paths": paths,
    }


def _kiosk_paths() -> dict[str, Any]:
    """Staff set kiosks up; a kiosk device sends its own token (security `kiosk`)."""
    device: list[dict[str, list[str]]] = [{"kiosk": []}]

    def kiosk_op(summary: str, **kw: Any) -> dict[str, Any]:
        return {**_op(summary, **kw), "security": device}

    kiosk_id = {**PASS_ID, "name": "kiosk_id"}
    return {
        "/api/v1/kiosks": {
            "post": _op(
                "Kiosk Mode: set up a kiosk; returns its device token",
                body="KioskSetUp",
                ok=201,
                errors=(401, 403, 404, 422),
            ),
            "get": _op("The caller's kiosks", errors=(401, 403)),
        },
        "/api/v1/kiosks/{kiosk_id}/revoke": {
            "post": _op(
                "Revoke a kiosk: its token stops working", params=[kiosk_id], errors=(401, 403, 404, 409)
            )
        },
        "/api/v1/kiosk": {
            "get": kiosk_op(
                "This kiosk: its room, destinations, and its token issued again for 30 more days",
                errors=(401,),
            )
        },
        "/api/v1/kiosk/students": {
            "get": kiosk_op(
                "Find an allowed student by full name (2+ letters, small typos ok), hall pass ID or #ID",
                params=[_query("q", "Name, hall pass ID, or #external ID")],
                errors=(401, 422),
            )
        },
        "/api/v1/kiosk/passes": {
            "post": kiosk_op(
                "Create Pass at the kiosk (source kiosk, shown as (K)); Idempotency-Key required",
                body="KioskCreatePass",
                ok=201,
                errors=(401, 403, 404, 409, 422),
                idempotent=True,
            )
        },
        "/api/v1/kiosk/passes/complete": {
            "post": kiosk_op(
                "Complete Pass at the kiosk: the student's open pass; Idempotency-Key required",
                body="KioskCompletePass",
                errors=(401, 403, 404, 409, 422),
                idempotent=True,
            )
        },
        "/api/v1/kiosk/exit": {
            "post": kiosk_op(
                "Leave kiosk mode with the exit password; 5 wrong in a row lock it for 5 minutes",
                body="KioskExit",
                errors=(401, 403, 422, 423),
            )
        },
    }


def _portal_paths() -> dict[str, Any]:
    """Students use a session cookie from the portal sign-in and send its CSRF token back."""
    school_id = {**PASS_ID, "name": "school_id"}
    student: list[dict[str, list[str]]] = [{"session": []}]

    def student_op(summary: str, **kw: Any) -> dict[str, Any]:
        return {**_op(summary, **kw), "security": student}

    return {
        "/api/v1/portal/{school_id}/session": {
            "post": {
                **_op(
                    "Student Portal sign-in: the ID as username and password the first time",
                    body="PortalSignIn",
                    ok=201,
                    params=[school_id],
                    errors=(401, 403, 404, 415, 422, 429),
                ),
                "security": [],
            }
        },
        "/api/v1/portal/session": {
            "delete": {
                "summary": "Sign out: the session ends at once (send X-CSRF-Token)",
                "security": student,
                "responses": {"204": {"description": "Signed out"}, **_errors(401, 403)},
            }
        },
        "/api/v1/portal/password": {
            "post": student_op("Choose a new password", body="NewPassword", errors=(401, 403, 422))
        },
        "/api/v1/portal/me": {"get": student_op("The signed-in student", errors=(401,))},
        "/api/v1/portal/locations": {
            "get": student_op("Leaving From and Going To choices", errors=(401, 403))
        },
        "/api/v1/portal/passes": {
            "get": student_op("The student's own recent passes", errors=(401, 403)),
            "post": student_op(
                "Create Pass: Active at once, or Requested when approval is needed",
                body="RequestPortalPass",
                ok=201,
                errors=(401, 403, 404, 409, 422),
                idempotent=True,
            ),
        },
        "/api/v1/portal/passes/{pass_id}": {
            "get": student_op("One of the student's own passes", params=[PASS_ID], errors=(401, 404))
        },
        "/api/v1/portal/passes/{pass_id}/complete": {
            "post": student_op(
                "Complete Pass: records the return time", params=[PASS_ID], errors=(401, 404, 409)
            )
        },
        "/api/v1/portal/passes/{pass_id}/cancel": {
            "post": student_op("Cancel a waiting request", params=[PASS_ID], errors=(401, 403, 404, 409))
        },
        "/api/v1/approvals": {"get": _op("Requests waiting on the caller", errors=(401, 403))},
        "/api/v1/passes/{pass_id}/approve": {
            "post": _op(
                "Approve a Requested pass (teacher of the origin room, office or admin)",
                body="DecideRequest",
                params=[PASS_ID],
                errors=(401, 403, 404, 409, 422),
                idempotent=True,
            )
        },
        "/api/v1/passes/{pass_id}/deny": {
            "post": _op(
                "Deny a Requested pass, with an optional note",
                body="DecideRequest",
                params=[PASS_ID],
                errors=(401, 403, 404, 409, 422),
                idempotent=True,
            )
        },
        "/api/v1/school/portal-settings": {
            "get": _op("Student Portal settings (admin)", errors=(401, 403)),
            "put": _op(
                "Change the Student Portal settings (admin)",
                body="ChangePortalSettings",
                errors=(401, 403, 404, 422),
            ),
        },
    }


VISIBLE = {
    "description": "`pending` when the read models do not show the change yet (it is saved); "
    "absent when they do",
    "schema": {"type": "string", "enum": ["pending"]},
}


def _mark_visibility(paths: dict[str, Any]) -> None:
    """Every successful change may carry X-Hallpass-Visible (docs/decisions/033)."""
    for operations in paths.values():
        for method, op in operations.items():
            if method in ("post", "put", "delete"):
                for status, response in op["responses"].items():
                    if status.startswith("2"):
                        response.setdefault("headers", {})["X-Hallpass-Visible"] = VISIBLE


def _health_paths() -> dict[str, Any]:
    """For operators and load balancers; no credentials (security: none)."""
    readiness = {
        "type": "object",
        "required": ["status", "database", "redis", "projections", "parked_events"],
        "properties": {
            "status": {"type": "string", "enum": ["ready", "not ready"]},
            "database": {"type": "object"},
            "redis": {"type": "object"},
            "projections": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "name": {"type": "string"},
                        "position": {"type": "integer"},
                        "head": {"type": "integer"},
                        "lag_events": {"type": "integer"},
                        "lag_seconds": {"type": "number"},
                        "parked": {"type": "integer"},
                        "ready": {"type": "boolean"},
                    },
                },
            },
            "parked_events": {"type": "integer"},
            "parked": {"type": "array", "items": {"type": "object"}},
        },
    }
    answer = {"application/json": {"schema": readiness}}
    return {
        "/healthz": {
            "get": {
                "summary": "Liveness: the process answers (checks no database or Redis)",
                "security": [],
                "responses": {"200": {"description": "Alive", "content": {"application/json": {}}}},
            }
        },
        "/readyz": {
            "get": {
                "summary": "Readiness: database, Redis, each read model's lag and parked events",
                "security": [],
                "responses": {
                    "200": {
                        "description": "Ready (parked events are reported, not a failure)",
                        "content": answer,
                    },
                    "503": {"description": "Not ready: see which check failed", "content": answer},
                },
            }
        },
    }


async def openapi(request: Request) -> Response:
    return ORJSONResponse(request.app.state.openapi)


routes = [Route("/api/v1/openapi.json", openapi, methods=["GET"])]
