"""The District aggregate: the schools of one school system, and who administers all of them."""

from __future__ import annotations

from eventsourcing.domain import Aggregate

from hallpass.aggregates.administration import Revision


class District(Aggregate):
    """A district. Its schools name it (`School.Registered.district_id`); a district
    administrator administers every one of them."""

    class Founded(Aggregate.Created):
        name: str

    class Changed(Revision):
        name: str

    def __init__(self, *, name: str) -> None:
        self.name = name
