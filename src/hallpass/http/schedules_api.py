"""Scheduled and repeating passes, and the school day's dismissal time."""

from __future__ import annotations

import msgspec
from starlette.requests import Request
from starlette.responses import Response

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
from hallpass.http.openapi import ApiRoute, Operation


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
    if not actor.administers:
        raise Forbidden("only a school administrator may set the dismissal time")
    command = await parse_body(request, SetDismissalTime)
    outcome = await runtime(request).app.set_dismissal_time(acting(request, actor), command.time)
    return await respond(request, outcome)


routes = [
    ApiRoute(
        "/api/v1/passes/scheduled",
        schedule_passes,
        methods=["POST"],
        doc=Operation(
            "Schedule passes for a later time (one Scheduled pass per student)",
            body=SchedulePasses,
            ok=201,
            errors=(401, 403, 404, 409, 422),
            idempotent=True,
        ),
    ),
    ApiRoute(
        "/api/v1/passes/{pass_id}/schedule",
        reschedule_pass,
        methods=["PATCH"],
        doc=Operation(
            "Edit a Scheduled pass before it starts",
            body=ReschedulePass,
            errors=(401, 403, 404, 409, 422),
            idempotent=True,
        ),
    ),
    ApiRoute(
        "/api/v1/passes/{pass_id}/cancel",
        cancel_scheduled_pass,
        methods=["POST"],
        doc=Operation(
            "Cancel a Scheduled pass before it starts",
            body=CancelScheduledPass,
            errors=(401, 403, 404, 409, 422),
            idempotent=True,
        ),
    ),
    ApiRoute(
        "/api/v1/schedules",
        schedule_repeating,
        methods=["POST"],
        doc=Operation(
            "A repeating schedule: weekdays, time, first and last date",
            body=ScheduleRepeating,
            ok=201,
            errors=(401, 403, 404, 409, 422),
            idempotent=True,
        ),
    ),
    ApiRoute(
        "/api/v1/schedules/{schedule_id}/cancel",
        cancel_schedule,
        methods=["POST"],
        doc=Operation(
            "Cancel a repeating schedule's future occurrences", errors=(401, 403, 404, 409), idempotent=True
        ),
    ),
    ApiRoute(
        "/api/v1/school/dismissal-time",
        set_dismissal_time,
        methods=["PUT"],
        doc=Operation(
            "Set the dismissal time (admins); open passes end then with reason dismissed",
            body=SetDismissalTime,
            errors=(401, 403, 422),
        ),
    ),
]
