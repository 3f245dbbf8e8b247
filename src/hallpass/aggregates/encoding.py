"""Stored format of events: orjson state, decoded back to the annotated field types."""

from __future__ import annotations

import types
import typing
from collections.abc import Callable
from datetime import date, datetime, time
from functools import cache
from typing import Any, Protocol, Union, cast
from uuid import UUID

import orjson
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import Mapper, StoredEvent, Transcoder
from eventsourcing.utils import register_topic, resolve_topic

from hallpass.aggregates.schedules import Schedule

_OPTIONS = orjson.OPT_NON_STR_KEYS

# Classes that moved keep the topics their stored events (and snapshots) were written with:
# each old name resolves to the class where it lives now (decision 065).
MOVED: dict[str, type] = {
    "hallpass.aggregates.passes:Schedule": Schedule,
}
for _old_topic, _cls in MOVED.items():
    register_topic(_old_topic, _cls)


def _default(obj: Any) -> Any:
    if isinstance(obj, UUID):
        return str(obj)
    if isinstance(obj, (set, frozenset)):
        return sorted(obj, key=str)
    raise TypeError(f"cannot encode {type(obj).__name__}")


class Superseded:
    """Marks an event class kept only to read rows written before other classes replaced it.

    Such a class defines `successor()`, the event that now records the same fact; the mapper
    hands that out instead, so nothing past the stored format sees the old class.
    """


class _Replaced(Protocol):
    def successor(self) -> DomainEventProtocol[UUID]: ...


class OrjsonTranscoder(Transcoder):
    """Encodes event state as JSON with orjson (UUIDs and datetimes as ISO strings)."""

    def encode(self, obj: Any) -> bytes:
        return orjson.dumps(obj, default=_default, option=_OPTIONS)

    def decode(self, data: bytes) -> Any:
        return orjson.loads(data)


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def event_fields(cls: type) -> frozenset[str]:
    """The names of the fields an event class declares, its bases' included."""
    return frozenset(_hints(cls))


Convert = Callable[[Any], Any]

# Decoded UUIDs by their text: the same ids (schools, students, places, passes) recur in event
# after event, and building a UUID from text costs more than the rest of a field's decoding.
# UUIDs are immutable, so every event may share one; the cache is emptied when full.
_UUIDS: dict[Any, UUID] = {}
_UUIDS_MOST = 200_000


def to_uuid(value: Any) -> Any:
    """`value` as a UUID (None stays None); from text through the cache."""
    if value is None or type(value) is UUID:
        return value
    found = _UUIDS.get(value)
    if found is None:
        if len(_UUIDS) >= _UUIDS_MOST:
            _UUIDS.clear()
        found = _UUIDS[value] = UUID(str(value))
    return found


def _converter(hint: Any, ids: Convert = to_uuid) -> Convert | None:
    """How to restore a decoded value of this annotation (None where nothing changes): UUIDs
    (by `ids`), dates and times from text, tuples, lists and frozensets from lists, each item
    likewise.

    Made once per annotation (typing introspection is slow), and None stays None.
    """
    origin = typing.get_origin(hint)
    if origin in (Union, types.UnionType):
        inner = next((a for a in typing.get_args(hint) if a is not type(None)), None)
        return None if inner is None else _converter(inner, ids)
    if hint is UUID:
        return ids
    if hint in (datetime, date, time):
        kind: Any = hint

        def parse(v: Any) -> Any:
            return v if v is None or isinstance(v, kind) else kind.fromisoformat(v)

        return parse
    if origin in (tuple, list, frozenset):
        args = typing.get_args(hint)
        each = _converter(args[0], ids) if args else None
        make: Convert = origin
        if each is None:
            return lambda v: None if v is None else make(v)
        return lambda v: None if v is None else make(each(x) for x in v)
    return None


@cache
def _plan(cls: type, ids: Convert = to_uuid) -> tuple[tuple[str, Convert], ...]:
    """The fields of an event class that decoding must convert, and how (UUIDs by `ids`)."""
    plan = []
    for name, hint in _hints(cls).items():
        if name in ("originator_id", "originator_version"):
            continue
        convert = _converter(hint, ids)
        if convert is not None:
            plan.append((name, convert))
    return tuple(plan)


