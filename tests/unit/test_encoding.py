"""Stored format: every event survives TypedMapper with its field types, and replays exactly."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any
from uuid import UUID, uuid4

import orjson
import pytest
from asyncpg.pgproto import pgproto
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import get_topic
from hypothesis import given
from hypothesis import strategies as st

from hallpass.acting import ActedBy
from hallpass.aggregates.encoding import Decoder, TypedMapper
from hallpass.aggregates.idempotency import IdempotencyRecord
from hallpass.aggregates.locations import Location
from hallpass.aggregates.passes import Pass, Source, TerminationReason
from hallpass.aggregates.rules import SchoolRules
from hallpass.aggregates.schedules import Schedule
from hallpass.aggregates.schools import School
from hallpass.aggregates.staff import Staff
from hallpass.aggregates.students import Student
from hallpass.eventstore.ids import as_read
from hallpass.policies.bells import bell_schedule
from hallpass.policies.blackouts import blackout_window
from hallpass.policies.limits import limits
from support import builders

NOW = datetime(2025, 3, 3, 9, 0, 0, 123456, tzinfo=UTC)
MAPPER = TypedMapper()


def round_trip(event: Any) -> Any:
    return MAPPER.to_domain_event(MAPPER.to_stored_event(event))


def replay(events: Sequence[Any]) -> Aggregate | None:
    aggregate: Aggregate | None = None
    for event in events:
        aggregate = event.mutate(aggregate)
    return aggregate


def new_pass(note: str = "", now: datetime = NOW) -> Pass:
    return builders.started(source=Source.PORTAL, now=now, actor_kind="student", note=note)


def completed_pass() -> Pass:
    hall_pass = new_pass("water")
    hall_pass.complete(now=NOW + timedelta(minutes=2), actor_kind="staff", actor_id=uuid4())
    return hall_pass


def expired_returned_pass() -> Pass:
    hall_pass = new_pass()
    hall_pass.expire(now=hall_pass.due_at)
    hall_pass.complete(now=hall_pass.due_at + timedelta(minutes=1), actor_kind="staff", actor_id=None)
    return hall_pass


def terminated_pass() -> Pass:
    hall_pass = new_pass()
    hall_pass.expire(now=hall_pass.due_at + timedelta(seconds=3))
    builders.dismiss(hall_pass, note="end of day", now=NOW + timedelta(hours=6))
    return hall_pass


def scheduled_activated_pass() -> Pass:
    hall_pass = builders.scheduled(allotted_minutes=10, note="library")
    hall_pass.reschedule(
        start_at=NOW + timedelta(hours=2),
        allotted_minutes=5,
        note="after the quiz",
        now=NOW + timedelta(minutes=1),
        actor_kind="staff",
        actor_id=None,
    )
    hall_pass.activate(now=NOW + timedelta(hours=2))
    return hall_pass


def overridden_pass() -> Pass:
    hall_pass = builders.started(source=Source.STAFF, now=NOW, actor_kind="staff")
    hall_pass.record_override(
        refusals=[{"rule": "daily_limit", "message": "Zoë has had 3 passes today", "count": 3, "limit": 3}],
        reason="she is unwell",
        now=NOW,
        actor_kind="staff",
        actor_id=uuid4(),
    )
    return hall_pass


def school_rules() -> SchoolRules:
    rules = SchoolRules.open(uuid4(), NOW)
    by: ActedBy = {"actor_kind": "staff", "actor_id": uuid4()}
    rules.set_limits(
        limits(per_day=3, per_week=None, sources=["kiosk"], exempt_destination_ids=[uuid4()]), now=NOW, by=by
    )
    rules.set_bell_schedule(
        bell_schedule(
            day_types=[("Regular", [("Period 1", time(8), time(8, 50)), ("Period 2", time(9), time(9, 50))])],
            weekdays=["Regular"] * 5 + [None, None],
            dates=[(date(2025, 3, 10), None)],
        ),
        now=NOW,
        by=by,
    )
    rules.set_blackouts(
        (
            blackout_window(kind="edges", first_minutes=10, last_minutes=5),
            blackout_window(kind="window", name="Lunch", start=time(12), end=time(12, 30), weekdays=[0, 2]),
        ),
        now=NOW,
        by=by,
    )
    return rules


def requested_denied_pass() -> Pass:
    hall_pass = builders.requested(allotted_minutes=15)
    hall_pass.deny(note="after class", now=NOW + timedelta(minutes=1), actor_kind="staff", actor_id=uuid4())
    return hall_pass


def student_with_history() -> Student:
    student = builders.student(
        first_name="Zoë",
        last_name="Ó Briain",
        grade=10,
        homeroom_id=uuid4(),
        hall_pass_id=42,
        external_id="#A-17",
    )
    first = uuid4()
    student.open_pass(pass_id=first, destination_id=uuid4(), now=NOW)
    student.close_pass(pass_id=first, now=NOW + timedelta(minutes=1))
    student.open_pass(pass_id=uuid4(), destination_id=uuid4(), now=NOW + timedelta(minutes=2))
    return student


def location_with_history() -> Location:
    location = builders.location(
        name="Nurse", kind="nurse", allotted_minutes=15, capacity=3, kiosk_allowed=False, needs_approval=True
    )
    first, second = uuid4(), uuid4()
    location.admit(pass_id=first, now=NOW)
    location.admit(pass_id=second, now=NOW)
    location.release(pass_id=first, now=NOW + timedelta(minutes=3))
    return location


def staff_member() -> Staff:
    return builders.staff(timestamp=NOW)


def staff_without_room() -> Staff:
    return builders.staff(
        timestamp=NOW, name="Ms. Ruiz", email="ruiz@example.org", roles=("office",), room_id=None
    )


def school() -> School:
    return School._create(
        School.Registered,
        id=uuid4(),
        timestamp=NOW,
        district_id=uuid4(),
        name="Lincoln High",
        timezone="America/Chicago",
    )


def idempotency_record(**fields: Any) -> IdempotencyRecord:
    defaults: dict[str, Any] = {
        "id": uuid4(),
        "timestamp": NOW,
        "key": "key-1",
        "principal": "staff:1",
        "fingerprint": "abc",
        "outcome": "created",
        "response": {"passes": [{"id": "p-1", "minutes": 5, "late": False, "note": None}]},
        "changed": {str(uuid4()): 1, str(uuid4()): 7},
    }
    return IdempotencyRecord._create(IdempotencyRecord.Recorded, **(defaults | fields))


AGGREGATES: dict[str, Callable[[], Aggregate]] = {
    "pass-completed": completed_pass,
    "pass-expired-returned": expired_returned_pass,
    "pass-terminated": terminated_pass,
    "pass-scheduled-activated": scheduled_activated_pass,
    "pass-requested-denied": requested_denied_pass,
    "pass-overridden": overridden_pass,
    "school-rules": school_rules,
    "student": student_with_history,
    "location": location_with_history,
    "staff": staff_member,
    "staff-without-room": staff_without_room,
    "school": school,
    "idempotency-record": idempotency_record,
}

EVENT_TYPES: set[type[Any]] = {
    Pass.Started,
    Pass.Scheduled,
    Pass.Requested,
    Pass.Rescheduled,
    Pass.Activated,
    Pass.Denied,
    Pass.Completed,
    Pass.ReturnRecorded,
    Pass.Expired,
    Pass.Terminated,
    Pass.RulesOverridden,
    SchoolRules.Opened,
    SchoolRules.LimitsSet,
    SchoolRules.BellScheduleSet,
    SchoolRules.BlackoutsSet,
    Student.Registered,
    Student.PassOpened,
    Student.PassClosed,
    Location.Added,
    Location.Entered,
    Location.Left,
    Staff.Hired,
    School.Registered,
    IdempotencyRecord.Recorded,
}


def test_the_examples_cover_every_event_type() -> None:
    seen = {type(e) for make in AGGREGATES.values() for e in make().collect_events()}

    assert seen == EVENT_TYPES


@pytest.mark.parametrize("make", AGGREGATES.values(), ids=AGGREGATES.keys())
def test_events_round_trip_and_replay_to_an_equal_aggregate(make: Callable[[], Aggregate]) -> None:
    original = make()
    events = original.collect_events()

    decoded = [round_trip(e) for e in events]

    assert decoded == events
    assert [type(e) for e in decoded] == [type(e) for e in events]
    assert replay(decoded) == original


@pytest.mark.parametrize("make", AGGREGATES.values(), ids=AGGREGATES.keys())
def test_uuid_and_datetime_fields_come_back_typed(make: Callable[[], Aggregate]) -> None:
    for original in make().collect_events():
        decoded = round_trip(original)
        for name, value in vars(original).items():
            back = vars(decoded)[name]
            if isinstance(value, UUID | datetime):
                assert type(back) is type(value), (type(original).__name__, name)
                assert back == value


def test_stored_state_is_json_with_iso_strings() -> None:
    (started,) = new_pass().collect_events()

    stored = MAPPER.to_stored_event(started)

    assert isinstance(started, Pass.Started)
    assert stored.topic == "hallpass.aggregates.passes:Pass.Started"
    assert b'"timestamp":"2025-03-03T09:00:00.123456+00:00"' in stored.state
    assert f'"student_id":"{started.student_id}"'.encode() in stored.state
    assert b'"class_version":2' in stored.state
    assert b"idempotency_key" not in stored.state


# -- rows written by earlier code (decisions 066 and 067) ----------------------------------

PASS_TOPIC = "hallpass.aggregates.passes:Pass"


def created_as_written_until_december_2026(made: Pass, status: str, source: str, note: str) -> StoredEvent:
    """The one `Pass.Created` event the code before decision 066 wrote for each way."""
    state = {
        "timestamp": made.created_on.isoformat(),
        "originator_topic": PASS_TOPIC,
        "actor_kind": made.created_by[0],
        "actor_id": str(made.created_by[1]),
        "idempotency_key": "key-1",
        "school_id": str(made.school_id),
        "student_id": str(made.student_id),
        "origin_id": str(made.origin_id),
        "destination_id": str(made.destination_id),
        "source": source,
        "status": status,
        "start_at": made.start_at.isoformat(),
        "allotted_minutes": made.allotted_minutes,
        "note": note,
    }
    return StoredEvent(made.id, 1, f"{PASS_TOPIC}.Created", orjson.dumps(state))


@pytest.mark.parametrize(
    ("make", "status", "source", "fact"),
    [
        (lambda: new_pass("water"), "active", "portal", Pass.Started),
        (scheduled_activated_pass, "scheduled", "staff", Pass.Scheduled),
        (requested_denied_pass, "requested", "portal", Pass.Requested),
    ],
    ids=["started", "scheduled", "requested"],
)
def test_a_created_event_of_earlier_code_is_read_as_the_fact_its_status_names(
    make: Callable[[], Pass], status: str, source: str, fact: type[Pass.Creation]
) -> None:
    made = make()
    (first, *later) = made.collect_events()
    new = replay([first])
    assert isinstance(new, Pass)

    old = created_as_written_until_december_2026(new, status, source, new.note)
    read = MAPPER.to_domain_event(old)

    assert type(read) is fact
    assert read == first
    assert replay([read]) == new
    assert replay([read, *later]) == made


def test_a_later_event_of_earlier_code_loses_the_idempotency_key_it_carried() -> None:
    hall_pass = completed_pass()
    (_, completed) = hall_pass.collect_events()
    stored = MAPPER.to_stored_event(completed)
    state = orjson.loads(stored.state)
    del state["class_version"]
    old = replace(stored, state=orjson.dumps({**state, "idempotency_key": "key-2"}))

    read = MAPPER.to_domain_event(old)

    assert read == completed
    assert "idempotency_key" not in vars(read)


def test_an_idempotency_record_of_earlier_code_lists_no_changes() -> None:
    original = idempotency_record()
    (recorded,) = original.collect_events()
    state = orjson.loads(MAPPER.to_stored_event(recorded).state)
    del state["changed"]
    state["class_version"] = 2  # as decision 060 wrote it
    old = StoredEvent(recorded.originator_id, 1, get_topic(IdempotencyRecord.Recorded), orjson.dumps(state))

    record = replay([MAPPER.to_domain_event(old)])

    assert isinstance(record, IdempotencyRecord)
    assert record.changed == {}
    assert record.response == original.response


def test_a_schedule_stored_under_its_old_module_loads_as_the_schedule_of_today() -> None:
    schedule = Schedule._create(
        Schedule.Created,
        id=uuid4(),
        timestamp=NOW,
        school_id=uuid4(),
        student_ids=[uuid4()],
        origin_id=uuid4(),
        destination_id=uuid4(),
        weekdays=[0, 2],
        at=time(10, 0),
        first_date=date(2025, 3, 3),
        last_date=date(2025, 3, 7),
        timezone="America/Chicago",
        allotted_minutes=5,
        pass_ids=[uuid4()],
        actor_kind="staff",
        actor_id=uuid4(),
    )
    schedule.cancel(now=NOW, actor_kind="staff", actor_id=None)
    stored = [MAPPER.to_stored_event(e) for e in schedule.collect_events()]
    assert stored[0].topic == "hallpass.aggregates.schedules:Schedule.Created"
    old = "hallpass.aggregates.passes:Schedule"
    written_before_the_move = [
        replace(
            s,
            topic=s.topic.replace("hallpass.aggregates.schedules:Schedule", old),
            state=s.state.replace(b"hallpass.aggregates.schedules:Schedule", old.encode()),
        )
        for s in stored
    ]
    assert b'"originator_topic":"hallpass.aggregates.passes:Schedule"' in written_before_the_move[0].state

    loaded = replay([MAPPER.to_domain_event(s) for s in written_before_the_move])

    assert type(loaded) is Schedule
    assert loaded == schedule


def test_optional_uuid_left_empty_comes_back_none() -> None:
    (hired,) = staff_without_room().collect_events()

    assert vars(round_trip(hired))["room_id"] is None


# -- hypothesis over free text and times ---------------------------------------------------

whole_minute_offsets = st.integers(-14 * 60, 14 * 60).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)
times = st.datetimes(
    min_value=datetime(1970, 1, 1), max_value=datetime(2200, 1, 1), timezones=whole_minute_offsets
)


def round_trip_all(aggregate: Aggregate) -> tuple[Sequence[Any], Any]:
    events = aggregate.collect_events()
    decoded = [round_trip(e) for e in events]
    return events, replay(decoded)


@given(note=st.text(), end_note=st.text())
def test_pass_notes_round_trip_exactly(note: str, end_note: str) -> None:
    hall_pass = new_pass(note)
    hall_pass.terminate(
        reason=TerminationReason.OTHER, note=end_note, now=NOW, actor_kind="staff", actor_id=None
    )

    _, replayed = round_trip_all(hall_pass)

    assert replayed == hall_pass
    assert (replayed.note, replayed.end_note) == (note, end_note)


@given(first=st.text(), last=st.text(), external_id=st.none() | st.text())
def test_student_names_round_trip_exactly(first: str, last: str, external_id: str | None) -> None:
    student = Student._create(
        Student.Registered,
        id=uuid4(),
        timestamp=NOW,
        school_id=uuid4(),
        first_name=first,
        last_name=last,
        grade=9,
        homeroom_id=None,
        hall_pass_id=7,
        external_id=external_id,
    )

    _, replayed = round_trip_all(student)

    assert replayed == student
    assert (replayed.first_name, replayed.last_name, replayed.external_id) == (
        first,
        last,
        external_id,
    )


@given(start=times, minutes=st.integers(1, 999), late=st.timedeltas(timedelta(0), timedelta(days=2)))
def test_pass_times_round_trip_exactly(start: datetime, minutes: int, late: timedelta) -> None:
    hall_pass = builders.started(
        source=Source.KIOSK, allotted_minutes=minutes, now=start, actor_kind="kiosk", actor_id=None
    )
    hall_pass.expire(now=hall_pass.due_at + late)

    events, replayed = round_trip_all(hall_pass)

    assert replayed == hall_pass
    assert replayed.start_at.utcoffset() == start.utcoffset()
    assert replayed.due_at == hall_pass.due_at
    expired = round_trip(events[-1])
    assert isinstance(expired, Pass.Expired)
    assert expired.due_at == hall_pass.due_at


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


@given(response=st.dictionaries(st.text(), json_values, max_size=4))
def test_idempotency_responses_round_trip_exactly(response: dict[str, Any]) -> None:
    record = idempotency_record(response=response)

    _, replayed = round_trip_all(record)

    assert replayed.response == response


def decoded_alike(stored: StoredEvent) -> None:
    """`Decoder` gives what the mapper gives: the same class, fields, values and value types."""
    expected, found = MAPPER.to_domain_event(stored), Decoder(MAPPER)(stored)
    assert type(found) is type(expected)
    assert found == expected
    assert vars(found) == vars(expected)
    assert {k: type(v) for k, v in vars(found).items()} == {k: type(v) for k, v in vars(expected).items()}


def ids_in(value: Any) -> list[UUID]:
    if isinstance(value, UUID):
        return [value]
    if isinstance(value, (tuple, list, frozenset)):
        return [i for v in value for i in ids_in(v)]
    return []


@pytest.mark.parametrize("make", AGGREGATES.values(), ids=AGGREGATES.keys())
def test_ids_as_asyncpg_reads_them_are_the_mappers_ids(make: Callable[[], Aggregate]) -> None:
    """A rebuild's decoder (`ids=as_read`) gives the mapper's events, equal field by field, with
    every id (in tuples and sets too) of asyncpg's UUID class, hashed as the mapper's ids are."""
    for original in make().collect_events():
        stored = MAPPER.to_stored_event(original)
        as_stored = replace(stored, originator_id=pgproto.UUID(str(stored.originator_id)))
        expected, found = MAPPER.to_domain_event(stored), Decoder(MAPPER, as_read)(as_stored)
        assert type(found) is type(expected)
        assert found == expected and vars(found) == vars(expected)
        ids = [i for v in vars(found).values() for i in ids_in(v)]
        assert ids and all(type(i) is pgproto.UUID for i in ids)
        assert [hash(i) for i in ids] == [hash(i) for v in vars(expected).values() for i in ids_in(v)]


@pytest.mark.parametrize("make", AGGREGATES.values(), ids=AGGREGATES.keys())
def test_the_rebuilds_decoder_gives_the_mappers_events(make: Callable[[], Aggregate]) -> None:
    for original in make().collect_events():
        decoded_alike(MAPPER.to_stored_event(original))


@pytest.mark.parametrize("make", AGGREGATES.values(), ids=AGGREGATES.keys())
def test_the_rebuilds_decoder_gives_each_events_fields_without_the_event(
    make: Callable[[], Aggregate],
) -> None:
    """`Decoder.fields`: what the event the decoder makes holds, field by field and type by type."""
    decode = Decoder(MAPPER, as_read)
    for original in make().collect_events():
        stored = MAPPER.to_stored_event(original)
        as_stored = replace(stored, originator_id=pgproto.UUID(str(stored.originator_id)))
        fields = decode.fields(as_stored)
        assert fields is not None
        assert fields == vars(decode(as_stored))
        assert [type(v) for v in fields.values()] == [type(v) for v in vars(decode(as_stored)).values()]


def test_the_rebuilds_decoder_gives_no_fields_where_the_mapper_decodes() -> None:
    """Earlier formats (to upcast, an id stored as text) and states that do not decode: no fields,
    the event only by the mapper."""
    decode = Decoder(MAPPER, as_read)
    opened = next(e for e in student_with_history().collect_events() if isinstance(e, Student.PassOpened))
    stored = MAPPER.to_stored_event(opened)
    state = orjson.loads(stored.state)
    del state["class_version"]  # as version 1 was written, before the pass's source
    assert decode.fields(stored) is not None
    assert decode.fields(replace(stored, state=orjson.dumps(state))) is None
    assert decode.fields(replace(stored, originator_id=str(stored.originator_id))) is None
    assert decode.fields(replace(stored, state=b"{not json")) is None


def test_the_rebuilds_decoder_leaves_earlier_formats_to_the_mapper() -> None:
    made = new_pass("water")
    (first, *_) = made.collect_events()
    new = replay([first])
    assert isinstance(new, Pass)
    decoded_alike(created_as_written_until_december_2026(new, "active", "portal", new.note))
    (_, completed) = completed_pass().collect_events()
    stored = MAPPER.to_stored_event(completed)
    state = orjson.loads(stored.state)
    del state["class_version"]
    decoded_alike(replace(stored, state=orjson.dumps({**state, "idempotency_key": "key-2"})))
    decoded_alike(replace(stored, originator_id=str(stored.originator_id)))
