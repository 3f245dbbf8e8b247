"""Deterministic ids: uniqueness enforced by the event store's primary key (index streams)."""

from __future__ import annotations

from functools import lru_cache
from uuid import UUID, uuid5

NAMESPACE = UUID("6f1c3f5e-8d4e-4c55-9a53-7c1f0a9e2b10")


def student_id(school_id: UUID, hall_pass_id: int) -> UUID:
    """A student's id follows from the school and hall pass ID, so the ID is unique per school."""
    return uuid5(school_id, f"student:{hall_pass_id}")


def staff_email_index(email: str) -> UUID:
    return uuid5(NAMESPACE, f"staff-email:{email.strip().lower()}")


def idempotency_record_id(school_id: UUID, principal: str, key: str) -> UUID:
    return uuid5(school_id, f"idempotency:{principal}:{key}")


@lru_cache(maxsize=1 << 16)  # a roster import asks for each many times
def _from_roster(district_id: UUID, kind: str, sourced_id: str) -> UUID:
    """The id that follows from a roster record's `sourcedId`, unique per district and kind."""
    return uuid5(district_id, f"{kind}:{sourced_id.strip()}")


def sourced_id_index(district_id: UUID, sourced_id: str) -> UUID:
    """A roster `sourcedId` (OneRoster users: students and staff alike) is unique per district."""
    return _from_roster(district_id, "sourced-id", sourced_id)


def org_index(district_id: UUID, sourced_id: str) -> UUID:
    """A roster org's `sourcedId`: its claim names the school it became."""
    return _from_roster(district_id, "org", sourced_id)


def class_id(district_id: UUID, sourced_id: str) -> UUID:
    """A class's id follows from its roster `sourcedId`."""
    return _from_roster(district_id, "class", sourced_id)


def enrolment_id(district_id: UUID, sourced_id: str) -> UUID:
    """An enrolment's id follows from its roster `sourcedId` (OneRoster spells it enrollment)."""
    return _from_roster(district_id, "enrollment", sourced_id)


def roster_room_id(school_id: UUID, name: str) -> UUID:
    """A classroom a roster names and the school did not have, made by the import."""
    return uuid5(school_id, f"roster-room:{name.strip().casefold()}")


def org_school_id(district_id: UUID, sourced_id: str) -> UUID:
    """A school the roster's org made: its id follows from the org's `sourcedId`."""
    return uuid5(district_id, f"org-school:{sourced_id.strip()}")


@lru_cache(maxsize=1 << 12)  # asked for by every pass command
def emergency_id(school_id: UUID) -> UUID:
    """A school's emergency state: one stream per school (docs/decisions/081)."""
    return uuid5(school_id, "emergency")


@lru_cache(maxsize=1 << 12)  # asked for by every pass command
def rules_id(school_id: UUID) -> UUID:
    """A school's hallway rules (limits, bell schedule, blackouts): one stream per school."""
    return uuid5(school_id, "hallway-rules")
