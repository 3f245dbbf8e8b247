"""Async event store on asyncpg, in eventsourcing's Postgres table layout."""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any, TypeAlias
from uuid import UUID

import asyncpg  # type: ignore[import-untyped, unused-ignore]
from eventsourcing.persistence import (
    IntegrityError,
    Notification,
    OperationalError,
    ProgrammingError,
    StoredEvent,
    Tracking,
)

from hallpass.eventstore.chain import chain_existing_events
from hallpass.eventstore.errors import translated_errors
from hallpass.eventstore.group_commit import BatchResult, GroupCommitLimits, GroupCommitter, PendingAppend
from hallpass.eventstore.statements import Statements

_PLAIN_NAME = re.compile(r"[A-Za-z0-9_.:-]+")  # safe as a literal between quotes

DbConnection: TypeAlias = "asyncpg.Connection | asyncpg.pool.PoolConnectionProxy"


def _stored_event(row: Any) -> StoredEvent:
    """An event or snapshot as read back from a row of the events or snapshots table."""
    return StoredEvent(
        originator_id=row["originator_id"],
        originator_version=row["originator_version"],
        topic=row["topic"],
        state=row["state"],
    )


def _as_uuid(value: UUID | str) -> UUID:
    return value if type(value) is UUID else UUID(str(value))


@contextlib.asynccontextmanager
async def begun(conn: DbConnection, begin: str, *, translated: bool = False) -> AsyncIterator[None]:
    """A transaction on `conn` that the simple query `begin` begins and sets up in one round trip
    (`BEGIN; SET LOCAL ...; ...`: not asyncpg's `conn.transaction()`, which takes a round trip
    for each, and has no savepoints). It commits when the block ends and rolls back when anything
    fails or is cancelled, so the connection goes back to the pool outside any transaction. With
    `translated`, the database's errors of the begin and the commit come as the store's own
    (`translated_errors`)."""
    guard = translated_errors if translated else contextlib.nullcontext
    try:
        with guard():
            await conn.execute(begin)
        yield
    except BaseException:
        with contextlib.suppress(Exception):  # a lost connection is not reused
            await conn.execute("ROLLBACK")
        raise
    with guard():
        await conn.execute("COMMIT")


@dataclass
class StreamRead:
    """What `EventStore.read_streams` found for one stream."""

    snapshot: StoredEvent | None = None
    events: list[StoredEvent] = field(default_factory=list)


class Read(asyncpg.Record):  # type: ignore[misc, unused-ignore]  # asyncpg's record, untyped
    """A notification as asyncpg reads it (`EventStore.read_notifications`): the attributes of a
    `Notification`, each read from the record by position in C."""

    id: int = property(itemgetter(0))  # type: ignore[assignment]
    originator_id: UUID = property(itemgetter(1))  # type: ignore[assignment]
    originator_version: int = property(itemgetter(2))  # type: ignore[assignment]
    topic: str = property(itemgetter(3))  # type: ignore[assignment]
    state: bytes = property(itemgetter(4))  # type: ignore[assignment]


