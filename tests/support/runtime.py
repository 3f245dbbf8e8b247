"""The runtime fixture: the integration and fault tests share it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from hallpass.bootstrap import Runtime, build_runtime


@pytest.fixture
async def runtime(fresh_database_url: str) -> AsyncIterator[Runtime]:
    """The whole runtime (pool, store, commands, projection runners) on a fresh database."""
    rt = await build_runtime(fresh_database_url)
    try:
        yield rt
    finally:
        await rt.close()
