"""/api/v1/portal: a student signs in, creates, completes, cancels and views their own passes."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from hallpass.acting import Actor
from hallpass.aggregates.passes import Source, Status
from hallpass.aggregates.schools import approval_needed
from hallpass.bounds import NewSecret, Secret, Username
from hallpass.commands import Hallpass
from hallpass.commands.portal import portal_open
from hallpass.credentials import TooManyAttempts
from hallpass.errors import NotFound
from hallpass.http.auth import end_session, portal_session, require_student
from hallpass.http.common import (
    ORJSONResponse,
    command_endpoint,
    parse_body,
    path_uuid,
    runtime,
)
from hallpass.http.errors import json_error
from hallpass.http.openapi import delete, get, post
from hallpass.http.portal_auth import choose_password, sign_in
from hallpass.messages import say
from hallpass.projections.queries import PassFilters

RECENT = 50


class PortalSignIn(msgspec.Struct, forbid_unknown_fields=True):
    username: Username
    password: Secret


class NewPassword(msgspec.Struct, forbid_unknown_fields=True):
    new_password: NewSecret


def _minutes(start: datetime | None, end: datetime | None) -> int | None:
    if start is None or end is None:
        return None
    return max(0, round((end - start).total_seconds() / 60))


def portal_pass_json(row: dict[str, Any]) -> dict[str, Any]:
    """What a student sees of their own pass: no other person's identifiers."""
    status = row["status"]
    started = status not in (Status.REQUESTED, Status.DENIED, Status.CANCELLED, Status.SCHEDULED)
    return {
        "id": row["pass_id"],
        "status": status,
        "overdue": status == Status.EXPIRED and row["returned_at"] is None,
        "source": row["source"],
        "marker": Source(row["source"]).marker,
        "origin": {"id": row["origin_id"], "name": row["origin_name"]},
        "destination": {"id": row["destination_id"], "name": row["destination_name"]},
        "requested_at": row["created_at"],
        "start_at": row["start_at"] if started else None,
        "due_at": row["due_at"] if started else None,
        "allotted_minutes": row["allotted_minutes"],
        "returned_at": row["returned_at"],
        "ended_at": row["ended_at"],
        "end_reason": row["end_reason"],
        "note": row["end_note"] or "",
        "duration_minutes": _minutes(row["start_at"], row["returned_at"] or row["ended_at"])
        if started
        else None,
    }


async def own_passes(request: Request, actor: Actor, limit: int = RECENT) -> list[dict[str, Any]]:
    filters = PassFilters(student_id=actor.id, limit=limit)
    rows = (await runtime(request).passes.page(actor.school_id, filters)).rows
    rows.sort(key=lambda r: r["created_at"], reverse=True)
    return [portal_pass_json(r) for r in rows]


async def own_pass(request: Request, actor: Actor, pass_id: UUID) -> dict[str, Any]:
    row = await runtime(request).passes.get(actor.school_id, pass_id)
    if row is None or row["student_id"] != actor.id:
        raise NotFound(say("pass.not_found", id=pass_id), id=str(pass_id))
    return portal_pass_json(row)


async def portal_locations(request: Request, actor: Actor) -> dict[str, Any]:
    rt = runtime(request)
    school = portal_open(await rt.settings.get(actor.school_id), actor.school_id)
    places = await rt.directory.locations(actor.school_id)
    leaving = [{"id": p["location_id"], "name": p["name"], "teacher": p["teacher_name"]} for p in places]
    going = [
        {
            "id": p["location_id"],
            "name": p["name"],
            "allotted_minutes": p["allotted_minutes"],
            "needs_approval": approval_needed(
                school.portal_needs_approval,
                school.portal_approval_destinations,
                p["location_id"],
                p["needs_approval"],
            ),
        }
        for p in places
        if p["portal_allowed"]
    ]
    return {"leaving_from": leaving, "going_to": going}