class EventStore:
    """Appends and reads stored events, and records projection tracking positions.

    ``append`` serialises writers with an EXCLUSIVE table lock, so notification IDs
    become visible in commit order and a reader tailing ``select_notifications``
    from its last seen ID never passes over an ID that commits later. Concurrent appends
    share one such transaction (group commit, see ``group_commit``), each with its own outcome.
    """

    def __init__(
        self,
        pool: asyncpg.Pool,
        *,
        events_table: str = "hallpass_events",
        tracking_table: str = "hallpass_tracking",
        channel: str = "hallpass_events",
        snapshots_table: str | None = None,
        group_commit: GroupCommitLimits | None = None,
    ) -> None:
        self.pool = pool
        self.events_table = events_table
        self.tracking_table = tracking_table
        self.snapshots_table = snapshots_table or f"{events_table}_snapshots"
        self.channel = channel
        self._sql = Statements.build(events_table, tracking_table, channel, self.snapshots_table)
        self.group_commit = GroupCommitter(self._commit_batch, group_commit or GroupCommitLimits())
        self._append_function: bool | None = None
        """Whether the database has the batch append function (None: not known yet)."""

    async def create_schema(self) -> None:
        """Create the events and tracking tables and their indexes, if missing."""
        with translated_errors():
            async with self.pool.acquire() as conn, conn.transaction():
                await conn.execute(self._sql.create_events_table)
                await conn.execute(self._sql.create_notification_id_index)
                await conn.execute(self._sql.create_tracking_table)
                await conn.execute(self._sql.create_snapshots_table)
                await conn.execute(self._sql.add_hash_column)
                await conn.execute(self._sql.create_append_function)
                await chain_existing_events(conn, self.events_table)
        self._append_function = True

    async def append(
        self,
        events: Sequence[StoredEvent],
        *,
        tracking: Tracking | None = None,
        held: Sequence[tuple[UUID, int]] = (),
    ) -> list[int]:
        """Insert ``events`` atomically and return their notification IDs, in order.

        Raises ``IntegrityError`` (writing nothing) if any (originator_id,
        originator_version) is already recorded, or if ``tracking`` is given and
        its position is not beyond the application's recorded position. Without
        ``tracking``, the append may share its transaction with concurrent ones; their
        outcomes are independent, except that a failure of the transaction fails them all.

        ``held``: (stream, version) pairs the events were decided on; the append raises
        ``IntegrityError`` (writing nothing) if any of those streams has moved past that version.
        """
        if tracking is not None:
            if held:
                raise ProgrammingError("a tracked append takes no held versions")
            return await self._append_tracked(events, tracking)
        if not events:
            return []
        return await self.group_commit.append(events, held)

    async def _append_tracked(self, events: Sequence[StoredEvent], tracking: Tracking) -> list[int]:
        with translated_errors():
            async with self.pool.acquire() as conn, conn.transaction():
                await self.insert_tracking(conn, tracking.application_name, tracking.notification_id)
                if not events:
                    return []
                await conn.execute(self._sql.lock_events)
                ids: list[int] = await conn.fetchval(
                    self._sql.insert_events,
                    [e.originator_id for e in events],
                    [e.originator_version for e in events],
                    [e.topic for e in events],
                    [e.state for e in events],
                    self._sql.channel,
                )
        return ids

    async def _commit_batch(self, batch: list[PendingAppend]) -> BatchResult:
        """One transaction for several appends, in one round trip; see ``group_commit``."""
        events = [e for pending in batch for e in pending.events]
        args = (
            [e.originator_id for e in events],
            [e.originator_version for e in events],
            [e.topic for e in events],
            [e.state for e in events],
            [n for n, pending in enumerate(batch) for _ in pending.events],
            self._sql.channel,
            [stream for pending in batch for stream, _ in pending.held],
            [version for pending in batch for _, version in pending.held],
            [n for n, pending in enumerate(batch) for _ in pending.held],
        )
        row = None
        if self._append_function is not False:
            with translated_errors():
                try:
                    row = await self.pool.fetchrow(self._sql.call_append_function, *args)
                    self._append_function = True
                except asyncpg.UndefinedFunctionError:
                    # A database whose schema this code has not created yet (another process
                    # of an older version made it): the same transaction in three round trips.
                    self._append_function = False
        if row is None:
            row = await self._commit_in_steps(args)
        return self._batch_result(batch, row)

    async def _commit_in_steps(self, args: tuple[Any, ...]) -> Any:
        with translated_errors():
            async with self.pool.acquire() as conn:
                try:
                    # BEGIN and LOCK in one round trip (the simple protocol takes both at once).
                    await conn.execute(self._sql.begin_locked)
                    row = await conn.fetchrow(self._sql.insert_batch, *args)
                    status = await conn.execute("COMMIT")
                except BaseException:
                    if not conn.is_closed() and conn.is_in_transaction():
                        with contextlib.suppress(Exception):
                            await conn.execute("ROLLBACK")
                    raise
        if status != "COMMIT":
            raise OperationalError(f"the batch's transaction ended with {status}")
        return row

    @staticmethod
    def _batch_result(batch: list[PendingAppend], row: Any) -> BatchResult:
        clashed = set(row["clashed"] or ())
        ids: list[int] = row["ids"] or []
        result: list[list[int] | None] = []
        taken = 0
        for n, pending in enumerate(batch):
            if n in clashed:
                result.append(None)
            else:
                result.append(ids[taken : taken + len(pending.events)])
                taken += len(pending.events)
        if taken != len(ids):
            msg = f"batch insert returned {len(ids)} notification IDs for {taken} events"
            raise ProgrammingError(msg)
        return BatchResult(result)

    async def read_stream(
        self,
        originator_id: UUID,
        *,
        gt: int | None = None,
        lte: int | None = None,
        desc: bool = False,
        limit: int | None = None,
        until_notification_id: int | None = None,
    ) -> list[StoredEvent]:
        """Return the events of one aggregate, ordered by originator_version.

        With ``until_notification_id``, only those the log held at that notification ID.
        """
        query = self._sql.select_stream
        args: list[Any] = [originator_id]
        if gt is not None:
            args.append(gt)
            query += f" AND originator_version > ${len(args)}"
        if lte is not None:
            args.append(lte)
            query += f" AND originator_version <= ${len(args)}"
        if until_notification_id is not None:
            args.append(until_notification_id)
            query += f" AND notification_id <= ${len(args)}"
        query += " ORDER BY originator_version " + ("DESC" if desc else "ASC")
        if limit is not None:
            args.append(limit)
            query += f" LIMIT ${len(args)}"
        with translated_errors():
            rows = await self.pool.fetch(query, *args)
        return [_stored_event(row) for row in rows]

    async def read_streams(
        self, streams: Sequence[tuple[UUID, int]], *, snapshots: bool = True
    ) -> dict[UUID, StreamRead]:
        """Several streams in one round trip: for each (stream, version the reader has), the
        latest snapshot taken after that version (if ``snapshots``) and the events after both.

        Every stream asked for has an entry, empty when nothing is newer.
        """
        streams = [(_as_uuid(stream_id), version) for stream_id, version in streams]
        reads = {stream_id: StreamRead() for stream_id, _ in streams}
        if not reads:
            return reads
        with translated_errors():
            rows = await self.pool.fetch(
                self._sql.select_streams,
                [stream_id for stream_id, _ in streams],
                [version for _, version in streams],
                snapshots,
            )
        for row in rows:
            record = _stored_event(row)
            read = reads[row["originator_id"]]
            if row["kind"] == 0:
                read.snapshot = record
            else:
                read.events.append(record)
        return reads

    async def read_first_events(self, stream_ids: Sequence[UUID]) -> list[StoredEvent]:
        """The first event (version 1) of each stream named that has one, in one round trip."""
        if not stream_ids:
            return []
        with translated_errors():
            rows = await self.pool.fetch(self._sql.select_first_events, list(stream_ids))
        return [_stored_event(row) for row in rows]

    async def write_snapshots(self, snapshots: Sequence[StoredEvent]) -> None:
        """Record snapshots (eventsourcing's layout); one already taken at that version stays."""
        if not snapshots:
            return
        with translated_errors():
            await self.pool.execute(
                self._sql.insert_snapshots,
                [s.originator_id for s in snapshots],
                [s.originator_version for s in snapshots],
                [s.topic for s in snapshots],
                [s.state for s in snapshots],
            )

    async def select_notifications(
        self,
        start: int | None,
        limit: int,
        stop: int | None = None,
        topics: Sequence[str] = (),
        *,
        inclusive_of_start: bool = True,
        conn: DbConnection | None = None,
    ) -> list[Notification]:
        """Return up to ``limit`` notifications ordered by ID.

        IDs are from ``start`` (inclusive unless ``inclusive_of_start`` is False;
        from the beginning if ``start`` is None) to ``stop`` (inclusive), optionally
        restricted to the given ``topics``. With ``conn``, reads inside that connection's
        transaction instead of taking another connection from the pool.
        """
        conditions: list[str] = []
        args: list[Any] = []
        if start is not None:
            args.append(start)
            operator = ">=" if inclusive_of_start else ">"
            conditions.append(f"notification_id {operator} ${len(args)}")
        if stop is not None:
            args.append(stop)
            conditions.append(f"notification_id <= ${len(args)}")
        if topics:
            args.append(list(topics))
            conditions.append(f"topic = ANY(${len(args)}::text[])")
        query = self._sql.select_notifications
        if conditions:
            query += " WHERE " + " AND ".join(conditions)
        args.append(limit)
        query += f" ORDER BY notification_id LIMIT ${len(args)}"
        with translated_errors():
            rows = await (conn or self.pool).fetch(query, *args)
        return [
            Notification(
                id=row["notification_id"],
                originator_id=row["originator_id"],
                originator_version=row["originator_version"],
                topic=row["topic"],
                state=row["state"],
            )
            for row in rows
        ]

    async def read_notifications(
        self, start: int, limit: int, *, conn: DbConnection | None = None
    ) -> list[Read]:
        """Up to ``limit`` notifications from ``start`` (inclusive) ordered by ID, as asyncpg reads
        them (`Read`: the fields of a `Notification`, made in C with no Python call per row). A
        rebuild reads the whole log so (decision 128)."""
        query = (
            self._sql.select_notifications + " WHERE notification_id >= $1 ORDER BY notification_id LIMIT $2"
        )
        with translated_errors():
            rows: list[Read] = await (conn or self.pool).fetch(query, start, limit, record_class=Read)
        return rows

    async def max_notification_id(self) -> int | None:
        """Return the largest notification ID, or None if no events are recorded."""
        with translated_errors():
            value: int | None = await self.pool.fetchval(self._sql.max_notification_id)
        return value

    async def insert_tracking(self, conn: DbConnection, application_name: str, notification_id: int) -> None:
        """Record that ``application_name`` has processed ``notification_id``.

        Must be called inside the caller's transaction on ``conn``, so the position
        commits atomically with the caller's writes. Raises ``IntegrityError`` if a
        position at or beyond ``notification_id`` is already recorded.
        """
        if not conn.is_in_transaction():
            msg = "insert_tracking() must be called inside a transaction"
            raise ProgrammingError(msg)
        with translated_errors():
            await conn.execute(self._sql.lock_tracking, self.tracking_table, application_name)
            status: str = await conn.execute(self._sql.insert_tracking, application_name, notification_id)
        if status != "INSERT 0 1":
            msg = f"Tracking for {application_name!r} already at or beyond {notification_id}"
            raise IntegrityError(msg)

    async def lock_tracking(self, conn: DbConnection, application_name: str) -> None:
        """Serialise, until the caller's transaction ends, everyone tracking this application."""
        with translated_errors():
            await conn.execute(self._sql.lock_tracking, self.tracking_table, application_name)

    async def lock_trackings(self, conn: DbConnection, application_names: Sequence[str]) -> None:
        """`lock_tracking` for several applications in one round trip, in the order given.

        Everyone who locks several must give them in one order (sorted), or two could deadlock.
        """
        with translated_errors():
            await conn.execute(self._sql.lock_trackings, self.tracking_table, list(application_names))

    @contextlib.asynccontextmanager
    async def transaction_with_trackings_locked(
        self,
        conn: DbConnection,
        application_names: Sequence[str],
        *,
        synchronous_commit: bool = True,
        generic_plans: bool = False,
    ) -> AsyncIterator[None]:
        """A transaction on `conn` holding `lock_trackings` of these applications, begun and locked
        in one round trip (not asyncpg's `conn.transaction()`, so it has no savepoints); with
        `synchronous_commit` False, it commits without waiting for its WAL flush; with
        `generic_plans`, its prepared statements run on their generic plans, planned once per
        connection, not again at each run (`plan_cache_mode`), and planned to look rows up by an
        index where one serves (`enable_seqscan` off): a plan made once, while a table was
        nearly empty (a new school's first minutes, or a server whose autovacuum has not
        analysed it since), would otherwise read the whole table at every run as it grows
        (decision 132). It commits when the block ends
        and rolls back when anything fails or is cancelled, the lock wait included, so the
        connection goes back to the pool outside any transaction.

        The names go into the statement as literals (a simple query takes no arguments), so each
        must be a plain name: letters, digits, `_`, `.`, `:` or `-`.
        """
        for name in (self.tracking_table, *application_names):
            if not _PLAIN_NAME.fullmatch(name):
                raise ValueError(f"not a plain name: {name!r}")
        names = ", ".join(f"'{n}'" for n in application_names)
        setting = "" if synchronous_commit else "SET LOCAL synchronous_commit TO off; "
        if generic_plans:
            setting += "SET LOCAL plan_cache_mode TO force_generic_plan; SET LOCAL enable_seqscan TO off; "
        begin = (
            f"BEGIN; {setting}SELECT count(pg_advisory_xact_lock(hashtextextended("
            f"'{self.tracking_table}' || '/' || n, 0))) FROM unnest(ARRAY[{names}]::text[]) AS n"
        )
        async with begun(conn, begin, translated=True):
            yield

    async def insert_trackings(
        self,
        conn: DbConnection,
        application_names: Sequence[str],
        notification_id: int,
        *,
        notify: Sequence[tuple[str, str]] = (),
        since: Mapping[str, int] | None = None,
    ) -> None:
        """`insert_tracking` for several applications whose locks the caller holds already, and
        `notify`'s (channel, payload) pairs, in the same statement (sent at commit).

        Each application keeps one row: its earlier ones go. `since`: each one's position as the
        caller read it under the locks, from which its earlier rows are looked for (decision
        132); without it, from the start of the application's rows, a scan that grows with
        every row deleted since the table was last vacuumed."""
        if not application_names and not notify:
            return
        if not conn.is_in_transaction():
            msg = "insert_trackings() must be called inside a transaction"
            raise ProgrammingError(msg)
        with translated_errors():
            inserted = await conn.fetchval(
                self._sql.insert_trackings,
                list(application_names),
                notification_id,
                [channel for channel, _ in notify],
                [payload for _, payload in notify],
                [0 if since is None else since.get(name, 0) for name in application_names],
            )
        if inserted != len(application_names):
            msg = f"Tracking of {list(application_names)!r} already at or beyond {notification_id}"
            raise IntegrityError(msg)

    async def tracking_positions(
        self, application_names: Sequence[str], conn: DbConnection | None = None
    ) -> dict[str, int]:
        """The recorded position of each application (0 for one with none)."""
        executor = self.pool if conn is None else conn
        with translated_errors():
            rows = await executor.fetch(self._sql.tracking_positions, list(application_names))
        return {row[0]: row[1] or 0 for row in rows}

    async def tracking_positions_beside(
        self, application_names: Sequence[str], query: str, conn: DbConnection
    ) -> tuple[dict[str, int], list[asyncpg.Record]]:
        """`tracking_positions`, and the rows of `query` read in the same statement: a query of
        three columns (text, uuid, bigint) whose `$1` is the names' array and whose uuid is never
        null."""
        sql = f"SELECT n, NULL::uuid, p FROM ({self._sql.tracking_positions}) AS t (n, p) UNION ALL ({query})"
        with translated_errors():
            rows = await conn.fetch(sql, list(application_names))
        positions = {row[0]: row[2] or 0 for row in rows if row[1] is None}
        return positions, [row for row in rows if row[1] is not None]

    async def tracking_positions_beside_and_after(
        self, application_names: Sequence[str], query: str, limit: int, conn: DbConnection
    ) -> tuple[dict[str, int], list[tuple[Any, ...]], list[Notification]]:
        """`tracking_positions_beside` (the rows of `query` as tuples of its three columns), and up
        to `limit` notifications after the lowest of the positions, in order, all in one statement
        (a projection batch's reads, decision 116)."""
        sql = (
            f"WITH t (n, p) AS ({self._sql.tracking_positions}) "
            "SELECT n, NULL::uuid AS u, p, NULL::bigint AS v, NULL::text AS topic, NULL::bytea AS state"
            f" FROM t UNION ALL SELECT q.*, NULL, NULL, NULL FROM ({query}) AS q"
            f" UNION ALL ({self._sql.notifications_after_positions})"
        )
        with translated_errors():
            rows = await conn.fetch(sql, list(application_names), limit)
        positions: dict[str, int] = {}
        beside: list[tuple[Any, ...]] = []
        notifications: list[Notification] = []
        for row in rows:
            if row[0] is None:
                notifications.append(
                    Notification(
                        id=row[2], originator_id=row[1], originator_version=row[3], topic=row[4], state=row[5]
                    )
                )
            elif row[1] is None:
                positions[row[0]] = row[2] or 0
            else:
                beside.append((row[0], row[1], row[2]))
        notifications.sort(key=lambda n: n.id)
        return positions, beside, notifications

    async def max_tracking_id(self, application_name: str, conn: DbConnection | None = None) -> int | None:
        """Return the largest recorded position of ``application_name``, or None."""
        executor = self.pool if conn is None else conn
        with translated_errors():
            value: int | None = await executor.fetchval(self._sql.max_tracking_id, application_name)
        return value

    async def has_tracking_id(self, application_name: str, notification_id: int | None) -> bool:
        """True if ``notification_id`` is None or a position at or beyond it is recorded."""
        if notification_id is None:
            return True
        with translated_errors():
            value: bool = await self.pool.fetchval(
                self._sql.has_tracking_id, application_name, notification_id
            )
        return value

    async def delete_tracking(self, conn: DbConnection, application_name: str) -> None:
        """Forget every recorded position of ``application_name``."""
        with translated_errors():
            await conn.execute(self._sql.delete_tracking, application_name)
