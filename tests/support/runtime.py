"""The runtime fixture: the integration and fault tests share it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from typing import TypeVar

import pytest

from hallpass.bootstrap import Runtime, build_runtime

T = TypeVar("T")


@asynccontextmanager
async def runtime_on(database_url: str) -> AsyncIterator[Runtime]:
    """The whole runtime (pool, store, commands, projection runners) on `database_url`, closed after."""
    rt = await build_runtime(database_url)
    try:
        yield rt
    finally:
        await rt.close()


@pytest.fixture
async def runtime(fresh_database_url: str) -> AsyncIterator[Runtime]:
    """The runtime on a fresh database of the test's own."""
    async with runtime_on(fresh_database_url) as rt:
        yield rt


async def with_projections(runtime: Runtime, work: Awaitable[T]) -> T:
    """Run `work` while the projections keep catching up: for work that waits on a read model
    (the emergency sweep reads the pass list and the directory) in a test without a projector."""
    task = asyncio.ensure_future(work)
    while not task.done():
        for runner in runtime.runners:
            await runner.catch_up()
        await asyncio.wait([task], timeout=0.05)
    return task.result()
