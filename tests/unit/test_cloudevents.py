"""The stream's encoding: each event type the stream can carry, as a CloudEvents 1.0 object, with
students pseudonymised per district and notes left out, or named and kept for identified access."""

from __future__ import annotations

import dataclasses
import typing
from datetime import UTC, date, datetime, time
from typing import Any
from uuid import UUID, uuid4

import orjson
import pytest

from hallpass.aggregates.emergencies import Emergency
from hallpass.aggregates.locations import Location
from hallpass.aggregates.passes import Pass
from hallpass.aggregates.schedules import Schedule
from hallpass.analytics.cloudevents import (
    PSEUDONYM_PREFIX,
    TYPES,
    Audience,
    district_key,
    encode,
    topics,
)

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
SCHOOL = UUID("00000000-0000-4000-8000-00000000000a")
STUDENT = UUID("00000000-0000-4000-8000-0000000000b1")
OTHER_STUDENT = UUID("00000000-0000-4000-8000-0000000000b2")
STAFF = UUID("00000000-0000-4000-8000-0000000000c1")
NOTE = "Private note about Ada Lovelace"
SECRET = "server-secret"
DISTRICT = UUID("00000000-0000-4000-8000-0000000000d1")
PSEUDONYMOUS = Audience(district_key(SECRET, DISTRICT))
IDENTIFIED = Audience(district_key(SECRET, DISTRICT), identified=True)

# What a location event says of the place: what it is, and where students may pick it.
PLACE = {"name", "kind", "allotted_minutes", "capacity"}
PICKING = {"kiosk_allowed", "portal_allowed", "needs_approval"}
# The data each type gives a pseudonymised reader (keys), beside the actor every one of them names.
EXPECTED: dict[type, set[str]] = {
    Pass.Started: {"school_id", "student", "origin_id", "destination_id", "allotted_minutes", "source"},
    Pass.Scheduled: {"school_id", "student", "origin_id", "destination_id", "allotted_minutes", "start_at"},
    Pass.Requested: {"school_id", "student", "origin_id", "destination_id", "allotted_minutes"},
    Pass.Approved: {"school_id", "due_at", "allotted_minutes"},
    Pass.Denied: set(),
    Pass.Activated: set(),
    Pass.Rescheduled: {"start_at", "allotted_minutes"},
    Pass.Cancelled: {"reason"},
    Pass.Completed: set(),
    Pass.ReturnRecorded: set(),
    Pass.Expired: {"due_at"},
    Pass.Terminated: {"reason"},
    Schedule.Created: {
        "school_id",
        "students",
        "origin_id",
        "destination_id",
        "weekdays",
        "at",
        "first_date",
        "last_date",
        "timezone",
        "allotted_minutes",
        "pass_ids",
    },
    Schedule.Cancelled: set(),
    Emergency.Declared: set(),
    Emergency.WasOut: {"student", "pass_id", "destination_id", "since"},
    Emergency.MarkedSafe: {"student"},
    Emergency.Ended: set(),
    Location.Added: {"school_id", *PLACE, *PICKING},
    Location.Changed: PLACE | PICKING,
    Location.Archived: set(),
    Location.Restored: set(),
}
NOTED = {Pass.Started, Pass.Scheduled, Pass.Approved, Pass.Denied, Pass.Rescheduled, Pass.Cancelled}
NOTED |= {Pass.Terminated}
WITHOUT_ACTOR = {Pass.Expired, Emergency.WasOut}


def value_for(name: str, hint: Any) -> Any:
    """A value of the field's type: the student, a note, or a plain one."""
    if name == "student_id":
        return STUDENT
    if name == "student_ids":
        return [STUDENT, OTHER_STUDENT]
    if name in ("note", "decision_note"):
        return NOTE
    if name == "actor_kind":
        return "staff"
    if name == "actor_id":
        return STAFF
    if name == "school_id":
        return SCHOOL
    if name == "cause":
        return {"kind": "admin", "note": NOTE}
    origin = typing.get_origin(hint)
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    if origin is not None and args and origin not in (list, tuple):
        hint = args[0]
        origin = typing.get_origin(hint)
    if origin in (list, tuple):
        return [value_for("", typing.get_args(hint)[0])]
    made: dict[Any, Any] = {UUID: uuid4(), datetime: NOW, date: NOW.date(), time: time(10, 15), bool: True}
    made |= {int: 5, str: "restroom"}
    return made.get(hint, "x")


