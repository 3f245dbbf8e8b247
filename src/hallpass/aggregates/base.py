"""What aggregates and their events share: who acted (`Acted`), and fields written once
(`Fields`) that a creation event (`Copied`) or a revision copies onto its aggregate.

Event classes are the stored format: a base class here adds no topic of its own (a stored event
names its own class) and the fields it declares keep their names, so moving a declaration here
changes nothing that is stored (decision 100).
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable, Mapping
from dataclasses import KW_ONLY
from functools import cache
from typing import Any, ClassVar
from uuid import UUID

from eventsourcing.domain import Aggregate, DomainEvent


class Acted(Aggregate.Event):
    """An event that names who acted: a member of staff, a student, a kiosk or the system.

    The fields are keyword-only, so an event may declare its own after them, with or without
    defaults. The aggregates' methods take them as one `hallpass.acting.ActedBy` (`**by`).
    """

    _: KW_ONLY
    actor_kind: str
    actor_id: UUID | None


class Fields:
    """Fields written once for an aggregate and the events that carry its state.

    A subclass declares annotations (and defaults) and nothing else. An aggregate that subclasses
    it has those attributes (for readers and type checkers alike); an event class that subclasses
    it gets each as a keyword-only dataclass field of its own, ahead of the event's own fields,
    so its stored state holds them by the same names. `held_as` names the fields the aggregate
    holds in another form than the event, each with what makes that form (an enum for its value,
    roles in order, a tuple for a list).
    """

    held_as: ClassVar[Mapping[str, Callable[[Any], Any]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        if issubclass(cls, DomainEvent):
            _carry(cls)
        super().__init_subclass__(**kwargs)

    @classmethod
    def restore(cls, name: str, value: Any) -> Any:
        """The aggregate's value of field `name` for an event's `value`."""
        held = cls.held_as.get(name)
        return value if held is None else held(value)


def _carry(cls: type) -> None:
    """Make the annotations of `cls`'s `Fields` bases dataclass fields of its own (before the
    dataclass decorator of eventsourcing's event metaclass runs)."""
    own: dict[str, Any] = dict(inspect.get_annotations(cls))
    taken = {name for base in cls.__mro__[1:] for name in getattr(base, "__dataclass_fields__", {})}
    carried: dict[str, Any] = {}
    for base in reversed(cls.__mro__[1:]):
        if issubclass(base, Fields) and base is not Fields and not issubclass(base, DomainEvent):
            hints = typing.get_type_hints(base)
            for name in inspect.get_annotations(base):
                if name not in taken and name not in own:
                    carried[name] = hints[name]
    if carried:
        cls.__annotations__ = {"_": KW_ONLY, **carried, **own}


ENVELOPE = frozenset(
    {
        "originator_id",
        "originator_version",
        "timestamp",
        "originator_topic",
        "actor_kind",
        "actor_id",
        "cause",
    }
)
"""What every event, or every administered one, holds besides its aggregate's state: its
stream, version, time and (for a creation) the aggregate's topic; who acted and why."""


@cache
def state_fields(cls: type) -> tuple[str, ...]:
    """The fields of an event class that are its aggregate's state: all but the `ENVELOPE`."""
    return tuple(n for n in getattr(cls, "__dataclass_fields__", {}) if n not in ENVELOPE)


def declared(fields: type[Fields]) -> tuple[str, ...]:
    """The names a `Fields` class declares, with those of the `Fields` it extends."""
    bases = [
        b
        for b in reversed(fields.__mro__)
        if issubclass(b, Fields) and b is not Fields and not issubclass(b, DomainEvent)
    ]
    return tuple(name for base in bases for name in inspect.get_annotations(base))


def copy_state(event: Any, aggregate: Any, fields: type[Fields] | None = None) -> None:
    """Set each of the event's `state_fields` (or only those `fields` declares) on the aggregate,
    as `Fields.restore` says."""
    restore = event.restore if isinstance(event, Fields) else Fields.restore
    for name in state_fields(event.__class__) if fields is None else declared(fields):
        setattr(aggregate, name, restore(name, getattr(event, name)))


class InSchool(Fields):
    """The school a record belongs to, fixed when it is made."""

    school_id: UUID


class Copied(Aggregate.Created):
    """A creation event whose `state_fields` are its aggregate's first state, copied as they are
    (an aggregate's `__init__` sets only what follows from nothing: empty lists, counters)."""

    def apply(self, aggregate: Any) -> None:
        copy_state(self, aggregate)


class Sets(Aggregate.Event):
    """An event whose whole effect is to set the aggregate's `attribute` to the constant `to`,
    both given in the class body: `attribute, to = "active", False`."""

    attribute: ClassVar[str]
    to: ClassVar[Any]

    def apply(self, aggregate: Any) -> None:
        setattr(aggregate, self.attribute, self.to)


class AddsTo(Aggregate.Event):
    """An event that adds the value of its field `item` to the aggregate's tuple `into`, both
    named in the class body: `into, item = "occupants", "pass_id"`."""

    into: ClassVar[str]
    item: ClassVar[str]

    def apply(self, aggregate: Any) -> None:
        setattr(aggregate, self.into, (*getattr(aggregate, self.into), getattr(self, self.item)))


class RemovesFrom(Aggregate.Event):
    """An event that removes the value of its field `item` from the aggregate's tuple `into`
    (named as for `AddsTo`)."""

    into: ClassVar[str]
    item: ClassVar[str]

    def apply(self, aggregate: Any) -> None:
        gone = getattr(self, self.item)
        setattr(aggregate, self.into, tuple(x for x in getattr(aggregate, self.into) if x != gone))
