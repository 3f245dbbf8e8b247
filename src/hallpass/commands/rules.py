"""Hallway rules in the school's administration: per-student limits, the bell schedule and
blackout windows (administrators set them), and the preview staff see before Create.

Each setting is an event on the school's `SchoolRules` stream; passes read it when they are
made (docs/decisions/088 and 089).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime, time
from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec

from hallpass.acting import Acting, Actor
from hallpass.aggregates import ids
from hallpass.aggregates.keep_apart import NEUTRAL
from hallpass.aggregates.locations import Location
from hallpass.aggregates.passes import Source
from hallpass.aggregates.rules import SchoolRules
from hallpass.aggregates.schools import School
from hallpass.aggregates.wait_lines import WaitLine, wait_line_id
from hallpass.bounds import MAX_STUDENTS, Day, Line, PlaceIds, RecordName, Weekday
from hallpass.commands.administration import AdministrationCommands
from hallpass.commands.base import Decided, done, handler, not_read_only, staff_only
from hallpass.commands.keep_apart import kept_apart
from hallpass.commands.messages import Command
from hallpass.errors import Invalid, NotFound
from hallpass.messages import say
from hallpass.policies import Policy, Proposal, evaluate
from hallpass.policies.bells import MAX_DATES, MAX_DAY_TYPES, MAX_PERIODS, bell_schedule
from hallpass.policies.blackouts import MAX_BLACKOUTS, MAX_EDGE_MINUTES, Blackout, blackout_window
from hallpass.policies.limits import MAX_LIMIT, count, limits

Count = Annotated[int, msgspec.Meta(ge=1, le=MAX_LIMIT)]
EdgeMinutes = Annotated[int, msgspec.Meta(ge=0, le=MAX_EDGE_MINUTES)]
SourceName = Literal["staff", "kiosk", "portal"]
Clock = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$",
        description="a local time of day, HH:MM (or HH:MM:SS), no offset",
    ),
]


def clock(value: str) -> time:
    """A `Clock` value as a time of day (seconds dropped: rules work to the minute)."""
    return time.fromisoformat(value).replace(second=0)


class SetLimits(Command, frozen=True):
    """Passes per student per school day and per week (empty: no limit); which sources count;
    which destinations never count (the nurse, the office)."""

    per_day: Count | None = None
    per_week: Count | None = None
    sources: Annotated[list[SourceName], msgspec.Meta(max_length=3)] = msgspec.field(
        default_factory=lambda: ["staff", "kiosk", "portal"]
    )
    exempt_destination_ids: PlaceIds = msgspec.field(default_factory=list)


class PeriodSpec(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    name: RecordName
    start: Clock
    end: Clock


class DayTypeSpec(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    name: RecordName
    periods: Annotated[list[PeriodSpec], msgspec.Meta(max_length=MAX_PERIODS)]


class DateSpec(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """A date that uses another day type than its weekday's; none: no school that day."""

    date: Day
    day_type: Line | None = None


class SetBellSchedule(Command, frozen=True):
    """The day types and their periods, the day type of each weekday from Monday (none: no
    school), and the dates that differ."""

    day_types: Annotated[list[DayTypeSpec], msgspec.Meta(max_length=MAX_DAY_TYPES)]
    weekdays: Annotated[list[Line | None], msgspec.Meta(min_length=7, max_length=7)]
    dates: Annotated[list[DateSpec], msgspec.Meta(max_length=MAX_DATES)] = msgspec.field(default_factory=list)


