"""A generated month of passes for the reports, and the reports computed from its events in
plain Python (no SQL), to compare with what the read model answers."""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

from hallpass.acting import Acting
from hallpass.aggregates.passes import Pass, Source, TerminationReason
from hallpass.bootstrap import Runtime
from hallpass.commands.kiosk import ConfigureKiosk
from support.school import SchoolFixture

CHICAGO = ZoneInfo("America/Chicago")
PLACES = ("Restroom", "Nurse", "Library", "Room 102")


@dataclass(frozen=True)
class Trip:
    """What a pass's events say, as the reports read it."""

    pass_id: UUID
    school_id: UUID
    student_id: UUID
    destination_id: UUID
    source: str
    teacher_id: UUID | None
    requested_at: datetime | None
    anchor_at: datetime
    started_at: datetime | None
    due_at: datetime | None
    ended_at: datetime | None
    end_reason: str | None
    overdue: bool
    decision: str | None

    @property
    def local(self) -> datetime:
        return self.anchor_at.astimezone(CHICAGO)

    @property
    def seconds_out(self) -> int | None:
        if self.started_at is None or self.ended_at is None:
            return None
        return int((self.ended_at - self.started_at).total_seconds() // 1)

    @property
    def late_seconds(self) -> int | None:
        if not self.overdue or self.ended_at is None or self.due_at is None:
            return None
        return int((self.ended_at - self.due_at).total_seconds() // 1)


def replay(events: Iterable[Any], kiosk_owner: dict[UUID, UUID]) -> dict[UUID, Trip]:
    """Each pass's trip, from its events in order: a plain fold, nothing shared with the SQL."""
    state: dict[UUID, dict[str, Any]] = {}
    for e in events:
        if isinstance(e, Pass.Creation):
            s: dict[str, Any] = {
                "pass_id": e.originator_id,
                "school_id": e.school_id,
                "student_id": e.student_id,
                "destination_id": e.destination_id,
                "teacher_id": e.actor_id if e.actor_kind == "staff" else kiosk_owner.get(e.actor_id),  # type: ignore[arg-type]
                "requested_at": None,
                "started_at": None,
                "due_at": None,
                "ended_at": None,
                "end_reason": None,
                "overdue": False,
                "decision": None,
                "minutes": e.allotted_minutes,
            }
            if isinstance(e, Pass.Started):
                s |= {"source": e.source, "anchor_at": e.timestamp, "started_at": e.timestamp}
                s["due_at"] = e.timestamp + timedelta(minutes=e.allotted_minutes)
            elif isinstance(e, Pass.Scheduled):
                s |= {"source": "staff", "anchor_at": e.start_at}
            else:
                s |= {"source": "portal", "anchor_at": e.timestamp, "requested_at": e.timestamp}
            state[e.originator_id] = s
            continue
        s = state[e.originator_id]
        if isinstance(e, Pass.Activated):
            s |= {"anchor_at": e.timestamp, "started_at": e.timestamp}
            s["due_at"] = e.timestamp + timedelta(minutes=s["minutes"])
        elif isinstance(e, Pass.Approved):
            s |= {"anchor_at": e.timestamp, "started_at": e.timestamp, "due_at": e.due_at}
            s |= {"decision": "approved", "teacher_id": e.actor_id}
        elif isinstance(e, Pass.Denied):
            s |= {
                "decision": "denied",
                "teacher_id": e.actor_id,
                "ended_at": e.timestamp,
                "end_reason": "denied",
            }
        elif isinstance(e, Pass.Expired):
            s["overdue"] = True
        elif isinstance(e, Pass.Completed):
            s |= {"ended_at": e.timestamp, "end_reason": "completed"}
        elif isinstance(e, Pass.ReturnRecorded):
            s |= {"ended_at": e.timestamp, "end_reason": "returned"}
        elif isinstance(e, (Pass.Terminated, Pass.Cancelled)):
            s |= {"ended_at": e.timestamp, "end_reason": e.reason}
    return {k: Trip(**{f: v for f, v in s.items() if f != "minutes"}) for k, s in state.items()}


def month_of_passes(
    rng: random.Random, school: SchoolFixture, first: date, days: int, kiosk_id: UUID
) -> list[Pass]:
    """Every school day from `first`: a handful of passes from every source, each ended in one
    of the ways a pass ends (some late, some never back), as aggregates with their events."""
    ada, bo = school.teachers["Ada"], school.teachers["Bo"]
    made: list[Pass] = []
    for offset in range(days):
        day = first + timedelta(days=offset)
        if day.weekday() >= 5 and rng.random() < 0.8:
            continue
        for _ in range(rng.randint(3, 9)):
            clock = time(rng.randint(7, 15), rng.randint(0, 59), rng.randint(0, 59))
            at = datetime.combine(day, clock, tzinfo=CHICAGO)
            student = rng.choice(school.students)
            origin = school.rooms["Room 101"]
            destination = school.rooms[rng.choice(PLACES)]
            minutes = rng.choice((5, 10, 15))
            trip: dict[str, Any] = {
                "pass_id": uuid4(),
                "school_id": school.id,
                "student_id": student,
                "origin_id": origin,
                "destination_id": destination,
                "allotted_minutes": minutes,
            }
            way = rng.random()
            teacher = rng.choice((ada, bo))
            if way < 0.45:
                p = Pass.start(**trip, source=Source.STAFF, now=at, actor_kind="staff", actor_id=teacher)
            elif way < 0.6:
                p = Pass.start(**trip, source=Source.KIOSK, now=at, actor_kind="kiosk", actor_id=kiosk_id)
            elif way < 0.7:
                p = Pass.schedule(
                    **trip, start_at=at, now=at - timedelta(hours=1), actor_kind="staff", actor_id=teacher
                )
                if rng.random() < 0.2:
                    p.cancel(
                        reason="cancelled",
                        note="",
                        now=at - timedelta(minutes=5),
                        actor_kind="staff",
                        actor_id=teacher,
                    )
                    made.append(p)
                    continue
                p.activate(now=at + timedelta(seconds=rng.randint(0, 30)))
            else:
                p = Pass.request(**trip, now=at, actor_kind="student", actor_id=student)
                choice = rng.random()
                decided = at + timedelta(seconds=rng.randint(10, 300))
                if choice < 0.25:
                    p.deny(note="not now", now=decided, actor_kind="staff", actor_id=teacher)
                    made.append(p)
                    continue
                if choice < 0.32:
                    p.cancel_request(now=decided, actor_kind="student", actor_id=student)
                    made.append(p)
                    continue
                p.approve(note="", now=decided, actor_kind="staff", actor_id=teacher)
            out = timedelta(seconds=rng.randint(60, 40 * 60))
            back = p.start_at + out
            if back > p.due_at:
                p.expire(now=p.due_at)
            ending = rng.random()
            if offset == days - 1 and ending < 0.3:
                pass  # still out when the month ends
            elif ending < 0.08:
                p.terminate(
                    reason=TerminationReason.DISMISSED, note="", now=back, actor_kind="system", actor_id=None
                )
            else:
                p.complete(now=back, actor_kind="staff", actor_id=teacher)
            made.append(p)
    return made


def in_scope(trips: Iterable[Trip], schools: set[UUID], start: date, end: date) -> list[Trip]:
    return [t for t in trips if t.school_id in schools and start <= t.local.date() <= end]


def percentile(values: list[int], q: float) -> float | None:
    """PostgreSQL's percentile_cont: linear between the two nearest ranks."""
    if not values:
        return None
    ordered = sorted(values)
    position = q * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def expected_hours(trips: list[Trip]) -> Counter[tuple[int, int]]:
    return Counter((t.local.isoweekday(), t.local.hour) for t in trips if t.started_at is not None)


def expected_students(trips: list[Trip]) -> dict[UUID, dict[str, Any]]:
    started = [t for t in trips if t.started_at is not None]
    school_days = {
        s: len({t.local.date() for t in started if t.school_id == s}) for s in {t.school_id for t in started}
    }
    per: dict[UUID, list[Trip]] = defaultdict(list)
    for t in started:
        per[t.student_id].append(t)
    out = {}
    for student, own in per.items():
        seconds = sum(t.seconds_out or 0 for t in own)
        out[student] = {
            "passes": len(own),
            "days_out": len({t.local.date() for t in own}),
            "minutes_out": round(seconds / 60, 1),
            "minutes_per_school_day": round(seconds / school_days[own[0].school_id] / 60, 1),
            "overdue": sum(t.overdue for t in own),
        }
    return out


def expected_destinations(trips: list[Trip]) -> dict[UUID, dict[str, Any]]:
    per: dict[UUID, list[Trip]] = defaultdict(list)
    for t in trips:
        if t.started_at is not None:
            per[t.destination_id].append(t)
    out = {}
    for place, own in per.items():
        seconds = [t.seconds_out for t in own if t.seconds_out is not None]
        median, p90 = percentile(seconds, 0.5), percentile(seconds, 0.9)
        overdue = sum(t.overdue for t in own)
        out[place] = {
            "passes": len(own),
            "median_minutes": None if median is None else round(median / 60, 1),
            "p90_minutes": None if p90 is None else round(p90 / 60, 1),
            "overdue": overdue,
            "overdue_percent": round(100 * overdue / len(own), 1),
        }
    return out


def expected_teachers(trips: list[Trip]) -> dict[UUID | None, dict[str, Any]]:
    per: dict[UUID | None, list[Trip]] = defaultdict(list)
    for t in trips:
        per[t.teacher_id].append(t)
    out = {}
    for teacher, own in per.items():
        approved = sum(t.decision == "approved" for t in own)
        denied = sum(t.decision == "denied" for t in own)
        out[teacher] = {
            "passes": sum(t.started_at is not None for t in own),
            "staff_passes": sum(t.source == "staff" and t.started_at is not None for t in own),
            "kiosk_passes": sum(t.source == "kiosk" for t in own),
            "approved": approved,
            "denied": denied,
            "approval_percent": round(100 * approved / (approved + denied), 1) if approved + denied else None,
            "denial_percent": round(100 * denied / (approved + denied), 1) if approved + denied else None,
        }
    return out


def expected_sources(trips: list[Trip]) -> dict[str, dict[str, int]]:
    out = {}
    for source in ("staff", "kiosk", "portal"):
        own = [t for t in trips if t.source == source]
        out[source] = {
            "passes": len(own),
            "started": sum(t.started_at is not None for t in own),
            "requested": sum(t.requested_at is not None for t in own),
            "approved": sum(t.decision == "approved" for t in own),
            "denied": sum(t.decision == "denied" for t in own),
            "overdue": sum(t.overdue and t.started_at is not None for t in own),
        }
    return out


def expected_overdue(trips: list[Trip]) -> dict[UUID, float | None]:
    return {
        t.pass_id: None if t.late_seconds is None else round(t.late_seconds / 60, 1)
        for t in trips
        if t.overdue
    }


async def kiosk_of(runtime: Runtime, school: SchoolFixture) -> UUID:
    """A kiosk Bo set up in Room 102."""
    kiosk_id = uuid4()
    command = ConfigureKiosk(
        room_id=school.rooms["Room 102"], destination_ids=[school.rooms["Restroom"], school.rooms["Library"]]
    )
    await runtime.app.configure_kiosk(
        Acting(school.teacher("Bo"), datetime.now(UTC)), command, kiosk_id=kiosk_id, secret="4321"
    )
    return kiosk_id


async def save_month(
    runtime: Runtime, rng: random.Random, school: SchoolFixture, first: date, days: int
) -> tuple[list[Any], dict[UUID, UUID]]:
    """`month_of_passes` saved to the log: their events in order, and the kiosk's owner."""
    kiosk = await kiosk_of(runtime, school)
    events: list[Any] = []
    for hall_pass in month_of_passes(rng, school, first, days, kiosk):
        events += list(hall_pass.pending_events)
        await runtime.app.repository.save(hall_pass)
    return events, {kiosk: school.teachers["Bo"]}
