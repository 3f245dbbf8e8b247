"""Arrays: many rows' runs of one statement sent as one statement over arrays (decision 129).

The live runner's pipeline sends each distinct SQL of a round for all its rows at once. Sent with
`executemany`, the server binds and executes the statement once per row, and asyncpg encodes
each row's Bind and Execute in turn. A statement of one of the simple shapes `folding.shape`
reads goes instead as one statement whose every parameter is an array of the rows' values, the
rows read back with `unnest`:

- `insert`: `INSERT INTO t (k, a) SELECT * FROM unnest($1::uuid[], $2::text[]) ON CONFLICT ...
  DO NOTHING`: the rows are inserted in their order, so a row skipped one by one (its key, or
  another unique column, taken by an earlier row or by the table) is skipped here too;
- `set` and `add`: `UPDATE t SET a = u."$2", n = n + u."$3" FROM unnest(...) AS u("$1", ...)
  WHERE t.k = u."$1" [RETURNING school_id]`: an UPDATE joined to several rows of one key would
  apply only one of them, so the rows go in layers, the first statement of each key in the
  first, the second in the next, and so on, each layer one statement (a layer of one row, or
  of fewer than `FEWEST`, goes with the rest as before, one by one in order);
- `delete`: `DELETE FROM t WHERE k = ANY($1::uuid[])`.

Each parameter is cast to the type the server gives it in the statement one by one (learned
once per statement from `prepare`), so each value is converted as it was. A statement whose
parameters include an array, a composite, a domain or a range, or whose key's equality in
Python may not be the server's, goes as before.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import asyncpg

from hallpass.eventstore.store import DbConnection
from hallpass.projections.base import TELLS, tells
from hallpass.projections.folding import shape

KNOWN_MOST = 1_000  # statements whose form over arrays is kept, at most
FEWEST = 2  # rows of one layer below which the layer, and what follows it, goes one by one

# Types of a key whose values are equal in Python exactly when the server finds them equal (uuid
# once made UUIDs: asyncpg takes text for them too).
PLAIN_KEYS = frozenset(["uuid", "int2", "int4", "int8", "text", "varchar", "bool", "date"])


@dataclass(frozen=True)
class Arrayed:
    """A statement of one row and its form over arrays."""

    sql: str  # the statement of one row
    arrays: str  # the same over arrays of every row's values
    layered: bool  # an UPDATE: at most one row of a key per statement
    uuid_key: bool  # keys compared as UUIDs

    def layers(self, rows: Sequence[tuple[Any, ...]]) -> Iterable[tuple[bool, list[tuple[Any, ...]]]]:
        """The rows in statements that do what they did one by one, in turn: each layer of at
        least `FEWEST` rows to go as one statement over arrays (True), and a last of rows to go
        one by one, in order (False)."""
        if not self.layered:
            yield len(rows) >= FEWEST, list(rows)
            return
        left = list(rows)
        while left:
            seen: set[Any] = set()
            layer: list[tuple[Any, ...]] = []
            later: list[tuple[Any, ...]] = []
            for row in left:
                key = self._key(row[0])
                if key in seen:
                    later.append(row)
                else:
                    seen.add(key)
                    layer.append(row)
            if len(layer) < FEWEST:
                yield False, left
                return
            yield True, layer
            left = later

    def _key(self, value: Any) -> Any:
        if self.uuid_key and value is not None and not isinstance(value, UUID):
            return UUID(str(value))
        return value

    async def send(self, conn: DbConnection, rows: Sequence[tuple[Any, ...]], fetch: bool) -> list[Any]:
        """Send the rows' statements; the first column of each row they return (with `fetch`)."""
        returned: list[Any] = []
        for over_arrays, layer in self.layers(rows):
            if over_arrays:
                columns = [list(values) for values in zip(*layer, strict=True)]
                try:
                    if fetch:
                        returned += [row[0] for row in await conn.fetch(self.arrays, *columns)]
                    else:
                        await conn.execute(self.arrays, *columns)
                except asyncpg.PostgresError:
                    _known.pop(self.sql, None)  # learned again next time (the tables may have changed)
                    raise
            else:
                returned += await send_each(conn, self.sql, layer, fetch)
        return returned


