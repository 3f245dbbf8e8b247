"""Reading numbers that people type, and showing messages as sentences."""

from __future__ import annotations


def is_number(text: str) -> bool:
    """Only the ASCII digits 0-9: `str.isdigit` also accepts characters like '²' that `int` refuses."""
    return bool(text) and text.isascii() and text.isdigit()


def like_escaped(text: str) -> str:
    """``text`` matching only itself in a LIKE pattern (``\\`` is the escape character)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def sentence(text: str) -> str:
    """`text` as a sentence on a page: a capital first and one full stop (or ? or !) last,
    whether the message came with them (the messages catalogue) or not (older fragments)."""
    text = text.strip()
    if not text:
        return text
    return text[:1].upper() + text[1:] + ("" if text[-1] in ".?!" else ".")
