"""Snapshots of aggregate state, and copies of cached aggregates that share what cannot change.

A snapshot is a cache of a stream's replay, never a fact: it records the aggregate's attributes
in a tagged JSON form with a fingerprint of the code that built them (the source of the
aggregate's module). A snapshot taken by other code, or one that does not decode, is ignored
and the stream is replayed from its first event. State that the form cannot hold exactly (an
object of another kind, a datetime in a named zone) is not snapshotted at all.
"""

from __future__ import annotations

import copy
import hashlib
import importlib.metadata
import inspect
import sys
from datetime import UTC, date, datetime, time
from decimal import Decimal
from enum import Enum
from functools import cache
from typing import Any, TypeVar
from uuid import UUID

import orjson
from asyncpg.pgproto.pgproto import UUID as PgUUID
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import get_topic, resolve_topic

A = TypeVar("A", bound=Aggregate)
Keys = tuple[str, ...]
_NOTHING = object()

_IMMUTABLE: frozenset[type] = frozenset(
    # asyncpg's UUID (a uuid.UUID, without attributes of its own) is how ids read from the
    # database arrive: a session's actor, and with it every pass's school and who made it.
    {str, int, float, bool, type(None), bytes, UUID, PgUUID, datetime, date, time, Decimal}
)


def _immutable(value: Any) -> bool:
    kind = type(value)
    if kind in _IMMUTABLE or isinstance(value, Enum):
        return True
    if kind is tuple or kind is frozenset:
        return all(_immutable(item) for item in value)
    return False


def mutable_keys(aggregate: Aggregate, like: Aggregate | None = None, known: Keys = ()) -> Keys:
    """The names of the aggregate's attributes whose values can change in place (lists, dicts,
    tuples holding them...), which a copy must not share; never `_pending_events`.

    `like`: an aggregate whose attributes outside `known` (its own mutable keys) are known not to
    change; a value that is the same object as its value of the same name needs no look.
    """
    before = like.__dict__ if like is not None else {}
    return tuple(
        k
        for k, v in aggregate.__dict__.items()
        if k != "_pending_events"
        and not (before.get(k, _NOTHING) is v and k not in known)
        and not _immutable(v)
    )


def clone(aggregate: A, mutable: Keys | None = None) -> A:
    """A copy to hand out: values that cannot change are shared, any other is deep-copied.

    `mutable`: the aggregate's `mutable_keys`, if known (an aggregate in the repository's cache,
    which nobody changes): the copy then costs a dictionary copy, whatever the values hold.
    """
    if mutable is None:
        mutable = mutable_keys(aggregate)
    twin = object.__new__(type(aggregate))
    state = twin.__dict__
    state.update(aggregate.__dict__)
    for k in mutable:
        state[k] = copy.deepcopy(state[k])
    state["_pending_events"] = []  # the twin's own, empty: never copied
    return twin


class Unsnapshottable(Exception):
    """The aggregate holds a value the snapshot form cannot restore exactly."""


def _encode(value: Any) -> Any:
    kind = type(value)
    if value is None or kind in (str, int, float, bool):
        return value
    if kind is UUID or kind is PgUUID:  # asyncpg reads ids as its own subclass of UUID
        return {"u": str(value)}
    if kind is datetime:
        if value.tzinfo not in (None, UTC):
            raise Unsnapshottable(f"datetime in zone {value.tzinfo!r}")
        return {"dt": value.isoformat()}
    if kind is date:
        return {"d": value.isoformat()}
    if kind is time:
        if value.tzinfo is not None:
            raise Unsnapshottable("time with a zone")
        return {"t": value.isoformat()}
    if isinstance(value, Enum):
        return {"e": get_topic(type(value)), "v": _encode(value.value)}
    if kind is tuple:
        return {"tu": [_encode(v) for v in value]}
    if kind is list:
        return {"l": [_encode(v) for v in value]}
    if kind is frozenset or kind is set:
        return {"fs" if kind is frozenset else "s": [_encode(v) for v in value]}
    if kind is dict:
        return {"m": [[_encode(k), _encode(v)] for k, v in value.items()]}
    raise Unsnapshottable(kind.__name__)


def _decode(value: Any) -> Any:
    if not isinstance(value, dict):
        return value
    ((tag, inner),) = ((k, v) for k, v in value.items() if k != "v")
    match tag:
        case "u":
            return UUID(inner)
        case "dt":
            return datetime.fromisoformat(inner)
        case "d":
            return date.fromisoformat(inner)
        case "t":
            return time.fromisoformat(inner)
        case "e":
            enum = resolve_topic(inner)
            if not (isinstance(enum, type) and issubclass(enum, Enum)):
                raise ValueError(f"{inner} is not an enum")
            return enum(_decode(value["v"]))
        case "tu":
            return tuple(_decode(v) for v in inner)
        case "l":
            return [_decode(v) for v in inner]
        case "fs":
            return frozenset(_decode(v) for v in inner)
        case "s":
            return {_decode(v) for v in inner}
        case "m":
            return {_decode(k): _decode(v) for k, v in inner}
    raise ValueError(f"unknown snapshot tag {tag!r}")


@cache
def fingerprint(cls: type) -> str:
    """Changes whenever the code that builds this aggregate's state may have changed."""
    source = inspect.getsource(sys.modules[cls.__module__])
    library = importlib.metadata.version("eventsourcing")
    return hashlib.sha256(f"{library}\n{get_topic(cls)}\n{source}".encode()).hexdigest()[:16]


def take(aggregate: Aggregate) -> StoredEvent | None:
    """The aggregate's snapshot, or None if its state cannot be snapshotted exactly."""
    state = {k: v for k, v in aggregate.__dict__.items() if k != "_pending_events"}
    try:
        encoded = {k: _encode(v) for k, v in state.items()}
    except Unsnapshottable:
        return None
    body = {"fingerprint": fingerprint(type(aggregate)), "state": encoded}
    return StoredEvent(
        originator_id=aggregate.id,
        originator_version=aggregate.version,
        topic=get_topic(type(aggregate)),
        state=orjson.dumps(body),
    )


def restore(snapshot: StoredEvent) -> Aggregate | None:
    """The aggregate a snapshot holds, or None if other code took it or it does not decode."""
    try:
        cls = resolve_topic(snapshot.topic)
        if not (isinstance(cls, type) and issubclass(cls, Aggregate)):
            return None
        body = orjson.loads(snapshot.state)
        if body.get("fingerprint") != fingerprint(cls):
            return None
        aggregate = object.__new__(cls)
        aggregate.__dict__.update({k: _decode(v) for k, v in body["state"].items()})
        aggregate.__dict__["_pending_events"] = []
    except Exception:
        return None
    if aggregate.version != snapshot.originator_version or aggregate.id != snapshot.originator_id:
        return None
    return aggregate
