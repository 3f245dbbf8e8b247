"""Long-running processes keep what they made at start-up out of the collector's way.

A full collection (generation 2) walks every object the collector tracks. In a web process that
is mostly what start-up made and never frees: modules, classes, the runtime, compiled templates.
Walking them paused a dashboard request for about 27 ms a dozen times in 300 requests, which set
the page's p99. Moving them to the permanent generation once started leaves the full passes only
what requests and batches made since (docs/decisions/106-start-up-heap-frozen.md).
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


def freeze_start_up() -> int:
    """Collect what start-up left as garbage, then freeze every object alive now; answers how
    many objects are frozen. For a process's entry point, once, after its start-up: not for
    code that builds and drops many apps (tests), whose dropped cycles would then never go."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()


@contextlib.contextmanager
def collection_paused() -> Iterator[None]:
    """No cyclic collection while inside (reference counting still frees what is dropped), as it
    was after. For a bounded run that keeps a large heap alive and makes few cycles: a rebuild
    holds a batch's notifications, events and folded rows, and a full collection walked them all
    again and again (decision 113)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
