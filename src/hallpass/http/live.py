"""Server-sent events: tells a page when its school's passes change, from any process."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any
from uuid import UUID

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from hallpass.http.auth import require_staff
from hallpass.http.common import runtime
from hallpass.http.openapi import get
from hallpass.outages import is_outage
from hallpass.projections.emergency import EmergencyView

KEEPALIVE_SECONDS = 15.0
OWED_RETRY_SECONDS = 1.0

log = logging.getLogger(__name__)


def school_events(
    request: Request,
    school_id: str,
    event: Callable[[], Awaitable[bytes | None]],
    greeting: Callable[[], Awaitable[bytes | None]] | None = None,
) -> StreamingResponse:
    """A stream that, each time the school's read models change, sends what `event` says (if any).

    `greeting`, if given, is sent once after subscribing, so the page learns the state of then.

    Changes that arrive together are told once; a comment every KEEPALIVE_SECONDS keeps the
    connection open. When the database is out while a change is told, the stream stays open
    and tells it again every OWED_RETRY_SECONDS until the database answers, so a page open
    through a restart of PostgreSQL is not left showing the state of before.
    """
    watcher = runtime(request).watcher

    async def told_or_owed(ask: Callable[[], Awaitable[bytes | None]]) -> tuple[bytes | None, bool]:
        """What `ask` says, or (None, True) when the database is out: the change is still owed."""
        try:
            return await ask(), False
        except Exception as error:
            if not is_outage(error):
                raise
            log.warning("live stream for school %s: %s; telling it again later", school_id, error)
            return None, True

    async def stream() -> AsyncIterator[bytes]:
        yield b"retry: 2000\nevent: hello\ndata: {}\n\n"
        async with watcher.subscribe(school_id) as queue:
            owed = False
            if greeting is not None:
                first, owed = await told_or_owed(greeting)
                if first is not None:
                    yield first
            quiet = 0.0
            while True:
                wait = min(OWED_RETRY_SECONDS, KEEPALIVE_SECONDS - quiet) if owed else KEEPALIVE_SECONDS
                try:
                    item = await asyncio.wait_for(queue.get(), wait)
                except TimeoutError:
                    quiet += wait
                    if quiet >= KEEPALIVE_SECONDS:
                        quiet = 0.0
                        yield b": keepalive\n\n"
                    if not owed:
                        continue
                    item = school_id
                if not item:
                    return
                while not queue.empty():
                    queue.get_nowait()
                told, owed = await told_or_owed(event)
                if told is not None:
                    quiet = 0.0
                    yield told

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


def emergency_event(on: bool) -> bytes:
    return b"event: emergency\ndata: " + (b'{"on": true}' if on else b'{"on": false}') + b"\n\n"


def changed_event(name: str) -> bytes:
    """An event that says only what changed, for the page to fetch it again."""
    return b"event: " + name.encode() + b"\ndata: {}\n\n"


class Watched:
    """A value a page shows, as one stream told it: `changed` names it (`event`) when it is no
    longer what was told."""

    def __init__(self, event: str, read: Callable[[], Awaitable[Any]], told: Any) -> None:
        self.event = event
        self.read = read
        self.told = told

    def tell(self, now: Any) -> bytes:
        """What the stream says of the value `now`: nothing if it was told already."""
        if now == self.told:
            return b""
        self.told = now
        return self.said(now)

    def said(self, now: Any) -> bytes:
        """The event that tells the value changed to `now`."""
        return changed_event(self.event)

    async def changed(self) -> bytes:
        return self.tell(await self.read())


class EmergencyMode(Watched):
    """The school's emergency mode as one stream told it: `greeting` tells it as it is now,
    `changed` tells it again only when it changed since."""

    def __init__(self, request: Request, school_id: UUID) -> None:
        view = EmergencyView(runtime(request).pool)
        super().__init__("emergency", lambda: view.on(school_id), None)

    def said(self, now: Any) -> bytes:
        return emergency_event(bool(now))

    async def greeting(self) -> bytes:
        self.told = None  # not known: told whatever it is
        return await self.changed()


async def changes(*watched: Watched) -> bytes:
    """What changed among `watched`, told only once every one of them has been read: a read the
    database fails leaves all their changes owed, none told by half."""
    now = [await w.read() for w in watched]
    return b"".join(w.tell(value) for w, value in zip(watched, now, strict=True))


async def stream(request: Request) -> Response:
    """Server-sent events: 'passes' when passes change; 'emergency' (`{"on": ...}`) first and
    whenever the school's emergency mode is switched"""
    actor = require_staff(request)
    mode = EmergencyMode(request, actor.school_id)

    async def passes_changed() -> bytes:
        return await mode.changed() + changed_event("passes")

    return school_events(request, str(actor.school_id), passes_changed, mode.greeting)


routes = [get("/api/v1/events", stream, ok_description="text/event-stream", media=None, errors=())]
