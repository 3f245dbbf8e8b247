"""Scheduled and repeating passes, and the school day's dismissal time."""

from __future__ import annotations

import msgspec
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from hallpass.bounds import TimeOfDay
from hallpass.commands.schedules import (
    CancelScheduledPass,
    ReschedulePass,
    SchedulePasses,
    ScheduleRepeating,
)
from hallpass.errors import Forbidden
from hallpass.http.auth import require_staff
from hallpass.http.common import idempotency_key, now, parse_body, path_uuid, respond, runtime


class SetDismissalTime(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """When the school day ends, in the school's time zone (HH:MM)."""

    time: TimeOfDay


async def schedule_passes(request: Request) -> Response:
    actor = require_staff(request)
    command = await parse_body(request, SchedulePasses)
    outcome = await runtime(request).app.schedule_passes(
        actor, command, now=now(request), idempotency_key=idempotency_key(request)
    )
    return await respond(request, outcome)


async def reschedule_pass(request: Request) -> Response:
    actor = require_staff(request)
    pass_id = path_uuid(request, "pass_id", "pass")
    command = await parse_body(request, ReschedulePass)
    outcome = await runtime(request).app.reschedule_pass(
        actor, pass_id, command, now=now(request), idempotency_key=idempotency_key(request)
    )
    return await respond(request, outcome)


async def cancel_scheduled_pass(request: Request) -> Response:
    actor = require_staff(request)
    pass_id = path_uuid(request, "pass_id", "pass")
    command = await parse_body(request, CancelScheduledPass)
    outcome = await runtime(request).app.cancel_scheduled_pass(
        actor, pass_id, command, now=now(request), idempotency_key=idempotency_key(request)
    )
    return await respond(request, outcome)


async def schedule_repeating(request: Request) -> Response:
    actor = require_staff(request)
    command = await parse_body(request, ScheduleRepeating)
    outcome = await runtime(request).app.schedule_repeating(
        actor, command, now=now(request), idempotency_key=idempotency_key(request)
    )
    return await respond(request, outcome)


async def cancel_schedule(request: Request) -> Response:
    actor = require_staff(request)
    schedule_id = path_uuid(request, "schedule_id", "schedule")
    outcome = await runtime(request).app.cancel_schedule(
        actor, schedule_id, now=now(request), idempotency_key=idempotency_key(request)
    )
    return await respond(request, outcome)


async def set_dismissal_time(request: Request) -> Response:
    actor = require_staff(request)
    if actor.role != "admin":
        raise Forbidden("only a school administrator may set the dismissal time")
    command = await parse_body(request, SetDismissalTime)
    outcome = await runtime(request).app.set_dismissal_time(actor, command.time, now=now(request))
    return await respond(request, outcome)


routes = [
    Route("/api/v1/passes/scheduled", schedule_passes, methods=["POST"]),
    Route("/api/v1/passes/{pass_id}/schedule", reschedule_pass, methods=["PATCH"]),
    Route("/api/v1/passes/{pass_id}/cancel", cancel_scheduled_pass, methods=["POST"]),
    Route("/api/v1/schedules", schedule_repeating, methods=["POST"]),
    Route("/api/v1/schedules/{schedule_id}/cancel", cancel_schedule, methods=["POST"]),
    Route("/api/v1/school/dismissal-time", set_dismissal_time, methods=["PUT"]),
]
