"""Administrative changes: an event only when something changes, its state after a replay, and
stored rows of the earlier staff and student events read as today's."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import uuid4

import orjson
import pytest
from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import get_topic
from hypothesis import given
from hypothesis import strategies as st

from hallpass.acting import ActedBy
from hallpass.aggregates.administration import Cause, Claim, revise, switch
from hallpass.aggregates.encoding import TypedMapper
from hallpass.aggregates.locations import Location, LocationKind
from hallpass.aggregates.staff import Role, Staff
from hallpass.aggregates.students import Student
from hallpass.errors import StudentInactive
from support import builders
from support.builders import NOW

MAPPER = TypedMapper()
BY: ActedBy = {"actor_kind": "staff", "actor_id": uuid4()}
NOW_BY: dict[str, Any] = {"now": NOW, "by": BY, "cause": None}
CAUSE: Cause = {"kind": "import", "import_id": "imp-1", "file": "users.csv", "line": 7}

names = st.text(st.characters(codec="utf-8", exclude_categories=("Cc", "Cs")), min_size=1, max_size=20)


def reload(aggregate: Any) -> Any:
    """The aggregate as the log gives it back: every event stored, read and replayed."""
    loaded = None
    for event in aggregate.collect_events():
        loaded = MAPPER.to_domain_event(MAPPER.to_stored_event(event)).mutate(loaded)  # type: ignore[attr-defined]
    return loaded


def student_fields(student: Student, **changes: Any) -> dict[str, Any]:
    fields = {
        "first_name": student.first_name,
        "last_name": student.last_name,
        "grade": student.grade,
        "homeroom_id": student.homeroom_id,
        "hall_pass_id": student.hall_pass_id,
        "external_id": student.external_id,
        "sourced_id": student.sourced_id,
    }
    return fields | changes


@given(first=names, grade=st.integers(-1, 14), external=st.none() | names)
def test_a_student_change_is_recorded_only_when_a_value_differs(
    first: str, grade: int, external: str | None
) -> None:
    student = builders.student()
    fields = student_fields(student, first_name=first, grade=grade, external_id=external)
    differs = any(getattr(student, k) != v for k, v in fields.items())
    changed = revise(student, Student.Changed, now=NOW, by=BY, cause=CAUSE, **fields)
    assert changed == differs
    again = revise(student, Student.Changed, now=NOW, by=BY, cause=CAUSE, **fields)
    assert again is False, "the same values again append nothing"
    loaded = reload(student)
    assert (loaded.first_name, loaded.grade, loaded.external_id) == (first, grade, external)
    if changed:
        assert loaded.version == 2


def test_a_change_carries_who_and_why() -> None:
    student = builders.student()
    revise(student, Student.Changed, now=NOW, by=BY, cause=CAUSE, **student_fields(student, grade=10))
    (_, event) = student.collect_events()
    stored = MAPPER.to_domain_event(MAPPER.to_stored_event(event))
    assert isinstance(stored, Student.Changed)
    assert stored.cause == CAUSE and stored.actor_id == BY["actor_id"]


def test_a_change_must_name_every_administered_field() -> None:
    student = builders.student()
    with pytest.raises(TypeError):
        revise(student, Student.Changed, now=NOW, by=BY, cause=None, grade=10)


def set_student_active(student: Student, active: bool) -> bool:
    """Deactivate or reactivate `student` now, as an administrator would; whether it changed."""
    return switch(student, active, deactivated=Student.Deactivated, reactivated=Student.Reactivated, **NOW_BY)


def test_a_deactivated_student_gets_no_pass_until_reactivated() -> None:
    student = builders.student()
    assert set_student_active(student, False)
    assert not set_student_active(student, False)
    loaded = reload(student)
    with pytest.raises(StudentInactive):
        loaded.open_pass(pass_id=uuid4(), destination_id=uuid4(), now=NOW)
    set_student_active(loaded, True)
    loaded.open_pass(pass_id=uuid4(), destination_id=uuid4(), now=NOW + timedelta(minutes=1))
    assert loaded.open_pass_id is not None


def test_a_location_change_keeps_its_kind_typed_and_archiving_hides_nothing_of_its_state() -> None:
    location = builders.location()
    fields = {
        "name": "Restroom C",
        "kind": "other",
        "allotted_minutes": 6,
        "capacity": 4,
        "kiosk_allowed": False,
        "portal_allowed": True,
        "needs_approval": True,
    }
    assert revise(location, Location.Changed, now=NOW, by=BY, cause=None, **fields)
    switch(location, False, deactivated=Location.Archived, reactivated=Location.Restored, **NOW_BY)
    loaded = reload(location)
    assert loaded.kind is LocationKind.OTHER and loaded.capacity == 4 and loaded.archived


def staff_v1_row(role: str) -> StoredEvent:
    staff_id = uuid4()
    state = {
        "originator_id": str(staff_id),
        "originator_version": 1,
        "timestamp": NOW.isoformat(),
        "originator_topic": get_topic(Staff),
        "school_id": str(uuid4()),
        "name": "Ada Byron",
        "email": "ada@example.org",
        "role": role,
        "room_id": None,
    }
    return StoredEvent(staff_id, 1, get_topic(Staff.Hired), orjson.dumps(state))


@pytest.mark.parametrize("role", [r.value for r in Role if r is not Role.DISTRICT_ADMIN])
def test_a_member_of_staff_hired_with_one_role_reads_as_holding_that_role(role: str) -> None:
    event = MAPPER.to_domain_event(staff_v1_row(role))
    assert isinstance(event, Staff.Hired)
    assert event.roles == (role,) and event.sourced_id is None
    staff = event.mutate(None)
    assert isinstance(staff, Staff)
    assert staff.roles == (Role(role),) and staff.role == role and staff.active


def test_roles_are_kept_once_each_in_a_fixed_order() -> None:
    staff = builders.staff(roles=("teacher", "district_admin", "teacher"), room_id=None)
    assert staff.roles == (Role.DISTRICT_ADMIN, Role.TEACHER) and staff.role is Role.DISTRICT_ADMIN
    fields = {"name": "Cleo", "email": "cleo@example.org", "room_id": None, "sourced_id": "t-9"}
    assert revise(staff, Staff.Changed, now=NOW, by=BY, cause=None, roles=("office",), **fields)
    loaded = reload(staff)
    assert loaded.roles == (Role.OFFICE,) and loaded.role is Role.OFFICE and loaded.sourced_id == "t-9"


def test_a_claim_released_may_be_taken_by_another_record_and_not_before() -> None:
    first, second = uuid4(), uuid4()
    claim = Claim._create(Claim.Made, id=uuid4(), timestamp=NOW, key="ada@example.org", owner_id=first)
    assert claim.take(first, now=NOW)
    assert not claim.take(second, now=NOW)
    claim.release(now=NOW)
    assert claim.take(second, now=NOW)
    assert reload(claim).owner_id == second
