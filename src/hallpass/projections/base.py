"""What every projection provides to the runner that feeds it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol
from uuid import UUID

import asyncpg

CHANGES_CHANNEL = "hallpass_changes"
PROJECTED_CHANNEL = "hallpass_projected"


class Projection(Protocol):
    """A read model: its tables, and how one event changes them.

    `handle` runs inside the runner's transaction, together with the tracking record, so
    each event takes effect exactly once. It returns the schools whose views changed.
    `conn` is usually a `Pipeline` (decisions 052, 057): statements are queued and sent together
    at the end of the batch, so `handle` may only `execute`, or `fetchval` a statement whose
    result it returns as the school that changed (the pipeline answers None and gathers it);
    each statement's first argument names the row it changes.
    `serves_requests` says whether pages and API answers read it, and so wait for it after a
    command; a projection that only background workers read does not hold answers up.
    """

    name: str
    tables: tuple[str, ...]
    serves_requests: bool

    async def create_schema(self, conn: asyncpg.Connection) -> None: ...

    async def handle(self, conn: asyncpg.Connection, event: Any, notification_id: int) -> UUID | None: ...


class Totals(Protocol):
    """A projection that keeps totals over its rows and, in a rebuild, counts them once at the
    end instead of batch by batch (decision 118): `totals_pending` runs in the transaction that
    empties the tables (it notes that the totals are not kept up), `count_totals` in one of its
    own once the batches are done (it counts them from the rows and clears the note)."""

    async def totals_pending(self, conn: asyncpg.Connection) -> None: ...

    async def count_totals(self, conn: asyncpg.Connection) -> None: ...


def totals(projection: Projection) -> Totals | None:
    """The projection as one that counts its totals at the end of a rebuild, if it is one."""
    if callable(getattr(projection, "totals_pending", None)) and callable(
        getattr(projection, "count_totals", None)
    ):
        return projection  # type: ignore[return-value]  # it has both methods
    return None


def handles(projection: Projection, event_type: type) -> bool:
    """Whether `projection` may change its tables for an event of `event_type`: what its `handles`
    says, where it says (a projection without one is handed every event)."""
    said: Callable[[type], bool] | None = getattr(projection, "handles", None)
    return True if said is None else said(event_type)


class TableProjection:
    """A projection whose tables one SQL script creates: `schema`.

    Its one table is named as the projection unless `tables` lists them; pages and API answers
    wait for it unless `serves_requests` is False. `events` are the event classes its `handle`
    does anything for (their subclasses too), declared beside it; None is every event. A rebuild
    hands a projection only those (decision 113), and decodes no event that no projection
    handles.
    """

    name: str
    schema: str
    tables: tuple[str, ...]
    serves_requests = True
    events: tuple[type, ...] | None = None

    def handles(self, event_type: type) -> bool:
        """Whether `handle` may do anything for an event of `event_type`."""
        return self.events is None or issubclass(event_type, self.events)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "tables" not in cls.__dict__ and hasattr(cls, "name"):
            cls.tables = (cls.name,)

    async def create_schema(self, conn: asyncpg.Connection) -> None:
        await conn.execute(self.schema)


Values = Callable[[Any], tuple[Any, ...]]
"""What an event gives a statement's parameters, in order."""

Statement = tuple[str, Values]
"""SQL, and the values an event gives its $1, $2, ..."""


StraightValues = Callable[[Any, Mapping[str, Any]], tuple[Any, ...]]
"""A statement's arguments from an event's stream and fields (`Straight`)."""

Straight = tuple[str, StraightValues]
"""An event's one statement made from its stream (`originator_id`, $1) and its fields (the
event's `__dict__`, or a rebuild's stored fields decoded, `Decoder.fields`): SQL, and its
arguments. A projection's `straight(event_type)` gives it, where its `handle` makes that statement
and nothing else for events of that type (decision 128)."""


