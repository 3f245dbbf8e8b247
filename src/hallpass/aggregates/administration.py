"""What administrative changes share: who made them, why (`Cause`), and the index streams
(`Claim`) that keep an email, a hall pass ID or a roster `sourcedId` with one record.

Every change an administrator or a roster import makes to a district, school, location, member
of staff or student is an `Administered` event: it names who acted and, optionally, its cause
(the import, the file and the line; or the admin request), so the history says where each
record came from (docs/decisions/072).
"""

from __future__ import annotations

from dataclasses import KW_ONLY
from datetime import datetime
from typing import Any, TypedDict
from uuid import UUID

from eventsourcing.domain import Aggregate

from hallpass.acting import ActedBy
from hallpass.aggregates.base import Acted, Copied, Sets, copy_state, state_fields


class Cause(TypedDict, total=False):
    """Why a change happened. `kind` is `import` (with `import_id`, `file`, `line`), `admin`
    (a change made by hand in the admin pages or API), or `setup` (the first run)."""

    kind: str
    import_id: str
    file: str
    line: int
    note: str


class Provenance(TypedDict):
    """When a change is made, by whom, and why: what `revise` and `switch` record with it."""

    now: datetime
    by: ActedBy
    cause: Cause | None


def unattributed(state: dict[str, Any]) -> None:
    """Upcast a creation event from before creations named who made them and why."""
    state["actor_kind"] = "system"
    state["actor_id"] = None
    state["cause"] = None


class Administered(Acted):
    """An administrative change: who made it and, if known, why."""

    cause: Cause | None


class Deactivation(Sets, Administered):
    """The record stays (history keeps it) but takes no part any more."""

    attribute, to = "active", False


class Reactivation(Sets, Administered):
    attribute, to = "active", True


class Revision(Administered):
    """A change of a record's administered fields: the event holds each field's new value.

    Its `state_fields` (all it declares, or carries from `Fields`, but who acted and why) are
    copied onto the aggregate, so an event says the whole new state of what administrators may
    change, and a projection writes it as it stands.
    """

    def apply(self, aggregate: Any) -> None:
        copy_state(self, aggregate)


class Registration(Copied):
    """The creation of an administered record: its fields, who made it and why. Rows written
    before creations named who acted read as made by the system (`unattributed`)."""

    _: KW_ONLY
    actor_kind: str = "system"
    actor_id: UUID | None = None
    cause: Cause | None = None


def revise(
    aggregate: Aggregate,
    event: type[Revision],
    *,
    now: datetime,
    by: ActedBy,
    cause: Cause | None,
    **fields: Any,
) -> bool:
    """Record `event` with `fields` if any differs from the aggregate's; False if none does.

    An import of the same file again therefore appends nothing.
    """
    names = state_fields(event)
    if set(fields) != set(names):
        raise TypeError(f"{event.__qualname__} takes {sorted(names)}, not {sorted(fields)}")
    if all(getattr(aggregate, n) == v for n, v in fields.items()):
        return False
    aggregate.trigger_event(event, timestamp=now, cause=cause, **by, **fields)
    return True


def switch(
    aggregate: Aggregate,
    active: bool,
    *,
    deactivated: type[Deactivation],
    reactivated: type[Reactivation],
    now: datetime,
    by: ActedBy,
    cause: Cause | None,
) -> bool:
    """Deactivate or reactivate; False (and no event) when it already is as asked."""
    if getattr(aggregate, "active") == active:  # noqa: B009 - every switchable aggregate has it
        return False
    aggregate.trigger_event(reactivated if active else deactivated, timestamp=now, cause=cause, **by)
    return True


class Claim(Aggregate):
    """An index stream: a value that must be unique (an email, a hall pass ID in a school, a
    `sourcedId` in a district) held by one record, `owner_id`.

    Its id follows from the value (`hallpass.aggregates.ids`), so two records claiming one value
    clash on the event store's primary key. A value given up is `Released` and may be `Taken`
    again by another record.
    """

    class Made(Aggregate.Created):
        key: str
        owner_id: UUID

    class Released(Aggregate.Event):
        def apply(self, aggregate: Any) -> None:
            aggregate.owner_id = None

    class Taken(Aggregate.Event):
        owner_id: UUID

        def apply(self, aggregate: Any) -> None:
            aggregate.owner_id = self.owner_id

    def __init__(self, *, key: str, owner_id: UUID) -> None:
        self.key = key
        self.owner_id: UUID | None = owner_id

    def release(self, *, now: datetime) -> None:
        if self.owner_id is not None:
            self.trigger_event(self.Released, timestamp=now)

    def take(self, owner_id: UUID, *, now: datetime) -> bool:
        """Take a released value; False if another record holds it."""
        if self.owner_id == owner_id:
            return True
        if self.owner_id is not None:
            return False
        self.trigger_event(self.Taken, timestamp=now, owner_id=owner_id)
        return True
