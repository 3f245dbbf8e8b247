"""What every command shares: load, decide with `now`, save, retry, and idempotent replay."""

from __future__ import annotations

import asyncio
import functools
import hashlib
import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any, Concatenate, ParamSpec, TypeVar
from uuid import UUID

import msgspec
import orjson
from eventsourcing.domain import Aggregate

from hallpass.acting import Acting, Actor
from hallpass.aggregates import ids
from hallpass.aggregates.emergencies import Emergency
from hallpass.aggregates.idempotency import IdempotencyRecord
from hallpass.aggregates.locations import Location
from hallpass.aggregates.passes import Pass, Source, Status, Trip
from hallpass.aggregates.rules import SchoolRules
from hallpass.aggregates.schools import School
from hallpass.aggregates.students import Student
from hallpass.aggregates.wait_lines import WaitLine, wait_line_id
from hallpass.commands.messages import Command
from hallpass.commands.repository import ConcurrentChange, ReadAgain, Repository, UnitOfWork
from hallpass.credentials import CredentialStore
from hallpass.errors import (
    Conflict,
    DomainError,
    Forbidden,
    IdempotencyKeyReused,
    Invalid,
    NotFound,
    StudentAlreadyOut,
)
from hallpass.eventstore import EventStore
from hallpass.messages import say
from hallpass.policies import Policy, Proposal, Refusal, evaluate
from hallpass.sessions import SessionStore

MAX_ATTEMPTS = 12


class OutcomeKind(StrEnum):
    """What came of a command, in the domain's words; `hallpass.http` says it in status codes."""

    CREATED = "created"
    """Something new exists: passes, a schedule, a kiosk."""
    DONE = "done"
    """The change is made, or there was nothing left to change (a late or repeated timer)."""
    REFUSED = "refused"
    """Refused for `Outcome.refusal`, and the refusal itself recorded (a wrong exit password)."""
    WAITING = "waiting"
    """Not done yet, and nothing changed; it will be sent again (dismissal waits for the pass list)."""


@dataclass(frozen=True)
class Decided:
    """What a command decided: its outcome, the answer's body, and the aggregates it changed."""

    kind: OutcomeKind
    body: dict[str, Any]
    changed: Sequence[Aggregate]
    refusal: DomainError | None = None


def created(body: dict[str, Any], changed: Sequence[Aggregate]) -> Decided:
    return Decided(OutcomeKind.CREATED, body, changed)


def done(body: dict[str, Any], changed: Sequence[Aggregate] = ()) -> Decided:
    return Decided(OutcomeKind.DONE, body, changed)


def refused(refusal: DomainError, changed: Sequence[Aggregate]) -> Decided:
    """Refuse, yet save `changed`: the refusal is itself a fact (a wrong password counted)."""
    return Decided(OutcomeKind.REFUSED, {}, changed, refusal)


@dataclass(frozen=True)
class Outcome:
    """The answer to a command: what came of it, its body, and how far the log has moved."""

    kind: OutcomeKind
    body: dict[str, Any]
    notification_id: int | None
    replayed: bool = False
    refusal: DomainError | None = None


def settled(outcome: Outcome) -> Outcome:
    """The outcome of a command that succeeded; its refusal raised, for a page that draws
    refusals as errors (the refusal's record is saved by then)."""
    if outcome.refusal is not None:
        raise outcome.refusal
    return outcome


def fingerprint(name: str, command: Command | None, target: UUID | None = None) -> str:
    payload = {"command": name, "target": str(target), "body": msgspec.to_builtins(command)}
    return hashlib.sha256(orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)).hexdigest()


def pass_summary(p: Pass, student: Student, origin: Location, destination: Location) -> dict[str, Any]:
    return {
        "id": str(p.id),
        "status": p.status.value,
        "source": p.source.value,
        "marker": p.source.marker,
        "student": {"id": str(student.id), "name": student.full_name, "grade": student.grade},
        "origin": {"id": str(origin.id), "name": origin.name},
        "destination": {"id": str(destination.id), "name": destination.name},
        "start_at": p.start_at.isoformat(),
        "due_at": p.due_at.isoformat(),
        "allotted_minutes": p.allotted_minutes,
        "returned_at": p.returned_at.isoformat() if p.returned_at else None,
        "ended_at": p.ended_at.isoformat() if p.ended_at else None,
        "end_reason": p.end_reason,
        "version": p.version,
    }


