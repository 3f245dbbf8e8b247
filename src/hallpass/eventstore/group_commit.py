"""Group commit: appends that arrive while one transaction runs go together into the next.

One task at a time (the leader) takes the waiting appends off the queue, at most
`GroupCommitLimits.max_appends` appends and `max_events` events, and commits them in one
transaction; callers that arrived meanwhile (the followers) wait on their own future. One
transaction is in flight per process: a second made batches smaller and commands no faster
(decision 134). Each append keeps its own outcome: the batch statement writes no event of an
append whose stream versions are already recorded, and that append alone fails with
`IntegrityError`. A failure of the transaction itself fails every append in it, and none of them
is written.

Two appends in one batch that name the same stream version would make the whole statement fail,
so the later one waits for the next batch, where it meets the earlier one's events as recorded.

An append may also name the versions of streams it was decided on (`held`): it clashes if any of
them has moved since. The statement checks them against the table as it was before the batch,
so an append holding a stream that an earlier append of the batch writes waits for the next.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from uuid import UUID

from eventsourcing.persistence import IntegrityError, PersistenceError, StoredEvent

StreamVersion = tuple[UUID | str, int]


@dataclass(frozen=True)
class GroupCommitLimits:
    """Caps on one batch and on how long its first append waits for others.

    `linger` (seconds) is how long a leader that found no transaction running waits for more
    appends before it begins; 0 (the default) begins at once, so appends gather only while a
    transaction is running, and a lone append waits for nothing.
    """

    max_appends: int = 256
    max_events: int = 4096
    linger: float = 0.0

    def __post_init__(self) -> None:
        if self.max_appends < 1 or self.max_events < 1 or not 0 <= self.linger <= 0.1:
            raise ValueError(f"invalid group commit limits: {self}")


@dataclass(eq=False)
class PendingAppend:
    events: Sequence[StoredEvent]
    versions: frozenset[StreamVersion]
    future: asyncio.Future[list[int]] = field(repr=False)
    held: Sequence[tuple[UUID, int]] = ()


@dataclass(frozen=True)
class BatchResult:
    """Per append of a batch, in order: its notification IDs, or None if it clashed."""

    ids: list[list[int] | None]


CommitBatch = Callable[[list[PendingAppend]], Awaitable[BatchResult]]


class GroupCommitter:
    def __init__(self, commit_batch: CommitBatch, limits: GroupCommitLimits) -> None:
        self._commit_batch = commit_batch
        self.limits = limits
        self._queue: deque[PendingAppend] = deque()
        self._leader: asyncio.Task[None] | None = None
        self.batches = 0  # transactions run, for tests and benchmarks
        self.largest_batch = 0

    async def append(self, events: Sequence[StoredEvent], held: Sequence[tuple[UUID, int]] = ()) -> list[int]:
        versions = frozenset((e.originator_id, e.originator_version) for e in events)
        if len(versions) != len(events):
            raise IntegrityError("one append names the same stream version twice")
        loop = asyncio.get_running_loop()
        pending = PendingAppend(events, versions, loop.create_future(), tuple(held))
        self._queue.append(pending)
        leader = self._leader
        if leader is None or leader.done() or leader.get_loop() is not loop:
            self._leader = loop.create_task(self._lead())
        # Cancelling the caller cancels its future: if its batch has not begun, it is left out.
        return await pending.future

    async def _lead(self) -> None:
        try:
            # Let appends made ready by the same event loop turn join the first batch.
            await asyncio.sleep(self.limits.linger)
            while self._queue:
                batch = self._take_batch()
                if batch:
                    await self._run(batch)
        except BaseException as error:
            self._fail(list(self._queue), error)
            self._queue.clear()
            raise

    def _take_batch(self) -> list[PendingAppend]:
        batch: list[PendingAppend] = []
        deferred: list[PendingAppend] = []
        named: set[StreamVersion] = set()
        written: set[UUID | str] = set()
        events = 0
        while self._queue and len(batch) < self.limits.max_appends:
            pending = self._queue[0]
            if batch and events + len(pending.events) > self.limits.max_events:
                break
            self._queue.popleft()
            if pending.future.done():
                continue  # its caller was cancelled before the batch began
            if named.isdisjoint(pending.versions) and not any(s in written for s, _ in pending.held):
                batch.append(pending)
                named |= pending.versions
                written.update(stream for stream, _ in pending.versions)
                events += len(pending.events)
            else:
                deferred.append(pending)
        self._queue.extendleft(reversed(deferred))
        return batch

    async def _run(self, batch: list[PendingAppend]) -> None:
        self.batches += 1
        self.largest_batch = max(self.largest_batch, len(batch))
        try:
            result = await self._commit_batch(batch)
        except Exception as error:
            self._fail(batch, error)
            return
        except BaseException as error:
            self._fail(batch, error)
            raise
        for pending, ids in zip(batch, result.ids, strict=True):
            if pending.future.done():
                continue
            if ids is None:
                pending.future.set_exception(
                    IntegrityError("another writer has already recorded a version this append names")
                )
            else:
                pending.future.set_result(ids)

    @staticmethod
    def _fail(batch: list[PendingAppend], error: BaseException) -> None:
        for pending in batch:
            if not pending.future.done():
                pending.future.set_exception(_copy_of(error))


def _copy_of(error: BaseException) -> BaseException:
    """An exception of its own for each caller (each raise writes its own traceback into it)."""
    if isinstance(error, PersistenceError):
        copy: BaseException = type(error)(*error.args)
    elif isinstance(error, asyncio.CancelledError):
        copy = PersistenceError("the append was abandoned: its transaction was cancelled")
    else:
        copy = PersistenceError(f"the batch's transaction failed: {error!r}")
    copy.__cause__ = error
    return copy
