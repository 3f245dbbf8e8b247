"""Scheduled and repeating passes, and the school day's dismissal time."""

from __future__ import annotations

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from hallpass.bounds import TimeOfDay
from hallpass.commands import Hallpass
from hallpass.errors import Forbidden
from hallpass.http.auth import require_staff
from hallpass.http.common import acting, command_endpoint, parse_body, respond, runtime
from hallpass.http.openapi import patch, post, put
from hallpass.messages import say


class SetDismissalTime(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """When the school day ends, in the school's time zone (HH:MM)."""

    time: TimeOfDay


schedule_passes = command_endpoint(
    "Schedule passes for a later time (one Scheduled pass per student)",
    Hallpass.schedule_passes,
)
reschedule_pass = command_endpoint("Edit a Scheduled pass before it starts", Hallpass.reschedule_pass)
cancel_scheduled_pass = command_endpoint(
    "Cancel a Scheduled pass before it starts", Hallpass.cancel_scheduled_pass
)
schedule_repeating = command_endpoint(
    "A repeating schedule: weekdays, time, first and last date",
    Hallpass.schedule_repeating,
)
cancel_schedule = command_endpoint(
    "Cancel a repeating schedule's future occurrences", Hallpass.cancel_schedule
)


async def set_dismissal_time(request: Request) -> Response:
    """Set the dismissal time (admins); open passes end then with reason dismissed"""
    actor = require_staff(request)
    if not actor.administers:
        raise Forbidden(say("schedule.dismissal_admin"))
    command = await parse_body(request, SetDismissalTime)
    outcome = await runtime(request).app.set_dismissal_time(acting(request, actor), command.time)
    return await respond(request, outcome)


routes = [
    post("/api/v1/passes/scheduled", schedule_passes, ok=201, errors=(401, 403, 404, 409, 422)),
    patch("/api/v1/passes/{pass_id}/schedule", reschedule_pass, errors=(401, 403, 404, 409, 422)),
    post("/api/v1/passes/{pass_id}/cancel", cancel_scheduled_pass, errors=(401, 403, 404, 409, 422)),
    post("/api/v1/schedules", schedule_repeating, ok=201, errors=(401, 403, 404, 409, 422)),
    post("/api/v1/schedules/{schedule_id}/cancel", cancel_schedule, errors=(401, 403, 404, 409)),
    put("/api/v1/school/dismissal-time", set_dismissal_time, body=SetDismissalTime, errors=(401, 403, 422)),
]
