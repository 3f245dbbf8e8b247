"""KioskView: each school's kiosks for the staff who run them, and the students a kiosk can find."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any
from uuid import UUID

import asyncpg

from hallpass.aggregates.kiosks import Kiosk, StudentMode, StudentScope
from hallpass.projections.base import Rows, StatementProjection, View
from hallpass.projections.kiosk_search import LIMIT, MIN_TYPO_CHARS, Candidate, Query, matches, parse
from hallpass.text import like_escaped

SCHEMA = """
CREATE TABLE IF NOT EXISTS kiosks (
    kiosk_id uuid PRIMARY KEY,
    school_id uuid NOT NULL,
    name text NOT NULL,
    room_id uuid NOT NULL,
    created_by uuid,
    created_at timestamptz NOT NULL,
    status text NOT NULL,
    destination_ids uuid[] NOT NULL,
    student_mode text NOT NULL,
    homeroom_ids uuid[] NOT NULL,
    grades integer[] NOT NULL,
    student_count integer NOT NULL,
    exit_failures integer NOT NULL DEFAULT 0,
    locked_until timestamptz,
    ended_at timestamptz
);
CREATE INDEX IF NOT EXISTS kiosks_school ON kiosks (school_id, created_by, created_at);
"""


KIOSKS = Rows("kiosks", "kiosk_id")


class KioskProjection(StatementProjection):
    name = "kiosks"
    schema = SCHEMA
    statements = {
        Kiosk.Configured: KIOSKS.insert(
            "school_id, name, room_id, created_by, created_at, status, destination_ids, student_mode,"
            " homeroom_ids, grades, student_count",
            lambda e: (
                e.school_id,
                e.name,
                e.room_id,
                e.actor_id,
                e.timestamp,
                "active",
                list(e.destination_ids),
                e.student_mode,
                list(e.homeroom_ids),
                list(e.grades),
                len(e.student_ids),
            ),
        ),
        Kiosk.Revoked: KIOSKS.update("status, ended_at", lambda e: ("revoked", e.timestamp)),
        Kiosk.Exited: KIOSKS.update("status, ended_at", lambda e: ("exited", e.timestamp)),
        Kiosk.ExitFailed: KIOSKS.update("exit_failures", lambda e: (e.failures,)),
        Kiosk.LockedOut: KIOSKS.update("exit_failures, locked_until", lambda e: (0, e.until)),
    }


CLASS_ROOMS_SQL = """
SELECT c.room_id FROM roster_enrolments e JOIN roster_classes c ON c.class_id = e.class_id
WHERE e.person_id = dir_students.student_id AND e.member = 'student' AND e.active AND c.active
    AND c.room_id IS NOT NULL
"""
"""The rooms a student's classes meet in: a kiosk's classroom serves them too (decision 077)."""

CANDIDATE_SQL = f"""
SELECT student_id, first_name, last_name, grade, homeroom_id, hall_pass_id, external_id, open_pass_id,
    ARRAY({CLASS_ROOMS_SQL}) AS class_rooms