class TypedMapper(Mapper[UUID]):
    """Mapper that restores UUID, datetime, date, time and tuple fields after decoding."""

    def __init__(self) -> None:
        super().__init__(transcoder=OrjsonTranscoder())

    def to_domain_event(self, stored_event: StoredEvent) -> DomainEventProtocol[UUID]:
        event = super().to_domain_event(stored_event)
        state = event.__dict__
        if type(state["originator_id"]) is not UUID:
            state["originator_id"] = to_uuid(state["originator_id"])
        for name, convert in _plan(type(event)):
            if name in state:
                state[name] = convert(state[name])
        if isinstance(event, Superseded):
            return cast(_Replaced, event).successor()
        return event


# Per topic, for `Decoder`: the class and the fields to convert, or None where the mapper's own
# way is needed (a class with versions to upcast, a superseded one, a topic naming no class).
_Topic = tuple[type, int, tuple[tuple[str, Convert], ...]] | None


class Decoder:
    """Decodes stored events as `mapper.to_domain_event` does, the same events with the same
    fields, but with what that works out for each event (the class of its topic, how its
    originator id converts, its class version) worked out once per topic: a rebuild decodes
    every event of the log (decision 118). Whatever is not the common case (an event of an earlier
    class version, an id stored as text, a mapper that encrypts or compresses, a state that does not
    decode) goes through the mapper itself. With other `ids` (a rebuild's: `eventstore.ids.as_read`,
    asyncpg's UUIDs, equal to the mapper's and hashed alike), ids are made by that (decision 122)."""

    def __init__(self, mapper: TypedMapper, ids: Convert = to_uuid) -> None:
        self.mapper = mapper
        self.ids = ids  # how ids are made: the mapper's way, or `as_read` (a rebuild's)
        self.plain = mapper.cipher is None and mapper.compressor is None
        self._topics: dict[str, _Topic] = {}

    def _topic(self, topic: str) -> _Topic:
        try:
            cls: Any = resolve_topic(topic)
        except Exception:
            return None
        if not isinstance(cls, type) or issubclass(cls, Superseded):
            return None
        return (
            cls,
            getattr(cls, "class_version", 1),
            _plan(cast(type[DomainEventProtocol[UUID]], cls), self.ids),
        )

    def _found(self, topic: str) -> _Topic:
        if topic in self._topics:
            return self._topics[topic]
        return self._topics.setdefault(topic, self._topic(topic))

    def event_class(self, topic: str) -> type | None:
        """The class events of `topic` decode to, worked out once; None where only the mapper
        can tell (a topic naming no class, or a superseded one, decoded into another class)."""
        found = self._found(topic)
        return None if found is None else found[0]

    def fields(self, stored: StoredEvent) -> dict[str, Any] | None:
        """The event's fields as decoding makes them (the `__dict__` of the event `self(stored)`
        is), without the event; None where only the mapper decodes it (see the class). A
        rebuild makes the statements of some events straight from them (decision 128)."""
        made = self._made(stored)
        return None if made is None else made[1]

    def _made(self, stored: StoredEvent) -> tuple[type, dict[str, Any]] | None:
        found = self._found(stored.topic)
        originator_id = stored.originator_id
        if found is None or not self.plain or type(originator_id) is str:
            return None
        try:
            state = orjson.loads(stored.state)
        except orjson.JSONDecodeError:
            return None  # the mapper says why
        cls, version, plan = found
        if type(state) is not dict or state.pop("class_version", 1) != version:  # to upcast
            return None
        state["originator_id"] = self.ids(originator_id)
        state["originator_version"] = stored.originator_version
        for name, convert in plan:
            value = state.get(name)
            if value is not None:
                state[name] = convert(value)
        return cls, state

    def __call__(self, stored: StoredEvent) -> DomainEventProtocol[UUID]:
        made = self._made(stored)
        if made is None:
            return self.mapper.to_domain_event(stored)
        cls, state = made
        event: Any = object.__new__(cls)
        object.__setattr__(event, "__dict__", state)
        return event  # type: ignore[no-any-return]
