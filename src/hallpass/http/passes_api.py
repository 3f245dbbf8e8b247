"""/api/v1/passes: create, list, read, complete and terminate hall passes."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import Response

from hallpass.aggregates.passes import Source, Status
from hallpass.commands import Hallpass
from hallpass.commands.rules import CheckPasses
from hallpass.errors import Invalid, NotFound
from hallpass.http.auth import require_staff
from hallpass.http.common import (
    ORJSONResponse,
    acting,
    command_endpoint,
    parse_form,
    path_uuid,
    query_int,
    query_moment,
    query_text,
    query_uuid,
    runtime,
)
from hallpass.http.openapi import Query, get, post
from hallpass.messages import say
from hallpass.projections.queries import Cursor, PassFilters

MAX_LIMIT = 500


def pass_json(row: dict[str, Any]) -> dict[str, Any]:
    source = Source(row["source"])
    overdue = row["status"] == Status.EXPIRED and row["returned_at"] is None
    return {
        "id": row["pass_id"],
        "status": row["status"],
        "overdue": overdue,
        "source": source.value,
        "marker": source.marker,
        "student": {
            "id": row["student_id"],
            "name": row["student_name"],
            "grade": row["grade"],
            "hall_pass_id": row["hall_pass_id"],
            "homeroom": row["homeroom_name"],
        },
        "origin": {"id": row["origin_id"], "name": row["origin_name"]},
        "destination": {"id": row["destination_id"], "name": row["destination_name"]},
        "created_by": {
            "kind": row["created_by_kind"],
            "id": row["created_by_id"],
            "name": row["creator_name"],
        },
        "created_at": row["created_at"],
        "start_at": row["start_at"],
        "due_at": row["due_at"],
        "allotted_minutes": row["allotted_minutes"],
        "returned_at": row["returned_at"],
        "ended_at": row["ended_at"],
        "ended_by": {
            "kind": row["ended_by_kind"],
            "id": row["ended_by_id"],
            "name": row["ended_by_name"],
        }
        if row["ended_by_kind"]
        else None,
        "end_reason": row["end_reason"],
        "end_note": row["end_note"],
        "note": row["note"],
        "override": {
            "rules": list(row["override_rules"]),
            "reason": row["override_reason"],
            "by": row["overridden_by_id"],
        }
        if row["override_rules"]
        else None,
        "version": row["version"],
    }


def _choices(request: Request, name: str, allowed: set[str]) -> tuple[str, ...]:
    values: list[str] = []
    for raw in request.query_params.getlist(name):
        values += [v.strip().lower() for v in raw.split(",") if v.strip()]
    unknown = [v for v in values if v not in allowed]
    if unknown:
        raise Invalid(
            say("http.choices", name=name, allowed=", ".join(sorted(allowed)), unknown=", ".join(unknown)),
            field=name,
        )
    return tuple(values)


async def filters_from(request: Request, school_tz: str) -> PassFilters:
    tz = ZoneInfo(school_tz)
    return PassFilters(
        statuses=_choices(request, "status", {s.value for s in Status}),
        student_id=query_uuid(request, "student_id"),
        student=query_text(request, "student"),
        origin_id=query_uuid(request, "origin_id"),
        destination_id=query_uuid(request, "destination_id"),
        creator_id=query_uuid(request, "creator_id"),
        sources=_choices(request, "source", {s.value for s in Source}),
        since=query_moment(request, "from", tz, end=False),
        until=query_moment(request, "to", tz, end=True),
        overdue_only=request.query_params.get("overdue", "") in ("1", "true", "yes"),
        limit=query_int(request, "limit", 100, 1, MAX_LIMIT),
        offset=query_int(request, "offset", 0, 0, 1_000_000),
        after=_cursor(request),
    )


def _cursor(request: Request) -> Cursor | None:
    raw = request.query_params.get("after", "").strip()
    if not raw:
        return None
    cursor = Cursor.decode(raw)
    if cursor is None:
        raise Invalid(say("http.cursor"), field="after")
    return cursor


async def school_timezone(request: Request, school_id: Any) -> str:
    school = await runtime(request).directory.school(school_id)
    return str(school["timezone"]) if school else "UTC"


async def list_passes(request: Request) -> Response:
    """List the school's passes"""
    actor = require_staff(request)
    filters = await filters_from(request, await school_timezone(request, actor.school_id))
    page = await runtime(request).passes.page(actor.school_id, filters)
    return ORJSONResponse(
        {
            "passes": [pass_json(r) for r in page.rows],
            "total": page.total,
            "total_exact": page.total_exact,
            "limit": filters.limit,
            "offset": filters.offset,
            "next": page.next.encode() if page.next else None,
        }
    )


