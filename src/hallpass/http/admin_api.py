"""/api/v1/admin/...: a district's schools, and each school's locations, staff and students,
for school and district administrators (docs/decisions/075).

Every operation asks the role first (403 for anyone but an administrator), then the school: a
record of a school the caller does not administer answers 404, as one that does not exist.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from starlette.requests import Request
from starlette.responses import Response

from hallpass.acting import Actor
from hallpass.commands import Hallpass
from hallpass.commands.emergency import emergency_body
from hallpass.errors import Forbidden, NotFound
from hallpass.http.auth import require_staff
from hallpass.http.common import (
    ORJSONResponse,
    acting,
    command_endpoint,
    now,
    path_uuid,
    query_text,
    runtime,
)
from hallpass.http.openapi import Query, get, post, put
from hallpass.messages import say

KEYS = {"school": "school_id", "location": "location_id", "staff": "staff_id", "student": "student_id"}
HIDDEN = {"search_name", "occupants", "rules_id", "rules_version"}


def require_admin(request: Request) -> Actor:
    actor = require_staff(request)
    if not actor.administers:
        raise Forbidden(say("admin.only"))
    return actor


async def admin_of_school(request: Request) -> tuple[Actor, UUID]:
    """The caller, if they administer the school the path names."""
    actor = require_admin(request)
    school_id = path_uuid(request, "school_id", "school")
    if not await runtime(request).admin.may_administer(actor, school_id):
        raise NotFound(say("http.school_not_found", id=school_id), id=str(school_id))
    return actor, school_id


async def administered_record(request: Request, kind: str) -> dict[str, Any]:
    """The location, member of staff or student the path names, if the caller administers its school."""
    actor = require_admin(request)
    record_id = path_uuid(request, KEYS[kind], kind)
    row = await runtime(request).admin.record(kind, record_id)
    if row is None or not await runtime(request).admin.may_administer(actor, row["school_id"]):
        raise NotFound(say("http.record_not_found", what=kind, id=record_id), id=str(record_id))
    return row


def shown(row: dict[str, Any], kind: str) -> dict[str, Any]:
    """A read-model row as the API answers it: its id as `id`; a place's `active` as `archived`."""
    body = {"id": row[KEYS[kind]], **{k: v for k, v in row.items() if k != KEYS[kind] and k not in HIDDEN}}
    if kind == "location":
        body["archived"] = not body.pop("active")
    return body


async def list_schools(request: Request) -> Response:
    """Schools the caller administers (every school of the district for a district administrator)"""
    rows = await runtime(request).admin.schools(require_admin(request))
    return ORJSONResponse({"schools": [shown(r, "school") for r in rows]})


async def read_school(request: Request) -> Response:
    """One school: name, time zone, dismissal time"""
    _, school_id = await admin_of_school(request)
    row = await runtime(request).admin.school(school_id)
    if row is None:
        raise NotFound(say("http.school_not_found", id=school_id))
    return ORJSONResponse({"school": shown(row, "school")})


async def list_locations(request: Request) -> Response:
    """Every location of the school, archived ones last"""
    _, school_id = await admin_of_school(request)
    rows = await runtime(request).admin.locations(school_id)
    return ORJSONResponse({"locations": [shown(r, "location") for r in rows]})


async def list_staff(request: Request) -> Response:
    """Staff of the school by name, a page at a time, searched by name, email or sourcedId"""
    _, school_id = await admin_of_school(request)
    page = await runtime(request).admin.staff(
        school_id, q=query_text(request, "q"), after=query_text(request, "after") or None
    )
    return ORJSONResponse({"staff": [shown(r, "staff") for r in page.rows], "next": page.next})


async def list_students(request: Request) -> Response:
    """Students of the school by name, a page at a time, searched by name or ID"""
    _, school_id = await admin_of_school(request)
    page = await runtime(request).admin.students(
        school_id, q=query_text(request, "q"), after=query_text(request, "after") or None
    )
    return ORJSONResponse({"students": [shown(r, "student") for r in page.rows], "next": page.next})


def read_record(kind: str, summary: str) -> Any:
    async def endpoint(request: Request) -> Response:
        return ORJSONResponse({kind: shown(await administered_record(request, kind), kind)})

    endpoint.__name__ = endpoint.__qualname__ = f"read_{kind}"
    endpoint.__doc__ = summary
    return endpoint


def password_link(request: Request, token: str) -> str:
    return f"{request.base_url}password/{token}"


