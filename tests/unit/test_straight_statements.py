"""Statements a rebuild makes straight from an event's stored fields (decision 128): the
directory's of trips in and out of places and of students' passes opened and closed are those
its `handle` makes of the decoded events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

from asyncpg.pgproto import pgproto
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import StoredEvent

from hallpass.aggregates.encoding import Decoder, TypedMapper
from hallpass.aggregates.locations import Location
from hallpass.aggregates.passes import Pass
from hallpass.aggregates.students import Student
from hallpass.eventstore.ids import as_read
from hallpass.projections.directory import TRIPS, DirectoryProjection
from support import builders

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
MAPPER = TypedMapper()


class Recorded:
    """A connection that keeps what a handler sends: (sql, fetched, arguments)."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, bool, tuple[Any, ...]]] = []

    async def execute(self, sql: str, *args: Any) -> str:
        self.sent.append((sql, False, args))
        return ""

    async def fetchval(self, sql: str, *args: Any) -> None:
        self.sent.append((sql, True, args))


def trips() -> list[Aggregate]:
    student = builders.student(first_name="Ada", last_name="Byron", grade=9)
    place = builders.location(name="Nurse", kind="nurse", allotted_minutes=15, capacity=3)
    first, second = uuid4(), uuid4()
    student.open_pass(pass_id=first, destination_id=place.id, now=NOW)
    place.admit(pass_id=first, now=NOW)
    place.admit(pass_id=second, now=NOW)
    place.release(pass_id=first, now=NOW + timedelta(minutes=3))
    student.close_pass(pass_id=first, now=NOW + timedelta(minutes=3))
    student.open_pass(pass_id=second, destination_id=place.id, now=NOW + timedelta(minutes=4))
    return [student, place]


def as_read_from_the_log(stored: StoredEvent) -> StoredEvent:
    return StoredEvent(
        pgproto.UUID(str(stored.originator_id)), stored.originator_version, stored.topic, stored.state
    )


async def test_the_directorys_straight_statements_are_those_it_handles() -> None:
    directory, decode = DirectoryProjection(), Decoder(MAPPER, as_read)
    events = [e for a in trips() for e in a.collect_events()]
    made = 0
    for event in events:
        stored = as_read_from_the_log(MAPPER.to_stored_event(event))
        handled = Recorded()
        await directory.handle(handled, decode(stored), 7)
        straight = directory.straight(type(event))
        if straight is None:
            assert type(event) not in TRIPS
            continue
        fields = decode.fields(stored)
        assert fields is not None
        sql, values = straight
        args = values(fields["originator_id"], fields)
        assert handled.sent == [(sql, sql.endswith("RETURNING school_id"), args)]
        assert [type(a) for a in args] == [type(a) for a in handled.sent[0][2]]
        made += 1
    kinds = {type(e) for e in events}
    assert {Location.Entered, Location.Left, Student.PassOpened, Student.PassClosed} <= kinds
    assert made == sum(type(e) in TRIPS for e in events) == 6


def test_only_trips_and_passes_opened_and_closed_go_straight() -> None:
    directory = DirectoryProjection()
    assert set(TRIPS) == {Location.Entered, Location.Left, Student.PassOpened, Student.PassClosed}
    assert all(directory.handles(kind) for kind in TRIPS)
    assert directory.straight(Student.Registered) is None
    assert directory.straight(Location.Added) is None
    assert directory.straight(Pass.Started) is None
