"""Stored format of events: orjson state, decoded back to the annotated field types."""

from __future__ import annotations

import types
import typing
from datetime import date, datetime, time
from functools import cache
from typing import Any, Union
from uuid import UUID

import orjson
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import Mapper, StoredEvent, Transcoder
from eventsourcing.utils import register_topic

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
    """An event class kept only to read rows written before other classes replaced it.

    The mapper hands out its `successor` instead, so nothing past the stored format sees it.
    """

    def successor(self) -> Any:
        raise NotImplementedError


class OrjsonTranscoder(Transcoder):
    """Encodes event state as JSON with orjson (UUIDs and datetimes as ISO strings)."""

    def encode(self, obj: Any) -> bytes:
        return orjson.dumps(obj, default=_default, option=_OPTIONS)

    def decode(self, data: bytes) -> Any:
        return orjson.loads(data)


def _coerce(value: Any, hint: Any) -> Any:
    if value is None:
        return None
    origin = typing.get_origin(hint)
    if origin in (Union, types.UnionType):
        for arg in typing.get_args(hint):
            if arg is type(None):
                continue
            return _coerce(value, arg)
        return value
    if hint is UUID:
        return value if type(value) is UUID else UUID(str(value))
    if hint is datetime:
        return value if isinstance(value, datetime) else datetime.fromisoformat(value)
    if hint is date:
        return value if isinstance(value, date) else date.fromisoformat(value)
    if hint is time:
        return value if isinstance(value, time) else time.fromisoformat(value)
    if origin is tuple:
        args = typing.get_args(hint)
        inner = args[0] if args else Any
        return tuple(_coerce(v, inner) for v in value)
    if origin is list:
        (inner,) = typing.get_args(hint) or (Any,)
        return [_coerce(v, inner) for v in value]
    if origin is frozenset:
        (inner,) = typing.get_args(hint) or (Any,)
        return frozenset(_coerce(v, inner) for v in value)
    return value


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


class TypedMapper(Mapper[UUID]):
    """Mapper that restores UUID, datetime, date, time and tuple fields after decoding."""

    def __init__(self) -> None:
        super().__init__(transcoder=OrjsonTranscoder())

    def to_domain_event(self, stored_event: StoredEvent) -> DomainEventProtocol[UUID]:
        event = super().to_domain_event(stored_event)
        hints = _hints(type(event))
        state = event.__dict__
        if type(state["originator_id"]) is not UUID:
            state["originator_id"] = UUID(str(state["originator_id"]))
        for name, value in state.items():
            hint = hints.get(name)
            if hint is not None and name not in ("originator_id", "originator_version"):
                state[name] = _coerce(value, hint)
        if isinstance(event, Superseded):
            return event.successor()  # type: ignore[no-any-return]
        return event