class Rows:
    """A read-model table with a row per aggregate, keyed by `key`: the statements an event of
    that aggregate runs on its row, written from the columns they set. The row is the event's
    `originator_id`, always $1; `values(event)` gives the columns' values, $2 on, in order.

        Rows("kiosks", "kiosk_id").update("status, ended_at", values)
        UPDATE kiosks SET status = $2, ended_at = $3 WHERE kiosk_id = $1

        Rows("school_settings", "school_id").insert("timezone", values)
        INSERT INTO school_settings (school_id, timezone) VALUES ($1, $2) ON CONFLICT DO NOTHING

    With `tells`, each statement ends `RETURNING school_id`, so the school whose pages show the
    table is told of the change (see `StatementProjection`); a statement may say otherwise.
    """

    def __init__(self, table: str, key: str, *, tells: bool = False) -> None:
        self.table = table
        self.key = key
        self.tells = tells

    def insert(self, columns: str, values: Values, *, tells: bool | None = None) -> Statement:
        """A new row; only a replay finds it already there, and changes nothing."""
        names = [self.key, *columns.split(", ")]
        places = ", ".join(f"${n}" for n in range(1, len(names) + 1))
        sql = f"INSERT INTO {self.table} ({', '.join(names)}) VALUES ({places}) ON CONFLICT DO NOTHING"
        return self._statement(sql, values, tells)

    def update(self, columns: str, values: Values, *, tells: bool | None = None) -> Statement:
        """The row's `columns` set."""
        sets = ", ".join(f"{name} = ${n}" for n, name in enumerate(columns.split(", "), 2))
        sql = f"UPDATE {self.table} SET {sets} WHERE {self.key} = $1"
        return self._statement(sql, values, tells)

    def _statement(self, sql: str, values: Values, tells: bool | None) -> Statement:
        if self.tells if tells is None else tells:
            sql += " RETURNING school_id"
        return sql, lambda event: (event.originator_id, *values(event))


class StatementProjection(TableProjection):
    """A projection in which each event it reads runs one statement: `statements` maps the
    event's class (or a class it derives from) to it. A statement that ends `RETURNING school_id`
    answers the school whose views changed, for pages to be told; the others answer none."""

    statements: Mapping[type, Statement]

    async def handle(self, conn: asyncpg.Connection, event: Any, notification_id: int) -> UUID | None:
        statement = self.statement_for(type(event))
        if statement is None:
            return None
        sql, values = statement
        return await run_statement(conn, sql, values(event))

    def handles(self, event_type: type) -> bool:
        return self.statement_for(event_type) is not None

    def statement_for(self, event_type: type) -> Statement | None:
        """The statement for events of `event_type`, its own or its nearest base class's; looked
        up once per type, since a rebuild hands every projection every event of the log."""
        found: dict[type, Statement | None] = self.__dict__.setdefault("_statement_for", {})
        if event_type not in found:
            kind = next((k for k in event_type.__mro__ if k in self.statements), None)
            found[event_type] = self.statements[kind] if kind is not None else None
        return found[event_type]


TELLS = "RETURNING school_id"


def tells(sql: str) -> bool:
    """Whether a handler's statement answers the school whose views it changes."""
    return sql.endswith(TELLS)


async def run_statement(conn: asyncpg.Connection, sql: str, args: tuple[Any, ...]) -> UUID | None:
    """A handler's one statement: the school it answers where it `tells` (None from a pipeline,
    which gathers it), else None."""
    if tells(sql):
        return await conn.fetchval(sql, *args)  # type: ignore[no-any-return]
    await conn.execute(sql, *args)
    return None


class View:
    """A read model's queries, over the pool."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def rows(self, sql: str, *args: Any) -> list[dict[str, Any]]:
        """The rows the query finds, each as a dictionary of its columns."""
        return [dict(r) for r in await self.pool.fetch(sql, *args)]

    async def row(self, sql: str, *args: Any) -> dict[str, Any] | None:
        """The first row the query finds as a dictionary of its columns, or None."""
        found = await self.pool.fetchrow(sql, *args)
        return dict(found) if found else None
