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

from hallpass.aggregates.administration import Administered, Deactivation, Reactivation, Revision


class SchoolClass(Aggregate):
    class Registered(Administered, Aggregate.Created):
        school_id: UUID
        sourced_id: str
        title: str
        code: str | None
        homeroom: bool
        room_id: UUID | None
        periods: tuple[str, ...]

    class Changed(Revision):
        title: str
        code: str | None
        homeroom: bool
        room_id: UUID | None
        periods: tuple[str, ...]

        def convert(self, name: str, value: object) -> object:
            return tuple(value) if name == "periods" and isinstance(value, list) else value

    class Deactivated(Deactivation):
        """The class is no longer taught; its history stays."""

    class Reactivated(Reactivation):
        pass

    active: bool = True

    def __init__(
        self,
        *,
        school_id: UUID,
        sourced_id: str,
        title: str,
        code: str | None,
        homeroom: bool,
        room_id: UUID | None,
        periods: tuple[str, ...],
    ) -> None:
        self.school_id = school_id
        self.sourced_id = sourced_id
        self.title = title
        self.code = code
        self.homeroom = homeroom
        self.room_id = room_id
        self.periods = tuple(periods)


class Member(StrEnum):
    """What an enrolment makes its person in the class."""

    STUDENT = "student"
    TEACHER = "teacher"


class Enrolment(Aggregate):
    class Registered(Administered, Aggregate.Created):
        school_id: UUID
        sourced_id: str
        class_id: UUID
        person_id: UUID
        member: str
        primary: bool
        begins: date | None
        ends: date | None

    class Changed(Revision):
        class_id: UUID
        person_id: UUID
        member: str
        primary: bool
        begins: date | None
        ends: date | None

    class Deactivated(Deactivation):
        """The person has left the class; the history keeps that they were in it."""

    class Reactivated(Reactivation):
        pass

    active: bool = True

    def __init__(
        self,
        *,
        school_id: UUID,
        sourced_id: str,
        class_id: UUID,
        person_id: UUID,
        member: str,
        primary: bool,
        begins: date | None,
        ends: date | None,
    ) -> None:
        self.school_id = school_id
        self.sourced_id = sourced_id
        self.class_id = class_id
        self.person_id = person_id
        self.member = member
        self.primary = primary
        self.begins = begins
        self.ends = ends
