"""Wait lines at a kiosk: the kiosk's student joins or leaves a line from the kiosk's room."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from hallpass.acting import Acting, Actor
from hallpass.aggregates.wait_lines import WaitLine, wait_line_id
from hallpass.commands.base import Outcome
from hallpass.commands.kiosk import KioskCommands
from hallpass.commands.lines import JoinLine, LeaveLine, WaitLineCommands, standing
from hallpass.commands.messages import Command


class KioskLine(Command, frozen=True):
    """A student at the kiosk, and the place whose line they join or leave."""

    student_id: UUID
    destination_id: UUID


class KioskLineCommands(KioskCommands, WaitLineCommands):
    """Mixed into `Hallpass`: the kiosk's student joins or leaves a line from the kiosk's room."""

    async def kiosk_join_line(self, acting: Acting, command: KioskLine) -> Outcome:
        kiosk = await self._acting_kiosk(acting.actor)
        student = await self._kiosk_student(acting.actor, kiosk, command.student_id)
        kiosk.check_destination(command.destination_id)
        join = JoinLine(origin_id=kiosk.room_id, student_id=student.id)
        return await self.join_line(acting, command.destination_id, join)

    async def kiosk_leave_line(self, acting: Acting, command: KioskLine) -> Outcome:
        kiosk = await self._acting_kiosk(acting.actor)
        student = await self._kiosk_student(acting.actor, kiosk, command.student_id)
        return await self.leave_line(acting, command.destination_id, LeaveLine(student_id=student.id))

    async def kiosk_standing(self, actor: Actor, command: KioskLine) -> dict[str, Any] | None:
        """The student's place in the line, for the kiosk's waiting screen."""
        kiosk = await self._acting_kiosk(actor)
        student = await self._kiosk_student(actor, kiosk, command.student_id)
        line = await self.repository.find(wait_line_id(command.destination_id), WaitLine)
        if line is None or line.school_id != actor.school_id:
            return None
        return standing(line, student.id)
