"""`concurrently` runs a page's independent reads at once and fails as the first failure does."""

from __future__ import annotations

import asyncio

import pytest

from hallpass.errors import Invalid
from hallpass.http.common import concurrently


async def test_results_come_back_in_the_order_asked_and_the_reads_overlap() -> None:
    both_started = asyncio.Barrier(2)

    async def read(value: int) -> int:
        await both_started.wait()  # neither finishes unless the other has started too
        return value

    assert await asyncio.wait_for(concurrently(read(1), read(2)), 10) == [1, 2]


async def test_the_first_failure_is_raised_as_itself_and_the_other_reads_are_cancelled() -> None:
    slow_cancelled = asyncio.Event()

    async def slow() -> int:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            slow_cancelled.set()
            raise
        return 1

    async def bad_filter() -> int:
        await asyncio.sleep(0)
        raise Invalid("From is not a date")

    with pytest.raises(Invalid, match="From is not a date"):
        await asyncio.wait_for(concurrently(slow(), bad_filter()), 10)
    assert slow_cancelled.is_set()
