"""The log's NOTIFY payload (decision 124): the last notification id, then the streams written."""

from __future__ import annotations

from uuid import UUID, uuid4

from hypothesis import given
from hypothesis import strategies as st

from hallpass.eventstore.notice import head_of, streams_of


def test_a_payload_names_its_head_and_each_stream_at_its_version() -> None:
    a, b = uuid4(), uuid4()
    payload = f"4711 {a}:3 {b}:1 {a}:4"
    assert head_of(payload) == 4711
    assert list(streams_of(payload)) == [(a, 3), (b, 1), (a, 4)]


def test_a_payload_of_a_large_append_names_only_its_head() -> None:
    assert head_of("99") == 99
    assert list(streams_of("99")) == []


def test_what_is_not_an_appends_payload_announces_nothing_and_names_nothing() -> None:
    for payload in ("", "not a number", "-3 x:1", "12a", " 12"):
        assert head_of(payload) is None
    assert list(streams_of("7 not-a-uuid:3 " + str(uuid4()) + ":x :5 ::")) == []


@given(
    head=st.integers(min_value=1, max_value=2**63 - 1),
    streams=st.lists(st.tuples(st.uuids(), st.integers(min_value=1, max_value=2**62)), max_size=20),
)
def test_every_payload_the_append_writes_reads_back(head: int, streams: list[tuple[UUID, int]]) -> None:
    payload = str(head) + "".join(f" {s}:{v}" for s, v in streams)
    assert head_of(payload) == head
    assert list(streams_of(payload)) == streams
