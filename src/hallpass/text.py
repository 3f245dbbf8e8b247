"""Reading numbers that people type."""

from __future__ import annotations


def is_number(text: str) -> bool:
    """Only the ASCII digits 0-9: `str.isdigit` also accepts characters like '²' that `int` refuses."""
    return bool(text) and text.isascii() and text.isdigit()


def like_escaped(text: str) -> str:
    """``text`` matching only itself in a LIKE pattern (``\\`` is the escape character)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
