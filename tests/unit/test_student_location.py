"""Student (one open pass at a time) and Location (never over capacity) decisions."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

import pytest

from hallpass.aggregates.locations import Location
from hallpass.aggregates.students import Student
from hallpass.errors import DestinationFull, StudentAlreadyOut
from support import builders
from support.builders import fresh

NOW = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)


def given_student() -> Student:
    return fresh(builders.student())


def given_location(capacity: int | None) -> Location:
    return fresh(builders.location(capacity=capacity))


# -- Student -------------------------------------------------------------------------------


def test_opening_a_pass_records_it_on_the_student() -> None:
    student = given_student()
    pass_id, destination = uuid4(), uuid4()

    student.open_pass(pass_id=pass_id, destination_id=destination, now=NOW)

    (event,) = student.collect_events()
    assert isinstance(event, Student.PassOpened)
    assert (event.pass_id, event.destination_id) == (pass_id, destination)
    assert student.open_pass_id == pass_id
    assert student.open_pass_destination_id == destination


def test_opening_a_second_pass_is_refused_naming_the_open_one() -> None:
    student = given_student()
    first, destination = uuid4(), uuid4()
    student.open_pass(pass_id=first, destination_id=destination, now=NOW)
    student.collect_events()
    version = student.version

    with pytest.raises(StudentAlreadyOut) as refused:
        student.open_pass(pass_id=uuid4(), destination_id=uuid4(), now=NOW)

    assert refused.value.details["pass_id"] == str(first)
    assert refused.value.details["destination_id"] == str(destination)
    assert refused.value.details["student_id"] == str(student.id)
    assert "Ada Lovelace" in refused.value.message
    assert student.open_pass_id == first
    assert student.version == version
    assert student.collect_events() == []


def test_after_closing_a_pass_the_student_may_open_another() -> None:
    student = given_student()
    first, second = uuid4(), uuid4()
    student.open_pass(pass_id=first, destination_id=uuid4(), now=NOW)
    student.close_pass(pass_id=first, now=NOW)

    student.open_pass(pass_id=second, destination_id=uuid4(), now=NOW)

    kinds = [type(e) for e in student.collect_events()]
    assert kinds == [Student.PassOpened, Student.PassClosed, Student.PassOpened]
    assert student.open_pass_id == second


def test_closing_another_pass_does_nothing() -> None:
    student = given_student()
    open_pass = uuid4()
    student.open_pass(pass_id=open_pass, destination_id=uuid4(), now=NOW)
    student.collect_events()

    student.close_pass(pass_id=uuid4(), now=NOW)

    assert student.collect_events() == []
    assert student.open_pass_id == open_pass


def test_closing_when_no_pass_is_open_does_nothing() -> None:
    student = given_student()

    student.close_pass(pass_id=uuid4(), now=NOW)

    assert student.collect_events() == []
    assert student.open_pass_id is None


# -- Location ------------------------------------------------------------------------------


def test_a_place_with_capacity_two_admits_two_then_is_full() -> None:
    location = given_location(capacity=2)
    first, second = uuid4(), uuid4()
    location.admit(pass_id=first, now=NOW)
    location.admit(pass_id=second, now=NOW)

    with pytest.raises(DestinationFull) as refused:
        location.admit(pass_id=uuid4(), now=NOW)

    assert refused.value.details == {"location_id": str(location.id), "capacity": 2}
    assert location.occupants == (first, second)
    assert [type(e) for e in location.collect_events()] == [Location.Entered] * 2


def test_releasing_a_pass_frees_a_place() -> None:
    location = given_location(capacity=2)
    first, second, third = uuid4(), uuid4(), uuid4()
    location.admit(pass_id=first, now=NOW)
    location.admit(pass_id=second, now=NOW)

    location.release(pass_id=first, now=NOW)
    location.admit(pass_id=third, now=NOW)

    assert location.occupants == (second, third)


def test_releasing_a_pass_that_is_not_inside_does_nothing() -> None:
    location = given_location(capacity=2)
    inside = uuid4()
    location.admit(pass_id=inside, now=NOW)
    location.collect_events()

    location.release(pass_id=uuid4(), now=NOW)

    assert location.collect_events() == []
    assert location.occupants == (inside,)


def test_a_place_without_capacity_admits_everyone_without_events() -> None:
    location = given_location(capacity=None)

    for _ in range(50):
        location.admit(pass_id=uuid4(), now=NOW)

    assert not location.counts_occupants
    assert location.collect_events() == []
    assert location.occupants == ()
