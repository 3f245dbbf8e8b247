"""The live pipeline's statements over arrays (decision 129) do what the same rows one by one do.

A round's rows of one simple statement (insert, set, add, delete) go to the server as one
statement whose parameters are arrays (`projections.arrays`). Hypothesis draws statement
sequences over tables of many column types, with hostile values (NULLs, long text with quotes
and backslashes, timestamps with offsets up to the year 9999, numerics, JSON), keys repeated so
that one statement of a round updates a row several times, and rows conflicting on a unique
column besides the key; it cuts them into batches and compares the tables and the schools
returned with the same batches sent the way they went before, one Bind and Execute per row
(`Pipeline.arrays` off), and with the statements one at a time.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from uuid import UUID

import asyncpg
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from hallpass.bootstrap import Runtime
from hallpass.projections import arrays
from hallpass.projections.arrays import Arrayed, arrayed, over_arrays
from hallpass.projections.pipeline import Pipeline

TABLES = """
DROP TABLE IF EXISTS arr_t, arr_m, arr_a;
CREATE TEMP TABLE arr_t (
    k uuid PRIMARY KEY, school_id int, name text, n int NOT NULL DEFAULT 0, at timestamptz,
    day date, tags text[], doc jsonb, amount numeric, flag bool, u text UNIQUE
);
CREATE TEMP TABLE arr_m (k uuid, kind text, v text, at timestamptz, PRIMARY KEY (k, kind));
CREATE TEMP TABLE arr_a (k uuid, what text, PRIMARY KEY (k, what));
"""

Statement = tuple[str, bool, tuple[Any, ...]]  # sql, fetched, arguments
KEYS = [UUID(int=n) for n in (1, 2, 3, 2**127 + 5)]
TEXT = st.one_of(
    st.none(),
    st.text(st.characters(blacklist_characters="\x00", blacklist_categories=["Cs"]), max_size=30),
    st.sampled_from(["", "'", "''", "\\", 'a"b', "{x,y}", "NULL", "line\nbreak", "é" * 5000 + "'"]),
)
OFFSET = st.integers(-14 * 60, 14 * 60).map(lambda m: timezone(timedelta(minutes=m)))
MOMENT = st.one_of(
    st.none(),
    st.datetimes(datetime(1, 1, 3), datetime(9999, 12, 30), timezones=OFFSET),
    st.just(datetime(9999, 12, 30, 23, 59, 59, 999999, tzinfo=timezone(timedelta(hours=14)))),
)
DAY = st.one_of(st.none(), st.dates(date(1, 1, 1), date(9999, 12, 31)))
AMOUNT = st.one_of(st.none(), st.decimals(allow_nan=False, allow_infinity=False, places=3))
DOC = st.one_of(
    st.none(), st.recursive(st.none() | st.integers() | TEXT, st.lists, max_leaves=4).map(json.dumps)
)
SMALL = st.one_of(st.none(), st.integers(-3, 3))
UNIQUE = st.one_of(st.none(), st.sampled_from(["a", "b", "c"]))

# (sql, fetch, strategy of the arguments after the key); None: no arrays (sent as before).
STATEMENTS: list[tuple[str, bool, Any]] = [
    (
        "INSERT INTO arr_t (k, school_id, name, at, day, doc, amount, flag, u)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING",
        False,
        st.tuples(SMALL, TEXT, MOMENT, DAY, DOC, AMOUNT, st.none() | st.booleans(), UNIQUE),
    ),
    (
        "INSERT INTO arr_t (k, school_id, name, n, tags) VALUES ($1, $2, $3, $4, $5)"
        " ON CONFLICT (k) DO NOTHING",
        False,
        st.tuples(SMALL, TEXT, st.integers(-3, 3), st.none() | st.lists(TEXT, max_size=3)),
    ),
    ("UPDATE arr_t SET name = $2, at = $3 WHERE k = $1", False, st.tuples(TEXT, MOMENT)),
    (
        "UPDATE arr_t\n    SET name = 'done  twice', at = $2, day = $3\n    WHERE k = $1 RETURNING school_id",
        True,
        st.tuples(MOMENT, DAY),
    ),
    ("UPDATE arr_t SET name = 'it''s', school_id = $2 WHERE k = $1", False, st.tuples(SMALL)),
    ("UPDATE arr_t SET n = n + $2 WHERE k = $1 RETURNING school_id", True, st.tuples(st.integers(-3, 3))),
    ("UPDATE arr_t SET n = n + $2 WHERE k = $1", False, st.tuples(st.integers(-3, 3))),
    (
        "UPDATE arr_t SET doc = $2, amount = $3, flag = $4 WHERE k = $1",
        False,
        st.tuples(DOC, AMOUNT, st.booleans()),
    ),
    ("UPDATE arr_t SET tags = $2 WHERE k = $1", False, st.tuples(st.none() | st.lists(TEXT, max_size=3))),
    ("UPDATE arr_t SET at = $2, day = $3::date WHERE k = $1", False, st.tuples(MOMENT, DAY)),
    ("DELETE FROM arr_t WHERE k = $1", False, st.tuples()),
    (
        "INSERT INTO arr_m (k, kind, v, at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
        False,
        st.tuples(st.sampled_from(["x", "y"]), TEXT, MOMENT),
    ),
    ("UPDATE arr_m SET v = $2, at = $3 WHERE k = $1 RETURNING school_id", False, st.tuples(TEXT, MOMENT)),
    ("UPDATE arr_m SET v = $2, at = $3 WHERE k = $1", False, st.tuples(TEXT, MOMENT)),
    ("DELETE FROM arr_m WHERE k = $1", False, st.tuples()),
    ("INSERT INTO arr_a VALUES ($1, $2) ON CONFLICT DO NOTHING", False, st.tuples(st.sampled_from("pq"))),
    ("UPDATE arr_a SET what = $2 WHERE k = $1", False, st.tuples(st.sampled_from("pq"))),
    ("UPDATE arr_t SET name = 'done', at = $2 WHERE k = $1 RETURNING school_id", True, st.tuples(MOMENT)),
]
# arr_m has no school_id: that statement fails, one by one and over arrays alike.
FAILS = {STATEMENTS[12][0]}
# Where each statement goes over arrays: the kinds `folding.shape` reads and an insert naming no
# columns; not a statement with an array parameter, a literal `shape` reads otherwise (spaces,
# a quote), an expression, nor one of another shape.
OVER_ARRAYS = [True, False, True, False, False, True, True, True, False, False, True, True, False]
OVER_ARRAYS += [True, True, True, True, True]

# One statement on one key, one to three times in a row (a run of it, several rows of one key
# in one round's statement).
STEP = st.tuples(st.integers(0, len(STATEMENTS) - 1), st.sampled_from(KEYS)).flatmap(
    lambda p: st.lists(st.tuples(st.just(p[0]), st.just(p[1]), STATEMENTS[p[0]][2]), min_size=1, max_size=3)
)


async def contents(conn: asyncpg.Connection) -> tuple[list[Any], ...]:
    return (
        [tuple(r) for r in await conn.fetch("SELECT * FROM arr_t ORDER BY k")],
        [tuple(r) for r in await conn.fetch("SELECT * FROM arr_m ORDER BY k, kind")],
        [tuple(r) for r in await conn.fetch("SELECT * FROM arr_a ORDER BY k, what")],
    )


async def through_pipelines(
    conn: asyncpg.Connection,
    statements: list[Statement],
    cuts: list[int],
    arrays: bool,
) -> tuple[tuple[list[Any], ...], list[Any]]:
    """The tables after the statements went in batches of the sizes `cuts` (in turn), and what
    each batch returned or the error it failed with (a failed batch changes nothing)."""
    await conn.execute(TABLES)
    outcomes: list[Any] = []
    at, turn = 0, 0
    while at < len(statements):
        batch = statements[at : at + cuts[turn % len(cuts)]]
        at, turn = at + len(batch), turn + 1
        pipeline = Pipeline()
        pipeline.arrays = arrays
        for sql, fetch, args in batch:
            if fetch:
                await pipeline.fetchval(sql, *args)
            else:
                await pipeline.execute(sql, *args)
        try:
            async with conn.transaction():
                await pipeline.flush(conn)
        except asyncpg.PostgresError as e:
            outcomes.append(type(e).__name__)
        else:
            outcomes.append(sorted(pipeline.returned, key=repr))
    return await contents(conn), outcomes


async def one_by_one(conn: asyncpg.Connection, statements: list[Statement]) -> tuple[list[Any], ...]:
    await conn.execute(TABLES)
    for sql, _, args in statements:
        await conn.execute(sql, *args)
    return await contents(conn)


def test_each_shape_goes_over_arrays_or_as_before() -> None:
    types = {
        "uuid": ("pg_catalog", "uuid", "scalar"),
        "int4": ("pg_catalog", "int4", "scalar"),
        "text": ("pg_catalog", "text", "scalar"),
        "text[]": ("pg_catalog", "text[]", "array"),
    }
    insert = "INSERT INTO arr_a VALUES ($1, $2) ON CONFLICT DO NOTHING"
    found = over_arrays(insert, [types["uuid"], types["text"]])
    assert found is not None
    assert found.arrays == (
        'INSERT INTO arr_a SELECT * FROM unnest($1::"pg_catalog"."uuid"[], $2::"pg_catalog"."text"[])'
        " ON CONFLICT DO NOTHING"
    )
    add = over_arrays(STATEMENTS[5][0], [types["uuid"], types["int4"]])
    assert add is not None and add.layered
    assert add.arrays == (
        'UPDATE arr_t SET n = n + u."$2" FROM unnest($1::"pg_catalog"."uuid"[], $2::"pg_catalog"."int4"[])'
        ' AS u("$1", "$2") WHERE arr_t.k = u."$1" RETURNING school_id'
    )
    delete = over_arrays(STATEMENTS[10][0], [types["uuid"]])
    assert (
        delete is not None and delete.arrays == 'DELETE FROM arr_t WHERE k = ANY($1::"pg_catalog"."uuid"[])'
    )
    assert over_arrays(STATEMENTS[8][0], [types["uuid"], types["text[]"]]) is None  # an array parameter
    # A literal with two spaces in a row, which `shape` reads with one: sent as it came.
    assert over_arrays(STATEMENTS[3][0], [types["uuid"], types["int4"], types["int4"]]) is None
    # A key of a type whose equality may not be Python's (timestamps of other offsets are equal).
    moment = ("pg_catalog", "timestamptz", "scalar")
    assert over_arrays("UPDATE x SET a = $2 WHERE at = $1", [moment, types["int4"]]) is None
    assert over_arrays("UPDATE x SET a = 1 + $2 WHERE k = $1", [types["uuid"], types["int4"]]) is None


def test_an_update_goes_in_layers_of_one_row_per_key_in_their_order() -> None:
    """A key given as a UUID and as its text is one key (asyncpg takes both); a layer of fewer
    than two rows goes, with every row after it, one by one."""
    update = Arrayed("UPDATE t SET a = $2 WHERE k = $1", "", True, True)
    one, two, three = KEYS[:3]
    rows = [(one, 1), (two, 2), (str(one).upper(), 3), (three, 4), (one, 5), (two, 6), (three, 7), (three, 8)]
    assert list(update.layers(rows)) == [
        (True, [(one, 1), (two, 2), (three, 4)]),
        (True, [(str(one).upper(), 3), (two, 6), (three, 7)]),
        (True, [(one, 5), (three, 8)]),
    ]
    assert list(update.layers([(one, 1), (one, 2), (two, 3), (one, 4)])) == [
        (True, [(one, 1), (two, 3)]),
        (False, [(one, 2), (one, 4)]),
    ]
    assert list(update.layers([(one, 1), (one, 2)])) == [(False, [(one, 1), (one, 2)])]
    insert = Arrayed("INSERT INTO t (k, a) VALUES ($1, $2) ON CONFLICT DO NOTHING", "", False, True)
    assert list(insert.layers(rows)) == [(True, rows)]  # one statement inserts in order, skipping as it goes


async def test_the_kinds_are_learned_from_the_server(runtime: Runtime) -> None:
    async with runtime.pool.acquire() as conn:
        await conn.execute(TABLES)
        found = [await arrayed(conn, sql) is not None for sql, _, _ in STATEMENTS if sql not in FAILS]
        assert found == [
            a for (sql, _, _), a in zip(STATEMENTS, OVER_ARRAYS, strict=True) if sql not in FAILS
        ]
        with pytest.raises(asyncpg.UndefinedColumnError):
            await arrayed(conn, STATEMENTS[12][0])


class Counted:
    """A connection that counts how it was asked to send statements."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn
        self.calls: list[tuple[str, int]] = []

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.conn, name)

        async def counted(*args: Any) -> Any:
            rows = len(args[1]) if name in ("executemany", "fetchmany") else 1
            self.calls.append((name, rows))
            return await method(*args)

        return counted


