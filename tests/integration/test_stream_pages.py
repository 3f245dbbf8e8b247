"""The stream's pages: any split of the stream by cursors, with any page size, scan budget and
filter, concatenates to the whole stream as read straight from the log; a page read again from
the same cursor is the same page."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.persistence import StoredEvent
from hypothesis import given, settings
from hypothesis import strategies as st

from hallpass.acting import Acting
from hallpass.aggregates.encoding import TypedMapper
from hallpass.aggregates.passes import TerminationReason
from hallpass.analytics.cloudevents import TYPES
from hallpass.analytics.stream import Scope, StreamReader
from hallpass.bootstrap import Runtime
from hallpass.commands.messages import CompletePass, CreatePasses, TerminatePass
from hallpass.commands.schedules import SchedulePasses
from support.runtime import runtime_on
from support.school import SchoolFixture, make_school


@dataclass(frozen=True)
class Log:
    runtime: Runtime
    schools: dict[str, SchoolFixture]
    """first and second of one district, elsewhere in another."""


async def busy_day(runtime: Runtime, school: SchoolFixture, count: int) -> None:
    app, now = runtime.app, datetime.now(UTC)
    teacher = Acting(school.teacher(), now)
    room, library = school.rooms["Room 101"], school.rooms["Library"]
    made = await app.create_passes(
        teacher, CreatePasses(origin_id=room, destination_id=library, student_ids=school.students[:count])
    )
    for n, summary in enumerate(made.body["passes"]):
        pass_id = UUID(summary["id"])
        if n % 3 == 0:
            await app.complete_pass(teacher, pass_id, CompletePass())
        elif n % 3 == 1:
            await app.terminate_pass(teacher, pass_id, TerminatePass(reason=TerminationReason.DISMISSED))
    later = SchedulePasses(
        origin_id=room,
        destination_id=school.rooms["Nurse"],
        student_ids=school.students[count : count + 2],
        start_at=now + timedelta(days=1),
    )
    await app.schedule_passes(teacher, later)
    await app.declare_emergency(Acting(school.admin(), now), school.id)
    await app.end_emergency(Acting(school.admin(), now), school.id)


@pytest.fixture(scope="module")
async def log(make_database: Callable[[], AbstractContextManager[str]]) -> AsyncIterator[Log]:
    with make_database() as url:
        async with runtime_on(url) as runtime:
            first = await make_school(runtime, label="First", students=8)
            second = await make_school(runtime, label="Second", students=8, district_id=first.district_id)
            elsewhere = await make_school(runtime, label="Elsewhere", students=8)
            for school in (first, second, elsewhere, first):
                await busy_day(runtime, school, 3)
            yield Log(runtime, {"first": first, "second": second, "elsewhere": elsewhere})


async def straight_from_the_log(log: Log, scope: Scope, types: frozenset[type]) -> list[int]:
    """The notification ids the stream must give, found by reading every event of the log."""
    mapper = TypedMapper()
    rows = await log.runtime.pool.fetch(
        "SELECT notification_id, originator_id, originator_version, topic, state FROM hallpass_events "
        "ORDER BY notification_id"
    )
    events: list[tuple[int, Any]] = [
        (r["notification_id"], mapper.to_domain_event(StoredEvent(r[1], r[2], r[3], r[4]))) for r in rows
    ]
    school_of: dict[UUID, UUID] = {}
    district_of: dict[UUID, UUID] = {}
    for _, event in events:
        if event.originator_version == 1 and isinstance(getattr(event, "school_id", None), UUID):
            school_of[event.originator_id] = event.school_id
        if type(event).__qualname__ == "School.Registered":
            district_of[event.originator_id] = event.district_id
    wanted = types or frozenset(TYPES)
    return [
        n
        for n, event in events
        if type(event) in wanted
        and event.originator_id in school_of
        and scope.admits(school_of[event.originator_id], district_of.get(school_of[event.originator_id]))
    ]


SCOPES = st.sampled_from(["district", "first", "second", "first+second", "elsewhere"])
TYPE_SETS = st.frozensets(st.sampled_from(sorted(TYPES, key=lambda c: TYPES[c])), max_size=4)


def scope_of(log: Log, name: str) -> Scope:
    schools = log.schools
    if name == "district":
        return Scope(schools["first"].district_id)
    if name == "elsewhere":
        return Scope(schools["elsewhere"].district_id)
    chosen = frozenset(schools[part].id for part in name.split("+"))
    return Scope(schools["first"].district_id, chosen)


@settings(max_examples=40)
@given(
    scope_name=SCOPES,
    types=TYPE_SETS,
    limits=st.lists(st.integers(1, 12), min_size=1, max_size=30),
    chunk=st.integers(1, 40),
    scan_most=st.integers(1, 60),
)
async def test_any_split_into_pages_concatenates_to_the_whole_stream(
    log: Log, scope_name: str, types: frozenset[type], limits: list[int], chunk: int, scan_most: int
) -> None:
    reader = StreamReader(log.runtime.store)  # a process of its own: nothing known yet
    scope = scope_of(log, scope_name)
    expected = await straight_from_the_log(log, scope, types)
    head = await reader.head()
    got: list[int] = []
    position, turn = 0, 0
    while True:
        limit = limits[turn % len(limits)]
        page = await reader.page(
            position, limit, scope, types=types, head=head, chunk=chunk, scan_most=scan_most
        )
        again = await reader.page(
            position, limit, scope, types=types, head=head, chunk=chunk, scan_most=scan_most
        )
        assert [i.notification_id for i in again.items] == [i.notification_id for i in page.items]
        assert again.position == page.position and len(page.items) <= limit
        assert page.position >= position and (page.position > position or page.at_head)
        got += [item.notification_id for item in page.items]
        position, turn = page.position, turn + 1
        if page.at_head:
            break
    assert got == expected
    assert position == head


async def test_the_streams_of_another_district_never_show(log: Log) -> None:
    reader = StreamReader(log.runtime.store)
    first = log.schools["first"]
    page = await reader.page(0, 10_000, Scope(first.district_id))
    schools = {item.school_id for item in page.items}
    assert schools == {first.id, log.schools["second"].id}
    assert page.at_head
    kinds = {TYPES[type(item.event)] for item in page.items}
    assert {"hallpass.pass.started", "hallpass.pass.completed", "hallpass.schedule.created"} <= kinds or (
        "hallpass.pass.scheduled" in kinds
    )
    assert {"hallpass.emergency.declared", "hallpass.location.added"} <= kinds
