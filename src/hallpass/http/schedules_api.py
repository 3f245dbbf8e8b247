"""Scheduled and repeating passes, and the school day's dismissal time."""

from __future__ import annotations

import msgspec
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from hallpass.bounds import TimeOfDay
from hallpass.commands import Hallpass
from hallpass.commands.schedules import (
    CancelScheduledPass,
    ReschedulePass,
    SchedulePasses,
    ScheduleRepeating,
)
from hallpass.errors import Forbidden
from hallpass.http.auth import require_staff
from hallpass.http.common import acting, command_endpoint, parse_body, respond, runtime


class SetDismissalTime(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """When the school day ends, in the school's time zone (HH:MM)."""

    time: TimeOfDay


schedule_passes = command_endpoint(Hallpass.schedule_passes, require_staff, body=SchedulePasses)
reschedule_pass = command_endpoint(
    Hallpass.reschedule_pass, require_staff, target=("pass_id", "pass"), body=ReschedulePass
)
cancel_scheduled_pass = command_endpoint(
    Hallpass.cancel_scheduled_pass, require_staff, target=("pass_id", "pass"), body=CancelScheduledPass
)
schedule_repeating = command_endpoint(Hallpass.schedule_repeating, require_staff, body=ScheduleRepeating)
cancel_schedule = command_endpoint(
    Hallpass.cancel_schedule, require_staff, target=("schedule_id", "schedule")
)


async def set_dismissal_time(request: Request) -> Response:
    actor = require_staff(request)
    if actor.role != "admin":
        raise Forbidden("only a school administrator may set the dismissal time")
    command = await parse_body(request, SetDismissalTime)
    outcome = await runtime(request).app.set_dismissal_time(acting(request, actor), command.time)
    return await respond(request, outcome)


routes = [
    Route("/api/v1/passes/scheduled", schedule_passes, methods=["POST"]),
    Route("/api/v1/passes/{pass_id}/schedule", reschedule_pass, methods=["PATCH"]),
    Route("/api/v1/passes/{pass_id}/cancel", cancel_scheduled_pass, methods=["POST"]),
    Route("/api/v1/schedules", schedule_repeating, methods=["POST"]),
    Route("/api/v1/schedules/{schedule_id}/cancel", cancel_schedule, methods=["POST"]),
    Route("/api/v1/school/dismissal-time", set_dismissal_time, methods=["PUT"]),
]
