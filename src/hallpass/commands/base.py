"""What every command shares: load, decide with `now`, save, retry, and idempotent replay."""

from __future__ import annotations

import asyncio
import hashlib
import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec
import orjson
from eventsourcing.domain import Aggregate

from hallpass.acting import Actor
from hallpass.aggregates import ids
from hallpass.aggregates.idempotency import IdempotencyRecord
from hallpass.aggregates.locations import Location
from hallpass.aggregates.passes import Pass
from hallpass.aggregates.students import Student
from hallpass.commands.messages import Command
from hallpass.commands.repository import ConcurrentChange, Repository, UnitOfWork
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

MAX_ATTEMPTS = 12


@dataclass(frozen=True)
class Outcome:
    """The answer to a command: what to tell the caller and how far the log has moved."""

    status_code: int
    body: dict[str, Any]
    notification_id: int | None
    replayed: bool = False


Decision = tuple[int, dict[str, Any], Sequence[Aggregate]]


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


def staff_only(actor: Actor, action: str) -> None:
    if not actor.is_staff:
        raise Forbidden(f"only staff may {action}")


def each_student_once(student_ids: Sequence[UUID]) -> None:
    if len(set(student_ids)) != len(student_ids):
        raise Invalid("a student is selected more than once", field="student_ids")


def allotted_minutes(destination: Location, requested: int | None) -> int:
    """The destination's time allotted, or a shorter time asked for; never a longer one."""
    if requested is None:
        return destination.allotted_minutes
    if requested > destination.allotted_minutes:
        raise Invalid(
            f"a pass to {destination.name} may last at most {destination.allotted_minutes} minutes",
            field="allotted_minutes",
        )
    return requested


class CommandBase:
    """The machinery the command mixins share; `Hallpass` combines them."""

    def __init__(self, store: EventStore) -> None:
        self.store = store
        self.repository = Repository(store)

    # -- shared machinery -------------------------------------------------------------

    async def _run(
        self,
        actor: Actor,
        *,
        now: datetime,
        idempotency_key: str | None,
        fingerprint: str,
        decide: Callable[[], Awaitable[Decision]],
    ) -> Outcome:
        """Decide and save, retrying on a concurrent change; replay the answer for a known key.

        Each attempt is one unit of work (see `Repository.unit_of_work`); a retry after another
        writer's change starts a fresh one, so it reads that change.
        """
        record_id = (
            ids.idempotency_record_id(actor.school_id, actor.principal, idempotency_key)
            if idempotency_key
            else None
        )
        for attempt in range(MAX_ATTEMPTS):
            try:
                async with self.repository.unit_of_work() as unit:
                    return await self._attempt(
                        unit, actor, now, idempotency_key, record_id, fingerprint, decide
                    )
            except ConcurrentChange:
                await asyncio.sleep(random.uniform(0, 0.002 * (attempt + 1)))
        raise Conflict("too many simultaneous changes; please try again")

    async def _attempt(
        self,
        unit: UnitOfWork,
        actor: Actor,
        now: datetime,
        idempotency_key: str | None,
        record_id: UUID | None,
        fingerprint: str,
        decide: Callable[[], Awaitable[Decision]],
    ) -> Outcome:
        """One try in its own unit of work: every aggregate read once, the changed ones saved once."""
        replay = await self._replay(record_id, fingerprint)
        if replay is not None:
            return replay
        try:
            status_code, body, aggregates = await decide()
        except DomainError:
            # A concurrent request with the same key may have just succeeded.
            replay = await self._replay(record_id, fingerprint)
            if replay is not None:
                return replay
            raise
        to_save = list(aggregates)
        if record_id is not None and idempotency_key is not None:
            to_save.append(
                IdempotencyRecord._create(
                    IdempotencyRecord.Recorded,
                    id=record_id,
                    timestamp=now,
                    key=idempotency_key,
                    principal=actor.principal,
                    fingerprint=fingerprint,
                    status_code=status_code,
                    response=body,
                )
            )
        notification_id = await unit.commit(to_save)
        return Outcome(status_code, body, notification_id)

    async def _replay(self, record_id: UUID | None, fingerprint: str) -> Outcome | None:
        if record_id is None:
            return None
        record = await self.repository.find(record_id, IdempotencyRecord)
        if record is None:
            return None
        if record.fingerprint != fingerprint:
            raise IdempotencyKeyReused("this Idempotency-Key was already used for a different request")
        return Outcome(record.status_code, record.response, None, replayed=True)

    async def _location(self, actor: Actor, location_id: UUID, role: str) -> Location:
        location = await self.repository.find(location_id, Location)
        if location is None or location.school_id != actor.school_id:
            raise NotFound(f"{role} location {location_id} not found", field=role, id=str(location_id))
        return location

    async def _pass(self, actor: Actor, pass_id: UUID) -> Pass:
        hall_pass = await self.repository.find(pass_id, Pass)
        if hall_pass is None or hall_pass.school_id != actor.school_id:
            raise NotFound(f"pass {pass_id} not found", id=str(pass_id))
        return hall_pass

    async def _students(self, actor: Actor, student_ids: Sequence[UUID]) -> list[Student]:
        found = await asyncio.gather(*(self.repository.find(s, Student) for s in student_ids))
        missing = [
            str(sid)
            for sid, s in zip(student_ids, found, strict=True)
            if s is None or s.school_id != actor.school_id
        ]
        if missing:
            raise NotFound(f"student {', '.join(missing)} not found", field="student_ids", ids=missing)
        return [s for s in found if s is not None]

    async def _check_student_free(
        self, student: Student, pass_id: UUID, destination: Location, now: datetime
    ) -> None:
        try:
            student.open_pass(pass_id=pass_id, destination_id=destination.id, now=now)
        except StudentAlreadyOut as e:
            where = student.open_pass_destination_id
            place = await self.repository.find(where, Location) if where else None
            if place is not None:
                e.message = f"{student.full_name} is already out (in {place.name})"
                e.args = (e.message,)
                e.details["destination_name"] = place.name
            raise

    async def _close(self, hall_pass: Pass, now: datetime) -> list[Aggregate]:
        """The student and the destination let go of a pass that has just ended."""
        changed: list[Aggregate] = [hall_pass]
        # Read together with the origin, which the answer's summary names (one round trip).
        student, destination, _ = await asyncio.gather(
            self.repository.find(hall_pass.student_id, Student),
            self.repository.find(hall_pass.destination_id, Location),
            self.repository.find(hall_pass.origin_id, Location),
        )
        if student is not None:
            student.close_pass(pass_id=hall_pass.id, now=now)
            changed.append(student)
        if destination is not None and hall_pass.id in destination.occupants:
            destination.release(pass_id=hall_pass.id, now=now)
            changed.append(destination)
        return changed

    async def _summary(self, hall_pass: Pass) -> dict[str, Any]:
        student, origin, destination = await asyncio.gather(
            self.repository.find(hall_pass.student_id, Student),
            self.repository.find(hall_pass.origin_id, Location),
            self.repository.find(hall_pass.destination_id, Location),
        )
        if student is None or origin is None or destination is None:
            raise NotFound(f"pass {hall_pass.id} refers to records that do not exist")
        return pass_summary(hall_pass, student, origin, destination)

    def _may_act_on(self, actor: Actor, hall_pass: Pass) -> None:
        if actor.kind == "student" and hall_pass.student_id != actor.id:
            raise NotFound(f"pass {hall_pass.id} not found", id=str(hall_pass.id))
