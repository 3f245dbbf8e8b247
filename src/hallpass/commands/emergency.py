"""Emergency mode: one switch ends every open pass and refuses new ones until a second switch.

See docs/decisions/081. Declaring is one command (the school's `Emergency` stream); open passes
are then ended with reason "emergency" through the dismissal's batches (decision 034), each
batch recording on the same stream who was out, where and since when.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from hallpass.acting import Acting, Actor, system
from hallpass.aggregates import ids
from hallpass.aggregates.emergencies import Emergency
from hallpass.aggregates.passes import TerminationReason
from hallpass.aggregates.students import Student
from hallpass.commands.administration import AdministrationCommands
from hallpass.commands.base import Decided, Outcome, OutcomeKind, done, handler, not_read_only
from hallpass.commands.dismissal import CATCH_UP_TIMEOUT, DISMISS_BATCH, DismissalCommands
from hallpass.errors import NotFound

SWEEPS = 5
"""Rounds of ending open passes after a declaration; each takes the log's head anew, so a pass
whose creation read the state just before the declaration and committed after it is ended too."""


def emergency_body(emergency: Emergency | None) -> dict[str, Any]:
    if emergency is None:
        return {"on": False, "declared_at": None, "out": []}
    return {
        "on": emergency.on,
        "declared_at": emergency.declared_at.isoformat() if emergency.declared_at else None,
        "out": [
            {
                "student_id": str(student_id),
                "pass_id": str(seen["pass_id"]),
                "destination_id": str(seen["destination_id"]),
                "since": seen["since"].isoformat(),
                "confirmed_safe": student_id in emergency.safe,
                "confirmed_safe_at": (
                    emergency.safe[student_id]["at"].isoformat() if student_id in emergency.safe else None
                ),
            }
            for student_id, seen in emergency.out.items()
        ],
    }


class EmergencyCommands(AdministrationCommands, DismissalCommands):
    """Mixed into `Hallpass`: the administrators' emergency switch and the confirmed-safe marks."""

    async def emergency(self, school_id: UUID) -> Emergency | None:
        return await self.repository.find(ids.emergency_id(school_id), Emergency)

    async def declare_emergency(
        self,
        acting: Acting,
        school_id: UUID,
        *,
        batch_size: int = DISMISS_BATCH,
        catch_up_timeout: float = CATCH_UP_TIMEOUT,
    ) -> Outcome:
        """Switch on; then end every open pass with reason "emergency", in batches."""
        declared = await self._declare(acting, school_id)
        sweeper = Acting(system(school_id), acting.now)
        ended: list[str] = []
        last = declared.notification_id
        for _ in range(SWEEPS):
            swept = await self._end_open_passes(
                sweeper, TerminationReason.EMERGENCY, batch_size, catch_up_timeout
            )
            if swept is None:
                break  # the pass list is behind: the state still refuses, the list shows what ended
            round_ended, round_last = swept
            ended += round_ended
            last = round_last or last
            if not round_ended:
                break
        emergency = await self.emergency(school_id)
        body = {"emergency": emergency_body(emergency), "ended": ended}
        return Outcome(OutcomeKind.DONE, body, last)

    async def _switch(self, actor: Actor, school_id: UUID, action: str, now: datetime) -> Emergency:
        """The school's emergency state, if `actor` administers the school (403, else 404)."""
        not_read_only(actor, action)
        await self.administered_school(actor, school_id)
        found = await self.repository.find(ids.emergency_id(school_id), Emergency)
        return found if found is not None else Emergency.open(school_id, now)

    @handler(keyed=False)
    async def _declare(self, acting: Acting, school_id: UUID) -> Decided:
        emergency = await self._switch(acting.actor, school_id, "declare an emergency", acting.now)
        emergency.declare(now=acting.now, by=acting.by)
        return done({"emergency": emergency_body(emergency)}, [emergency])

    @handler(keyed=False)
    async def end_emergency(self, acting: Acting, school_id: UUID) -> Decided:
        emergency = await self._switch(acting.actor, school_id, "end an emergency", acting.now)
        emergency.end(now=acting.now, by=acting.by)
        return done({"emergency": emergency_body(emergency)}, [emergency])

    @handler(keyed=False)
    async def mark_safe(self, acting: Acting, school_id: UUID, student_id: UUID) -> Decided:
        emergency = await self._switch(acting.actor, school_id, "confirm a student safe", acting.now)
        student = await self.repository.find(student_id, Student)
        if student is None or student.school_id != school_id:
            raise NotFound(f"student {student_id} not found", id=str(student_id))
        changed = emergency.mark_safe(student_id=student_id, now=acting.now, by=acting.by)
        return done({"emergency": emergency_body(emergency)}, [emergency] if changed else [])