async def reset_staff_password(request: Request) -> Response:
    """A one-time link for the member of staff to choose a new password (shown once; 24 hours)"""
    actor = require_admin(request)
    staff_id = path_uuid(request, "staff_id", "staff")
    answer = await runtime(request).app.reset_staff_password(acting(request, actor), staff_id)
    token = answer.pop("token")
    return ORJSONResponse({**answer, "link": password_link(request, token)}, status_code=201)


async def reset_student_password(request: Request) -> Response:
    """Drop the student's portal password: they sign in with their ID and choose a new one"""
    actor = require_admin(request)
    student_id = path_uuid(request, "student_id", "student")
    return ORJSONResponse(
        await runtime(request).app.reset_student_password(acting(request, actor), student_id)
    )


add_school = command_endpoint(
    "Add a school to the district (district administrators)",
    Hallpass.add_school,
    require_admin,
)
change_school = command_endpoint(
    "Change a school's name, time zone or dismissal time",
    Hallpass.change_school,
    require_admin,
    keyed=False,
)
add_location = command_endpoint("Add a location to the school", Hallpass.add_location, require_admin)
change_location = command_endpoint(
    "Change or archive a location", Hallpass.change_location, require_admin, keyed=False
)
add_staff = command_endpoint("Add a member of staff", Hallpass.add_staff, require_admin)
change_staff = command_endpoint(
    "Change, deactivate or reactivate a member of staff",
    Hallpass.change_staff,
    require_admin,
    keyed=False,
)
add_student = command_endpoint("Add a student", Hallpass.add_student, require_admin)
change_student = command_endpoint(
    "Change, deactivate or reactivate a student",
    Hallpass.change_student,
    require_admin,
    keyed=False,
)
declare_emergency = command_endpoint(
    "Declare an emergency: end every open pass (reason emergency) and refuse new ones",
    Hallpass.declare_emergency,
    require_admin,
    keyed=False,
)
end_emergency = command_endpoint(
    "End the emergency: passes may be created again", Hallpass.end_emergency, require_admin, keyed=False
)
mark_safe = command_endpoint(
    "Confirm a student safe during the emergency", Hallpass.mark_safe, require_admin, keyed=False
)


set_limits = command_endpoint(
    "Set the per-student limits: passes per day and per week, which sources count, exempt destinations",
    Hallpass.set_limits,
    require_admin,
    keyed=False,
)
set_bell_schedule = command_endpoint(
    "Set the bell schedule: periods per day type, each weekday's day type, and dates that differ",
    Hallpass.set_bell_schedule,
    require_admin,
    keyed=False,
)
set_blackouts = command_endpoint(
    "Set the blackout windows: the first and last minutes of each period, or chosen times and dates",
    Hallpass.set_blackouts,
    require_admin,
    keyed=False,
)


async def read_rules(request: Request) -> Response:
    """The school's hallway rules: limits, bell schedule, blackouts, and the current period"""
    actor, school_id = await admin_of_school(request)
    app = runtime(request).app
    return ORJSONResponse(await app.school_rules(actor, school_id, now(request)))


async def read_emergency(request: Request) -> Response:
    """Whether the school is in an emergency; who was out, where, since when, and who is confirmed safe"""
    _, school_id = await admin_of_school(request)
    return ORJSONResponse({"emergency": await named_emergency(request, school_id)})


async def named_emergency(request: Request, school_id: UUID, unknown: str | None = None) -> dict[str, Any]:
    """The emergency's answer, each student out named with the place they were in (the
    directory's names; `unknown` for one it does not hold)."""
    rt = runtime(request)
    body = emergency_body(await rt.app.emergency(school_id))
    out = body["out"]
    names = await rt.directory.names(
        school_id,
        [UUID(row["student_id"]) for row in out],
        [UUID(row["destination_id"]) for row in out],
    )
    for row in out:
        row["student_name"] = names.get(UUID(row["student_id"]), unknown)
        row["destination_name"] = names.get(UUID(row["destination_id"]), unknown)
    return body


form_keep_apart = command_endpoint(
    "Form a keep-apart group: students who must not be out at the same time, with a private reason",
    Hallpass.form_keep_apart,
    require_admin,
)
change_keep_apart = command_endpoint(
    "Change a keep-apart group's name, students or reason",
    Hallpass.change_keep_apart,
    require_admin,
    keyed=False,
)
remove_keep_apart = command_endpoint(
    "Remove a keep-apart group: its students may be out together again",
    Hallpass.remove_keep_apart,
    require_admin,
    keyed=False,
)