def event_of(cls: type, **fields: Any) -> Any:
    hints = typing.get_type_hints(cls)
    values = {"originator_id": uuid4(), "originator_version": 3, "timestamp": NOW}
    for name, hint in hints.items():
        if name not in values and name in {f.name for f in dataclasses.fields(cls)}:
            values[name] = value_for(name, hint)
    return cls(**(values | fields))


def test_every_type_the_stream_carries_has_its_test() -> None:
    assert set(EXPECTED) == set(TYPES)


@pytest.mark.parametrize("cls", list(TYPES), ids=[TYPES[c] for c in TYPES])
def test_each_type_as_a_pseudonymised_cloudevent(cls: type) -> None:
    event = event_of(cls)
    out = encode(event, school_id=SCHOOL, cursor="c1.x", audience=PSEUDONYMOUS)
    assert out["specversion"] == "1.0"
    assert out["type"] == TYPES[cls] and out["type"].startswith("hallpass.")
    assert out["id"] == f"{event.originator_id}:3"
    assert out["source"] == f"/hallpass/schools/{SCHOOL}"
    assert out["subject"].endswith(f"/{event.originator_id}")
    assert out["time"] == "2026-03-02T09:30:00+00:00"
    assert out["datacontenttype"] == "application/json"
    assert out["hallpasscursor"] == "c1.x" and out["hallpassidentity"] == "pseudonymised"
    data = out["data"]
    assert set(data) - {"actor"} == EXPECTED[cls]
    if cls not in WITHOUT_ACTOR:
        assert data["actor"] == {"kind": "staff", "id": str(STAFF)}
    text = orjson.dumps(out).decode()
    assert str(STUDENT) not in text and str(OTHER_STUDENT) not in text and NOTE not in text
    named = ([data["student"]] if "student" in data else []) + data.get("students", [])
    for pseudonym in named:
        assert pseudonym.startswith(PSEUDONYM_PREFIX) and len(pseudonym) == 34
    assert topics([cls]), "the stream must know the topic it reads the type from"


@pytest.mark.parametrize("cls", list(TYPES), ids=[TYPES[c] for c in TYPES])
def test_each_type_as_an_identified_cloudevent(cls: type) -> None:
    data = encode(event_of(cls), school_id=SCHOOL, cursor="c1.x", audience=IDENTIFIED)["data"]
    assert set(data) - {"actor", "note", "decision_note"} == EXPECTED[cls]
    assert ("note" in data) == (cls in NOTED)
    if "student" in data:
        assert data["student"] == str(STUDENT)
    if "students" in data:
        assert data["students"] == [str(STUDENT), str(OTHER_STUDENT)]


def test_a_pseudonym_is_stable_in_a_district_and_differs_in_another() -> None:
    first = encode(event_of(Pass.Completed), school_id=SCHOOL, cursor="c", audience=PSEUDONYMOUS)
    started = event_of(Pass.Started)
    again = encode(started, school_id=SCHOOL, cursor="c", audience=PSEUDONYMOUS)["data"]["student"]
    assert again == PSEUDONYMOUS.student(STUDENT) != PSEUDONYMOUS.student(OTHER_STUDENT)
    elsewhere = Audience(district_key(SECRET, uuid4()))
    assert elsewhere.student(STUDENT) != again
    assert Audience(district_key("another server", DISTRICT)).student(STUDENT) != again
    assert first["data"]["actor"]["kind"] == "staff"


def test_a_student_acting_is_pseudonymised_too() -> None:
    requested = event_of(Pass.Requested, actor_kind="student", actor_id=STUDENT)
    data = encode(requested, school_id=SCHOOL, cursor="c", audience=PSEUDONYMOUS)["data"]
    assert data["actor"] == {"kind": "student", "id": PSEUDONYMOUS.student(STUDENT)}
    system = event_of(Pass.Expired)
    assert encode(system, school_id=SCHOOL, cursor="c", audience=PSEUDONYMOUS)["data"]["due_at"]


def test_the_superseded_creation_and_a_moved_class_keep_their_topics() -> None:
    assert "hallpass.aggregates.passes:Pass.Created" in topics([Pass.Started])
    assert "hallpass.aggregates.passes:Schedule.Created" in topics([Schedule.Created])
    assert "hallpass.aggregates.passes:Pass.Created" not in topics([Pass.Completed])
