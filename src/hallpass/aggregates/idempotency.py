"""The IdempotencyRecord aggregate: the first answer to a command sent with a key.

Its id follows from the school, the principal and the key, so a second command with the same
key conflicts on the event store's primary key and gets the first answer instead. It also
records what the command changed (each aggregate and the version the command left it at): the
key's only link to the events it produced, which do not carry it (decision 067).
"""

from __future__ import annotations

from typing import Any

from eventsourcing.domain import Aggregate

from hallpass.aggregates.base import Copied, Fields

# The first version of `Recorded` kept the answer's HTTP status instead of what came of the
# command: 201 was said of a command that created something, 200 of every other one.
V1_CREATED_STATUS = 201


class RecordFields(Fields):
    """The first answer to a keyed command, written once: the fields of
    `IdempotencyRecord.Recorded` and the aggregate's attributes. `outcome` is what came of the
    command (`hallpass.commands.base.OutcomeKind`); `changed` maps the id of each aggregate it
    changed to the version it left it at."""

    key: str
    principal: str
    fingerprint: str
    outcome: str
    response: dict[str, Any]
    changed: dict[str, int]


class IdempotencyRecord(RecordFields, Aggregate):
    class Recorded(RecordFields, Copied):
        """Version 2: `outcome` in place of an HTTP status; version 3: `changed`."""

        class_version = 3

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            status_code = state.pop("status_code")
            state["outcome"] = "created" if status_code == V1_CREATED_STATUS else "done"

        @staticmethod
        def upcast_v2_v3(state: dict[str, Any]) -> None:
            """Versions 1 and 2 did not list what changed: the events then carried the key."""
            state["changed"] = {}
