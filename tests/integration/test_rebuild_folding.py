"""A rebuild's folded batches (decision 113) leave the tables as the statements one by one do.

The pipeline of a rebuild folds a row's statements in Python (`projections.folding`): an insert
and its updates become one row written by COPY, updates of one row in a run keep the last or add
up, a delete drops what was held and is not sent for a row never written. Hypothesis draws
statement sequences over two tables, of every shape the folding reads, cut into batches and
barriers, and compares them with the same statements sent one at a time; then a generated month
of passes of every kind is projected live and rebuilt in batches of several sizes, and every
read model's rows compared.
"""

from __future__ import annotations

import random
from datetime import date
from typing import Any

import asyncpg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hallpass.aggregates.passes import Pass
from hallpass.aggregates.students import Student
from hallpass.bootstrap import Runtime, all_projections
from hallpass.projections.base import handles
from hallpass.projections.folding import Written, keyed_alone, shape
from hallpass.projections.pipeline import Pipeline
from hallpass.projections.runner import ProjectionRunner
from support.report_month import save_month
from support.school import make_school

FIRST = date(2027, 3, 1)

TABLES = """
DROP TABLE IF EXISTS fold_t, fold_u, fold_v;
CREATE TEMP TABLE fold_t (k int PRIMARY KEY, a int, b text, n int NOT NULL DEFAULT 0, school_id int);
CREATE TEMP TABLE fold_u (k int, kind text, v int, PRIMARY KEY (k, kind));
CREATE TEMP TABLE fold_v (k int PRIMARY KEY, u int UNIQUE);
"""

# Statements of every shape: (sql, fetch, arguments from the key and a drawn value).
STATEMENTS: list[tuple[str, bool, Any]] = [
    (
        "INSERT INTO fold_t (k, a, b, school_id) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
        False,
        lambda k, v: (k, v, f"b{v}", 100 + k),
    ),
    (
        "INSERT INTO fold_t (k, a, n, school_id) VALUES ($1, $2, $3, $4) ON CONFLICT (k) DO NOTHING",
        False,
        lambda k, v: (k, v, v % 3, 100 + k),
    ),
    ("UPDATE fold_t SET a = $2 WHERE k = $1", False, lambda k, v: (k, v)),
    ("UPDATE fold_t SET b = 'done', a = $2 WHERE k = $1 RETURNING school_id", True, lambda k, v: (k, v)),
    ("UPDATE fold_t SET n = n + $2 WHERE k = $1 RETURNING school_id", True, lambda k, v: (k, v - 2)),
    ("UPDATE fold_t SET n = n + $2 WHERE k = $1", False, lambda k, v: (k, v)),
    ("UPDATE fold_t SET a = a * 2 + $2 WHERE k = $1", False, lambda k, v: (k, v)),
    ("DELETE FROM fold_t WHERE k = $1", False, lambda k, v: (k,)),
    (
        "INSERT INTO fold_u VALUES ($1, $2, $3) ON CONFLICT (k, kind) DO UPDATE SET v = EXCLUDED.v",
        False,
        lambda k, v: (k, "ab"[v % 2], v),
    ),
    ("DELETE FROM fold_u WHERE k = $1 AND kind = 'a'", False, lambda k, v: (k,)),
    ("DELETE FROM fold_u WHERE k = $1", False, lambda k, v: (k,)),
    (
        "UPDATE fold_u SET v = (SELECT coalesce(max(a), -1) FROM fold_t WHERE fold_t.k = $1) WHERE k = $1",
        False,
        lambda k, v: (k,),
    ),
    # A table with a unique column besides its key: a row conflicting on either is skipped, so
    # its rows go through a scratch table (`write_rows`); fold_t's rows go by COPY itself.
    ("INSERT INTO fold_v (k, u) VALUES ($1, $2) ON CONFLICT DO NOTHING", False, lambda k, v: (k, v % 3)),
    # Sent for many rows at once from a scratch table (`update_rows`): a literal, a null, a
    # parameter for two columns, a key of several rows.
    ("UPDATE fold_t SET b = 'x', a = $2 WHERE k = $1", False, lambda k, v: (k, None if v == 0 else v)),
    ("UPDATE fold_t SET a = $2, n = $2 WHERE k = $1", False, lambda k, v: (k, v)),
    ("UPDATE fold_u SET v = $2 WHERE k = $1", False, lambda k, v: (k, v)),
    ("UPDATE fold_t SET a = a + 1", False, lambda k, v: ()),  # no arguments: a barrier
]