async def read_keep_apart(request: Request) -> Response:
    """The school's keep-apart groups (students, private reasons) and the encounters they prevented"""
    actor, school_id = await admin_of_school(request)
    return ORJSONResponse(await runtime(request).app.keep_apart_listing(acting(request, actor), school_id))


read_location = read_record("location", "One location")
read_staff = read_record("staff", "One member of staff")
read_student = read_record("student", "One student")

SEARCH = (Query("q", "Part of a name, or an ID"), Query("after", "The `next` cursor of the page before"))
READ = (401, 403, 404)
LIST = (401, 403, 404, 422)
CHANGE = (401, 403, 404, 409, 422)
SCHOOL = "/api/v1/admin/schools/{school_id}"
ADMINS = ("admin", "district_admin")

routes = [
    get("/api/v1/admin/schools", list_schools, errors=(401, 403), roles=ADMINS),
    post("/api/v1/admin/schools", add_school, ok=201, errors=(401, 403, 409, 422), roles=ADMINS),
    get(SCHOOL, read_school, errors=READ, roles=ADMINS),
    put(SCHOOL, change_school, errors=CHANGE, roles=ADMINS),
    get(f"{SCHOOL}/locations", list_locations, errors=READ, roles=ADMINS),
    post(f"{SCHOOL}/locations", add_location, ok=201, errors=CHANGE, roles=ADMINS),
    get(f"{SCHOOL}/staff", list_staff, query=SEARCH, errors=LIST, roles=ADMINS),
    post(f"{SCHOOL}/staff", add_staff, ok=201, errors=CHANGE, roles=ADMINS),
    get(f"{SCHOOL}/students", list_students, query=SEARCH, errors=LIST, roles=ADMINS),
    post(f"{SCHOOL}/students", add_student, ok=201, errors=CHANGE, roles=ADMINS),
    get(f"{SCHOOL}/rules", read_rules, errors=READ, roles=ADMINS),
    put(f"{SCHOOL}/rules/limits", set_limits, errors=CHANGE, roles=ADMINS),
    put(f"{SCHOOL}/rules/bell-schedule", set_bell_schedule, errors=CHANGE, roles=ADMINS),
    put(f"{SCHOOL}/rules/blackouts", set_blackouts, errors=CHANGE, roles=ADMINS),
    get(f"{SCHOOL}/emergency", read_emergency, errors=READ, roles=ADMINS),
    post(f"{SCHOOL}/emergency", declare_emergency, errors=CHANGE, roles=ADMINS),
    post(f"{SCHOOL}/emergency/end", end_emergency, errors=CHANGE, roles=ADMINS),
    get(f"{SCHOOL}/keep-apart", read_keep_apart, errors=READ, roles=ADMINS),
    post(f"{SCHOOL}/keep-apart", form_keep_apart, ok=201, errors=CHANGE, roles=ADMINS),
    put("/api/v1/admin/keep-apart/{group_id}", change_keep_apart, errors=CHANGE, roles=ADMINS),
    post("/api/v1/admin/keep-apart/{group_id}/remove", remove_keep_apart, errors=CHANGE, roles=ADMINS),
    get("/api/v1/admin/locations/{location_id}", read_location, errors=READ, roles=ADMINS),
    put("/api/v1/admin/locations/{location_id}", change_location, errors=CHANGE, roles=ADMINS),
    get("/api/v1/admin/staff/{staff_id}", read_staff, errors=READ, roles=ADMINS),
    put("/api/v1/admin/staff/{staff_id}", change_staff, errors=CHANGE, roles=ADMINS),
    post(
        "/api/v1/admin/staff/{staff_id}/password-reset",
        reset_staff_password,
        ok=201,
        errors=CHANGE,
        roles=ADMINS,
    ),
    get("/api/v1/admin/students/{student_id}", read_student, errors=READ, roles=ADMINS),
    post("/api/v1/admin/students/{student_id}/safe", mark_safe, errors=CHANGE, roles=ADMINS),
    put("/api/v1/admin/students/{student_id}", change_student, errors=CHANGE, roles=ADMINS),
    post(
        "/api/v1/admin/students/{student_id}/password-reset",
        reset_student_password,
        errors=READ,
        roles=ADMINS,
    ),
]
