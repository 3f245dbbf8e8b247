"""Pass commands: Create Hall Pass, Complete Pass, terminate."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

from eventsourcing.domain import Aggregate

from hallpass.acting import Acting
from hallpass.aggregates.passes import Pass, Source, TerminationReason
from hallpass.aggregates.wait_lines import WaitLine, wait_line_id
from hallpass.commands.base import (
    CommandBase,
    Decided,
    allotted_minutes,
    created,
    done,
    each_student_once,
    handler,
    not_read_only,
    pass_summary,
    trip,
)
from hallpass.commands.keep_apart import guard_keep_apart
from hallpass.commands.lines import admit
from hallpass.commands.messages import CompletePass, CreatePasses, TerminatePass
from hallpass.errors import Forbidden, Invalid
from hallpass.messages import say
from hallpass.policies import Refusal, override_reason, settle

SOURCES = {"kiosk": Source.KIOSK, "student": Source.PORTAL}
"""Where a pass was made, from who made it: a kiosk, a student in the portal, or else staff."""


def record_overrides(
    refused: list[tuple[Pass, Refusal]], reason: str, acting: Acting
) -> dict[str, list[str]]:
    """Each pass records the refusals staff overrode (`Pass.RulesOverridden`); by pass, the rules."""
    by_pass: dict[UUID, tuple[Pass, list[dict[str, Any]]]] = {}
    for hall_pass, refusal in refused:
        by_pass.setdefault(hall_pass.id, (hall_pass, []))[1].append(refusal.as_json())
    for hall_pass, refusals in by_pass.values():
        hall_pass.record_override(refusals=refusals, reason=reason, **acting.stamp)
    return {str(i): [r["rule"] for r in rs] for i, (_, rs) in by_pass.items()}


class PassCommands(CommandBase):
    @handler()
    async def create_passes(self, acting: Acting, command: CreatePasses) -> Decided:
        not_read_only(acting.actor, "create passes")
        each_student_once(command.student_ids)
        reason = override_reason(command.override.reason if command.override else None, acting.actor)
        line_id = wait_line_id(command.destination_id)
        await self.repository.read_together(  # one round trip, for all that follows
            [
                command.origin_id,
                command.destination_id,
                *command.student_ids,
                *self._school_streams(acting.school_id),
                line_id,
            ]
        )
        origin = await self._offered(acting.actor, command.origin_id, "origin")
        destination = await self._offered(acting.actor, command.destination_id, "destination")
        students = await self._students(acting.actor, command.student_ids)
        line = await self.repository.find(line_id, WaitLine)
        minutes = allotted_minutes(destination, command.allotted_minutes)
        source = SOURCES.get(acting.actor.kind, Source.STAFF)
        changed: list[Aggregate] = []
        summaries = []
        leaving = []
        refused: list[tuple[Pass, Refusal]] = []
        for student in students:
            pass_id = uuid4()
            hall_pass = Pass.start(
                pass_id=pass_id,
                source=source,
                now=acting.now,
                note=command.note,
                **trip(acting, student, origin, destination, minutes),
            )
            refusals = await self._refusals(student, destination, source, acting.now)
            refused += [(hall_pass, r) for r in refusals]
            await self._check_student_free(student, pass_id, destination, acting.now, source)
            changed += [hall_pass, student, *admit(destination, line, student.id, pass_id, acting)]
            leaving.append((student, pass_id))
            summaries.append(pass_summary(hall_pass, student, origin, destination))
        apart = await guard_keep_apart(
            self.repository, acting, leaving, destination.id, source.value, overriding=reason is not None
        )
        if apart.refusal is not None:
            return apart.refusal
        changed += apart.changed
        passes = {p.id: p for p in changed if isinstance(p, Pass)}
        refused += [(passes[pid], r) for s, pid in leaving if (r := apart.refusal_for(s.id)) is not None]
        settle([(p.student_id, r) for p, r in refused], reason, acting.actor)
        overridden = record_overrides(refused, reason or "", acting)
        for summary in summaries:
            summary["overridden"] = overridden.get(summary["id"], [])
        if destination.counts_occupants:
            changed.append(destination)
        return created({"passes": summaries}, changed)

    @handler()
    async def complete_pass(
        self, acting: Acting, pass_id: UUID, command: CompletePass | None = None
    ) -> Decided:
        not_read_only(acting.actor, "complete a pass")
        hall_pass = await self._pass(acting.actor, pass_id)
        self._may_act_on(acting.actor, hall_pass)
        hall_pass.complete(**acting.stamp)
        changed = await self._close(hall_pass, acting.now)
        return done({"pass": await self._summary(hall_pass)}, changed)

    @handler()
    async def terminate_pass(self, acting: Acting, pass_id: UUID, command: TerminatePass) -> Decided:
        if not acting.actor.is_staff and acting.actor.kind != "system":
            raise Forbidden(say("auth.staff_may", action="terminate a pass"))
        not_read_only(acting.actor, "terminate a pass")
        if command.reason is TerminationReason.OTHER and not command.note.strip():
            raise Invalid(say("pass.other_needs_note"), field="note")
        hall_pass = await self._pass(acting.actor, pass_id)
        hall_pass.terminate(reason=command.reason, note=command.note, **acting.stamp)
        changed = await self._close(hall_pass, acting.now)
        return done({"pass": await self._summary(hall_pass)}, changed)