async def create_session(request: Request) -> Response:
    """Student Portal sign-in: the ID as username and password the first time"""
    school_id = path_uuid(request, "school_id", "school")
    if request.headers.get("content-type", "").split(";")[0].strip().lower() != "application/json":
        # A cross-site form can post text/plain that parses as JSON; only JSON, which another
        # site cannot send without the browser asking first, may start a session here.
        return json_error(415, "unsupported_media_type", say("portal.sign_in_as_json"))
    body = await parse_body(request, PortalSignIn)
    try:
        actor, must_change, csrf = await sign_in(request, school_id, body.username, body.password)
    except TooManyAttempts as e:
        response = json_error(
            429,
            "locked_out",
            say("portal.locked", minutes=-(-e.retry_after // 60)),
            retry_after=e.retry_after,
        )
        response.headers["Retry-After"] = str(e.retry_after)
        return response
    body_out = {
        "student": {"id": actor.id, "name": actor.name, "school_id": actor.school_id},
        "must_change_password": must_change,
        "csrf_token": csrf,
    }
    return ORJSONResponse(body_out, status_code=201)


async def change_password(request: Request) -> Response:
    """Choose a new password"""
    actor = require_student(request, allow_must_change=True)
    body = await parse_body(request, NewPassword)
    await choose_password(request, actor, body.new_password)
    return ORJSONResponse({"changed": True})


async def sign_out(request: Request) -> Response:
    """Sign out: the session ends at once (send X-CSRF-Token)

    401 without a session.
    """
    require_student(request, touch=False, allow_must_change=True)
    await end_session(request)
    return Response(status_code=204)


async def me(request: Request) -> Response:
    """The signed-in student"""
    actor = require_student(request, allow_must_change=True)
    record = portal_session(request)
    return ORJSONResponse(
        {
            "id": actor.id,
            "name": actor.name,
            "school_id": actor.school_id,
            "must_change_password": bool(record and record.must_change),
        }
    )


async def locations(request: Request) -> Response:
    """Leaving From and Going To choices"""
    actor = require_student(request)
    return ORJSONResponse(await portal_locations(request, actor))


async def list_passes(request: Request) -> Response:
    """The student's own recent passes"""
    actor = require_student(request)
    return ORJSONResponse({"passes": await own_passes(request, actor)})


async def get_pass(request: Request) -> Response:
    """One of the student's own passes"""
    actor = require_student(request, touch=False)
    return ORJSONResponse({"pass": await own_pass(request, actor, path_uuid(request, "pass_id", "pass"))})


create_pass = command_endpoint(
    "Create Pass: Active at once, or Requested when approval is needed",
    Hallpass.request_portal_pass,
    require_student,
)
complete_pass = command_endpoint(
    "Complete Pass: records the return time", Hallpass.complete_pass, require_student, body=False
)
cancel_pass = command_endpoint("Cancel a waiting request", Hallpass.cancel_request, require_student)


# Students use a session cookie from the portal sign-in and send its CSRF token back.
routes = [
    post(
        "/api/v1/portal/{school_id}/session",
        create_session,
        body=PortalSignIn,
        ok=201,
        errors=(401, 403, 404, 415, 422, 429),
        security="anyone",
    ),
    delete(
        "/api/v1/portal/session",
        sign_out,
        ok=204,
        ok_description="Signed out",
        media=None,
        errors=(401, 403),
        security="student",
    ),
    post(
        "/api/v1/portal/password",
        change_password,
        body=NewPassword,
        errors=(401, 403, 422),
        security="student",
    ),
    get("/api/v1/portal/me", me, errors=(401,), security="student"),
    get("/api/v1/portal/locations", locations, errors=(401, 403), security="student"),
    get("/api/v1/portal/passes", list_passes, errors=(401, 403), security="student"),
    post("/api/v1/portal/passes", create_pass, ok=201, errors=(401, 403, 404, 409, 422), security="student"),
    get("/api/v1/portal/passes/{pass_id}", get_pass, errors=(401, 404), security="student"),
    post(
        "/api/v1/portal/passes/{pass_id}/complete", complete_pass, errors=(401, 404, 409), security="student"
    ),
    post(
        "/api/v1/portal/passes/{pass_id}/cancel", cancel_pass, errors=(401, 403, 404, 409), security="student"
    ),
]