ACTING_ROLES = ("teacher", "office", "admin", "district_admin")
"""Roles that act on passes; compliance officers and district analysts only read."""


def staff_only(actor: Actor, action: str) -> None:
    if not actor.is_staff:
        raise Forbidden(say("auth.staff_may", action=action))
    not_read_only(actor, action)


def not_read_only(actor: Actor, action: str) -> None:
    """A member of staff whose roles only read (compliance, analyst) changes nothing."""
    if actor.is_staff and not actor.has_role(*ACTING_ROLES):
        raise Forbidden(say("auth.read_only", action=action))


def each_student_once(student_ids: Sequence[UUID]) -> None:
    if len(set(student_ids)) != len(student_ids):
        raise Invalid(say("pass.student_twice"), field="student_ids")


def trip(acting: Acting, student: Student, origin: Location, destination: Location, minutes: int) -> Trip:
    """A new pass's trip: the student, from where, to where, for how long, and who decided it."""
    return {
        "school_id": acting.school_id,
        "student_id": student.id,
        "origin_id": origin.id,
        "destination_id": destination.id,
        "allotted_minutes": minutes,
        **acting.by,
    }


def allotted_minutes(destination: Location, requested: int | None) -> int:
    """The destination's time allotted, or a shorter time asked for; never a longer one."""
    if requested is None:
        return destination.allotted_minutes
    if requested > destination.allotted_minutes:
        raise Invalid(
            say("pass.minutes_at_most", destination=destination.name, minutes=destination.allotted_minutes),
            field="allotted_minutes",
        )
    return requested


P = ParamSpec("P")
C = TypeVar("C", bound="CommandBase")


def handler(
    *, keyed: bool = True
) -> Callable[
    [Callable[Concatenate[C, Acting, P], Awaitable[Decided]]],
    Callable[Concatenate[C, Acting, P], Awaitable[Outcome]],
]:
    """Declare a command: its method decides, and `_run` loads, saves, retries and replays it.

    The method takes `acting` and then its arguments: the id it acts on and the command's body,
    if any. A command sent again with the same idempotency key answers as the first time, if
    its method's name, the id and the body are the same (they are its stored fingerprint, so a
    method keeps its name). `keyed=False`: the command takes no key, and ignores one if sent.
    """

    def declare(
        decide: Callable[Concatenate[C, Acting, P], Awaitable[Decided]],
    ) -> Callable[Concatenate[C, Acting, P], Awaitable[Outcome]]:
        name = decide.__name__

        @functools.wraps(decide)
        async def run(self: C, acting: Acting, /, *args: P.args, **kwargs: P.kwargs) -> Outcome:
            if not keyed:
                acting = replace(acting, idempotency_key=None)
            stamp = ""  # a command sent without a key is never replayed: nothing to compare
            if acting.idempotency_key is not None:
                given = [*args, *kwargs.values()]
                body = next((a for a in given if isinstance(a, Command)), None)
                target = next((a for a in given if isinstance(a, UUID)), None)
                stamp = fingerprint(name, body, target)
            return await self._run(
                acting, fingerprint=stamp, decide=lambda: decide(self, acting, *args, **kwargs)
            )

        return run

    return declare


