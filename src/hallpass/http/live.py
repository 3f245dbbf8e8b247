"""Server-sent events: tells a dashboard when its school's passes change, from any process."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from hallpass.http.auth import require_staff
from hallpass.http.common import runtime
from hallpass.http.openapi import ApiRoute, Operation

KEEPALIVE_SECONDS = 15.0


async def stream(request: Request) -> Response:
    actor = require_staff(request)
    watcher = runtime(request).watcher
    school = str(actor.school_id)

    async def events() -> AsyncIterator[bytes]:
        yield b"retry: 2000\nevent: hello\ndata: {}\n\n"
        async with watcher.subscribe(school) as queue:
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
                yield b"event: passes\ndata: {}\n\n"

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


routes = [
    ApiRoute(
        "/api/v1/events",
        stream,
        methods=["GET"],
        doc=Operation(
            "Server-sent events: 'passes' when passes change",
            ok_description="text/event-stream",
            media=None,
            errors=(),
        ),
    )
]
