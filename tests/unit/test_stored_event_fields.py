"""Every event class stored until now keeps its topic and, at its class version, its fields.

`tests/fixtures/stored_event_fields.json` lists each event topic of the aggregates at f206452
(before their fields were declared once, decision 100) with its fields and class version. Base
classes and shared declarations may move fields around; a stored row must still find its class
and the fields it was written with, or a newer class version whose upcasters lead from those
fields to the class's.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
from eventsourcing.utils import resolve_topic

import hallpass.aggregates.encoding  # noqa: F401  (registers the topics of classes that moved)

PINNED: dict[str, dict[str, Any]] = json.loads(
    (Path(__file__).parent.parent / "fixtures" / "stored_event_fields.json").read_text()
)


@pytest.mark.parametrize("topic", sorted(PINNED))
def test_a_stored_topic_reads_with_the_fields_it_was_written_with(topic: str) -> None:
    cls = resolve_topic(topic)
    pinned = PINNED[topic]
    version = getattr(cls, "class_version", 1)
    assert version >= pinned["class_version"]
    state: dict[str, Any] = dict.fromkeys(pinned["fields"])
    for n in range(pinned["class_version"], version):
        getattr(cls, f"upcast_v{n}_v{n + 1}")(state)
    assert sorted(state) == sorted(f.name for f in dataclasses.fields(cls))
