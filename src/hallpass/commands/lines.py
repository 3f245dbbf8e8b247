"""Wait lines: join, leave, jump the line, offers that lapse, and admission through the line.

See docs/decisions/092. Every change to a line that frees or takes a slot also appends to the
place (`Location.Held` / `HoldEnded` / `Entered`), in one transaction, so a pass created at the
same moment clashes with it on the place's stream and is decided again.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from hallpass.acting import Acting, Actor, system
from hallpass.aggregates.locations import Location
from hallpass.aggregates.passes import Source
from hallpass.aggregates.students import Student
from hallpass.aggregates.wait_lines import WaitLine, wait_line_id
from hallpass.bounds import Note
from hallpass.commands.base import CommandBase, Decided, done, handler, not_read_only, staff_only
from hallpass.commands.messages import Command
from hallpass.errors import DestinationFull, Forbidden, Invalid, NotFound, StudentAlreadyOut
from hallpass.messages import say

SOURCES = {"kiosk": Source.KIOSK, "student": Source.PORTAL}


class JoinLine(Command, frozen=True):
    """Wait for a full place: from `origin_id`; `student_id` only when staff or a kiosk send it."""

    origin_id: UUID
    student_id: UUID | None = None


class LeaveLine(Command, frozen=True):
    """Leave the line (a student), or take a student out of it (staff, a kiosk: `student_id`)."""

    student_id: UUID | None = None


class JumpLine(Command, frozen=True):
    """Staff let a waiting student go first, saying why."""

    student_id: UUID
    reason: Note = ""


def admit(
    destination: Location, line: WaitLine | None, student_id: UUID, pass_id: UUID, acting: Acting
) -> list[Aggregate]:
    """Let a pass into `destination`, through its wait line: a student offered a slot takes it
    (the line records the offer accepted, which is then also saved: returned), and while others
    wait nobody else goes first."""
    if line is not None and destination.counts_occupants:
        if line.offer_for(student_id) is not None:
            destination.admit(pass_id=pass_id, now=acting.now, student_id=student_id)
            line.accept(
                student_id=student_id, pass_id=pass_id, place=destination, now=acting.now, by=acting.by
            )
            return [line]
        if line.holds_back(student_id):
            raise DestinationFull(
                say("line.others_waiting", name=destination.name),
                location_id=str(destination.id),
                capacity=destination.capacity,
                waiting=len(line.waiting),
            )
    destination.admit(pass_id=pass_id, now=acting.now)
    return []


def line_body(
    line: WaitLine | None, location: Location, names: dict[UUID, str] | None = None
) -> dict[str, Any]:
    names = names or {}
    return {
        "location": {"id": str(location.id), "name": location.name, "capacity": location.capacity},
        "free_slots": location.free_slots if location.capacity is not None else None,
        "waiting": [
            {"student_id": str(e["student_id"]), "name": names.get(e["student_id"], ""), "position": i + 1}
            for i, e in enumerate(line.waiting if line else ())
        ],
        "offers": [
            {"student_id": str(k), "name": names.get(k, ""), "until": o["until"].isoformat()}
            for k, o in (line.offers.items() if line else ())
        ],
    }


def standing(line: WaitLine | None, student_id: UUID) -> dict[str, Any] | None:
    """One student's place in a line, as their own screen shows it: nothing about anyone else."""
    if line is None:
        return None
    offer = line.offer_for(student_id)
    if offer is not None:
        return {
            "location_id": str(line.location_id),
            "offered_until": offer["until"].isoformat(),
            "position": 0,
        }
    position = line.position(student_id)
    if position is None:
        return None
    return {"location_id": str(line.location_id), "offered_until": None, "position": position}