FROM dir_students WHERE school_id = $1 AND active
"""

# How alike a typed word and a word of a name must be (pg_trgm's word_similarity) for the name
# to be looked at for a typo. One typo in a short word leaves few trigrams in common ("chole" and
# "chloe martinez": 0.33), so the bar is low; the rules in kiosk_search then decide.
TYPO_SIMILARITY = 0.2

BIGINT_MAX = 2**63 - 1


class KioskView(View):
    def __init__(self, pool: asyncpg.Pool, *, trigrams: bool) -> None:
        """``trigrams``: the database has pg_trgm (see `projections.trigrams`), so PostgreSQL
        narrows a search to the students it may name; else every allowed student is read."""
        super().__init__(pool)
        self.trigrams = trigrams

    async def for_staff(
        self, school_id: UUID, staff_id: UUID | None, *, limit: int = 20
    ) -> list[dict[str, Any]]:
        return await self.rows(
            "SELECT k.*, r.name AS room_name FROM kiosks k"
            " LEFT JOIN dir_locations r ON r.location_id = k.room_id"
            " WHERE k.school_id = $1 AND k.created_by IS NOT DISTINCT FROM $2"
            " ORDER BY k.status = 'active' DESC, k.created_at DESC LIMIT $3",
            school_id,
            staff_id,
            limit,
        )

    async def find_students(self, school_id: UUID, scope: StudentScope, query: str) -> list[Candidate]:
        """Allowed students the query names (at most a handful); see `kiosk_search.search`."""
        wanted = parse(query)
        sql, args = _in_scope(school_id, scope)
        if not self.trigrams:
            rows = await self.pool.fetch(sql, *args)
        elif wanted.hall_pass_id is not None:
            if wanted.hall_pass_id > BIGINT_MAX:
                return []
            rows = await self.pool.fetch(*_where(sql, args, [("hall_pass_id = ?", [wanted.hall_pass_id])]))
        elif wanted.external_id is not None:
            rows = await self.pool.fetch(
                *_where(sql, args, [("lower(external_id) = ?", [wanted.external_id])])
            )
        else:
            return await self._find_by_name(sql, args, scope, wanted)
        return matches(_candidates(rows), scope, wanted)

    async def _find_by_name(
        self, sql: str, args: list[Any], scope: StudentScope, wanted: Query
    ) -> list[Candidate]:
        async with self.pool.acquire() as conn, conn.transaction(readonly=True):
            # Plan each search for its own words (a generic plan would not use the trigram
            # index); the typo bar holds for this transaction only.
            await conn.execute(
                "SET LOCAL plan_cache_mode = force_custom_plan;"
                f" SET LOCAL pg_trgm.word_similarity_threshold = {TYPO_SIMILARITY}"
            )
            # Names each word starts a word of: with a full list of these, no name with a typo
            # would be shown (they rank after), so the typo search is not needed.
            rows = await conn.fetch(*_where(sql, args, _word_starts(wanted.words, typos=False)))
            found = matches(_candidates(rows), scope, wanted)
            if len(found) < LIMIT:
                rows = await conn.fetch(*_where(sql, args, _word_starts(wanted.words, typos=True)))
                found = matches(_candidates(rows), scope, wanted)
        return found


def _in_scope(school_id: UUID, scope: StudentScope) -> tuple[str, list[Any]]:
    """The candidate query for the students the scope allows, and its arguments."""
    if scope.mode is StudentMode.CLASSROOM:
        in_rooms = (
            f"(homeroom_id = ANY($2::uuid[]) OR EXISTS ({CLASS_ROOMS_SQL} AND c.room_id = ANY($2::uuid[])))"
        )
        return CANDIDATE_SQL + " AND " + in_rooms, [school_id, list(scope.homeroom_ids)]
    if scope.mode is StudentMode.GRADE:
        return CANDIDATE_SQL + " AND grade = ANY($2::int[])", [school_id, list(scope.grades)]
    if scope.mode is StudentMode.LIST:
        return CANDIDATE_SQL + " AND student_id = ANY($2::uuid[])", [school_id, list(scope.student_ids)]
    return CANDIDATE_SQL, [school_id]


Condition = tuple[str, list[Any]]
"""SQL with a ``?`` for each value, and the values."""


def _where(sql: str, args: list[Any], conditions: list[Condition]) -> list[Any]:
    """``sql`` and its arguments with each condition ANDed on, the ``?`` numbered in turn."""
    values = list(args)
    for condition, more in conditions:
        parts = condition.split("?")
        text = parts[0]
        for value, part in zip(more, parts[1:], strict=True):
            values.append(value)
            text += f"${len(values)}{part}"
        sql += f" AND {text}"
    return [sql, *values]


def _word_starts(words: tuple[str, ...], *, typos: bool) -> list[Condition]:
    """Each word starts a word of the name (or, with ``typos``, is like one, if long enough).

    ``search_name`` is the folded "first last" that the rules match against, so a word starts a
    word of the name exactly when it starts the column or follows a space. The trigram index on
    ``search_name`` serves both LIKE and ``<%`` (word similarity).
    """
    out: list[Condition] = []
    for word in words:
        starts = [f"{like_escaped(word)}%", f"% {like_escaped(word)}%"]
        if typos and len(word) >= MIN_TYPO_CHARS:
            out.append(("(search_name LIKE ? OR search_name LIKE ? OR ? <% search_name)", [*starts, word]))
        else:
            out.append(("(search_name LIKE ? OR search_name LIKE ?)", starts))
    return out


def _candidates(rows: Iterable[asyncpg.Record]) -> Iterator[Candidate]:
    return (Candidate(**{**dict(r), "class_rooms": frozenset(r["class_rooms"])}) for r in rows)
