"""Pipeline: a batch's read-model statements, queued and sent together (for rebuilds).

Projection handlers run against a `Pipeline` as against a connection. Their statements are not
sent one by one: each names the row it changes by its first argument (a pass, a student, a
place...), and statements naming different rows commute, so the pipeline keeps each row's
statements in order and sends the rest in rounds. A row's statements are cut into runs of the
same SQL; round n holds every row's n-th run, and each distinct SQL of a round goes to the server
once, with `executemany` (one round trip, each statement still executed in order), or, for the
simple shapes `folding.shape` reads, as one statement over arrays of the rows' values
(`arrays`, decision 129: one statement on the server instead of one per row). A statement
without arguments is a barrier: everything queued before it is sent before it, the rest after.
Nothing is sent before `flush`.

Results are not available to the handler: `execute` answers "" and `fetchval` None. Handlers
fetch only to say which school's pages changed (`UPDATE ... RETURNING school_id`), so the
pipeline sends the statements queued by `fetchval` with `fetchmany` and gathers the first column
of every row they return in `returned`: the live runner announces those schools, a rebuild tells
every school at the end.

A projection that keeps totals over its rows can leave them to the end of the batch: `deferred`
gives it an object of its own for the pipeline, whose `before` runs at `flush` ahead of every
queued statement and whose `after` runs behind them all, so it can take away what the rows it
is about to change contribute and add it back once they have changed, one statement per table
for the whole batch instead of a few per event.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from hallpass.eventstore.store import DbConnection
from hallpass.projections.arrays import arrayed, send_each
from hallpass.projections.folding import Fold, Written, shape, update_rows, write_rows

# Per row: its runs of one SQL each, (sql, fetch, arguments of each statement); fetch says the
# statements came from `fetchval`, whose results go to `returned`.
Runs = dict[object, list[tuple[str, bool, list[tuple[Any, ...]]]]]
# Per table and row: what a folding pipeline holds of it (`folding`).
Folds = dict[tuple[str, object], Fold]


class Deferred(Protocol):
    """Work around a whole batch: `before` its statements are sent, `after` they all were."""

    async def before(self, conn: DbConnection) -> None: ...

    async def after(self, conn: DbConnection) -> None: ...


D = TypeVar("D", bound=Deferred)

FEWEST_COPIED = 50  # rows of one table and columns below which their statements go as they came


class Pipeline:
    """Queues statements; `flush` sends them. Needs no connection until then, so a batch can be
    prepared while the previous one is being sent."""

    def __init__(
        self,
        conn: DbConnection | None = None,
        *,
        fold: bool = False,
        written: Written | None = None,
        totals_at_end: bool = False,
    ) -> None:
        self.conn = conn
        self.fold = fold  # a rebuild's: rows folded in Python before they are sent (`folding`)
        self.written = written  # a rebuild's, from its emptied tables on
        # A rebuild's: totals over rows (the reports' counts) are not kept up batch by batch;
        # the projection counts them once the batches are done (`Rebuilt`, decision 118).
        self.totals_at_end = totals_at_end
        self.fewest_copied = FEWEST_COPIED
        # Many rows' runs of one simple statement sent as one statement over arrays (`arrays`);
        # a pipeline that folds sends its own way.
        self.arrays = not fold
        self.statements = 0
        self._runs: Runs = {}
        self._folds: Folds = {}
        self._before: list[tuple[Runs, Folds, str]] = []  # what was queued before each barrier
        self.returned: set[Any] = set()  # what the `fetchval` statements returned, once sent
        self._deferred: dict[Callable[[], Deferred], Deferred] = {}

    def deferred(self, make: Callable[[], D]) -> D:
        """The pipeline's one object made by `make` (made on first use), run around the batch at
        `flush`."""
        found = self._deferred.get(make)
        if found is None:
            found = self._deferred[make] = make()
        return found  # type: ignore[return-value]  # made by this `make`

    async def execute(self, sql: str, *args: Any) -> str:
        self._queue(sql, args, fetch=False)
        return ""

    async def fetchval(self, sql: str, *args: Any) -> None:
        self._queue(sql, args, fetch=True)

    def _queue(self, sql: str, args: tuple[Any, ...], *, fetch: bool) -> None:
        self.statements += 1
        if not args:  # a barrier: what is held now is written before it
            self.seal()
            self._before.append((self._runs, self._folds, sql))
            self._runs, self._folds = {}, {}
            return
        if self.fold and self._folded(sql, args, fetch):
            return
        self._append(sql, args, fetch)

    def _append(self, sql: str, args: tuple[Any, ...], fetch: bool) -> None:
        if self.written is not None:
            self.written.note(shape(sql).tables, args[0])
        runs = self._runs.get(args[0])
        if runs is None:
            self._runs[args[0]] = [(sql, fetch, [args])]
            return
        last = runs[-1]
        if last[0] != sql or last[1] != fetch:
            runs.append((sql, fetch, [args]))
        elif self.fold and (kind := shape(sql).kind) in ("set", "add"):
            # The same update of the same row again: the last values win, or the steps add up.
            earlier = last[2][-1]
            if kind == "set":
                last[2][-1] = args
            else:
                step = None if earlier[1] is None or args[1] is None else earlier[1] + args[1]
                last[2][-1] = (earlier[0], step)
        else:
            last[2].append(args)

    def _folded(self, sql: str, args: tuple[Any, ...], fetch: bool) -> bool:
        """Fold the statement into what is held for its row; False when it is to be queued."""
        found = shape(sql)
        key = args[0]
        if found.kind == "other":  # every table it names, or every table where it names none
            for table in found.tables or {t for t, k in self._folds if k == key}:
                self._release(table, key)
            return False
        table = found.table
        held = self._folds.get((table, key))
        if found.kind == "delete":
            if held is not None:  # what was held would be deleted now: it never is written
                del self._folds[(table, key)]
                if held.fetched and held.row is not None:
                    self.returned.add(held.row.get("school_id"))
            return not fetch and self.written is not None and self.written.never(table, key)
        if held is not None:
            if held.take(found, sql, fetch, args):
                return True
            self._release(table, key)
        if found.kind == "insert":
            held = self._folds[(table, key)] = Fold(found, dict(zip(found.columns, args, strict=True)))
        elif found.kind == "write" and not fetch:
            held = self._folds[(table, key)] = Fold(None, None)
        else:
            return False
        held.statements.append((sql, fetch, args))
        held.fetched = fetch
        return True

    def _release(self, table: str, key: object) -> None:
        """Queue what is held for the row as it came."""
        held = self._folds.pop((table, key), None)
        if held is not None:
            for sql, fetch, args in held.statements:
                self._append(sql, args, fetch)

    def seal(self) -> None:
        """The rows held now are to be written: noted so (see `Written`). Called at each barrier,
        and once nothing more is queued, before the next batch is prepared."""
        if self.written is not None:
            for table, key in self._folds:
                self.written.note(frozenset([table]), key)

    async def flush(self, conn: DbConnection | None = None) -> None:
        """Send everything queued (on `conn`, or the pipeline's own), barrier by barrier."""
        target = conn or self.conn
        if target is None:
            raise ValueError("a pipeline needs a connection to flush")
        before, self._before = self._before, []
        runs, self._runs = self._runs, {}
        folds, self._folds = self._folds, {}
        deferred, self._deferred = list(self._deferred.values()), {}
        for each in deferred:
            await each.before(target)
        for earlier, held, barrier in before:
            await self._send(target, earlier)
            await self._write(target, held)
            await target.execute(barrier)
        await self._send(target, runs)
        await self._write(target, folds)
        for each in deferred:
            await each.after(target)

    async def _write(self, conn: DbConnection, folds: Folds) -> None:
        """Write the rows held: each table's with the same columns together (`write_rows`); the
        statements of a row the table had already, and the `write`s held, as they came."""
        if not folds:
            return
        tables: dict[tuple[str, tuple[str, ...]], list[Fold]] = defaultdict(list)
        again: list[Fold] = []
        for (table, _), held in folds.items():
            if held.row is None or held.insert is None:
                again.append(held)
            else:
                tables[(table, tuple(held.row))].append(held)
        for (table, columns), rows in tables.items():
            if len(rows) < self.fewest_copied:
                again += rows
                continue
            insert = rows[0].insert
            assert insert is not None
            written = await write_rows(conn, table, insert, columns, [tuple(r.row.values()) for r in rows])  # type: ignore[union-attr]
            for held in rows:
                assert held.row is not None
                if held.row[insert.key] not in written:
                    again.append(held)
                elif held.fetched:
                    self.returned.add(held.row.get("school_id"))
        replay = Pipeline()
        for held in again:
            for sql, fetch, args in held.statements:
                replay._append(sql, args, fetch)
        await replay._send(conn, replay._runs)
        self.returned |= replay.returned

    async def _send(self, conn: DbConnection, runs: Runs) -> None:
        """Round by round: round n holds every row's n-th run of the same SQL."""
        rounds: list[dict[tuple[str, bool], list[tuple[Any, ...]]]] = []
        for each in runs.values():
            for n, (sql, fetch, args) in enumerate(each):
                if n == len(rounds):
                    rounds.append(defaultdict(list))
                rounds[n][(sql, fetch)].extend(args)
        for statements in rounds:
            for (sql, fetch), args in statements.items():
                if len(args) > 1 and self.arrays and (found := await arrayed(conn, sql)) is not None:
                    self.returned.update(await found.send(conn, args, fetch))
                elif self.fold and not fetch and self._copied_as_one(sql, args):
                    await update_rows(conn, shape(sql), args)
                else:
                    self.returned.update(await send_each(conn, sql, args, fetch))

    def _copied_as_one(self, sql: str, args: list[tuple[Any, ...]]) -> bool:
        """Whether the statements are enough of one `set` of one row each: what `update_rows`
        sends as one."""
        if len(args) < self.fewest_copied:
            return False
        return shape(sql).kind == "set" and len({a[0] for a in args}) == len(args)
