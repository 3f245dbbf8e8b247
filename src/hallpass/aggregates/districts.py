"""The District aggregate: the schools of one school system, and who administers all of them."""

from __future__ import annotations

from eventsourcing.domain import Aggregate

from hallpass.aggregates.administration import Revision
from hallpass.aggregates.base import Copied, Fields


class DistrictFields(Fields):
    """What administrators say of a district: the fields of its events and the aggregate's."""

    name: str


class District(DistrictFields, Aggregate):
    """A district. Its schools name it (`School.Registered.district_id`); a district
    administrator administers every one of them."""

    class Founded(DistrictFields, Copied):
        """A district begins with its name (who founded it is the first run's, decision 072)."""

    class Changed(DistrictFields, Revision):
        """A new name."""
