"""Pipeline: a batch's read-model statements, queued and sent together (for rebuilds).

Projection handlers run against a `Pipeline` as against a connection. Their statements are not
sent one by one: each names the row it changes by its first argument (a pass, a student, a
place...), and statements naming different rows commute, so the pipeline keeps each row's
statements in order and sends the rest in rounds. A row's statements are cut into runs of the
same SQL; round n holds every row's n-th run, and each distinct SQL of a round goes to the server
once, with `executemany` (one round trip, each statement still executed in order). A statement
without arguments is a barrier: everything queued is sent first.

Results are not available: `execute` answers "" and `fetchval` None. Handlers return what they
fetched only to say which school's pages changed; a rebuild tells every school at the end.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from hallpass.eventstore.store import DbConnection


class Pipeline:
    def __init__(self, conn: DbConnection) -> None:
        self.conn = conn
        self.statements = 0
        self._runs: dict[object, list[tuple[str, list[tuple[Any, ...]]]]] = {}

    async def execute(self, sql: str, *args: Any) -> str:
        await self._queue(sql, args)
        return ""

    async def fetchval(self, sql: str, *args: Any) -> None:
        await self._queue(sql, args)

    async def _queue(self, sql: str, args: tuple[Any, ...]) -> None:
        self.statements += 1
        if not args:
            await self.flush()
            await self.conn.execute(sql)
            return
        runs = self._runs.setdefault(args[0], [])
        if runs and runs[-1][0] == sql:
            runs[-1][1].append(args)
        else:
            runs.append((sql, [args]))

    async def flush(self) -> None:
        """Send everything queued, round by round."""
        rounds: list[dict[str, list[tuple[Any, ...]]]] = []
        for runs in self._runs.values():
            for n, (sql, args) in enumerate(runs):
                if n == len(rounds):
                    rounds.append(defaultdict(list))
                rounds[n][sql].extend(args)
        self._runs = {}
        for statements in rounds:
            for sql, args in statements.items():
                if len(args) == 1:
                    await self.conn.execute(sql, *args[0])
                else:
                    await self.conn.executemany(sql, args)
