"""Finding a student at a kiosk: by hall pass ID, `#external ID`, or a name with a small typo.

Only students the kiosk allows are ever returned, and never more than a handful. These are the
rules; `KioskView.find_students` has PostgreSQL narrow the candidates first (decision 070).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from uuid import UUID

from hallpass.aggregates.kiosks import StudentScope
from hallpass.aggregates.students import StudentRecord
from hallpass.errors import Invalid
from hallpass.messages import say
from hallpass.projections.directory import fold
from hallpass.text import is_number

MIN_NAME_CHARS = 2
LIMIT = 8
MIN_TYPO_CHARS = 4  # a shorter word must start a word of the name exactly


class Candidate(StudentRecord, frozen=True, kw_only=True):
    """A student the kiosk may find (their `StudentRecord`), and the pass they have open."""

    student_id: UUID
    open_pass_id: UUID | None = None
    class_rooms: frozenset[UUID] = frozenset()
    """The rooms the student's classes meet in (the roster's class lists)."""


@dataclass(frozen=True)
class Query:
    """What a kiosk search asks for: one of a hall pass ID, an external ID, or name words."""

    hall_pass_id: int | None = None
    external_id: str | None = None
    words: tuple[str, ...] = ()


def parse(query: str) -> Query:
    """Digits are a hall pass ID, ``#...`` an external ID (lower case), else folded name words."""
    text = query.strip()
    if text.startswith("#"):
        wanted = text[1:].strip().lower()
        if not wanted:
            raise Invalid(say("kiosk.type_external_id"), field="q")
        return Query(external_id=wanted)
    if is_number(text):
        return Query(hall_pass_id=int(text))
    words = tuple(fold(text).split())
    if len("".join(words)) < MIN_NAME_CHARS:
        raise Invalid(say("kiosk.type_more_letters", count=MIN_NAME_CHARS), field="q")
    return Query(words=words)


def search(
    candidates: Iterable[Candidate], scope: StudentScope, query: str, *, limit: int = LIMIT
) -> list[Candidate]:
    """The allowed students the query names, best first. IDs find exactly one student."""
    return matches(candidates, scope, parse(query), limit=limit)


def matches(
    candidates: Iterable[Candidate], scope: StudentScope, query: Query, *, limit: int = LIMIT
) -> list[Candidate]:
    """`search` for a parsed query: the candidates may be any superset of the students it names."""
    allowed = (
        c
        for c in candidates
        if scope.allows(
            student_id=c.student_id, grade=c.grade, homeroom_id=c.homeroom_id, class_rooms=c.class_rooms
        )
    )
    if query.external_id is not None:
        wanted = query.external_id
        return [c for c in allowed if c.external_id is not None and c.external_id.lower() == wanted][:1]
    if query.hall_pass_id is not None:
        number = query.hall_pass_id
        return [c for c in allowed if c.hall_pass_id == number][:1]
    scored: list[tuple[int, str, Candidate]] = []
    for c in allowed:
        score = name_score(list(query.words), fold(c.full_name).split())
        if score is not None:
            scored.append((score, fold(f"{c.last_name} {c.first_name}"), c))
    scored.sort(key=lambda item: (item[0], item[1]))
    return [c for _, _, c in scored[:limit]]


def name_score(query_tokens: list[str], name_tokens: list[str]) -> int | None:
    """0 when every query word starts a word of the name; +1 per word with one typo; else None."""
    if not query_tokens:
        return None
    total = 0
    for q in query_tokens:
        best = min((s for t in name_tokens if (s := token_score(q, t)) is not None), default=None)
        if best is None:
            return None
        total += best
    return total


def token_score(q: str, t: str) -> int | None:
    if t.startswith(q):
        return 0
    if len(q) < MIN_TYPO_CHARS:
        return None
    if within_one_edit(q, t) or (len(t) > len(q) and within_one_edit(q, t[: len(q)])):
        return 1
    return None


def within_one_edit(a: str, b: str) -> bool:
    """One insertion, deletion, substitution, or swap of neighbours apart (or equal)."""
    if a == b:
        return True
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diffs = [i for i in range(len(a)) if a[i] != b[i]]
        if len(diffs) == 1:
            return True
        if len(diffs) != 2:
            return False
        i, j = diffs
        return j == i + 1 and a[i] == b[j] and a[j] == b[i]
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    return any(long_[:i] + long_[i + 1 :] == short for i in range(len(long_)))
