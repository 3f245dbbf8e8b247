"""The messages catalogue: every key the code and the templates use exists, every message is
used, and each one is a plain sentence in sentence case."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from hallpass.messages import CATALOGUE, count, fields, say

SRC = Path(__file__).resolve().parents[2] / "src" / "hallpass"
USE = re.compile(r"""\b(?:say|count_of|count)\(\s*["']([a-z_]+\.[a-z0-9_]+)["']""")
LABEL_USE = re.compile(r"""["']([a-z_]+\.[a-z0-9_]+)["']""")

# Capitalised words that may stand inside a sentence: the names of screens, fields, choices
# and things spelt that way (sentence case keeps proper names).
NAMES = {
    "Leaving",
    "From",
    "Going",
    "To",
    "Other",
    "Hall",
    "Pass",
    "Hallpass",
    "CSRF",
    "CSV",
    "MiB",
    "YYYY-MM-DDTHH:MM",
    "Student",
    "Portal",
    "ID",
    "IDs",
    "UTF-8",
    "YYYY-MM-DD",
    "Idempotency-Key",
    "Authorization",
    "Kiosk",
}


def _sources() -> dict[Path, str]:
    return {
        p: p.read_text(encoding="utf-8")
        for p in SRC.rglob("*")
        if p.suffix in (".py", ".html") and p.name != "messages.py"
    }


def _used() -> set[str]:
    used: set[str] = set()
    for text in _sources().values():
        used |= set(USE.findall(text))
        used |= {k for k in LABEL_USE.findall(text) if k in CATALOGUE}
    return used


def test_every_key_the_code_uses_exists() -> None:
    missing = {
        f"{path.relative_to(SRC)}: {key}"
        for path, text in _sources().items()
        for key in USE.findall(text)
        if key not in CATALOGUE and f"{key}_one" not in CATALOGUE
    }
    assert not missing


def test_every_message_is_used() -> None:
    used = _used()
    unused = [k for k in CATALOGUE if k not in used and not (k.endswith("_one") and k[:-4] in used)]
    assert not unused


@pytest.mark.parametrize("key", sorted(CATALOGUE))
def test_each_message_is_a_sentence_in_sentence_case(key: str) -> None:
    text = CATALOGUE[key]
    assert re.fullmatch(r"[a-z_]+\.[a-z0-9_]+", key)
    assert text == text.strip() and "  " not in text
    assert text[0].isupper() or text.startswith("{"), "starts with a capital or a value"
    assert key.startswith("label.") or text[-1] in ".?!", "ends as a sentence ends"
    words = re.sub(r"\{[a-z_]+\}", "", text).split()
    inner = [w.strip(".,:;()?!") for w in words[1:]]
    capitalised = [w for w in inner if w[:1].isupper() and w not in NAMES]
    sentences = re.split(r"[.?!] ", text)
    starts = {s.split()[0].strip("(") for s in sentences[1:] if s.split()}
    assert not [w for w in capitalised if w not in starts], "no Title Case inside a sentence"
    for framework in ("Not Found", "Method Not Allowed", "request failed", "Internal Server Error"):
        assert framework not in text


def test_say_fills_every_value_and_refuses_an_unknown_key() -> None:
    for key in CATALOGUE:
        values = {name: "X" for name in fields(key)}
        assert "{" not in say(key, **values)
    with pytest.raises(KeyError):
        say("no.such_key")


def test_count_says_one_thing_in_the_singular() -> None:
    assert count("create.created", 1) == "Created 1 hall pass."
    assert count("create.created", 3) == "Created 3 hall passes."
    assert count("create.created", 0) == "Created 0 hall passes."


# Every module says its refusals through the catalogue: a domain error raised with words of its
# own (a string or an f-string) fails.
MODULES = sorted(str(p.relative_to(SRC)) for p in SRC.rglob("*.py") if p.name != "messages.py")
ERRORS = {
    "DomainError",
    "Invalid",
    "NotFound",
    "Conflict",
    "Forbidden",
    "Unauthenticated",
    "IllegalTransition",
    "DestinationFull",
    "StudentAlreadyOut",
    "StudentInactive",
    "EmergencyInProgress",
    "IdempotencyKeyReused",
    "KioskLocked",
    "InvalidCursor",
    "json_error",
}


def _spelt_out(source: str) -> list[int]:
    """Lines of `source` that raise a domain error (or answer an error) with words of their own."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
        words = node.args[-1] if name == "json_error" and node.args else node.args[0] if node.args else None
        if name in ERRORS and isinstance(words, (ast.Constant, ast.JoinedStr)):
            lines.append(node.lineno)
    return lines


@pytest.mark.parametrize("module", MODULES)
def test_every_module_says_its_refusals_through_the_catalogue(module: str) -> None:
    assert (SRC / module).exists()
    assert _spelt_out((SRC / module).read_text(encoding="utf-8")) == []


def test_the_check_finds_words_spelt_out() -> None:
    source = """
raise Invalid("choose a reason", field="reason")
raise errors.NotFound(f"pass {pass_id} not found")
json_error(429, "rate_limited", "too many")
raise Invalid(say("pass.choose_reason"), field="reason")
json_error(429, "rate_limited", say("auth.too_many"))
"""
    assert _spelt_out(source) == [2, 3, 4]
