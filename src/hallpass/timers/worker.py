"""What a timer actor does, on the worker's event loop: issue the command with the time now."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from uuid import UUID

from hallpass.bootstrap import create_pool
from hallpass.commands import Hallpass, Outcome
from hallpass.eventstore import EventStore


class TimerWorker:
    """One per process: a small pool and the application, opened on first use."""

    def __init__(self, database_url: str, *, pool_size: int = 8) -> None:
        self.database_url = database_url
        self.pool_size = pool_size
        self._app: Hallpass | None = None
        self._opening = asyncio.Lock()

    async def app(self) -> Hallpass:
        async with self._opening:
            if self._app is None:
                pool = await create_pool(self.database_url, size=self.pool_size)
                self._app = Hallpass(EventStore(pool))
        return self._app

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
