"""The runtime fixture: the integration and fault tests share it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from hallpass.bootstrap import Runtime, build_runtime


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
