"""Fields written once (`hallpass.aggregates.base`): the events that carry them store them under
their own names, and the aggregate holds them as `restore` says, new and after a replay."""

from __future__ import annotations

import dataclasses
from typing import Any
from uuid import uuid4

import pytest

from hallpass.acting import ActedBy
from hallpass.aggregates.administration import revise
from hallpass.aggregates.base import Fields, declared, state_fields
from hallpass.aggregates.classes import ClassFields, SchoolClass
from hallpass.aggregates.encoding import TypedMapper
from hallpass.aggregates.keep_apart import Group, GroupFields
from hallpass.aggregates.kiosks import KioskFields, Setup
from hallpass.aggregates.locations import Location, LocationFields, LocationKind
from hallpass.aggregates.staff import Role, Staff, StaffFields
from hallpass.aggregates.students import Student, StudentFields, StudentRecord
from support import builders
from support.builders import NOW

MAPPER = TypedMapper()
BY: ActedBy = {"actor_kind": "staff", "actor_id": uuid4()}


def replayed(aggregate: Any) -> Any:
    loaded = None
    for event in aggregate.collect_events():
        loaded = MAPPER.to_domain_event(MAPPER.to_stored_event(event)).mutate(loaded)  # type: ignore[attr-defined]
    return loaded


@pytest.mark.parametrize(
    ("fields", "created", "changed", "own"),
    [
        (StudentFields, Student.Registered, Student.Changed, ["school_id"]),
        (StaffFields, Staff.Hired, Staff.Changed, ["school_id"]),
        (LocationFields, Location.Added, Location.Changed, ["school_id"]),
        (ClassFields, SchoolClass.Registered, SchoolClass.Changed, ["school_id", "sourced_id"]),
    ],
)
def test_the_fields_declared_once_are_what_the_creation_and_the_change_store(
    fields: type[Fields], created: type, changed: type, own: list[str]
) -> None:
    assert sorted(state_fields(changed)) == sorted(declared(fields))
    assert sorted(state_fields(created)) == sorted([*declared(fields), *own])
    carried = [f for f in dataclasses.fields(created) if f.name in declared(fields)]
    assert all(f.kw_only for f in carried), "carried fields never clash with an event's own order"


def test_a_students_record_value_names_the_fields_the_aggregate_declares() -> None:
    """The API body and the kiosk's candidate (`StudentRecord`) carry what a student is."""
    assert sorted(StudentRecord.__struct_fields__) == sorted(declared(StudentFields))


@pytest.mark.parametrize(
    ("given", "fields", "made"),
    [(Group, GroupFields, []), (Setup, KioskFields, ["secret_digest"])],
)
def test_what_a_factory_is_given_is_its_fields_but_what_it_makes(
    given: type, fields: type[Fields], made: list[str]
) -> None:
    """A factory's `TypedDict` (decision 108) names the fields it passes on, no more and no fewer."""
    assert sorted([*given.__annotations__, *made]) == sorted(declared(fields))


def test_a_place_holds_its_kind_as_the_enum_when_added_changed_and_replayed() -> None:
    place = builders.location(kind="nurse")
    kinds = [place.kind]
    values = {name: getattr(place, name) for name in declared(LocationFields)}
    revise(place, Location.Changed, now=NOW, by=BY, cause=None, **(values | {"kind": "office"}))
    kinds.append(place.kind)
    assert kinds == [LocationKind.NURSE, LocationKind.OFFICE]
    assert all(type(kind) is LocationKind for kind in kinds)
    loaded = replayed(place)
    assert loaded.kind is LocationKind.OFFICE and loaded.school_id == place.school_id
    assert loaded.occupants == ()


def test_a_member_of_staff_holds_roles_in_order_and_the_first_as_the_main_role() -> None:
    member = builders.staff(roles=("compliance", "teacher"))
    assert (member.roles, member.role) == ((Role.TEACHER, Role.COMPLIANCE), Role.TEACHER)
    values = {name: getattr(member, name) for name in declared(StaffFields)}
    revise(member, Staff.Changed, now=NOW, by=BY, cause=None, **(values | {"roles": ["analyst", "admin"]}))
    loaded = replayed(member)
    assert (loaded.roles, loaded.role) == ((Role.ADMIN, Role.ANALYST), Role.ADMIN)


def test_a_creation_copies_its_fields_but_not_who_acted() -> None:
    student = builders.student(actor_kind="staff", actor_id=BY["actor_id"])
    assert student.full_name == "Ada Lovelace" and student.open_pass_id is None
    assert not hasattr(student, "actor_kind") and not hasattr(student, "cause")
    (event,) = student.collect_events()
    assert isinstance(event, Student.Registered) and event.full_name == student.full_name
