"""Wait lines over HTTP: staff see a place's line, add or take out a student and let one go
first; a student in the portal, and a kiosk for its students, join and leave (decision 092)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from hallpass.acting import Actor
from hallpass.commands import Hallpass
from hallpass.http.auth import require_staff, require_student
from hallpass.http.common import ORJSONResponse, command_endpoint, path_uuid, runtime
from hallpass.http.kiosk_api import keyed_kiosk, require_kiosk
from hallpass.http.openapi import get, post
from hallpass.projections.wait_lines import WaitLinesView


async def read_line(request: Request) -> Response:
    """A place's line: who waits, in order, and who is offered a slot until when"""
    actor = require_staff(request)
    location_id = path_uuid(request, "location_id", "location")
    return ORJSONResponse({"line": await runtime(request).app.wait_line(actor, location_id)})


async def my_lines(request: Request) -> Response:
    """The lines the signed-in student waits in, with their place and any offer (nobody else's)"""
    actor = require_student(request, touch=False)
    assert actor.id is not None
    line_ids = await WaitLinesView(runtime(request).pool).line_ids(actor.school_id)
    found = await runtime(request).app.standings(actor.school_id, actor.id, line_ids)
    return ORJSONResponse({"lines": found})


join_line = command_endpoint(
    "Put a student in a full place's line (a slot free now is offered at once)",
    Hallpass.join_line,
)
leave_line = command_endpoint(
    "Take a student out of a line (an offer they held goes to the next)",
    Hallpass.leave_line,
    keyed=False,
)
jump_line = command_endpoint(
    "Let a waiting student go first, saying why (recorded)", Hallpass.jump_line, keyed=False
)
portal_join = command_endpoint(
    "Join a full place's line from the Student Portal", Hallpass.join_line, require_student
)
portal_leave = command_endpoint(
    "Leave a line in the Student Portal", Hallpass.leave_line, require_student, keyed=False
)


async def kiosk_caller(request: Request) -> Actor:
    actor, _ = await require_kiosk(request)
    return actor


kiosk_join = command_endpoint(
    "Join a full place's line at the kiosk, from its room; Idempotency-Key required",
    Hallpass.kiosk_join_line,
    keyed_kiosk,
)
kiosk_leave = command_endpoint(
    "Leave a line at the kiosk", Hallpass.kiosk_leave_line, kiosk_caller, keyed=False
)

CHANGE = (401, 403, 404, 409, 422)
routes = [
    get("/api/v1/lines/{location_id}", read_line, errors=(401, 403, 404)),
    post("/api/v1/lines/{location_id}/join", join_line, errors=CHANGE),
    post("/api/v1/lines/{location_id}/leave", leave_line, errors=CHANGE),
    post("/api/v1/lines/{location_id}/jump", jump_line, errors=CHANGE),
    get("/api/v1/portal/lines", my_lines, errors=(401,), security="student"),
    post("/api/v1/portal/lines/{location_id}/join", portal_join, errors=CHANGE, security="student"),
    post("/api/v1/portal/lines/{location_id}/leave", portal_leave, errors=CHANGE, security="student"),
    post("/api/v1/kiosk/lines/join", kiosk_join, errors=CHANGE, security="kiosk"),
    post("/api/v1/kiosk/lines/leave", kiosk_leave, errors=CHANGE, security="kiosk"),
]