STEPS = st.lists(
    st.tuples(st.integers(0, len(STATEMENTS) - 1), st.integers(0, 3), st.integers(0, 9)), max_size=60
)


def test_every_shape_is_read_as_meant() -> None:
    kinds = [shape(sql).kind for sql, _, _ in STATEMENTS[:-1]]
    assert kinds == [
        "insert",
        "insert",
        "set",
        "set",
        "add",
        "add",
        "write",
        "delete",
        "write",
        "write",
        "delete",
        "other",
        "insert",
        "set",
        "set",
        "set",
    ]
    assert shape(STATEMENTS[1][0]).conflict == "ON CONFLICT (k) DO NOTHING"
    assert shape(STATEMENTS[3][0]).literals == ("done", None)
    assert shape(STATEMENTS[11][0]).tables == {"fold_t", "fold_u"}


async def test_rows_go_by_copy_itself_where_only_the_key_can_conflict(runtime: Runtime) -> None:
    """`keyed_alone`: a clause naming the key, or a table whose only unique index is the key's;
    not a bare clause on a table with another unique column, nor a key of several columns."""
    async with runtime.pool.acquire() as conn:
        await conn.execute(TABLES)
        assert await keyed_alone(conn, "fold_t", shape(STATEMENTS[0][0]))  # bare clause, key only
        assert await keyed_alone(conn, "fold_t", shape(STATEMENTS[1][0]))  # the clause names k
        assert not await keyed_alone(conn, "fold_v", shape(STATEMENTS[12][0]))  # u is unique too
        on_u = shape("INSERT INTO fold_u (k, kind, v) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
        assert not await keyed_alone(conn, "fold_u", on_u)  # its key is (k, kind)
        await conn.execute("DROP TABLE fold_t, fold_u, fold_v")
        # Rows of fold_v conflicting on u in a batch and with an earlier batch's are skipped.
        sql, fetch, make = STATEMENTS[12]
        inserts = [(sql, fetch, make(k, v)) for k, v in ((0, 1), (1, 4), (2, 2), (3, 5), (4, 0), (0, 0))]
        await assert_folded_as_one_by_one(conn, inserts, [3, 3], 1)


async def contents(conn: asyncpg.Connection) -> tuple[list[Any], ...]:
    return (
        [tuple(r) for r in await conn.fetch("SELECT * FROM fold_t ORDER BY k")],
        [tuple(r) for r in await conn.fetch("SELECT * FROM fold_u ORDER BY k, kind")],
        [tuple(r) for r in await conn.fetch("SELECT * FROM fold_v ORDER BY k")],
    )


async def assert_folded_as_one_by_one(
    conn: asyncpg.Connection, statements: list[tuple[str, bool, Any]], cuts: list[int], fewest: int
) -> None:
    """The statements one by one, then in folded batches of the sizes `cuts` (in turn): the same
    tables, and the same schools told."""
    await conn.execute(TABLES)
    told: set[Any] = set()
    for sql, fetch, args in statements:
        if fetch:
            told |= {row[0] for row in await conn.fetch(sql, *args)}
        else:
            await conn.execute(sql, *args)
    one_by_one = await contents(conn)

    await conn.execute(TABLES)
    written, folded_told, at, turn = Written(), set(), 0, 0
    while at < len(statements):
        batch = statements[at : at + cuts[turn % len(cuts)]]
        at, turn = at + len(batch), turn + 1
        pipeline = Pipeline(fold=True, written=written)
        pipeline.fewest_copied = fewest
        for sql, fetch, args in batch:
            if fetch:
                await pipeline.fetchval(sql, *args)
            else:
                await pipeline.execute(sql, *args)
        pipeline.seal()
        async with conn.transaction():
            await pipeline.flush(conn)
        folded_told |= pipeline.returned
    assert await contents(conn) == one_by_one
    assert folded_told - {None} == told
    await conn.execute("DROP TABLE fold_t, fold_u, fold_v")


async def test_one_set_of_many_rows_written_by_earlier_batches_does_what_each_did(runtime: Runtime) -> None:
    """A batch's same `set` of rows an earlier batch wrote goes as one UPDATE from a scratch table
    (`update_rows`): a literal, nulls, one parameter for two columns, a key of several rows, a
    key of no row."""
    inserts = [(STATEMENTS[0][0], False, STATEMENTS[0][2](k, k)) for k in range(6)]
    inserts += [(STATEMENTS[8][0], False, STATEMENTS[8][2](k, v)) for k in range(6) for v in (0, 1)]
    sets = [(sql, fetch, make(k, k % 3)) for sql, fetch, make in STATEMENTS[-4:-1] for k in range(7)]
    async with runtime.pool.acquire() as conn:
        await assert_folded_as_one_by_one(conn, inserts + sets, [len(inserts), len(sets)], 2)


# Each example makes its tables anew on the test's database.
@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=STEPS, cuts=st.lists(st.integers(1, 30), min_size=1, max_size=5), fewest=st.integers(1, 3))
async def test_folded_batches_leave_the_tables_as_the_statements_one_by_one(
    runtime: Runtime, steps: list[tuple[int, int, int]], cuts: list[int], fewest: int
) -> None:
    statements = [(STATEMENTS[i][0], STATEMENTS[i][1], STATEMENTS[i][2](k, v)) for i, k, v in steps]
    async with runtime.pool.acquire() as conn:
        await assert_folded_as_one_by_one(conn, statements, cuts, fewest)