async def send_each(conn: DbConnection, sql: str, rows: Sequence[tuple[Any, ...]], fetch: bool) -> list[Any]:
    """The statement once per row of arguments, in one round trip, in order; the first column of
    each row they return (with `fetch`, a statement's `RETURNING school_id`)."""
    if fetch:
        return [row[0] for row in await conn.fetchmany(sql, rows)]
    if len(rows) == 1:
        await conn.execute(sql, *rows[0])
    else:
        await conn.executemany(sql, rows)
    return []


_known: dict[str, Arrayed | None] = {}
# An insert naming no columns, its values the parameters in order (the table's first columns).
_IN_ORDER = re.compile(r"INSERT INTO (\w+) VALUES \(([$\d, ]+)\) (ON CONFLICT(?: \([\w, ]+\))? DO NOTHING)")


async def arrayed(conn: DbConnection, sql: str) -> Arrayed | None:
    """The statement over arrays, None where it has none (see the module); its parameters'
    types asked of the server the first time."""
    if sql in _known:
        return _known[sql]
    if len(_known) >= KNOWN_MOST:  # statements made with values in them would not come again
        _known.clear()
    found = None
    if shape(sql).kind in ("insert", "set", "add", "delete") or _IN_ORDER.fullmatch(" ".join(sql.split())):
        statement = await conn.prepare(sql)
        found = over_arrays(sql, [(t.schema, t.name, t.kind) for t in statement.get_parameters()])
    _known[sql] = found
    return found


def over_arrays(sql: str, types: Sequence[tuple[str, str, str]]) -> Arrayed | None:
    """The statement `sql` over arrays, given its parameters' types (schema, name, kind as
    asyncpg tells them); None where it has none."""
    found = shape(sql)
    if not types or any(kind != "scalar" for _, _, kind in types):
        return None
    casts = [f'${n}::"{schema}"."{name}"[]' for n, (schema, name, _) in enumerate(types, 1)]
    if in_order := _IN_ORDER.fullmatch(" ".join(sql.split())):
        if in_order[2] != ", ".join(f"${n}" for n in range(1, len(types) + 1)):
            return None
        arrays = f"INSERT INTO {in_order[1]} SELECT * FROM unnest({', '.join(casts)}) {in_order[3]}"
        return Arrayed(sql, arrays, False, False)
    key_type = types[0][1]
    table = found.table
    if found.kind == "insert":
        if len(types) != len(found.columns):
            return None
        arrays = (
            f"INSERT INTO {table} ({', '.join(found.columns)}) SELECT * FROM unnest({', '.join(casts)})"
            f" {found.conflict}"
        )
        return Arrayed(sql, arrays, False, key_type == "uuid")
    if found.kind == "delete":
        if len(types) != 1:
            return None
        return Arrayed(sql, f"DELETE FROM {table} WHERE {found.key} = ANY({casts[0]})", False, False)
    if found.kind not in ("set", "add") or key_type not in PLAIN_KEYS:
        return None
    names = ", ".join(f'"${n}"' for n in range(1, len(types) + 1))
    if found.kind == "add":
        (column,) = found.columns
        sets = f'{column} = {column} + u."$2"'
    else:
        parts = []
        for column, value, literal in zip(found.columns, found.values, found.literals, strict=True):
            if value is False:
                if f"'{literal}'" not in sql:  # the literal's spaces are not those `shape` read
                    return None
                parts.append(f"{column} = '{literal}'")
            else:
                parts.append(f'{column} = u."${value}"')
        sets = ", ".join(parts)
    returning = f" {TELLS}" if tells(" ".join(sql.split())) else ""
    arrays = (
        f"UPDATE {table} SET {sets} FROM unnest({', '.join(casts)}) AS u({names})"
        f' WHERE {table}.{found.key} = u."$1"{returning}'
    )
    return Arrayed(sql, arrays, True, key_type == "uuid")
