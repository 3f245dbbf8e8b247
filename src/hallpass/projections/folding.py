"""Folding: what a rebuild's pipeline makes of the statements a batch queues on one row.

A statement is read for its shape (`shape`), from its SQL alone:

- `insert`: `INSERT INTO t (k, a, b) VALUES ($1, $2, $3) ON CONFLICT ... DO NOTHING`, a new
  row keyed by its first column;
- `set`: `UPDATE t SET a = $2, b = 'x' WHERE k = $1`, columns set from parameters or text
  literals; `add`: `UPDATE t SET n = n + $2 WHERE k = $1`; either may end `RETURNING school_id`;
- `delete`: `DELETE FROM t WHERE k = $1`, every row of the key;
- `write`: any other statement that names one table only (an upsert, a delete of some rows);
- `other`: the rest (several tables, or none it can tell).

In a pipeline that folds (`Pipeline(fold=True)`, a rebuild's), a row inserted in a batch is kept
in Python with the `set`s and `add`s that follow it, and written at the end of its stretch of the
batch (before the next barrier) with the other rows of its table in one `COPY` and one
`INSERT ... SELECT ... ON CONFLICT ... DO NOTHING RETURNING` (`write_rows`): an insert and its
updates become one row. A row the table already had (the insert found a conflict) is not
returned, and its statements are sent as they came, so the table ends as event by event. Where
only the key can conflict (the clause names it, or the table has no other unique index), the
keys the table has are looked up instead and the other rows go by COPY straight into the table:
no scratch table, no INSERT (decision 122).
Likewise a `write` is held for its row, and a `delete` of the row drops what is held (the
timer of a pass that began and ended in one batch is never written); so is the `delete` of a
row that no statement of the rebuild named before (`Written`). Any statement a row's
fold cannot take (an expression, a statement of several tables naming the key) sends what is
held for that row first, as it came. Consecutive `set`s of one SQL on one row keep the last;
consecutive `add`s of one SQL add up.

This relies on what the pipeline relies on (statements naming different rows commute), and on
one thing more: a table whose rows are folded is read, for a row, only by the statements that
name that row. Statements on one key in different tables keep their order in the pipeline
otherwise; a fold moves a table's statements on a row to the end of its stretch.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Literal

from hallpass.eventstore.store import DbConnection

Kind = Literal["insert", "set", "add", "delete", "write", "other"]
Statement = tuple[str, bool, tuple[Any, ...]]  # sql, fetched, arguments


@dataclass(frozen=True)
class Shape:
    kind: Kind
    tables: frozenset[str]
    key: str = ""  # the column $1 names
    columns: tuple[str, ...] = ()  # insert: every column, $1 on; set and add: the columns set
    values: tuple[int | Literal[False], ...] = ()  # set: each column's parameter, False for a literal
    literals: tuple[str | None, ...] = ()  # set: each column's literal text, where it has one
    conflict: str = ""  # insert: its ON CONFLICT clause
    table: str = field(init=False, default="")  # one of `tables` (the one, but for `other`)

    def __post_init__(self) -> None:
        object.__setattr__(self, "table", next(iter(self.tables), ""))


_INSERT = re.compile(
    r"INSERT INTO (\w+) \(([\w, ]+)\) VALUES \(([$\d, ]+)\) (ON CONFLICT(?: \([\w, ]+\))? DO NOTHING)"
)
_SET = re.compile(r"UPDATE (\w+) SET (.+) WHERE (\w+) = \$1( RETURNING school_id)?")
_DELETE = re.compile(r"DELETE FROM (\w+) WHERE (\w+) = \$1")
_PARAMETER = re.compile(r"(\w+) = \$(\d+)")
_LITERAL = re.compile(r"(\w+) = '([^']*)'")
_ADD = re.compile(r"(\w+) = (\w+) \+ \$2")
# A name after one of these words, unless it is a function's or the SET of `DO UPDATE SET`.
_TABLE = re.compile(r"\b(?:INTO|UPDATE|FROM|JOIN|USING)\s+(?!SET\b)(\w+)\b(?!\()", re.IGNORECASE)
_NAMED = re.compile(r"(?:\bWITH|,)\s+(\w+)\s+AS\s+\(", re.IGNORECASE)


@cache
def shape(sql: str) -> Shape:
    """What the statement does, as far as folding goes (see the module)."""
    text = " ".join(sql.split())
    if found := _INSERT.fullmatch(text):
        columns = tuple(found[2].split(", "))
        if found[3] == ", ".join(f"${n}" for n in range(1, len(columns) + 1)):
            return Shape("insert", frozenset([found[1]]), columns[0], columns, conflict=found[4])
    if found := _SET.fullmatch(text):
        parts = found[2].split(", ")
        tables = frozenset([found[1]])
        if len(parts) == 1 and (add := _ADD.fullmatch(parts[0])) and add[1] == add[2]:
            return Shape("add", tables, found[3], (add[1],))
        names: list[str] = []
        values: list[int | Literal[False]] = []
        literals: list[str | None] = []
        for part in parts:
            if each := _PARAMETER.fullmatch(part):
                names.append(each[1])
                values.append(int(each[2]))
                literals.append(None)
            elif each := _LITERAL.fullmatch(part):
                names.append(each[1])
                values.append(False)
                literals.append(each[2])
            else:
                break
        else:
            if "school_id" not in names and found[3] not in names:
                return Shape("set", tables, found[3], tuple(names), tuple(values), tuple(literals))
    if found := _DELETE.fullmatch(text):
        return Shape("delete", frozenset([found[1]]), found[2])
    tables = frozenset(_TABLE.findall(text)) - frozenset(_NAMED.findall(text))
    return Shape("write" if len(tables) == 1 else "other", tables)


# Whether every unique index (or exclusion constraint) of table $1 is on column $2 alone.
KEYED_ALONE = """
SELECT NOT EXISTS (
    SELECT FROM pg_index i
    WHERE i.indrelid = $1::text::regclass AND (i.indisunique OR i.indisexclusion)
        AND NOT (i.indnkeyatts = 1 AND i.indkey[0] = (
            SELECT a.attnum FROM pg_attribute a WHERE a.attrelid = $1::text::regclass AND a.attname = $2
        ))
)
"""


class Written:
    """What a rebuild may have written since it emptied the tables: the rows (table and key) any
    statement queued so far named, `ANY` for the tables where a statement named none. A `delete`
    of a row no statement named deletes nothing, and is not sent. Once some stretch of the log
    went the usual way (`unknown`), nothing is known."""

    ANY = ""

    def __init__(self) -> None:
        self.rows: set[tuple[str, object]] = set()
        self.unknown = False

    def note(self, tables: frozenset[str], key: object) -> None:
        for table in tables or (self.ANY,):
            self.rows.add((table, key))

    def never(self, table: str, key: object) -> bool:
        """Whether the table surely has no row of `key`."""
        rows = self.rows
        return not self.unknown and (table, key) not in rows and (self.ANY, key) not in rows


@dataclass
class Fold:
    """What a batch did to one row of one table, held until its stretch of the batch is sent:
    the row (for one inserted in the batch; None while only `write`s are held) and the
    statements as they came."""

    insert: Shape | None
    row: dict[str, Any] | None
    statements: list[Statement] = field(default_factory=list)
    fetched: bool = False  # some statement was to say the school: the row's school_id

    def take(self, found: Shape, sql: str, fetch: bool, args: tuple[Any, ...]) -> bool:
        """Fold the statement into the row; False where it cannot (nothing changes then)."""
        row = self.row
        if found.kind == "insert" and self.insert is not None:
            if found.conflict not in ("ON CONFLICT DO NOTHING", f"ON CONFLICT ({found.key}) DO NOTHING"):
                return False  # a conflict on the key would not be let pass
            # the row is there already: the insert changes nothing
        elif row is None or self.insert is None:
            if fetch or found.kind not in ("write", "set", "add"):
                return False
        elif found.key != self.insert.key or (fetch and "school_id" not in row):
            return False
        elif found.kind == "set":
            changes = {}
            for column, value, literal in zip(found.columns, found.values, found.literals, strict=True):
                changes[column] = literal if value is False else args[value - 1]
            row.update(changes)
        elif found.kind == "add":
            (column,) = found.columns
            if column not in row:  # its default, unknown here
                return False
            now, step = row[column], args[1]
            row[column] = None if now is None or step is None else now + step
        else:
            return False
        self.statements.append((sql, fetch, args))
        self.fetched = self.fetched or fetch
        return True


async def write_rows(
    conn: DbConnection, table: str, insert: Shape, columns: tuple[str, ...], rows: list[tuple[Any, ...]]
) -> set[Any]:
    """Insert `rows` (values of `columns`, the key first) with the insert's conflict clause, and
    answer the keys inserted. Where only the key can conflict (`keyed_alone`): the keys the table
    has already looked up, and the other rows copied into the table; otherwise one COPY into a
    scratch table and one INSERT ... SELECT."""
    if await keyed_alone(conn, table, insert):
        return await copy_new_rows(conn, table, insert.key, columns, rows)
    names = ", ".join(columns)
    async with copied(conn, table, columns, rows, f"folded_{table}") as scratch:
        written = await conn.fetch(
            f"INSERT INTO {table} ({names}) SELECT {names} FROM {scratch} {insert.conflict}"
            f" RETURNING {insert.key}"
        )
    return {row[0] for row in written}


async def copy_new_rows(
    conn: DbConnection, table: str, key: str, columns: Sequence[str], rows: list[tuple[Any, ...]]
) -> set[Any]:
    """Copy into `table` the `rows` (values of `columns`, `key` first, one row per key) whose key
    it has not: what `INSERT ... ON CONFLICT (key) DO NOTHING` of them writes where only the key
    can conflict, with no scratch table. Answers the keys written."""
    had = f"SELECT {key} FROM {table} WHERE {key} = ANY($1)"
    there = {row[0] for row in await conn.fetch(had, [row[0] for row in rows])}
    new = [row for row in rows if row[0] not in there]
    await conn.copy_records_to_table(table, records=new, columns=list(columns))
    return {row[0] for row in new}


async def keyed_alone(conn: DbConnection, table: str, insert: Shape) -> bool:
    """Whether the insert's `ON CONFLICT ... DO NOTHING` skips only rows of keys the table has:
    its clause names the key (a conflict elsewhere fails it), or the table has no unique index
    nor exclusion constraint but the key's."""
    if insert.conflict == f"ON CONFLICT ({insert.key}) DO NOTHING":
        return True
    return bool(await conn.fetchval(KEYED_ALONE, table, insert.key))


