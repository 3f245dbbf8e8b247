"""Timer commands and the due-time read model against a real database, without a worker."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from uuid import UUID

import asyncpg
import msgspec
import pytest
from eventsourcing.persistence import StoredEvent

from hallpass.acting import Acting
from hallpass.aggregates.passes import Pass, Status
from hallpass.aggregates.students import Student
from hallpass.bootstrap import Runtime
from hallpass.commands import Hallpass, OutcomeKind
from hallpass.commands.schedules import CancelScheduledPass, ReschedulePass, ScheduleRepeating
from hallpass.errors import IllegalTransition, Invalid
from hallpass.eventstore import EventStore
from hallpass.projections.timers import TimerKind
from hallpass.timers.sweep import Due, SweepSettings, sweep_once
from support.school import SchoolFixture, make_school, plan_out, send_out

EXPIRED_TOPIC = "hallpass.aggregates.passes:Pass.Expired"


@pytest.fixture
async def school(runtime: Runtime) -> SchoolFixture:
    return await make_school(runtime, students=6)


async def catch_up(runtime: Runtime) -> None:
    for runner in runtime.runners:
        await runner.catch_up()


async def start_pass(
    runtime: Runtime, school: SchoolFixture, student: UUID, now: datetime, minutes: int = 1
) -> UUID:
    (pass_id,) = await send_out(runtime, school, "Nurse", [student], now, minutes=minutes)
    return pass_id


async def timers(runtime: Runtime) -> dict[tuple[UUID, str], datetime]:
    rows = await runtime.pool.fetch("SELECT pass_id, kind, due_at FROM pass_timers")
    return {(r["pass_id"], r["kind"]): r["due_at"] for r in rows}


async def expired_count(runtime: Runtime, pass_id: UUID) -> int:
    value = await runtime.pool.fetchval(
        "SELECT count(*) FROM hallpass_events WHERE originator_id = $1 AND topic = $2",
        pass_id,
        EXPIRED_TOPIC,
    )
    return int(value)


async def test_an_active_pass_has_an_expiry_timer_until_it_ends(
    runtime: Runtime, school: SchoolFixture
) -> None:
    now = datetime.now(UTC)
    first = await start_pass(runtime, school, school.students[0], now, minutes=3)
    second = await start_pass(runtime, school, school.students[1], now, minutes=2)
    await catch_up(runtime)
    assert await timers(runtime) == {
        (first, "expire"): now + timedelta(minutes=3),
        (second, "expire"): now + timedelta(minutes=2),
    }
    await runtime.app.complete_pass(Acting(school.teacher(), now + timedelta(minutes=1)), first)
    await runtime.app.expire_pass(second, now=now + timedelta(minutes=2))
    await catch_up(runtime)
    assert await timers(runtime) == {}


async def test_expire_is_idempotent_ignores_early_calls_and_keeps_the_student_out(
    runtime: Runtime, school: SchoolFixture
) -> None:
    now = datetime.now(UTC)
    student_id = school.students[0]
    pass_id = await start_pass(runtime, school, student_id, now, minutes=1)
    early = await runtime.app.expire_pass(pass_id, now=now + timedelta(seconds=59))
    assert early is not None and early.body["changed"] is False
    assert await expired_count(runtime, pass_id) == 0

    due = now + timedelta(minutes=1)
    first = await runtime.app.expire_pass(pass_id, now=due)
    again = await runtime.app.expire_pass(pass_id, now=due + timedelta(seconds=5))
    assert first is not None and first.body == {"pass_id": str(pass_id), "status": "expired", "changed": True}
    assert again is not None and again.body["changed"] is False
    assert await expired_count(runtime, pass_id) == 1

    student = await runtime.app.repository.find(student_id, Student)
    assert student is not None and student.open_pass_id == pass_id
    await runtime.app.complete_pass(Acting(school.teacher(), due + timedelta(minutes=2)), pass_id)
    hall_pass = await runtime.app.repository.find(pass_id, Pass)
    assert hall_pass is not None
    assert hall_pass.status is Status.EXPIRED and hall_pass.returned_at == due + timedelta(minutes=2)


async def test_expire_of_an_unknown_pass_does_nothing(runtime: Runtime) -> None:
    assert await runtime.app.expire_pass(UUID(int=7), now=datetime.now(UTC)) is None


async def test_concurrent_expiry_from_separate_processes_records_one_event(
    runtime: Runtime, school: SchoolFixture
) -> None:
    now = datetime.now(UTC)
    passes = [await start_pass(runtime, school, s, now) for s in school.students]
    apps = [Hallpass(EventStore(runtime.pool)) for _ in range(4)]
    due = now + timedelta(minutes=1)
    await asyncio.gather(*(app.expire_pass(p, now=due) for p in passes for app in apps))
    assert [await expired_count(runtime, p) for p in passes] == [1] * len(passes)


class RacingStore(EventStore):
    """A store whose first append lets another command run first: a race, made certain."""

    def __init__(self, pool: asyncpg.Pool, first: Callable[[], Awaitable[object]]) -> None:
        super().__init__(pool)
        self.first: Callable[[], Awaitable[object]] | None = first

    async def append(self, events: Sequence[StoredEvent], **options: Any) -> list[int]:
        first, self.first = self.first, None
        if first is not None:
            await first()
        return await super().append(events, **options)


async def test_passes_due_together_expire_in_one_transaction_and_those_not_due_wait(
    runtime: Runtime, school: SchoolFixture
) -> None:
    now = datetime.now(UTC)
    due_now = [await start_pass(runtime, school, s, now, minutes=1) for s in school.students[:4]]
    later = await start_pass(runtime, school, school.students[4], now, minutes=5)
    app = Hallpass(EventStore(runtime.pool))
    expired = await app.expire_passes([*due_now, later, UUID(int=9)], now=now + timedelta(minutes=1))
    assert expired == 4
    assert app.store.group_commit.batches == 1, "the expiries share one transaction"
    assert [await expired_count(runtime, p) for p in due_now] == [1] * 4
    assert await expired_count(runtime, later) == 0
    assert await app.expire_passes(due_now, now=now + timedelta(minutes=2)) == 0, "never twice"
    assert [await expired_count(runtime, p) for p in due_now] == [1] * 4


async def test_a_pass_completed_while_its_batch_expires_is_skipped_and_the_others_expire(
    runtime: Runtime, school: SchoolFixture
) -> None:
    now = datetime.now(UTC)
    passes = [await start_pass(runtime, school, s, now, minutes=1) for s in school.students[:4]]
    due = now + timedelta(minutes=1, seconds=1)
    completing = Hallpass(EventStore(runtime.pool))  # another process, with its own cache

    async def complete_first() -> None:
        await completing.complete_pass(Acting(school.teacher(), due), passes[0])

    expiring = Hallpass(RacingStore(runtime.pool, complete_first))
    assert await expiring.expire_passes(passes, now=due) == 3
    assert await expired_count(runtime, passes[0]) == 0
    assert [await expired_count(runtime, p) for p in passes[1:]] == [1] * 3
    completed = await runtime.app.repository.find(passes[0], Pass)
    assert completed is not None and completed.status is Status.COMPLETED


async def schedule(
    runtime: Runtime, school: SchoolFixture, student: UUID, start_at: datetime, now: datetime
) -> UUID:
    outcome = await plan_out(runtime, school, "Library", [student], start_at, now, minutes=4)
    assert outcome.kind is OutcomeKind.CREATED and outcome.body["passes"][0]["status"] == "scheduled"
    return UUID(outcome.body["passes"][0]["id"])


async def test_a_scheduled_pass_activates_once_at_its_time(runtime: Runtime, school: SchoolFixture) -> None:
    now = datetime.now(UTC)
    start_at = now + timedelta(minutes=30)
    pass_id = await schedule(runtime, school, school.students[0], start_at, now)
    await catch_up(runtime)
    assert await timers(runtime) == {(pass_id, TimerKind.ACTIVATE.value): start_at}

    early = await runtime.app.activate_pass(pass_id, now=start_at - timedelta(seconds=1))
    assert early is not None and early.body["changed"] is False
    late = start_at + timedelta(seconds=3)
    started = await runtime.app.activate_pass(pass_id, now=late)
    again = await runtime.app.activate_pass(pass_id, now=late)
    assert started is not None and started.body["status"] == "active" and started.body["changed"]
    assert again is not None and again.body["changed"] is False
    await catch_up(runtime)
    assert await timers(runtime) == {(pass_id, TimerKind.EXPIRE.value): late + timedelta(minutes=4)}
    row = await runtime.pool.fetchrow("SELECT status, due_at FROM pass_list WHERE pass_id = $1", pass_id)
    assert (row["status"], row["due_at"]) == ("active", late + timedelta(minutes=4))
    student = await runtime.app.repository.find(school.students[0], Student)
    assert student is not None and student.open_pass_id == pass_id


async def test_a_scheduled_pass_for_a_student_already_out_is_cancelled(
    runtime: Runtime, school: SchoolFixture
) -> None:
    now = datetime.now(UTC)
    start_at = now + timedelta(minutes=5)
    scheduled = await schedule(runtime, school, school.students[0], start_at, now)
    out = await start_pass(runtime, school, school.students[0], start_at - timedelta(seconds=30), minutes=3)
    outcome = await runtime.app.activate_pass(scheduled, now=start_at)
    assert outcome is not None and outcome.body["status"] == "cancelled"
    hall_pass = await runtime.app.repository.find(scheduled, Pass)
    assert hall_pass is not None and hall_pass.end_reason == "student_already_out"
    student = await runtime.app.repository.find(school.students[0], Student)
    assert student is not None and student.open_pass_id == out
    await catch_up(runtime)
    assert set(await timers(runtime)) == {(out, "expire")}


async def test_scheduled_passes_can_be_edited_and_cancelled_only_before_they_start(
    runtime: Runtime, school: SchoolFixture
) -> None:
    now = datetime.now(UTC)
    start_at = now + timedelta(hours=2)
    teacher = school.teacher()
    moved = await schedule(runtime, school, school.students[0], start_at, now)
    dropped = await schedule(runtime, school, school.students[1], start_at, now)
    later = start_at + timedelta(hours=1)
    edit = await runtime.app.reschedule_pass(
        Acting(teacher, now), moved, ReschedulePass(start_at=later, note="x")
    )
    assert edit.body["pass"]["start_at"] == later.isoformat()
    cancel = await runtime.app.cancel_scheduled_pass(Acting(teacher, now), dropped, CancelScheduledPass())
    assert cancel.body["pass"]["status"] == "cancelled"
    await catch_up(runtime)
    assert await timers(runtime) == {(moved, "activate"): later}

    with pytest.raises(Invalid):
        await runtime.app.reschedule_pass(Acting(teacher, now), moved, ReschedulePass(start_at=now))
    await runtime.app.activate_pass(moved, now=later)
    with pytest.raises(IllegalTransition) as refused:
        await runtime.app.cancel_scheduled_pass(Acting(teacher, later + timedelta(minutes=1)), moved)
    assert refused.value.details["status"] == "active"
    with pytest.raises(IllegalTransition):
        await runtime.app.reschedule_pass(
            Acting(teacher, later), moved, ReschedulePass(start_at=later + timedelta(hours=1))
        )


async def test_a_schedule_in_the_past_is_refused(runtime: Runtime, school: SchoolFixture) -> None:
    now = datetime.now(UTC)
    with pytest.raises(Invalid, match="future"):
        await schedule(runtime, school, school.students[0], now - timedelta(minutes=1), now)


async def test_concurrent_sweeps_claim_each_timer_once_and_resend_only_when_overdue(
    runtime: Runtime, school: SchoolFixture
) -> None:
    now = datetime.now(UTC)
    soon = [await start_pass(runtime, school, s, now - timedelta(seconds=55)) for s in school.students[:4]]
    await start_pass(runtime, school, school.students[4], now, minutes=10)
    await catch_up(runtime)
    sent: list[Due] = []
    settings = SweepSettings(horizon_ms=10_000, grace_ms=0, resend_ms=60_000, batch=1)

    async def sweeper() -> None:
        async with runtime.pool.acquire() as conn:
            while await sweep_once(conn, sent.extend, settings):
                pass

    await asyncio.gather(*(sweeper() for _ in range(3)))
    assert sorted(d.pass_id for d in sent) == sorted(soon)
    assert all(0 < d.delay_ms <= 5_000 and d.kind is TimerKind.EXPIRE for d in sent)

    await runtime.pool.execute("UPDATE pass_timers SET due_at = due_at - interval '1 minute'")
    resent: list[Due] = []
    async with runtime.pool.acquire() as conn:
        await sweep_once(conn, resent.extend, SweepSettings(grace_ms=0, resend_ms=0))
    assert sorted(d.pass_id for d in resent) == sorted(soon)
    assert all(d.delay_ms == 0 for d in resent)


def repeating(school: SchoolFixture, students: list[UUID], **fields: object) -> ScheduleRepeating:
    body: dict[str, object] = {
        "origin_id": school.rooms["Room 101"],
        "destination_id": school.rooms["Library"],
        "student_ids": students,
        "weekdays": [0, 2],
        "at": time(10, 15),
        "first_date": date(2030, 3, 4),
        "last_date": date(2030, 3, 13),
        **fields,
    }
    return msgspec.convert(body, ScheduleRepeating, from_attributes=False, strict=False)


async def test_a_repeating_schedule_plans_one_pass_per_occurrence_in_the_school_time_zone(
    runtime: Runtime, school: SchoolFixture
) -> None:
    now = datetime(2030, 3, 1, tzinfo=UTC)
    students = school.students[:2]
    outcome = await runtime.app.schedule_repeating(Acting(school.teacher(), now), repeating(school, students))
    starts = sorted({p["start_at"] for p in outcome.body["passes"]})
    assert outcome.body["timezone"] == "America/Chicago"
    assert starts == [
        "2030-03-04T16:15:00+00:00",
        "2030-03-06T16:15:00+00:00",
        "2030-03-11T15:15:00+00:00",
        "2030-03-13T15:15:00+00:00",
    ]
    assert len(outcome.body["passes"]) == 8
    await catch_up(runtime)
    assert len(await timers(runtime)) == 8


async def test_cancelling_a_schedule_cancels_only_occurrences_not_yet_started(
    runtime: Runtime, school: SchoolFixture
) -> None:
    now = datetime(2030, 3, 1, tzinfo=UTC)
    teacher = school.teacher()
    outcome = await runtime.app.schedule_repeating(
        Acting(teacher, now), repeating(school, school.students[:1])
    )
    passes = [UUID(p["id"]) for p in outcome.body["passes"]]
    first_start = datetime(2030, 3, 4, 16, 15, tzinfo=UTC)
    await runtime.app.activate_pass(passes[0], now=first_start)
    cancelled = await runtime.app.cancel_schedule(
        Acting(teacher, first_start + timedelta(minutes=1)), UUID(outcome.body["schedule_id"])
    )
    assert sorted(cancelled.body["cancelled"]) == sorted(str(p) for p in passes[1:])
    statuses = [(await runtime.app.repository.find(p, Pass)) for p in passes]
    assert [p.status.value for p in statuses if p is not None] == [
        "active",
        "cancelled",
        "cancelled",
        "cancelled",
    ]
    with pytest.raises(IllegalTransition):
        await runtime.app.cancel_schedule(Acting(teacher, first_start), UUID(outcome.body["schedule_id"]))


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"first_date": date(2029, 1, 1), "last_date": date(2029, 2, 1)}, "no day left in the future"),
        ({"last_date": date(2030, 3, 1)}, "last date is before the first"),
        ({"timezone": "Mars/Olympus_Mons"}, "not a time zone Hallpass knows"),
    ],
)
async def test_a_bad_repeating_schedule_is_refused_with_its_reason(
    runtime: Runtime, school: SchoolFixture, fields: dict[str, object], reason: str
) -> None:
    with pytest.raises(Invalid, match=reason):
        await runtime.app.schedule_repeating(
            Acting(school.teacher(), datetime(2030, 3, 1, tzinfo=UTC)),
            repeating(school, school.students[:1], **fields),
        )
    assert await timers(runtime) == {}


async def test_dismissal_terminates_every_open_pass_once_and_frees_the_students(
    runtime: Runtime, school: SchoolFixture
) -> None:
    morning = datetime(2030, 3, 4, 15, 0, tzinfo=UTC)
    await runtime.app.set_dismissal_time(Acting(school.teacher(), morning), time(15, 0))
    dismissal = datetime(2030, 3, 4, 21, 0, tzinfo=UTC)
    active = await start_pass(
        runtime, school, school.students[0], dismissal - timedelta(minutes=5), minutes=10
    )
    expired = await start_pass(
        runtime, school, school.students[1], dismissal - timedelta(minutes=5), minutes=1
    )
    done = await start_pass(runtime, school, school.students[2], dismissal - timedelta(minutes=5), minutes=10)
    await runtime.app.expire_pass(expired, now=dismissal - timedelta(minutes=4))
    await runtime.app.complete_pass(Acting(school.teacher(), dismissal - timedelta(minutes=1)), done)
    await catch_up(runtime)
    assert (await timers(runtime))[(school.id, "dismiss")] == dismissal

    early = await runtime.app.dismiss_school(school.id, now=dismissal - timedelta(seconds=1))
    assert early is not None and early.body["dismissed"] == []
    outcome = await runtime.app.dismiss_school(school.id, now=dismissal)
    again = await runtime.app.dismiss_school(school.id, now=dismissal + timedelta(seconds=2))
    assert outcome is not None and sorted(outcome.body["dismissed"]) == sorted([str(active), str(expired)])
    assert again is not None and again.body["dismissed"] == []
    for pass_id in (active, expired):
        hall_pass = await runtime.app.repository.find(pass_id, Pass)
        assert hall_pass is not None
        assert (hall_pass.status, hall_pass.end_reason) == (Status.TERMINATED, "dismissed")
    for student_id in school.students[:3]:
        student = await runtime.app.repository.find(student_id, Student)
        assert student is not None and student.open_pass_id is None
    await catch_up(runtime)
    assert await timers(runtime) == {(school.id, "dismiss"): dismissal + timedelta(days=1)}
