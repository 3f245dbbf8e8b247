"""A dataclass from a database row whose columns are named as its fields."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields
from typing import Any, TypeVar

T = TypeVar("T")


def from_row(cls: type[T], row: Mapping[str, Any], **given: Any) -> T:
    """`cls` with each field read from the column of its name, except those `given`."""
    names = [f.name for f in fields(cls)]  # type: ignore[arg-type]
    return cls(**{name: row[name] for name in names if name not in given}, **given)
