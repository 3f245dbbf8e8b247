"""Fixtures the integration tests share."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractContextManager

import pytest

from hallpass.bootstrap import Runtime
from support.runtime import runtime, runtime_on
from support.school import SchoolFixture, make_school

__all__ = ["runtime"]


@pytest.fixture(scope="module")
async def audit_school(
    make_database: Callable[[], AbstractContextManager[str]],
) -> AsyncIterator[tuple[Runtime, SchoolFixture]]:
    """One school for a module's hypothesis examples (each example plays a day of its own)."""
    with make_database() as url:
        async with runtime_on(url) as opened:
            yield opened, await make_school(opened, label="Audit", students=4)
