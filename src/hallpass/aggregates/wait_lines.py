"""The wait line of a place with a capacity: who waits, in order, and who is offered a slot.

One stream per place (`wait_line_id`), see docs/decisions/092. When a slot frees, the first in
line is offered it until `until`; the slot is held on the place (`Location.Held`) in the same
transaction, so nobody else takes it. An offer accepted becomes the student's pass; one not
taken in time lapses (a timer) and the next in line is offered the slot.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate

from hallpass.acting import ActedBy
from hallpass.aggregates.base import Acted, Copied, InSchool
from hallpass.aggregates.locations import Location
from hallpass.errors import Conflict
from hallpass.messages import say

OFFER_SECONDS = 120
"""How long a slot offered to the first in line is held for them."""


@lru_cache(maxsize=1 << 14)  # asked for by every pass command
def wait_line_id(location_id: UUID) -> UUID:
    return uuid5(location_id, "wait-line")


class AlreadyInLine(Conflict):
    """The student is already waiting in (or offered a slot by) this line."""


class NotInLine(Conflict):
    """The student is not in this line."""


class WaitLine(InSchool, Aggregate):
    location_id: UUID

    class Opened(InSchool, Copied):
        """The line of the place `location_id` begins."""

        location_id: UUID

    class Joined(Acted):
        student_id: UUID
        origin_id: UUID
        source: str

        def apply(self, aggregate: Any) -> None:
            entry = {"student_id": self.student_id, "origin_id": self.origin_id, "source": self.source}
            aggregate.waiting = (*aggregate.waiting, entry)

    class Jumped(Acted):
        """Staff let the student go first: they move to the front of those waiting."""

        student_id: UUID
        reason: str

        def apply(self, aggregate: Any) -> None:
            first = [e for e in aggregate.waiting if e["student_id"] == self.student_id]
            rest = [e for e in aggregate.waiting if e["student_id"] != self.student_id]
            aggregate.waiting = (*first, *rest)

    class Offered(Aggregate.Event):
        """The first in line is offered a slot until `until`; `next_expiry`: the line's
        earliest offer after this one (its timer)."""

        student_id: UUID
        until: datetime
        next_expiry: datetime | None
        school_id: UUID

        def apply(self, aggregate: Any) -> None:
            entry = next(e for e in aggregate.waiting if e["student_id"] == self.student_id)
            aggregate.waiting = tuple(e for e in aggregate.waiting if e["student_id"] != self.student_id)
            aggregate.offers = {**aggregate.offers, self.student_id: {**entry, "until": self.until}}

    class Left(Acted):
        """The student is out of the line: `why` is left, removed, accepted (with `pass_id`) or
        expired; `next_expiry` as for `Offered`."""

        student_id: UUID
        why: str
        pass_id: UUID | None
        next_expiry: datetime | None
        school_id: UUID

        def apply(self, aggregate: Any) -> None:
            aggregate.waiting = tuple(e for e in aggregate.waiting if e["student_id"] != self.student_id)
            aggregate.offers = {k: v for k, v in aggregate.offers.items() if k != self.student_id}

    def __init__(self) -> None:
        self.waiting: tuple[dict[str, Any], ...] = ()
        self.offers: dict[UUID, dict[str, Any]] = {}

    @classmethod
    def open(cls, *, school_id: UUID, location_id: UUID, now: datetime) -> WaitLine:
        return cls._create(
            cls.Opened,
            id=wait_line_id(location_id),
            timestamp=now,
            school_id=school_id,
            location_id=location_id,
        )

    # -- reading ---------------------------------------------------------------------------

    def position(self, student_id: UUID) -> int | None:
        """1 for the first waiting; None if not waiting (offered students are not waiting)."""
        for i, entry in enumerate(self.waiting):
            if entry["student_id"] == student_id:
                return i + 1
        return None

    def offer_for(self, student_id: UUID) -> dict[str, Any] | None:
        return self.offers.get(student_id)

    def holds_back(self, student_id: UUID) -> bool:
        """Others wait for this place and `student_id` holds no offer: they may not go first."""
        return bool(self.waiting) and student_id not in self.offers

    def _next_expiry(
        self, *, adding: datetime | None = None, removing: UUID | None = None
    ) -> datetime | None:
        times = [o["until"] for k, o in self.offers.items() if k != removing]
        if adding is not None:
            times.append(adding)
        return min(times) if times else None

    @property
    def next_expiry(self) -> datetime | None:
        return self._next_expiry()

    # -- deciding --------------------------------------------------------------------------

    def join(self, *, student_id: UUID, origin_id: UUID, source: str, now: datetime, by: ActedBy) -> None:
        if self.position(student_id) is not None or student_id in self.offers:
            raise AlreadyInLine(say("line.already_in"), student_id=str(student_id))
        self.trigger_event(
            self.Joined, timestamp=now, student_id=student_id, origin_id=origin_id, source=source, **by
        )

    def jump(self, *, student_id: UUID, reason: str, now: datetime, by: ActedBy) -> None:
        if self.position(student_id) is None:
            raise NotInLine(say("line.not_waiting"), student_id=str(student_id))
        self.trigger_event(self.Jumped, timestamp=now, student_id=student_id, reason=reason, **by)

    def leave(self, *, student_id: UUID, why: str, place: Location, now: datetime, by: ActedBy) -> None:
        """The student leaves (or is removed from) the line; a slot they were offered goes on."""
        if self.position(student_id) is None and student_id not in self.offers:
            raise NotInLine(say("line.not_in"), student_id=str(student_id))
        self._out(student_id, why, place, now, by)
        self.offer_free(place, now)

    def accept(self, *, student_id: UUID, pass_id: UUID, place: Location, now: datetime, by: ActedBy) -> None:
        """The student's offer became their pass: `place.admit` has turned the hold into a place."""
        self._left(student_id, "accepted", pass_id, now, by)

    def _out(self, student_id: UUID, why: str, place: Location, now: datetime, by: ActedBy) -> None:
        """The student is out of the line, and a slot held for them is free again."""
        self._left(student_id, why, None, now, by)
        place.unhold(student_id=student_id, now=now)

    def _left(self, student_id: UUID, why: str, pass_id: UUID | None, now: datetime, by: ActedBy) -> None:
        expiry = self._next_expiry(removing=student_id)
        fields = {"why": why, "pass_id": pass_id, "next_expiry": expiry, "school_id": self.school_id}
        self.trigger_event(self.Left, timestamp=now, student_id=student_id, **fields, **by)

    def offer_free(self, place: Location, now: datetime) -> list[UUID]:
        """Offer each free slot of `place` to the next in line, holding it there; who was offered."""
        offered: list[UUID] = []
        while self.waiting and place.free_slots > 0:
            student_id = self.waiting[0]["student_id"]
            until = now + timedelta(seconds=OFFER_SECONDS)
            self.trigger_event(
                self.Offered,
                timestamp=now,
                student_id=student_id,
                until=until,
                next_expiry=self._next_expiry(adding=until),
                school_id=self.school_id,
            )
            place.hold(student_id=student_id, now=now)
            offered.append(student_id)
        return offered

    def expire_offers(self, place: Location, now: datetime) -> list[UUID]:
        """Offers not taken by `now` lapse, and their slots go to the next in line."""
        lapsed = [k for k, o in self.offers.items() if o["until"] <= now]
        for student_id in lapsed:
            self._out(student_id, "expired", place, now, {"actor_kind": "system", "actor_id": None})
        self.offer_free(place, now)
        return lapsed