@contextlib.asynccontextmanager
async def copied(
    conn: DbConnection, table: str, columns: Sequence[str], records: list[tuple[Any, ...]], scratch: str
) -> AsyncIterator[str]:
    """`records` (values of `columns`) in a temporary table `scratch` shaped as those columns of
    `table`, by one COPY, for the statement the block sends from it; dropped after."""
    shaped = f"SELECT {', '.join(columns)} FROM {table} WITH NO DATA"
    await conn.execute(f"CREATE TEMP TABLE {scratch} AS {shaped}")
    await conn.copy_records_to_table(scratch, records=records, columns=list(columns))
    yield scratch
    await conn.execute(f"DROP TABLE {scratch}")


async def update_rows(conn: DbConnection, found: Shape, rows: list[tuple[Any, ...]]) -> None:
    """The `set` `found` made to many rows, whose keys ($1) differ: what one statement per row
    does, with one COPY of the keys and parameters into a scratch table and one UPDATE ... FROM
    it (decision 118: a rebuild's updates of rows written by earlier batches, a student's open
    pass)."""
    table, key = found.table, found.key
    given = [(c, n) for c, n in zip(found.columns, found.values, strict=True) if n is not False]
    sets = ", ".join(
        f"{c} = s.{c}" if n is not False else f"{c} = '{literal}'"
        for c, n, literal in zip(found.columns, found.values, found.literals, strict=True)
    )
    # A row that has the values already, as the server writes them out, is left alone (most often
    # a student's open pass, opened and closed in the batch): no new version of it (decision 122).
    now = ", ".join(f"t.{c}::text" for c in found.columns)
    then = ", ".join(
        f"s.{c}::text" if n is not False else f"'{literal}'"
        for c, n, literal in zip(found.columns, found.values, found.literals, strict=True)
    )
    records = [(row[0], *(row[n - 1] for _, n in given)) for row in rows]
    async with copied(conn, table, [key, *(c for c, _ in given)], records, f"updated_{table}") as scratch:
        await conn.execute(
            f"UPDATE {table} t SET {sets} FROM {scratch} s"
            f" WHERE t.{key} = s.{key} AND ({now}) IS DISTINCT FROM ({then})"
        )
