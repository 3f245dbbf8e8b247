"""Ids as asyncpg reads them: its own UUID class, a subclass of `uuid.UUID`, equal to it and hashed
alike, made from text in C and sent back to the server without a Python call per id."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from asyncpg.pgproto import pgproto

_READ: dict[Any, UUID] = {}
_MOST = 200_000  # ids kept; the cache is emptied when full


def as_read(value: Any) -> Any:
    """`value` as a UUID as asyncpg reads them (None stays None, and any UUID as it is); from text
    through a cache, as the same ids recur event after event. A rebuild's events hold their ids
    so (decision 122)."""
    if value is None or isinstance(value, UUID):
        return value
    found = _READ.get(value)
    if found is None:
        if len(_READ) >= _MOST:
            _READ.clear()
        found = _READ[value] = pgproto.UUID(value)
    return found