async def every_table(runtime: Runtime) -> dict[str, list[Any]]:
    tables = sorted(t for p in runtime.projections for t in p.tables)
    return {t: sorted(map(tuple, await runtime.pool.fetch(f"SELECT * FROM {t}")), key=repr) for t in tables}


@pytest.mark.parametrize("batch_size", [7, 120, 5_000])
async def test_a_month_of_passes_rebuilt_in_folded_batches_gives_the_live_read_models(
    runtime: Runtime, batch_size: int
) -> None:
    north = await make_school(runtime, label="North", students=8)
    south = await make_school(runtime, label="South", students=5, district_id=north.district_id)
    rng = random.Random(20270301)
    for school, days in ((north, 12), (south, 5)):
        await save_month(runtime, rng, school, FIRST, days)
    for runner in runtime.runners:
        await runner.catch_up()
    live = await every_table(runtime)
    assert len(live["pass_list"]) > 50 and live["report_passes"] and live["audit_streams"]

    indexes = await runtime.pool.fetch("SELECT indexname, indexdef FROM pg_indexes ORDER BY 1")
    assert any(r["indexname"] == "audit_streams_span" for r in indexes)

    rebuilding = ProjectionRunner(runtime.pool, runtime.store, *runtime.projections)
    assert await rebuilding.rebuild(batch_size=batch_size) > 0
    assert await every_table(runtime) == live
    # The tables kept their indexes all along (decision 122).
    assert await runtime.pool.fetch("SELECT indexname, indexdef FROM pg_indexes ORDER BY 1") == indexes


def test_each_projection_is_handed_the_events_its_handler_acts_on() -> None:
    named = {p.name: p for p in all_projections()}
    assert handles(named["pass_list"], Pass.Started) and handles(named["pass_list"], Pass.Completed)
    assert not handles(named["pass_list"], Student.PassOpened)
    assert handles(named["directory"], Student.PassOpened)
    assert handles(named["audit_index"], Pass.Completed)  # it closes the pass's stream
    assert not handles(named["kiosks"], Pass.Started)