async def test_a_round_of_many_rows_is_one_statement_per_sql(runtime: Runtime) -> None:
    keys = [UUID(int=n) for n in range(1, 41)]
    moment = datetime(2027, 3, 1, 8, tzinfo=UTC)
    async with runtime.pool.acquire() as conn:
        await conn.execute(TABLES)
        for sql in (STATEMENTS[0][0], STATEMENTS[2][0], STATEMENTS[5][0]):
            await arrayed(conn, sql)  # learned before counting
        pipeline = Pipeline()
        for n, k in enumerate(keys):
            await pipeline.execute(STATEMENTS[0][0], k, n, "a", moment, None, None, None, None, None)
            await pipeline.execute(STATEMENTS[2][0], k, f"b{n}", moment)
            await pipeline.fetchval(STATEMENTS[5][0], k, 1)
        counted = Counted(conn)
        async with conn.transaction():
            await pipeline.flush(counted)  # forwards to the connection
        assert counted.calls == [("execute", 1), ("execute", 1), ("fetch", 1)]
        assert pipeline.returned == set(range(40))
        rows = await conn.fetch("SELECT k, name, n FROM arr_t ORDER BY school_id")
        assert [tuple(r) for r in rows] == [(k, f"b{n}", 1) for n, k in enumerate(keys)]