class WaitLineCommands(CommandBase):
    """Mixed into `Hallpass`."""

    async def _line_place(self, actor: Actor, location_id: UUID) -> tuple[Location, WaitLine | None]:
        place, line = await asyncio.gather(
            self._location(actor, location_id, "destination"),
            self.repository.find(wait_line_id(location_id), WaitLine),
        )
        return place, line

    def _who(self, actor: Actor, student_id: UUID | None) -> UUID:
        """The student a line command is for: the signed-in student, or the one named by staff
        or a kiosk (which the caller has checked)."""
        if actor.kind == "student":
            if actor.id is None or (student_id is not None and student_id != actor.id):
                raise Forbidden(say("line.own_only"))
            return actor.id
        if student_id is None:
            raise Invalid(say("line.choose_student"), field="student_id")
        if actor.is_staff:
            not_read_only(actor, "change a line")
        elif actor.kind != "kiosk":
            raise Forbidden(say("line.own_only"))
        return student_id

    @handler()
    async def join_line(self, acting: Acting, location_id: UUID, command: JoinLine) -> Decided:
        """Wait in the line of a full place; a slot free now is offered at once."""
        student_id = self._who(acting.actor, command.student_id)
        (place, line), origin, student = await asyncio.gather(
            self._line_place(acting.actor, location_id),
            self._offered(acting.actor, command.origin_id, "origin"),
            self.repository.find(student_id, Student),
        )
        if student is None or student.school_id != acting.school_id:
            raise NotFound(say("pass.students_not_found", ids=str(student_id)), field="student_id")
        if place.capacity is None or place.archived:
            raise Invalid(say("line.no_capacity", name=place.name), field="location_id")
        if origin.id == place.id:
            raise Invalid(say("pass.same_place"), field="origin_id")
        if student.open_pass_id is not None:
            raise StudentAlreadyOut(
                say("pass.already_out", name=student.full_name), student_id=str(student.id)
            )
        await self._refuse_in_emergency(acting.school_id)
        line = line or WaitLine.open(school_id=acting.school_id, location_id=place.id, now=acting.now)
        source = SOURCES.get(acting.actor.kind, Source.STAFF).value
        line.join(student_id=student_id, origin_id=origin.id, source=source, now=acting.now, by=acting.by)
        line.offer_free(place, acting.now)
        return done({"line": standing(line, student_id)}, [line, place])

    @handler(keyed=False)
    async def leave_line(self, acting: Acting, location_id: UUID, command: LeaveLine) -> Decided:
        student_id = self._who(acting.actor, command.student_id)
        place, line = await self._line_place(acting.actor, location_id)
        if line is None:
            raise NotFound(say("line.not_in"), field="student_id")
        why = "left" if acting.actor.kind in ("student", "kiosk") else "removed"
        line.leave(student_id=student_id, why=why, place=place, now=acting.now, by=acting.by)
        return done({"line": None}, [line, place])

    @handler(keyed=False)
    async def jump_line(self, acting: Acting, location_id: UUID, command: JumpLine) -> Decided:
        """Staff let a waiting student go first (recorded with who and why)."""
        staff_only(acting.actor, "let a student jump the line")
        if not command.reason.strip():
            raise Invalid(say("line.jump_reason"), field="reason")
        place, line = await self._line_place(acting.actor, location_id)
        if line is None:
            raise NotFound(say("line.not_waiting"), field="student_id")
        line.jump(student_id=command.student_id, reason=command.reason, now=acting.now, by=acting.by)
        return done({"line": line_body(line, place, await self._line_names(line))}, [line])

    async def expire_offers(self, line_id: UUID, *, now: datetime) -> int:
        """The timer's command: offers not taken by now lapse; the next in line are offered."""
        line = await self.repository.find(line_id, WaitLine)
        if line is None:
            return 0
        outcome = await self._lapse(Acting(system(line.school_id), now), line_id)
        return int(outcome.body["lapsed"])

    @handler(keyed=False)
    async def _lapse(self, acting: Acting, line_id: UUID) -> Decided:
        line = await self.repository.find(line_id, WaitLine)
        place = await self.repository.find(line.location_id, Location) if line else None
        if line is None or place is None:
            return done({"lapsed": 0})
        lapsed = line.expire_offers(place, acting.now)
        return done({"lapsed": len(lapsed)}, [line, place])

    async def wait_line(self, actor: Actor, location_id: UUID) -> dict[str, Any]:
        """A place's line as staff see it: who waits, in order, and who is offered a slot."""
        if not actor.is_staff:
            raise Forbidden(say("auth.staff_may", action="see a line"))
        place, line = await self._line_place(actor, location_id)
        return line_body(line, place, await self._line_names(line) if line else {})

    async def school_lines(self, actor: Actor, line_ids: list[UUID]) -> list[dict[str, Any]]:
        """The lines `line_ids` of the staff member's school that anyone waits in or holds."""
        if not actor.is_staff:
            raise Forbidden(say("auth.staff_may", action="see a line"))
        found = await asyncio.gather(*(self.repository.find(line_id, WaitLine) for line_id in line_ids))
        lines = [
            x for x in found if x is not None and x.school_id == actor.school_id and (x.waiting or x.offers)
        ]
        places = await asyncio.gather(*(self.repository.find(x.location_id, Location) for x in lines))
        return [
            line_body(line, place, await self._line_names(line))
            for line, place in zip(lines, places, strict=True)
            if place is not None
        ]

    async def _line_names(self, line: WaitLine) -> dict[UUID, str]:
        ids = [e["student_id"] for e in line.waiting] + list(line.offers)
        found = await asyncio.gather(*(self.repository.find(s, Student) for s in ids))
        return {s.id: s.full_name for s in found if s is not None}

    async def standings(
        self, school_id: UUID, student_id: UUID, line_ids: list[UUID]
    ) -> list[dict[str, Any]]:
        """Where `student_id` waits or is offered a slot, among the lines `line_ids`, each with
        its place's name and id, and the room the student would leave from."""
        found = await asyncio.gather(*(self.repository.find(line_id, WaitLine) for line_id in line_ids))
        mine = [
            (line, standing(line, student_id))
            for line in found
            if line is not None and line.school_id == school_id
        ]
        mine = [(line, stand) for line, stand in mine if stand is not None]
        places = await asyncio.gather(*(self.repository.find(line.location_id, Location) for line, _ in mine))
        return [
            {**stand, "name": place.name, "origin_id": str(_origin(line, student_id))}
            for (line, stand), place in zip(mine, places, strict=True)
            if stand is not None and place is not None
        ]


def _origin(line: WaitLine, student_id: UUID) -> UUID | None:
    offer = line.offer_for(student_id)
    if offer is not None:
        return UUID(str(offer["origin_id"]))
    entry = next((e for e in line.waiting if e["student_id"] == student_id), None)
    return UUID(str(entry["origin_id"])) if entry else None
