"""Validation and quoting of configurable SQL identifiers."""

from __future__ import annotations

import re

MAX_IDENTIFIER_LENGTH = 63
_PLAIN_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def validate_identifier(name: str) -> str:
    """Return ``name`` if it is a plain SQL identifier, else raise ``ValueError``."""
    if len(name) > MAX_IDENTIFIER_LENGTH or not _PLAIN_IDENTIFIER.fullmatch(name):
        msg = (
            f"Invalid SQL identifier {name!r}: expected letters, digits and underscores, "
            f"not starting with a digit, at most {MAX_IDENTIFIER_LENGTH} characters"
        )
        raise ValueError(msg)
    return name


def quote_identifier(name: str) -> str:
    return f'"{validate_identifier(name)}"'


def quote_table_name(name: str) -> str:
    """Quote ``table`` or ``schema.table`` after validating each part."""
    parts = name.split(".")
    if len(parts) > 2:
        msg = f"Invalid table name {name!r}: expected 'table' or 'schema.table'"
        raise ValueError(msg)
    return ".".join(quote_identifier(part) for part in parts)


def unqualified(name: str) -> str:
    """Return the table part of ``table`` or ``schema.table``."""
    return name.rsplit(".", 1)[-1]
