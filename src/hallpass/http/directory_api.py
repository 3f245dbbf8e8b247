"""/api/v1/locations, /api/v1/students, /api/v1/staff: the school's pick lists."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from hallpass.http.auth import require_staff
from hallpass.http.common import ORJSONResponse, query_grade, query_search, query_uuid, runtime
from hallpass.http.openapi import Query, get


async def list_locations(request: Request) -> Response:
    """Locations with time allotted and capacity"""
    actor = require_staff(request)
    rows = await runtime(request).directory.locations(actor.school_id)
    return ORJSONResponse(
        {
            "locations": [
                {
                    "id": r["location_id"],
                    "name": r["name"],
                    "kind": r["kind"],
                    "allotted_minutes": r["allotted_minutes"],
                    "capacity": r["capacity"],
                    "occupants": r["occupants"],
                    "teacher": r["teacher_name"],
                    "kiosk_allowed": r["kiosk_allowed"],
                    "portal_allowed": r["portal_allowed"],
                    "needs_approval": r["needs_approval"],
                }
                for r in rows
            ]
        }
    )


async def list_students(request: Request) -> Response:
    """Search students"""
    actor = require_staff(request)
    rows = await runtime(request).directory.students(
        actor.school_id,
        name=query_search(request),
        grade=query_grade(request),
        homeroom_id=query_uuid(request, "homeroom_id"),
        limit=200,
    )
    return ORJSONResponse(
        {
            "students": [
                {
                    "id": r["student_id"],
                    "name": f"{r['first_name']} {r['last_name']}",
                    "first_name": r["first_name"],
                    "last_name": r["last_name"],
                    "grade": r["grade"],
                    "hall_pass_id": r["hall_pass_id"],
                    "external_id": r["external_id"],
                    "homeroom": {"id": r["homeroom_id"], "name": r["homeroom_name"]},
                    "out": r["open_pass_id"] is not None,
                }
                for r in rows
            ]
        }
    )


async def list_staff(request: Request) -> Response:
    """Staff of the school"""
    actor = require_staff(request)
    rows = await runtime(request).directory.staff(actor.school_id)
    return ORJSONResponse(
        {
            "staff": [
                {
                    "id": r["staff_id"],
                    "name": r["name"],
                    "role": r["role"],
                    "roles": r["roles"],
                    "room_id": r["room_id"],
                }
                for r in rows
            ]
        }
    )


STUDENT_SEARCH = (
    Query("q", "Name, hall pass ID, or #external ID"),
    Query("grade", "Grade", {"type": "integer"}),
    Query("homeroom_id", "Homeroom location id"),
)

routes = [
    get("/api/v1/locations", list_locations, errors=(401,)),
    get("/api/v1/students", list_students, query=STUDENT_SEARCH, errors=(401, 422)),
    get("/api/v1/staff", list_staff, errors=(401,)),
]