@pytest.mark.parametrize("fetch", [False, True])
async def test_hostile_values_go_over_arrays_as_one_by_one(runtime: Runtime, fetch: bool) -> None:
    long = "x'\\\"é😀" * 20_000
    late = datetime(9999, 12, 30, 23, 59, 59, 999999, tzinfo=timezone(timedelta(hours=14)))
    early = datetime(1, 1, 3, tzinfo=timezone(timedelta(hours=-14)))
    rows = [
        (KEYS[0], None, None, None, None, None, None, None, None),
        (KEYS[1], 7, long, late, date(9999, 12, 31), '{"a": [1, "\'"]}', Decimal("-0.001"), False, "a"),
        (KEYS[2], -1, "", early, date(1, 1, 1), "null", Decimal("1e-30"), True, "a"),  # u taken: skipped
        (KEYS[3], 0, "NULL", late, None, '"x"', Decimal("123456789012345678901234567890.5"), None, None),
    ]
    statements: list[Statement] = [(STATEMENTS[0][0], False, row) for row in rows]
    update = "UPDATE arr_t SET at = $2, name = $3, day = $4 WHERE k = $1" + (
        " RETURNING school_id" if fetch else ""
    )
    updates = [
        (KEYS[1], early, None, None),
        (KEYS[0], late, long, date(9999, 12, 31)),
        (KEYS[1], None, "z", None),
    ]
    statements += [(update, fetch, row) for row in updates]
    async with runtime.pool.acquire() as conn:
        expected = await one_by_one(conn, statements)
        assert expected[0][0][2] == long and expected[0][0][4] == late  # as written, both ways
        for arrays in (False, True):
            tables, outcomes = await through_pipelines(conn, statements, [len(statements)], arrays)
            assert tables == expected
            assert outcomes == [[7, None] if fetch else []]


