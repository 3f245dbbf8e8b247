"""Emergency mode: one switch ends every open pass and refuses new ones until a second switch.

See docs/decisions/081. Declaring is one command (the school's `Emergency` stream); open passes
are then ended with reason "emergency" through the dismissal's batches (decision 034), each
batch recording on the same stream who was out, where and since when.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from hallpass.acting import Acting, Actor, system
from hallpass.aggregates import ids
from hallpass.aggregates.emergencies import Emergency
from hallpass.aggregates.passes import Pass, TerminationReason
from hallpass.aggregates.students import Student
from hallpass.commands.administration import AdministrationCommands
from hallpass.commands.base import Decided, Outcome, OutcomeKind, done, handler, not_read_only
from hallpass.commands.dismissal import DISMISS_BATCH, DismissalCommands
from hallpass.errors import NotFound
from hallpass.messages import say


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
    ) -> Outcome:
        """Switch on; then end every open pass with reason "emergency", in batches."""
        declared = await self._declare(acting, school_id)
        sweeper = Acting(system(school_id), acting.now)
        student_ids = await self._students_of(school_id)
        ended: list[str] = []
        last = declared.notification_id
        for start in range(0, len(student_ids), batch_size):
            outcome = await self._hold_students(sweeper, student_ids[start : start + batch_size])
            ended += outcome.body["ended"]
            last = outcome.notification_id or last
        emergency = await self.emergency(school_id)
        body = {"emergency": emergency_body(emergency), "ended": ended}
        return Outcome(OutcomeKind.DONE, body, last)

    async def _students_of(self, school_id: UUID) -> list[UUID]:
        rows = await self.store.pool.fetch(
            "SELECT student_id FROM dir_students WHERE school_id = $1 ORDER BY student_id", school_id
        )
        return [row["student_id"] for row in rows]

    @handler(keyed=False)
    async def _hold_students(self, acting: Acting, student_ids: Sequence[UUID]) -> Decided:
        """One command per batch: each student's stream moves on (`EmergencyNoted`), and the
        pass they have open, if any, ends with reason "emergency" (recorded as `WasOut`)."""
        changed: list[Aggregate] = []
        ended: list[str] = []
        for student_id in student_ids:
            student = await self.repository.find(student_id, Student)
            if student is None or student.school_id != acting.school_id:
                continue
            student.note_emergency(now=acting.now)
            changed.append(student)
            open_id = student.open_pass_id
            hall_pass = await self.repository.find(open_id, Pass) if open_id else None
            if hall_pass is not None and hall_pass.is_open:
                changed += await self._end_pass(acting, hall_pass, TerminationReason.EMERGENCY)
                ended.append(str(hall_pass.id))
        return done({"ended": ended}, changed)

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
    async def mark_safe(self, acting: Acting, student_id: UUID) -> Decided:
        """Confirm a student of a school the caller administers safe during its emergency."""
        not_read_only(acting.actor, "confirm a student safe")
        student = await self.repository.find(student_id, Student)
        if student is None:
            raise NotFound(say("admin.student_not_found"), id=str(student_id))
        try:
            emergency = await self._switch(
                acting.actor, student.school_id, "confirm a student safe", acting.now
            )
        except NotFound as e:
            raise NotFound(say("admin.student_not_found"), id=str(student_id)) from e
        changed = emergency.mark_safe(student_id=student_id, now=acting.now, by=acting.by)
        return done({"emergency": emergency_body(emergency)}, [emergency] if changed else [])
