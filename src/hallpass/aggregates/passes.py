"""The Pass aggregate: one trip of one student from an origin to a destination."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Unpack
from uuid import UUID

from eventsourcing.domain import Aggregate

from hallpass.acting import ActedBy
from hallpass.aggregates.base import Acted, Copied, InSchool, Sets, copy_state
from hallpass.aggregates.encoding import Superseded
from hallpass.errors import IllegalTransition, Invalid
from hallpass.messages import say


class Source(StrEnum):
    STAFF = "staff"
    PORTAL = "portal"
    KIOSK = "kiosk"

    @property
    def marker(self) -> str:
        return {"staff": "", "portal": "(S)", "kiosk": "(K)"}[self.value]


class Status(StrEnum):
    REQUESTED = "requested"
    SCHEDULED = "scheduled"
    ACTIVE = "active"
    EXPIRED = "expired"
    COMPLETED = "completed"
    TERMINATED = "terminated"
    DENIED = "denied"
    CANCELLED = "cancelled"


class TerminationReason(StrEnum):
    LEFT_EARLY = "left_early"
    CHECKED_IN_ELSEWHERE = "checked_in_elsewhere"
    DISMISSED = "dismissed"
    EMERGENCY = "emergency"
    SUPERSEDED = "superseded"
    OTHER = "other"


class PassFields(InSchool):
    """Who goes from where to where for how long, written once: what each of the three creation
    events (and the superseded `Created`) stores and the aggregate's attributes."""

    student_id: UUID
    origin_id: UUID
    destination_id: UUID
    allotted_minutes: int


class Trip(ActedBy):
    """What every new pass is given: its `PassFields` and who decided it."""

    school_id: UUID
    student_id: UUID
    origin_id: UUID
    destination_id: UUID
    allotted_minutes: int


