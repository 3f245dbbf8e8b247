"""A real web server (uvicorn on a free port) and projectors, in the test's event loop."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import uvicorn

from hallpass.bootstrap import Runtime, build_runtime
from hallpass.http.app import create_app
from hallpass.settings import Settings

SECRET = "test-secret-key-not-for-production"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LiveServer:
    url: str
    runtime: Runtime
    settings: Settings


@asynccontextmanager
async def projectors(runtime: Runtime) -> AsyncIterator[None]:
    stop = asyncio.Event()
    tasks = [asyncio.create_task(r.run(stop)) for r in runtime.runners]
    try:
        yield
    finally:
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)


@asynccontextmanager
async def live_server(
    database_url: str,
    data_dir: Path,
    *,
    with_projectors: bool = True,
    https: bool = False,
    redis_url: str | None = None,
    settle_heap: bool = False,
) -> AsyncIterator[LiveServer]:
    settings = Settings(
        database_url=database_url, redis_url=redis_url, data_dir=data_dir, secret_key=SECRET, https_only=https
    )
    runtime = await build_runtime(database_url)
    port = free_port()
    app = create_app(settings, runtime=runtime, settle_heap=settle_heap)
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host="127.0.0.1",
            port=port,
            log_level="warning",
            lifespan="on",
            timeout_graceful_shutdown=2,
        )
    )
    serving = asyncio.create_task(server.serve())
    while not server.started:
        if serving.done():
            serving.result()
        await asyncio.sleep(0.02)
    try:
        if with_projectors:
            async with projectors(runtime):
                yield LiveServer(f"http://127.0.0.1:{port}", runtime, settings)
        else:
            yield LiveServer(f"http://127.0.0.1:{port}", runtime, settings)
    finally:
        server.should_exit = True
        await serving
        await runtime.close()
