"""Classes and enrolments, as the roster gives them: who is taught where, and by whom.

A class (OneRoster `classes.csv`) meets in a room of its school; an enrolment
(`enrollments.csv`) puts a student or a teacher in a class. Both are matched by their roster
`sourcedId`, from which their ids follow (`ids.class_id`, `ids.enrolment_id`), and change only
through administered events that name their cause (decision 077).
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from uuid import UUID

from eventsourcing.domain import Aggregate

from hallpass.aggregates.administration import Deactivation, Reactivation, Registration, Revision
from hallpass.aggregates.base import Fields, InSchool


class ClassFields(Fields):
    """What the roster says of a class, written once: the fields of `SchoolClass.Registered` and
    `SchoolClass.Changed`, and the aggregate's attributes."""

    title: str
    code: str | None
    homeroom: bool
    room_id: UUID | None
    periods: tuple[str, ...]

    held_as = {"periods": tuple}


class Rostered(InSchool):
    """Where a class or an enrolment is, and its roster `sourcedId` (from which its id follows)."""

    sourced_id: str


class SchoolClass(Rostered, ClassFields, Aggregate):
    class Registered(Rostered, ClassFields, Registration):
        """A class of the roster, and the import that brought it."""

    class Changed(ClassFields, Revision):
        """New values from a later roster."""

    class Deactivated(Deactivation):
        """The class is no longer taught; its history stays."""

    class Reactivated(Reactivation):
        pass

    active: bool = True


class Member(StrEnum):
    """What an enrolment makes its person in the class."""

    STUDENT = "student"
    TEACHER = "teacher"


class EnrolmentFields(Fields):
    """What the roster says of an enrolment, written once: the fields of `Enrolment.Registered`
    and `Enrolment.Changed`, and the aggregate's attributes."""

    class_id: UUID
    person_id: UUID
    member: str
    primary: bool
    begins: date | None
    ends: date | None


class Enrolment(Rostered, EnrolmentFields, Aggregate):
    class Registered(Rostered, EnrolmentFields, Registration):
        """A student or a teacher in a class, and the import that brought them."""

    class Changed(EnrolmentFields, Revision):
        """New values from a later roster."""

    class Deactivated(Deactivation):
        """The person has left the class; the history keeps that they were in it."""

    class Reactivated(Reactivation):
        pass

    active: bool = True
