"""Server-sent events: tells a page when its school's passes change, from any process."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from hallpass.http.auth import require_staff
from hallpass.http.common import runtime
from hallpass.http.openapi import get
from hallpass.projections.emergency import EmergencyView

KEEPALIVE_SECONDS = 15.0


def school_events(
    request: Request,
    school_id: str,
    event: Callable[[], Awaitable[bytes | None]],
    greeting: Callable[[], Awaitable[bytes | None]] | None = None,
) -> StreamingResponse:
    """A stream that, each time the school's read models change, sends what `event` says (if any).

    `greeting`, if given, is sent once after subscribing, so the page learns the state of then.

    Changes that arrive together are told once; a comment every KEEPALIVE_SECONDS keeps the
    connection open.
    """
    watcher = runtime(request).watcher

    async def stream() -> AsyncIterator[bytes]:
        yield b"retry: 2000\nevent: hello\ndata: {}\n\n"
        async with watcher.subscribe(school_id) as queue:
            first = await greeting() if greeting is not None else None
            if first is not None:
                yield first
            while True:
                try:
                    item = await asyncio.wait_for(queue.get(), KEEPALIVE_SECONDS)
                except TimeoutError:
                    yield b": keepalive\n\n"
                    continue
                if not item:
                    return
                while not queue.empty():
                    queue.get_nowait()
                told = await event()
                if told is not None:
                    yield told

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


def emergency_event(on: bool) -> bytes:
    return b"event: emergency\ndata: " + (b'{"on": true}' if on else b'{"on": false}') + b"\n\n"


async def stream(request: Request) -> Response:
    """Server-sent events: 'passes' when passes change; 'emergency' (`{"on": ...}`) first and
    whenever the school's emergency mode is switched"""
    actor = require_staff(request)
    view = EmergencyView(runtime(request).pool)
    was_on = [False]

    async def greeting() -> bytes:
        was_on[0] = await view.on(actor.school_id)
        return emergency_event(was_on[0])

    async def passes_changed() -> bytes:
        on = await view.on(actor.school_id)
        told = b"" if on == was_on[0] else emergency_event(on)
        was_on[0] = on
        return told + b"event: passes\ndata: {}\n\n"

    return school_events(request, str(actor.school_id), passes_changed, greeting)


routes = [get("/api/v1/events", stream, ok_description="text/event-stream", media=None, errors=())]
