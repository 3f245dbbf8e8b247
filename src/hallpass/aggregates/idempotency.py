"""The IdempotencyRecord aggregate: the first answer to a command sent with a key.

Its id follows from the school, the principal and the key, so a second command with the same
key conflicts on the event store's primary key and gets the first answer instead.
"""

from __future__ import annotations

from typing import Any

from eventsourcing.domain import Aggregate


class IdempotencyRecord(Aggregate):
    class Recorded(Aggregate.Created):
        key: str
        principal: str
        fingerprint: str
        status_code: int
        response: dict[str, Any]

    def __init__(
        self,
        *,
        key: str,
        principal: str,
        fingerprint: str,
        status_code: int,
        response: dict[str, Any],
    ) -> None:
        self.key = key
        self.principal = principal
        self.fingerprint = fingerprint
        self.status_code = status_code
        self.response = response