class CommandBase:
    """The machinery the command mixins share; `Hallpass` combines them."""

    def __init__(self, store: EventStore, credentials: CredentialStore | None = None) -> None:
        self.store = store
        self.repository = Repository(store)
        self.policies: dict[UUID, tuple[tuple[int, str], Policy]] = {}
        """Each school's policy as `school_policy` last worked it out, with its rules' version
        and time zone (decision 119)."""
        self.credentials = credentials or CredentialStore(store.pool, SessionStore(store.pool))

    # -- shared machinery -------------------------------------------------------------

    async def _run(
        self, acting: Acting, *, fingerprint: str, decide: Callable[[], Awaitable[Decided]]
    ) -> Outcome:
        """Decide and save, retrying on a concurrent change; replay the answer for a known key.

        Each attempt is one unit of work (see `Repository.unit_of_work`); a retry after another
        writer's change starts a fresh one, so it reads that change. Attempts trust the cache
        (its save checks what it decided on) until one is refused or saves nothing: that one is
        decided again reading everything, so a refusal never rests on an unread copy.
        """
        key = acting.idempotency_key
        record_id = ids.idempotency_record_id(acting.school_id, acting.actor.principal, key) if key else None
        trusting = True
        for attempt in range(MAX_ATTEMPTS):
            try:
                async with self.repository.unit_of_work(trusting=trusting) as unit:
                    try:
                        return await self._attempt(unit, acting, record_id, fingerprint, decide)
                    except DomainError as e:
                        if unit.unread:
                            raise ReadAgain(str(e)) from e
                        raise
            except ReadAgain:
                trusting = False
            except ConcurrentChange:
                await asyncio.sleep(random.uniform(0, 0.002 * (attempt + 1)))
        raise Conflict(say("pass.busy"))

    async def _attempt(
        self,
        unit: UnitOfWork,
        acting: Acting,
        record_id: UUID | None,
        fingerprint: str,
        decide: Callable[[], Awaitable[Decided]],
    ) -> Outcome:
        """One try in its own unit of work: every aggregate read once, the changed ones saved once.

        A refusal is not recorded under the key: sent again, the command is decided again.
        """
        replay = await self._replay(record_id, fingerprint)
        if replay is not None:
            return replay
        try:
            decided = await decide()
        except DomainError:
            # A concurrent request with the same key may have just succeeded: read its record
            # again, as committed now (this unit has already read it, before it existed).
            replay = await self._replay(record_id, fingerprint, committed=True)
            if replay is not None:
                return replay
            raise
        to_save = list(decided.changed)
        if record_id is not None and acting.idempotency_key is not None and decided.refusal is None:
            to_save.append(
                IdempotencyRecord._create(
                    IdempotencyRecord.Recorded,
                    id=record_id,
                    timestamp=acting.now,
                    key=acting.idempotency_key,
                    principal=acting.actor.principal,
                    fingerprint=fingerprint,
                    outcome=decided.kind.value,
                    response=decided.body,
                    changed={str(a.id): a.version for a in decided.changed if a.pending_events},
                )
            )
        notification_id = await unit.commit(to_save)
        return Outcome(decided.kind, decided.body, notification_id, refusal=decided.refusal)

    async def _replay(
        self, record_id: UUID | None, fingerprint: str, *, committed: bool = False
    ) -> Outcome | None:
        if record_id is None:
            return None
        find = self.repository.find_committed if committed else self.repository.find
        record = await find(record_id, IdempotencyRecord)
        if record is None:
            return None
        if record.fingerprint != fingerprint:
            raise IdempotencyKeyReused(say("pass.idempotency_reused"))
        return Outcome(OutcomeKind(record.outcome), record.response, None, replayed=True)

    async def _location(self, actor: Actor, location_id: UUID, role: str) -> Location:
        location = await self.repository.find(location_id, Location)
        if location is None or location.school_id != actor.school_id:
            raise NotFound(
                say("pass.location_not_found", role=role, id=location_id), field=role, id=str(location_id)
            )
        return location

    async def _offered(self, actor: Actor, location_id: UUID, role: str) -> Location:
        """A location a new pass or kiosk may use: of this school, and not archived."""
        location = await self._location(actor, location_id, role)
        if location.archived:
            raise Invalid(
                say("pass.location_archived", name=location.name), field=f"{role}_id", id=str(location_id)
            )
        return location

    async def _pass(self, actor: Actor, pass_id: UUID) -> Pass:
        hall_pass = await self.repository.find(pass_id, Pass)
        if hall_pass is None or hall_pass.school_id != actor.school_id:
            raise NotFound(say("pass.not_found", id=pass_id), id=str(pass_id))
        return hall_pass

    async def _students(self, actor: Actor, student_ids: Sequence[UUID]) -> list[Student]:
        # The school's emergency, the school and its hallway rules are read in the same round
        # trip, for `_refuse_in_emergency` and `_refusals`.
        await self.repository.read_together([*student_ids, *self._school_streams(actor.school_id)])
        found = [await self.repository.find(s, Student) for s in student_ids]
        missing = [
            str(sid)
            for sid, s in zip(student_ids, found, strict=True)
            if s is None or s.school_id != actor.school_id
        ]
        if missing:
            raise NotFound(
                say("pass.students_not_found", ids=", ".join(missing)), field="student_ids", ids=missing
            )
        return [s for s in found if s is not None]

    async def _refuse_in_emergency(self, school_id: UUID) -> None:
        """Read in the creating command's unit of work: a declared emergency refuses every pass."""
        emergency = await self.repository.find(ids.emergency_id(school_id), Emergency)
        if emergency is not None:
            emergency.refuse_passes()

    @staticmethod
    def _school_streams(school_id: UUID) -> list[UUID]:
        """What a pass decision reads of the school (`_students`): its emergency, itself and its
        hallway rules."""
        return [ids.emergency_id(school_id), school_id, ids.rules_id(school_id)]

    async def _policy(self, school_id: UUID) -> Policy:
        """The school's hallway rules, read in the unit of work (`_students` has read them)."""
        return (await self._policy_read(school_id))[1]

    async def _policy_read(self, school_id: UUID) -> tuple[tuple[int, str], Policy]:
        """`_policy`, with what it was worked out from: the version of the school's rules stream
        (0 while it has no event) and the school's time zone."""
        rules_id = ids.rules_id(school_id)
        await self.repository.read_together([school_id, rules_id])
        school = await self.repository.find(school_id, School)
        rules = await self.repository.find(rules_id, SchoolRules)
        timezone = school.timezone if school is not None else "UTC"
        if rules is None:
            return (0, timezone), Policy(timezone)
        return (rules.version, timezone), rules.policy(timezone)

    async def _refusals(
        self,
        student: Student,
        destination: Location,
        source: Source,
        now: datetime,
        *,
        pass_id: UUID | None = None,
    ) -> list[Refusal]:
        """What the school's hallway rules say of a pass for `student` to `destination` now.

        Asked before the student opens the pass, so the pass does not count against itself;
        `pass_id`: a pass the student opened already (a request being approved), left out.
        """
        proposal = Proposal(
            student_id=student.id,
            student_name=student.full_name,
            openings=[o for o in student.openings if o[0] != pass_id],
            destination_id=destination.id,
            destination_name=destination.name,
            source=source.value,
            now=now,
        )
        return evaluate(await self._policy(student.school_id), proposal)

    async def _check_student_free(
        self, student: Student, pass_id: UUID, destination: Location, now: datetime, source: Source
    ) -> None:
        await self._refuse_in_emergency(student.school_id)
        try:
            student.open_pass(pass_id=pass_id, destination_id=destination.id, now=now, source=source.value)
        except StudentAlreadyOut as e:
            where = student.open_pass_destination_id
            place = await self.repository.find(where, Location) if where else None
            if place is not None:
                e.message = f"{student.full_name} is already out (in {place.name})"
                e.args = (e.message,)
                e.details["destination_name"] = place.name
            raise

    async def _close(self, hall_pass: Pass, now: datetime, *, offer: bool = True) -> list[Aggregate]:
        """The student and the destination let go of a pass that has just ended; the slot it
        frees is offered to the first in the place's line (unless `offer` is False: the
        dismissal and the emergency, after which nobody goes anywhere)."""
        changed: list[Aggregate] = [hall_pass]
        # Read together with the origin, which the answer's summary names (one round trip).
        line_id = wait_line_id(hall_pass.destination_id)
        await self.repository.read_together(
            [hall_pass.student_id, hall_pass.destination_id, hall_pass.origin_id, line_id]
        )
        student = await self.repository.find(hall_pass.student_id, Student)
        destination = await self.repository.find(hall_pass.destination_id, Location)
        line = await self.repository.find(line_id, WaitLine)
        if student is not None:
            never_started = hall_pass.status in (Status.DENIED, Status.CANCELLED)
            student.close_pass(pass_id=hall_pass.id, now=now, uncounted=never_started)
            changed.append(student)
        if destination is not None and hall_pass.id in destination.occupants:
            destination.release(pass_id=hall_pass.id, now=now)
            changed.append(destination)
            if offer and line is not None and line.offer_free(destination, now):
                changed.append(line)
        return changed

    async def _summary(self, hall_pass: Pass) -> dict[str, Any]:
        await self.repository.read_together(
            [hall_pass.student_id, hall_pass.origin_id, hall_pass.destination_id]
        )
        student = await self.repository.find(hall_pass.student_id, Student)
        origin = await self.repository.find(hall_pass.origin_id, Location)
        destination = await self.repository.find(hall_pass.destination_id, Location)
        if student is None or origin is None or destination is None:
            raise NotFound(say("pass.not_found", id=hall_pass.id))
        return pass_summary(hall_pass, student, origin, destination)

    def _may_act_on(self, actor: Actor, hall_pass: Pass) -> None:
        if actor.kind == "student" and hall_pass.student_id != actor.id:
            raise NotFound(say("pass.not_found", id=hall_pass.id), id=str(hall_pass.id))
