"""Aggregates as a unit test wants them: every field has a plain default; a test names only the
fields it is about. Nothing here touches a database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar
from uuid import uuid4

from hallpass.aggregates.locations import Location
from hallpass.aggregates.passes import Pass, Source, TerminationReason
from hallpass.aggregates.staff import Staff
from hallpass.aggregates.students import Student

NOW = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
# Zones a property test samples: behind and ahead of UTC, half- and quarter-hour offsets, a
# half-hour daylight-saving shift (Lord Howe), none at all (Phoenix, Kolkata), the date line.
ZONES = [
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Phoenix",
    "America/Los_Angeles",
    "America/Anchorage",
    "America/St_Johns",
    "Pacific/Honolulu",
    "Europe/London",
    "Europe/Berlin",
    "Australia/Sydney",
    "Australia/Lord_Howe",
    "Asia/Kolkata",
    "Pacific/Chatham",
    "Etc/GMT+11",
    "Etc/GMT-14",
]
A = TypeVar("A", Pass, Student, Location)
B = TypeVar("B", Student, Location, Staff)


def _pass_fields(fields: dict[str, Any]) -> dict[str, Any]:
    return {
        "pass_id": uuid4(),
        "school_id": uuid4(),
        "student_id": uuid4(),
        "origin_id": uuid4(),
        "destination_id": uuid4(),
        "allotted_minutes": 5,
        "now": NOW,
        "actor_kind": "staff",
        "actor_id": uuid4(),
    } | fields


def started(**fields: Any) -> Pass:
    """A pass a member of staff started at NOW (its Started event not yet collected)."""
    return Pass.start(**_pass_fields({"source": Source.STAFF} | fields))


def scheduled(**fields: Any) -> Pass:
    """A pass scheduled at NOW to start an hour later."""
    now = fields.get("now", NOW)
    return Pass.schedule(**_pass_fields({"start_at": now + timedelta(hours=1)} | fields))


def requested(**fields: Any) -> Pass:
    """A pass a student asked for in the portal at NOW."""
    student_id = fields.get("student_id", uuid4())
    defaults = {"student_id": student_id, "actor_kind": "student", "actor_id": student_id}
    return Pass.request(**_pass_fields(defaults | fields))


def _created(aggregate: type[B], event: type[Any], defaults: dict[str, Any], fields: dict[str, Any]) -> B:
    """An aggregate of a new id in a new school, created at NOW."""
    base: dict[str, Any] = {"id": uuid4(), "timestamp": NOW, "school_id": uuid4()}
    return aggregate._create(event, **(base | defaults | fields))


def student(**fields: Any) -> Student:
    """Ada Lovelace, grade 9, hall pass ID 1001, registered at NOW."""
    defaults = dict(
        first_name="Ada", last_name="Lovelace", grade=9, homeroom_id=None, hall_pass_id=1001, external_id=None
    )
    return _created(Student, Student.Registered, defaults, fields)


def location(**fields: Any) -> Location:
    """Restroom B: five minutes, no capacity, at kiosks and in the portal without approval."""
    defaults: dict[str, Any] = {
        "name": "Restroom B",
        "kind": "restroom",
        "allotted_minutes": 5,
        "capacity": None,
        "kiosk_allowed": True,
        "portal_allowed": True,
        "needs_approval": False,
    }
    return _created(Location, Location.Added, defaults, fields)


def staff(**fields: Any) -> Staff:
    """Mr. Ng, a teacher with a room of his own, hired at NOW."""
    defaults = dict(name="Mr. Ng", email="ng@example.org", roles=("teacher",), room_id=uuid4())
    return _created(Staff, Staff.Hired, defaults, fields)


def dismiss(hall_pass: Pass, *, note: str = "", now: datetime = NOW + timedelta(hours=6)) -> None:
    """End `hall_pass` at the school's dismissal, as the system does (by default six hours on)."""
    hall_pass.terminate(
        reason=TerminationReason.DISMISSED, note=note, now=now, actor_kind="system", actor_id=None
    )


def fresh(aggregate: A) -> A:
    """`aggregate` with its pending events collected, as if loaded from the store."""
    aggregate.collect_events()
    return aggregate


def only_event(hall_pass: Pass) -> Pass.Event:
    """The one event `hall_pass` has recorded since it was last collected."""
    (event,) = hall_pass.collect_events()
    assert isinstance(event, Pass.Event)
    return event