# Each example makes its tables anew on the test's database.
@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(
    steps=st.lists(STEP, max_size=25).map(lambda runs: [step for run in runs for step in run]),
    cuts=st.lists(st.integers(1, 40), min_size=1, max_size=4),
)
@example(  # one statement adding to two rows three times each: three layers
    steps=[(0, k, (n, None, None, None, None, None, None, None)) for n, k in enumerate(KEYS[:2])]
    + [(5, k, (step,)) for k in KEYS[:2] for step in (1, 2, 3)],
    cuts=[8],
)
async def test_statements_over_arrays_do_what_they_did_row_by_row(
    runtime: Runtime, steps: list[tuple[int, UUID, tuple[Any, ...]]], cuts: list[int]
) -> None:
    statements = [(STATEMENTS[i][0], STATEMENTS[i][1], (k, *rest)) for i, k, rest in steps]
    async with runtime.pool.acquire() as conn:
        before = await through_pipelines(conn, statements, cuts, arrays=False)
        after = await through_pipelines(conn, statements, cuts, arrays=True)
        assert after == before
        # Rows of different keys go in rounds, not in the order they came: one by one gives the
        # same only where they commute (no row skipped for a unique column besides the key).
        if not any(sql in FAILS or (sql == STATEMENTS[0][0] and args[8]) for sql, _, args in statements):
            assert after[0] == await one_by_one(conn, statements)
        await conn.execute("DROP TABLE arr_t, arr_m, arr_a")


async def test_the_statements_kept_are_bounded(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    """Statements made with values in them would fill the cache of forms over arrays: it is
    emptied once it holds `KNOWN_MOST`, and a statement learned again gets the same form."""
    monkeypatch.setattr(arrays, "KNOWN_MOST", 3)
    monkeypatch.setattr(arrays, "_known", {})
    async with runtime.pool.acquire() as conn:
        await conn.execute(TABLES)
        first = await arrayed(conn, STATEMENTS[2][0])
        for n in range(5):
            await arrayed(conn, f"UPDATE arr_t SET name = $2, school_id = {n} WHERE k = $1")
            assert len(arrays._known) <= 3
        assert STATEMENTS[2][0] not in arrays._known
        assert await arrayed(conn, STATEMENTS[2][0]) == first
