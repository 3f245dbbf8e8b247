"""A long-running process freezes what its start-up made, so full collections skip it."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from hallpass.heap import freeze_start_up


@pytest.fixture
def thawed() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()  # the test process builds and drops many runtimes: leave nothing frozen


class StartUp:
    """Stands for an object start-up made and keeps: a runtime, a compiled template."""


def test_objects_alive_at_start_up_are_frozen_and_later_ones_are_not(thawed: None) -> None:
    kept = StartUp()
    frozen = freeze_start_up()
    assert frozen == gc.get_freeze_count() > 0
    later = StartUp()
    tracked = {id(o) for o in gc.get_objects()}
    assert id(kept) not in tracked, "start-up's objects are out of the collector's walk"
    assert id(later) in tracked, "what came after is collected as usual"


def test_start_up_garbage_is_collected_before_the_freeze(thawed: None) -> None:
    garbage = StartUp()
    garbage.itself = garbage  # type: ignore[attr-defined]  # a cycle: only the collector frees it
    gone = weakref.ref(garbage)
    del garbage
    freeze_start_up()
    assert gone() is None, "frozen, it would never be freed"
