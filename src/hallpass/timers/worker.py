"""What a timer actor does, on the worker's event loop: issue the command with the time now."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from hallpass.bootstrap import create_pool
from hallpass.commands import Hallpass, Outcome
from hallpass.eventstore import EventStore
from hallpass.eventstore.notice import streams_of
from hallpass.projections.listen import Listener


class TimerWorker:
    """One per process: a small pool and the application, opened on first use.

    The application's cache hears which streams the other processes append to, as the web's
    does (decision 124): an expiry then decides on the student and the place as they are now,
    instead of clashing with the web's changes first.
    """

    def __init__(self, database_url: str, *, pool_size: int = 8) -> None:
        self.database_url = database_url
        self.pool_size = pool_size
        self._app: Hallpass | None = None
        self._opening = asyncio.Lock()
        self.listener: Listener | None = None
        self._stop = asyncio.Event()
        self._listening: asyncio.Task[None] | None = None

    async def app(self) -> Hallpass:
        async with self._opening:
            if self._app is None:
                pool = await create_pool(self.database_url, size=self.pool_size)
                store = EventStore(pool)
                app = Hallpass(store)

                def moved(_c: Any, _pid: Any, _ch: Any, payload: str) -> None:
                    app.repository.moved(streams_of(payload))

                self.listener = Listener(pool, {store.channel: moved}, name="worker cache")
                self._listening = asyncio.create_task(self.listener.run(self._stop))
                self._app = app
        return self._app

    async def close(self) -> None:
        """Stop listening and close the pool (the process's end does as much)."""
        self._stop.set()
        if self._listening is not None:
            await self._listening
        if self._app is not None:
            await self._app.store.pool.close()

    async def expire(self, pass_id: UUID) -> Outcome | None:
        app = await self.app()
        return await app.expire_pass(pass_id, now=datetime.now(UTC))

    async def expire_many(self, pass_ids: list[UUID]) -> int:
        app = await self.app()
        return await app.expire_passes(pass_ids, now=datetime.now(UTC))

    async def activate(self, pass_id: UUID) -> Outcome | None:
        app = await self.app()
        return await app.activate_pass(pass_id, now=datetime.now(UTC))

    async def dismiss(self, school_id: UUID) -> Outcome | None:
        app = await self.app()
        return await app.dismiss_school(school_id, now=datetime.now(UTC))

    async def expire_offers(self, line_id: UUID) -> int:
        app = await self.app()
        lapsed: int = await app.expire_offers(line_id, now=datetime.now(UTC))
        return lapsed
