"""Pass commands: Create Hall Pass, Complete Pass, terminate."""

from __future__ import annotations

import asyncio
from datetime import datetime
from uuid import UUID, uuid4

from eventsourcing.domain import Aggregate

from hallpass.acting import Actor
from hallpass.aggregates.passes import Pass, Source, TerminationReason
from hallpass.commands.base import (
    CommandBase,
    Decision,
    Outcome,
    allotted_minutes,
    each_student_once,
    fingerprint,
    pass_summary,
)
from hallpass.commands.messages import CompletePass, CreatePasses, TerminatePass
from hallpass.errors import Forbidden, Invalid


class PassCommands(CommandBase):
    async def create_passes(
        self,
        actor: Actor,
        command: CreatePasses,
        *,
        now: datetime,
        source: Source = Source.STAFF,
        idempotency_key: str | None = None,
    ) -> Outcome:
        each_student_once(command.student_ids)

        async def decide() -> Decision:
            origin, destination, students = await asyncio.gather(  # one round trip
                self._location(actor, command.origin_id, "origin"),
                self._location(actor, command.destination_id, "destination"),
                self._students(actor, command.student_ids),
            )
            minutes = allotted_minutes(destination, command.allotted_minutes)
            changed: list[Aggregate] = []
            summaries = []
            for student in students:
                pass_id = uuid4()
                hall_pass = Pass.start(
                    pass_id=pass_id,
                    school_id=actor.school_id,
                    student_id=student.id,
                    origin_id=origin.id,
                    destination_id=destination.id,
                    source=source,
                    allotted_minutes=minutes,
                    now=now,
                    actor_kind=actor.kind,
                    actor_id=actor.id,
                    note=command.note,
                    idempotency_key=idempotency_key,
                )
                await self._check_student_free(student, pass_id, destination, now)
                destination.admit(pass_id=pass_id, now=now)
                changed += [hall_pass, student]
                summaries.append(pass_summary(hall_pass, student, origin, destination))
            if destination.counts_occupants:
                changed.append(destination)
            return 201, {"passes": summaries}, changed

        return await self._run(
            actor,
            now=now,
            idempotency_key=idempotency_key,
            fingerprint=fingerprint("create_passes", command),
            decide=decide,
        )

    async def complete_pass(
        self,
        actor: Actor,
        pass_id: UUID,
        command: CompletePass | None = None,
        *,
        now: datetime,
        idempotency_key: str | None = None,
    ) -> Outcome:
        async def decide() -> Decision:
            hall_pass = await self._pass(actor, pass_id)
            self._may_act_on(actor, hall_pass)
            hall_pass.complete(
                now=now, actor_kind=actor.kind, actor_id=actor.id, idempotency_key=idempotency_key
            )
            changed = await self._close(hall_pass, now)
            return 200, {"pass": await self._summary(hall_pass)}, changed

        return await self._run(
            actor,
            now=now,
            idempotency_key=idempotency_key,
            fingerprint=fingerprint("complete_pass", command, pass_id),
            decide=decide,
        )

    async def terminate_pass(
        self,
        actor: Actor,
        pass_id: UUID,
        command: TerminatePass,
        *,
        now: datetime,
        idempotency_key: str | None = None,
    ) -> Outcome:
        if not actor.is_staff and actor.kind != "system":
            raise Forbidden("only staff may terminate a pass")
        if command.reason is TerminationReason.OTHER and not command.note.strip():
            raise Invalid("say what happened when the reason is 'other'", field="note")

        async def decide() -> Decision:
            hall_pass = await self._pass(actor, pass_id)
            hall_pass.terminate(
                reason=command.reason,
                note=command.note,
                now=now,
                actor_kind=actor.kind,
                actor_id=actor.id,
                idempotency_key=idempotency_key,
            )
            changed = await self._close(hall_pass, now)
            return 200, {"pass": await self._summary(hall_pass)}, changed

        return await self._run(
            actor,
            now=now,
            idempotency_key=idempotency_key,
            fingerprint=fingerprint("terminate_pass", command, pass_id),
            decide=decide,
        )
