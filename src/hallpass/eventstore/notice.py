"""What the log's NOTIFY tells of an append (decision 124).

The payload is the last notification id the append wrote, then, for an append of at most
`NOTICE_EVENTS` events, each event's stream and version, space-separated
(``"1234 9b2c...-...:7 5670...-...:3"``). A larger append (a roster import) names only the id: a
NOTIFY's payload must stay under 8,000 bytes, or the append itself fails. Each entry takes at
most 57 characters (a space, 36 for the stream, a colon, 19 for a bigint version), so 130 of
them and a 19-digit id take 7,429 whatever the versions.

Listeners of the log follow its head from the id (the projection runners, the watcher); the
processes that cache aggregates drop a copy older than a version told of, so a command there
decides on what another process committed instead of clashing with it first. The streams are a
hint: a NOTIFY missed while nobody listened, or one that names none, leaves a stale copy that the
append's version check still catches (`Repository`).
"""

from __future__ import annotations

from collections.abc import Iterator
from uuid import UUID

NOTICE_EVENTS = 130
"""The most events whose streams one NOTIFY names."""


def head_of(payload: str) -> int | None:
    """The last notification id a payload announces, or None if it is not an append's."""
    head = payload.partition(" ")[0]
    return int(head) if head.isdigit() else None


def streams_of(payload: str) -> Iterator[tuple[UUID, int]]:
    """Each (stream, version) a payload names; nothing for one that names none (or is not an
    append's)."""
    for item in payload.split(" ")[1:]:
        stream, _, version = item.partition(":")
        try:
            yield UUID(stream), int(version)
        except ValueError:
            continue