class Pass(PassFields, Aggregate):
    """A hall pass. Every change is an event carrying who acted.

    A pass comes to be in one of three ways, each its own event: `Started` (Active from that
    moment), `Scheduled` (for a later start) or `Requested` (in the Student Portal, waiting for
    a teacher). Events written before December 2026 recorded all three as `Created` with a
    `status`; they are read as the event their status names (decision 066).
    """

    class Event(Acted):
        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            """Version 1 copied the request's Idempotency-Key into every event (decision 067)."""
            state.pop("idempotency_key", None)

        def end(self, aggregate: Any, status: Status | None, why: tuple[str, str] | None = None) -> None:
            """The pass ends with this event: when, by whom, and (`why`) for what reason with what
            note; `status` None leaves the status as it is."""
            if status is not None:
                aggregate.status = status
            aggregate.ended_at = self.timestamp
            aggregate.ended_by = (self.actor_kind, self.actor_id)
            if why is not None:
                aggregate.end_reason, aggregate.end_note = why

    class Creation(PassFields, Event, Copied):
        """What each way a pass comes to be records: who, from where, to where, for how long
        (copied onto the pass with what each way adds)."""

    class Started(Creation):
        """The pass started at once (staff, a kiosk, or the Student Portal without approval)."""

        source: str
        note: str

        def apply(self, aggregate: Any) -> None:
            super().apply(aggregate)
            aggregate.source = Source(self.source)
            aggregate.status = Status.ACTIVE
            aggregate.start_at = self.timestamp

    class Scheduled(Creation):
        """Staff planned the pass to start at `start_at`; it is Scheduled until then."""

        start_at: datetime
        note: str

        def apply(self, aggregate: Any) -> None:
            super().apply(aggregate)
            aggregate.source = Source.STAFF
            aggregate.status = Status.SCHEDULED

    class Requested(Creation):
        """A student asked for the pass in the Student Portal; it waits for a teacher."""

        def apply(self, aggregate: Any) -> None:
            super().apply(aggregate)
            aggregate.source = Source.PORTAL
            aggregate.status = Status.REQUESTED
            aggregate.start_at = self.timestamp
            aggregate.note = ""

    class Created(PassFields, Superseded, Event):
        """Written until December 2026 for all three ways, told apart by `status`.

        Never written now. The stored format reads it as the event its status names.
        """

        originator_topic: str
        source: str
        status: str
        start_at: datetime
        note: str

        def successor(self) -> Pass.Creation:
            """The same fact, without the fields its event class implies."""
            state = {name: value for name, value in vars(self).items() if name != "status"}
            if self.status == Status.ACTIVE.value:  # started then: `start_at` was its timestamp
                del state["start_at"]
                return Pass.Started(**state)
            if self.status == Status.SCHEDULED.value:  # always by staff
                del state["source"]
                return Pass.Scheduled(**state)
            if self.status == Status.REQUESTED.value:  # in the portal, then, without a note
                for implied in ("source", "start_at", "note"):
                    del state[implied]
                return Pass.Requested(**state)
            raise ValueError(f"a pass cannot be created {self.status}")

    class Completed(Event):
        def apply(self, aggregate: Any) -> None:
            aggregate.returned_at = self.timestamp
            self.end(aggregate, Status.COMPLETED)

    class ReturnRecorded(Event):
        """The student came back after the pass had expired; it stays Expired."""

        def apply(self, aggregate: Any) -> None:
            aggregate.returned_at = self.timestamp
            self.end(aggregate, None)

    class Expired(Sets, Event):
        """The time allotted ran out at `due_at`: the student is still out until a return is
        recorded."""

        attribute, to = "status", Status.EXPIRED
        due_at: datetime

    class Terminated(Event):
        reason: str
        note: str

        def apply(self, aggregate: Any) -> None:
            self.end(aggregate, Status.TERMINATED, (self.reason, self.note))

    class RulesOverridden(Event):
        """A member of staff made the pass although hallway rules refused it: which rules, what
        each said, and why (`reason`). Recorded with the pass's creation (docs/decisions/088)."""

        rules: tuple[str, ...]
        refusals: list[dict[str, Any]]
        reason: str

        def apply(self, aggregate: Any) -> None:
            aggregate.overrides = (*aggregate.overrides, (self.rules, self.reason, self.actor_id))

    source: Source
    status: Status
    start_at: datetime
    note: str
    decision_note: str = ""
    overrides: tuple[tuple[tuple[str, ...], str, UUID | None], ...] = ()
    """Each override of hallway rules: the rules, the reason, and the member of staff."""

    def record_override(
        self,
        *,
        refusals: list[dict[str, Any]],
        reason: str,
        now: datetime,
        **by: Unpack[ActedBy],
    ) -> None:
        """Record that staff overrode `refusals` (each with its `rule`) for `reason`."""
        if not refusals:
            return
        if by["actor_kind"] != "staff" or not reason.strip():
            raise Invalid(say("rules.override_reason"), field="override")
        self.trigger_event(
            self.RulesOverridden,
            timestamp=now,
            rules=tuple(dict.fromkeys(str(r["rule"]) for r in refusals)),
            refusals=refusals,
            reason=reason.strip(),
            **by,
        )

    def __init__(self, *, actor_kind: str, actor_id: UUID | None) -> None:
        """What every pass starts with besides its `PassFields`; its creation event sets the rest."""
        self.created_by = (actor_kind, actor_id)
        self.returned_at: datetime | None = None
        self.ended_at: datetime | None = None
        self.ended_by: tuple[str, UUID | None] | None = None
        self.end_reason: str | None = None
        self.end_note: str | None = None

    @staticmethod
    def _checked(trip: Trip) -> Trip:
        """The rules every new pass obeys: it goes somewhere else, for at least a minute."""
        if trip["origin_id"] == trip["destination_id"]:
            raise Invalid(say("pass.same_place"), field="destination_id")
        if trip["allotted_minutes"] < 1:
            raise Invalid(say("pass.minutes_at_least_one"), field="allotted_minutes")
        return trip

    @classmethod
    def start(
        cls, *, pass_id: UUID, source: Source, now: datetime, note: str = "", **trip: Unpack[Trip]
    ) -> Pass:
        """Decide to start a pass now: it is Active from `now` until its due time."""
        return cls._create(
            cls.Started, id=pass_id, timestamp=now, source=source.value, note=note, **cls._checked(trip)
        )

    @property
    def due_at(self) -> datetime:
        return self.start_at + timedelta(minutes=self.allotted_minutes)

    @property
    def is_out(self) -> bool:
        """Out of the room: Active, or Expired and not back."""
        return self.status is Status.ACTIVE or (self.status is Status.EXPIRED and self.returned_at is None)

    @property
    def is_open(self) -> bool:
        """Open: the student is not back yet (Requested, Active, or Expired not returned)."""
        return self.status is Status.REQUESTED or self.is_out

    def _refuse(self, action: str) -> IllegalTransition:
        state = self.status.value
        if self.status is Status.EXPIRED and self.returned_at is not None:
            state = "expired (returned)"
        return IllegalTransition(
            say("pass.cannot", action=action, state=state),
            status=self.status.value,
            pass_id=str(self.id),
        )

    def complete(self, *, now: datetime, **by: Unpack[ActedBy]) -> None:
        """Record the student's return. An expired pass stays Expired with its return time."""
        if self.status is Status.EXPIRED and self.returned_at is None:
            self.trigger_event(self.ReturnRecorded, timestamp=now, **by)
        else:
            self._transition(Status.ACTIVE, "complete", self.Completed, now, by)

    def _transition(
        self, allowed: Status, action: str, event: type[Pass.Event], now: datetime, by: ActedBy, **fields: Any
    ) -> None:
        """Record `event` with `fields` if the pass is `allowed`; else refuse `action` as it stands."""
        if self.status is not allowed:
            raise self._refuse(action)
        self.trigger_event(event, timestamp=now, **by, **fields)

    def expire(self, *, now: datetime) -> bool:
        """Expire the pass if it is Active and its due time has come; otherwise do nothing."""
        if self.status is not Status.ACTIVE or now < self.due_at:
            return False
        self.trigger_event(
            self.Expired, timestamp=now, due_at=self.due_at, actor_kind="system", actor_id=None
        )
        return True

    def terminate(
        self, *, reason: TerminationReason, note: str, now: datetime, **by: Unpack[ActedBy]
    ) -> None:
        if not self.is_open:
            raise self._refuse("terminate")
        self.trigger_event(self.Terminated, timestamp=now, reason=reason.value, note=note, **by)

    class Activated(Event):
        """A Scheduled pass started: it is Active from this moment until its due time."""

        def apply(self, aggregate: Any) -> None:
            aggregate.status = Status.ACTIVE
            aggregate.start_at = self.timestamp

    class Rescheduled(Event):
        start_at: datetime
        allotted_minutes: int
        note: str

        def apply(self, aggregate: Any) -> None:
            copy_state(self, aggregate)

    class Cancelled(Event):
        """A pass that never started: cancelled by staff, or unable to start at its time."""

        reason: str
        note: str

        def apply(self, aggregate: Any) -> None:
            self.end(aggregate, Status.CANCELLED, (self.reason, self.note))

    @classmethod
    def schedule(
        cls, *, pass_id: UUID, start_at: datetime, now: datetime, note: str = "", **trip: Unpack[Trip]
    ) -> Pass:
        """Decide to plan a pass for later: it is Scheduled until `start_at`."""
        checked = cls._checked(trip)
        if start_at <= now:
            raise Invalid(say("schedule.future"), field="start_at")
        return cls._create(cls.Scheduled, id=pass_id, timestamp=now, start_at=start_at, note=note, **checked)

    def activate(self, *, now: datetime) -> bool:
        """Start a Scheduled pass if its start time has come; otherwise do nothing."""
        if self.status is not Status.SCHEDULED or now < self.start_at:
            return False
        self.trigger_event(self.Activated, timestamp=now, actor_kind="system", actor_id=None)
        return True

    def reschedule(
        self, *, start_at: datetime, allotted_minutes: int, note: str, now: datetime, **by: Unpack[ActedBy]
    ) -> None:
        """Edit a Scheduled pass before it starts."""
        if self.status is not Status.SCHEDULED or now >= self.start_at:
            raise self._refuse("edit")
        if allotted_minutes < 1:
            raise Invalid(say("pass.minutes_at_least_one"), field="allotted_minutes")
        if start_at <= now:
            raise Invalid(say("schedule.future"), field="start_at")
        fields = {"start_at": start_at, "allotted_minutes": allotted_minutes, "note": note}
        self.trigger_event(self.Rescheduled, timestamp=now, **by, **fields)

    def cancel(self, *, reason: str, note: str, now: datetime, **by: Unpack[ActedBy]) -> None:
        """Cancel a Scheduled pass; once it has started it can only be completed or terminated."""
        self._transition(Status.SCHEDULED, "cancel", self.Cancelled, now, by, reason=reason, note=note)

    class Approved(Event):
        """A Requested portal pass was approved: it is Active from this moment until `due_at`."""

        school_id: UUID
        note: str
        due_at: datetime
        allotted_minutes: int

        def apply(self, aggregate: Any) -> None:
            aggregate.status = Status.ACTIVE
            aggregate.start_at = self.timestamp
            aggregate.decision_note = self.note

    class Denied(Event):
        """A Requested portal pass was denied by the teacher; it never started."""

        note: str

        def apply(self, aggregate: Any) -> None:
            self.end(aggregate, Status.DENIED, ("denied", self.note))
            aggregate.decision_note = self.note

    @classmethod
    def request(cls, *, pass_id: UUID, now: datetime, **trip: Unpack[Trip]) -> Pass:
        """Decide to ask for a portal pass: it waits as Requested until a teacher decides."""
        return cls._create(cls.Requested, id=pass_id, timestamp=now, **cls._checked(trip))

    def approve(self, *, note: str, now: datetime, **by: Unpack[ActedBy]) -> None:
        due_at = now + timedelta(minutes=self.allotted_minutes)
        fields = {"school_id": self.school_id, "due_at": due_at, "allotted_minutes": self.allotted_minutes}
        self._transition(Status.REQUESTED, "approve", self.Approved, now, by, note=note, **fields)

    def deny(self, *, note: str, now: datetime, **by: Unpack[ActedBy]) -> None:
        self._transition(Status.REQUESTED, "deny", self.Denied, now, by, note=note)

    def cancel_request(self, *, now: datetime, **by: Unpack[ActedBy]) -> None:
        """The student withdraws a request while it waits for a teacher."""
        fields = {"reason": "cancelled_by_student", "note": ""}
        self._transition(Status.REQUESTED, "cancel", self.Cancelled, now, by, **fields)