class BlackoutSpec(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """`edges`: the first and last minutes of every period. `window`: from `start` to `end` on
    every day, on `weekdays` (0 is Monday), or on `dates` only. For every destination, or for
    `destination_ids` only."""

    kind: Literal["edges", "window"]
    name: Line = ""
    first_minutes: EdgeMinutes = 0
    last_minutes: EdgeMinutes = 0
    start: Clock | None = None
    end: Clock | None = None
    weekdays: Annotated[list[Weekday], msgspec.Meta(max_length=7)] = msgspec.field(default_factory=list)
    dates: Annotated[list[Day], msgspec.Meta(max_length=MAX_DATES)] = msgspec.field(default_factory=list)
    destination_ids: PlaceIds = msgspec.field(default_factory=list)


class SetBlackouts(Command, frozen=True):
    blackouts: Annotated[list[BlackoutSpec], msgspec.Meta(max_length=MAX_BLACKOUTS)]


class CheckPasses(Command, frozen=True):
    """Which rules would refuse passes for these students (to this destination), now."""

    student_ids: Annotated[list[UUID], msgspec.Meta(min_length=1, max_length=MAX_STUDENTS)]
    destination_id: UUID | None = None


def rules_body(rules: SchoolRules | None, school: School, now: datetime) -> dict[str, Any]:
    policy = rules.policy(school.timezone) if rules is not None else Policy(school.timezone)
    period = policy.bells.period_at(now, policy.zone)
    return {
        "school_id": str(school.id),
        "timezone": school.timezone,
        "limits": policy.limits.as_json(),
        "bell_schedule": policy.bells.as_json(),
        "blackouts": [b.as_json() for b in policy.blackouts],
        "current_period": period.as_json(policy.zone) if period else None,
    }


class RulesCommands(AdministrationCommands):
    """Mixed into `Hallpass`."""

    async def _rules_of(self, acting: Acting, school_id: UUID) -> tuple[School, SchoolRules]:
        """The school's rules stream, if the caller administers the school (opened if new)."""
        not_read_only(acting.actor, "change the hallway rules")
        school = await self.administered_school(acting.actor, school_id)
        found = await self.repository.find(ids.rules_id(school_id), SchoolRules)
        return school, found if found is not None else SchoolRules.open(school_id, acting.now)

    async def _places(self, school_id: UUID, place_ids: Sequence[UUID], field: str) -> None:
        if len(set(place_ids)) != len(place_ids):
            raise Invalid(say("rules.place_twice"), field=field)
        found = await asyncio.gather(*(self.repository.find(p, Location) for p in place_ids))
        for place_id, place in zip(place_ids, found, strict=True):
            if place is None or place.school_id != school_id:
                raise NotFound(
                    say("http.record_not_found", what="location", id=place_id), field=field, id=str(place_id)
                )

    async def school_rules(self, actor: Actor, school_id: UUID, now: datetime) -> dict[str, Any]:
        """The school's rules and its current period, for its administrators."""
        school = await self.administered_school(actor, school_id)
        rules = await self.repository.find(ids.rules_id(school_id), SchoolRules)
        return {"rules": rules_body(rules, school, now)}

    async def school_policy(self, school_id: UUID, shown: tuple[int | None, str] | None = None) -> Policy:
        """The school's rules as they stand (outside any command): the dashboard's period.

        `shown`: the rules' version and the time zone that the directory's row of the school
        holds (`rules_version`, `timezone`). A policy worked out from exactly that version of the
        rules and that zone is the same policy (the log only grows), so it is handed out again
        without reading the log (decision 119). A command waits for the read models before it
        answers, so after a change of the rules or the zone the row names the new version and
        the page works the policy out again: it never shows rules older than a change it was
        told of. An unknown version (None: a row projected before the column) always reads."""
        kept = self.policies.get(school_id)
        if shown is not None and shown[0] is not None and kept is not None and kept[0] == shown:
            return kept[1]
        read, policy = await self._policy_read(school_id)
        self.policies[school_id] = (read, policy)
        return policy

    def kept_zone(self, school_id: UUID) -> str | None:
        """The school's time zone as the policy `school_policy` last worked out had it, if this
        process has one: what the dashboard's list may go out in before the school's row is read
        (decision 131). It may be out of date; the caller checks it against the row."""
        kept = self.policies.get(school_id)
        if kept is None:
            return None
        (_version, zone), _policy = kept  # the row's version and zone it was worked out from
        return zone

    @handler(keyed=False)
    async def set_limits(self, acting: Acting, school_id: UUID, command: SetLimits) -> Decided:
        school, rules = await self._rules_of(acting, school_id)
        await self._places(school_id, command.exempt_destination_ids, "exempt_destination_ids")
        chosen = limits(
            per_day=command.per_day,
            per_week=command.per_week,
            sources=command.sources,
            exempt_destination_ids=command.exempt_destination_ids,
        )
        changed = rules.set_limits(chosen, now=acting.now, by=acting.by)
        return done({"rules": rules_body(rules, school, acting.now)}, [rules] if changed else [])

    @handler(keyed=False)
    async def set_bell_schedule(self, acting: Acting, school_id: UUID, command: SetBellSchedule) -> Decided:
        school, rules = await self._rules_of(acting, school_id)
        bells = bell_schedule(
            day_types=[
                (
                    t.name,
                    [(p.name, clock(p.start), clock(p.end)) for p in t.periods],
                )
                for t in command.day_types
            ],
            weekdays=command.weekdays,
            dates=[(d.date, d.day_type) for d in command.dates],
        )
        changed = rules.set_bell_schedule(bells, now=acting.now, by=acting.by)
        return done({"rules": rules_body(rules, school, acting.now)}, [rules] if changed else [])

    @handler(keyed=False)
    async def set_blackouts(self, acting: Acting, school_id: UUID, command: SetBlackouts) -> Decided:
        school, rules = await self._rules_of(acting, school_id)
        made: list[Blackout] = []
        for i, spec in enumerate(command.blackouts):
            await self._places(school_id, spec.destination_ids, f"blackouts[{i}].destination_ids")
            try:
                made.append(
                    blackout_window(
                        kind=spec.kind,
                        name=spec.name,
                        first_minutes=spec.first_minutes,
                        last_minutes=spec.last_minutes,
                        start=clock(spec.start) if spec.start else None,
                        end=clock(spec.end) if spec.end else None,
                        weekdays=spec.weekdays,
                        dates=spec.dates,
                        destination_ids=spec.destination_ids,
                    )
                )
            except Invalid as e:
                raise Invalid(e.message, field=f"blackouts[{i}].{e.details.get('field', '')}") from e
        changed = rules.set_blackouts(tuple(made), now=acting.now, by=acting.by)
        return done({"rules": rules_body(rules, school, acting.now)}, [rules] if changed else [])

    async def check_passes(self, acting: Acting, command: CheckPasses) -> dict[str, Any]:
        """For staff about to press Create: each student's counts, the limits, and every rule
        that would refuse the pass now (no change is made)."""
        actor = acting.actor
        staff_only(actor, "check passes")
        students = await self._students(actor, list(command.student_ids))
        destination = None
        if command.destination_id is not None:
            destination = await self._location(actor, command.destination_id, "destination")
        policy = await self.school_policy(actor.school_id)
        place_id = destination.id if destination else None
        apart = await kept_apart(self.repository, actor.school_id, students)
        line = await self.repository.find(wait_line_id(place_id), WaitLine) if place_id else None
        # The place's free slots, taken in the order the students are ticked; one offered a
        # slot from the line takes it, and nobody else goes ahead of those waiting.
        free = destination.free_slots if destination is not None and destination.counts_occupants else None
        answers = []
        for student in students:
            extra: list[dict[str, Any]] = []
            if student.id in apart:
                extra.append({"rule": "keep_apart", "message": NEUTRAL})
            if free is not None and destination is not None:
                offered = line is not None and line.offer_for(student.id) is not None
                held = line is not None and line.holds_back(student.id)
                if not offered and (held or free <= 0):
                    name, capacity = destination.name, destination.capacity
                    message = (
                        say("line.others_waiting", name=name)
                        if held
                        else say("pass.destination_full", name=name, capacity=capacity)
                    )
                    extra.append({"rule": "destination_full", "message": message, "overridable": False})
                elif not offered:
                    free -= 1
            proposal = Proposal(
                student_id=student.id,
                student_name=student.full_name,
                openings=student.openings,
                destination_id=place_id,
                destination_name=destination.name if destination else "",
                source=Source.STAFF.value,
                now=acting.now,
            )
            counts = count(student.openings, policy.limits, policy.zone, acting.now)
            answers.append(
                {
                    "student_id": str(student.id),
                    "name": student.full_name,
                    "out": student.open_pass_id is not None,
                    "today": counts.today,
                    "week": counts.week,
                    "refusals": [r.as_json() for r in evaluate(policy, proposal)] + extra,
                }
            )
        period = policy.bells.period_at(acting.now, policy.zone)
        return {
            "limits": policy.limits.as_json(),
            "current_period": period.as_json(policy.zone) if period else None,
            "students": answers,
        }
