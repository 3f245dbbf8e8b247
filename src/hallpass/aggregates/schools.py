"""The School aggregate: a tenant with its time zone."""

from __future__ import annotations

from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from eventsourcing.domain import Aggregate

from hallpass.errors import Invalid


def check_timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as e:
        raise Invalid(f"unknown time zone {name!r}", field="timezone") from e
    return name


class School(Aggregate):
    class Registered(Aggregate.Created):
        district_id: UUID
        name: str
        timezone: str

    def __init__(self, *, district_id: UUID, name: str, timezone: str) -> None:
        self.district_id = district_id
        self.name = name
        self.timezone = timezone
