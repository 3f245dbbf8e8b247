"""Passes planned ahead, and the commands time drives: schedule, activate, expire, dismissal time."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Sequence
from datetime import datetime, time
from typing import Annotated, Any
from uuid import UUID, uuid4

import msgspec
from eventsourcing.domain import Aggregate

from hallpass.acting import Acting, system
from hallpass.aggregates.emergencies import EmergencyInProgress
from hallpass.aggregates.keep_apart import NEUTRAL
from hallpass.aggregates.locations import Location
from hallpass.aggregates.passes import Pass, Source, Status
from hallpass.aggregates.schedules import Recurrence, Schedule
from hallpass.aggregates.schools import School, check_timezone
from hallpass.aggregates.students import Student
from hallpass.aggregates.wait_lines import WaitLine, wait_line_id
from hallpass.bounds import MAX_PLANNED, Day, Minutes, Moment, Note, TimeOfDay, TimeZone, Weekday
from hallpass.commands.base import (
    MAX_ATTEMPTS,
    CommandBase,
    Decided,
    Outcome,
    allotted_minutes,
    created,
    done,
    each_student_once,
    handler,
    staff_only,
    trip,
)
from hallpass.commands.keep_apart import guard_keep_apart
from hallpass.commands.lines import admit
from hallpass.commands.messages import Command, Passes
from hallpass.errors import Conflict, DestinationFull, Invalid, NotFound, StudentAlreadyOut
from hallpass.messages import say


class SchedulePasses(Passes, frozen=True, kw_only=True):
    """Plan one pass per selected student, starting at `start_at` (all or none)."""

    start_at: Moment


class ReschedulePass(Command, frozen=True):
    """Edit a Scheduled pass before it starts."""

    start_at: Moment
    allotted_minutes: Minutes | None = None
    note: Note | None = None


class CancelScheduledPass(Command, frozen=True):
    """Cancel a Scheduled pass before it starts."""

    note: Note = ""


class ScheduleRepeating(Passes, frozen=True, kw_only=True):
    """A repeating schedule: one Scheduled pass per student on each listed weekday at `at`."""

    weekdays: Annotated[list[Weekday], msgspec.Meta(min_length=1, max_length=7)]
    at: TimeOfDay
    first_date: Day
    last_date: Day
    timezone: TimeZone | None = None


class ScheduleCommands(CommandBase):
    """Mixed into `Hallpass`: the commands the timer workers and the schedule screens issue."""

    async def expire_pass(self, pass_id: UUID, *, now: datetime) -> Outcome | None:
        """Expire the pass if it is Active and due. A late, duplicate or stale call does nothing.

        The student stays out: the pass remains open until a return is recorded.
        """
        loaded = await self.repository.find(pass_id, Pass)
        return None if loaded is None else await self._expire(Acting(system(loaded.school_id), now), pass_id)

    @handler()
    async def _expire(self, acting: Acting, pass_id: UUID) -> Decided:
        hall_pass = await self._pass(acting.actor, pass_id)
        changed = hall_pass.expire(now=acting.now)
        return done(_timer_body(hall_pass, changed), [hall_pass] if changed else [])

    async def expire_passes(self, pass_ids: Sequence[UUID], *, now: datetime) -> int:
        """Expire those of the passes that are Active and due, together; return how many.

        One unit of work reads them all in one round trip; each changed pass is its own append,
        and the appends share one transaction (group commit). A pass another command changed
        first clashes alone: it is read again and decided again, so a pass completed meanwhile
        is skipped, never expired on top of its completion.
        """
        remaining = list(dict.fromkeys(pass_ids))
        expired = 0
        for attempt in range(MAX_ATTEMPTS):
            async with self.repository.unit_of_work() as unit:
                found = await asyncio.gather(*(unit.find(p, Pass) for p in remaining))
                due = [p for p in found if p is not None and p.expire(now=now)]
                clashed = await unit.commit_each(due)
            expired += len(due) - len(clashed)
            if not clashed:
                return expired
            remaining = clashed
            await asyncio.sleep(random.uniform(0, 0.002 * (attempt + 1)))
        raise Conflict(say("schedule.busy"))

    async def activate_pass(self, pass_id: UUID, *, now: datetime) -> Outcome | None:
        """Start a Scheduled pass at its time. A late, duplicate or early call does nothing.

        If the student is already out, or the destination is full, the pass cannot start and
        is Cancelled with that reason (see docs/decisions on scheduled activation).
        """
        loaded = await self.repository.find(pass_id, Pass)
        return (
            None if loaded is None else await self._activate(Acting(system(loaded.school_id), now), pass_id)
        )

    @handler()
    async def _activate(self, acting: Acting, pass_id: UUID) -> Decided:
        hall_pass = await self._pass(acting.actor, pass_id)
        if hall_pass.status is not Status.SCHEDULED or acting.now < hall_pass.start_at:
            return done(_timer_body(hall_pass, False))
        changed = await self._start_scheduled(hall_pass, acting.now)
        return done(_timer_body(hall_pass, True), changed)

    async def _start_scheduled(self, hall_pass: Pass, now: datetime) -> list[Aggregate]:
        student = await self.repository.find(hall_pass.student_id, Student)
        destination = await self.repository.find(hall_pass.destination_id, Location)
        if student is None or destination is None:
            return _cancelled(hall_pass, now, "missing", "the student or destination no longer exists")
        try:
            await self._refuse_in_emergency(hall_pass.school_id)
        except EmergencyInProgress:
            return _cancelled(hall_pass, now, "emergency", "the school was in emergency mode")
        by = Acting(system(hall_pass.school_id), now)
        line = await self.repository.find(wait_line_id(destination.id), WaitLine)
        try:
            student.open_pass(
                pass_id=hall_pass.id, destination_id=destination.id, now=now, source=Source.STAFF.value
            )
            taken = admit(destination, line, student.id, hall_pass.id, by)
        except StudentAlreadyOut:
            return _cancelled(hall_pass, now, "student_already_out", "the student was already out")
        except DestinationFull:
            return _cancelled(hall_pass, now, "destination_full", f"{destination.name} was full")
        apart = await guard_keep_apart(
            self.repository, by, [(student, hall_pass.id)], destination.id, hall_pass.source.value
        )
        if apart.refusal is not None:
            return [*_cancelled(hall_pass, now, "keep_apart", NEUTRAL), *apart.refusal.changed]
        hall_pass.activate(now=now)
        # Limits and blackouts as they are now: staff weighed them when they planned it, so it
        # starts, and the pass records what the rules said as that member of staff's override
        # (docs/decisions/088). Keep-apart, above, is about who is out now and cancels it.
        refusals = await self._refusals(student, destination, hall_pass.source, now, pass_id=hall_pass.id)
        kind, planner = hall_pass.created_by
        if refusals and kind == "staff":
            hall_pass.record_override(
                refusals=[r.as_json() for r in refusals],
                reason=say("rules.scheduled_ahead"),
                now=now,
                actor_kind=kind,
                actor_id=planner,
            )
        changed: list[Aggregate] = [hall_pass, student, *taken, *apart.changed]
        if destination.counts_occupants:
            changed.append(destination)
        return changed

    @handler()
    async def schedule_passes(self, acting: Acting, command: SchedulePasses) -> Decided:
        """Staff plan passes for later: one Scheduled pass per student."""
        staff_only(acting.actor, "schedule a pass")
        each_student_once(command.student_ids)
        planned = await self._plan(acting, command, [_aware(command.start_at)])
        return created({"passes": [await self._summary(p) for p in planned]}, planned)

    async def _plan(self, acting: Acting, command: Passes, starts: list[datetime]) -> list[Pass]:
        """One Scheduled pass per start time and student, all checked against the school."""
        origin = await self._offered(acting.actor, command.origin_id, "origin")
        destination = await self._offered(acting.actor, command.destination_id, "destination")
        students = await self._students(acting.actor, command.student_ids)
        minutes = allotted_minutes(destination, command.allotted_minutes)
        return [
            Pass.schedule(
                pass_id=uuid4(),
                start_at=start_at,
                now=acting.now,
                note=command.note,
                **trip(acting, student, origin, destination, minutes),
            )
            for start_at in starts
            for student in students
        ]

    @handler()
    async def reschedule_pass(self, acting: Acting, pass_id: UUID, command: ReschedulePass) -> Decided:
        """Edit a Scheduled pass; once it has started this is refused (IllegalTransition)."""
        staff_only(acting.actor, "edit a scheduled pass")
        start_at = _aware(command.start_at)
        hall_pass = await self._pass(acting.actor, pass_id)
        destination = await self._location(acting.actor, hall_pass.destination_id, "destination")
        minutes = (
            hall_pass.allotted_minutes
            if command.allotted_minutes is None
            else allotted_minutes(destination, command.allotted_minutes)
        )
        hall_pass.reschedule(
            start_at=start_at,
            allotted_minutes=minutes,
            note=hall_pass.note if command.note is None else command.note,
            **acting.stamp,
        )
        return done({"pass": await self._summary(hall_pass)}, [hall_pass])

    @handler()
    async def cancel_scheduled_pass(
        self, acting: Acting, pass_id: UUID, command: CancelScheduledPass | None = None
    ) -> Decided:
        """Cancel a Scheduled pass; once it has started this is refused (IllegalTransition)."""
        staff_only(acting.actor, "cancel a scheduled pass")
        hall_pass = await self._pass(acting.actor, pass_id)
        hall_pass.cancel(reason="cancelled", note=command.note if command else "", **acting.stamp)
        return done({"pass": await self._summary(hall_pass)}, [hall_pass])

    @handler()
    async def schedule_repeating(self, acting: Acting, command: ScheduleRepeating) -> Decided:
        """Plan a Scheduled pass for each future occurrence and student (all or none)."""
        staff_only(acting.actor, "schedule passes")
        each_student_once(command.student_ids)
        if command.last_date < command.first_date:
            raise Invalid(say("schedule.last_before_first"), field="last_date")
        school = await self.repository.find(acting.school_id, School)
        timezone = command.timezone or (school.timezone if school is not None else "UTC")
        recurrence = Recurrence(
            weekdays=frozenset(command.weekdays),
            at=command.at,
            first=command.first_date,
            last=command.last_date,
            timezone=check_timezone(timezone),
        )
        starts = [moment for moment in recurrence.occurrences() if moment > acting.now]
        if not starts:
            raise Invalid(say("schedule.none_ahead"), field="first_date")
        planned_count = len(starts) * len(command.student_ids)
        if planned_count > MAX_PLANNED:
            raise Invalid(
                say(
                    "schedule.too_many",
                    limit=MAX_PLANNED,
                    planned=planned_count,
                    days=len(starts),
                    students=len(command.student_ids),
                ),
                field="last_date",
                limit=MAX_PLANNED,
                planned=planned_count,
            )
        planned = await self._plan(acting, command, starts)
        schedule = Schedule._create(
            Schedule.Created,
            id=uuid4(),
            timestamp=acting.now,
            school_id=acting.school_id,
            student_ids=list(command.student_ids),
            origin_id=command.origin_id,
            destination_id=command.destination_id,
            weekdays=sorted(recurrence.weekdays),
            at=recurrence.at,
            first_date=command.first_date,
            last_date=command.last_date,
            timezone=timezone,
            allotted_minutes=planned[0].allotted_minutes,
            pass_ids=[p.id for p in planned],
            **acting.by,
        )
        body = {
            "schedule_id": str(schedule.id),
            "timezone": timezone,
            "passes": [
                {"id": str(p.id), "student_id": str(p.student_id), "start_at": p.start_at.isoformat()}
                for p in planned
            ],
        }
        return created(body, [schedule, *planned])

    @handler()
    async def cancel_schedule(self, acting: Acting, schedule_id: UUID) -> Decided:
        """Cancel a repeating schedule: its occurrences that have not started are cancelled."""
        staff_only(acting.actor, "cancel a schedule")
        schedule = await self.repository.find(schedule_id, Schedule)
        if schedule is None or schedule.school_id != acting.school_id:
            raise NotFound(say("schedule.not_found", id=schedule_id), id=str(schedule_id))
        schedule.cancel(now=acting.now, **acting.by)
        changed: list[Aggregate] = [schedule]
        for pass_id in schedule.pass_ids:
            hall_pass = await self.repository.find(pass_id, Pass)
            if (
                hall_pass is not None
                and hall_pass.status is Status.SCHEDULED
                and hall_pass.start_at > acting.now
            ):
                hall_pass.cancel(reason="cancelled", note="schedule cancelled", **acting.stamp)
                changed.append(hall_pass)
        body = {"schedule_id": str(schedule_id), "cancelled": [str(a.id) for a in changed[1:]]}
        return done(body, changed)

    @handler(keyed=False)
    async def set_dismissal_time(self, acting: Acting, at: time) -> Decided:
        """Set when the school day ends, in the school's time zone; from then on, daily."""
        staff_only(acting.actor, "set the dismissal time")
        school = await self.repository.find(acting.school_id, School)
        if school is None:
            raise NotFound(say("http.school_not_found", id=acting.school_id))
        school.set_dismissal_time(at=at, now=acting.now)
        return done({"dismissal_time": at.isoformat(), "timezone": school.timezone}, [school])


def _timer_body(hall_pass: Pass, changed: bool) -> dict[str, Any]:
    return {"pass_id": str(hall_pass.id), "status": hall_pass.status.value, "changed": changed}


def _cancelled(hall_pass: Pass, now: datetime, reason: str, note: str) -> list[Aggregate]:
    hall_pass.cancel(reason=reason, note=note, now=now, actor_kind="system", actor_id=None)
    return [hall_pass]


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise Invalid(say("schedule.offset"), field="start_at")
    return moment