async def get_pass(request: Request) -> Response:
    """One pass"""
    actor = require_staff(request)
    pass_id = path_uuid(request, "pass_id", "pass")
    row = await runtime(request).passes.get(actor.school_id, pass_id)
    if row is None:
        raise NotFound(say("pass.not_found", id=pass_id), id=str(pass_id))
    return ORJSONResponse({"pass": pass_json(row)}, headers={"ETag": f'"{row["version"]}"'})


async def check_passes(request: Request) -> Response:
    """Before Create: each student's passes today and this week, the limits, and every hallway
    rule that would refuse a pass now (nothing is changed)"""
    actor = require_staff(request)
    destination = query_uuid(request, "destination_id")
    student_ids: list[str] = []
    for raw in request.query_params.getlist("student_id"):
        student_ids += [s.strip() for s in raw.split(",") if s.strip()]
    if not student_ids:
        raise Invalid(say("rules.check_students"), field="student_id")
    values: dict[str, Any] = {"student_ids": student_ids}
    if destination is not None:
        values["destination_id"] = destination
    command = parse_form(request, values, CheckPasses)
    return ORJSONResponse(await runtime(request).app.check_passes(acting(request, actor), command))


create_passes = command_endpoint(
    "Create Hall Pass: one Active pass per student, all or none; staff may give an override "
    "reason to make passes hallway rules refuse (recorded on each pass)",
    Hallpass.create_passes,
)
complete_pass = command_endpoint("Complete Pass: records the return time", Hallpass.complete_pass)
terminate_pass = command_endpoint("End an open pass for a reason", Hallpass.terminate_pass)


FILTERS = (
    Query("status", "Comma-separated statuses (active, completed, expired, scheduled, ...)"),
    Query("student", "Part of the student's name, a hall pass ID, or # and a school ID"),
    Query("student_id", "A student id"),
    Query("origin_id", "Leaving From location id"),
    Query("destination_id", "Going To location id"),
    Query("creator_id", "Staff member who created the pass"),
    Query("source", "Comma-separated sources: staff, portal, kiosk"),
    Query("from", "First day (YYYY-MM-DD, school time) or date-time"),
    Query("to", "Last day (YYYY-MM-DD, school time) or date-time"),
    Query("overdue", "true: only expired passes whose student is not back"),
    Query("limit", "Page size, 1-500", {"type": "integer"}),
    Query("offset", "Rows to skip (prefer after: offset reads every skipped row)", {"type": "integer"}),
    Query("after", "The next value of the previous page: the page after it (keyset paging)"),
)

CHECK = (
    Query("student_id", "A student id (repeat, or separate with commas)"),
    Query("destination_id", "Going To location id (optional)"),
)

routes = [
    get("/api/v1/passes", list_passes, query=FILTERS, errors=(401, 422)),
    post("/api/v1/passes", create_passes, ok=201, errors=(401, 403, 404, 409, 422)),
    get("/api/v1/passes/check", check_passes, query=CHECK, errors=(401, 403, 404, 422)),
    get("/api/v1/passes/{pass_id}", get_pass),
    post("/api/v1/passes/{pass_id}/complete", complete_pass, errors=(401, 404, 409, 422)),
    post("/api/v1/passes/{pass_id}/terminate", terminate_pass, errors=(401, 403, 404, 409, 422)),
]
