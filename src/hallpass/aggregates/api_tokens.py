"""The ApiToken aggregate: a district analyst's token for the event stream (docs/decisions/082).

A district administrator issues it for the whole district or for named schools of it, with a
rate limit. The secret is shown once; only its digest is kept. Identified access (real student
ids and notes instead of pseudonyms) is granted and withdrawn by a district administrator, and
every one of these steps is an event naming who took it.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from hallpass.acting import ActedBy
from hallpass.aggregates.base import Acted, Copied, Fields, Sets
from hallpass.errors import IllegalTransition, Unauthenticated
from hallpass.messages import say

TOKEN_PREFIX = "hpt_"
"""Every stream token begins so; a session token (`hp_`) never does."""


def secret_digest(secret: str) -> str:
    """The secret is 32 random bytes, so one SHA-256 is as strong as any slower hash of it."""
    return hashlib.sha256(secret.encode()).hexdigest()


def token_text(token_id: UUID, secret: str) -> str:
    """What the analyst sends as `Authorization: Bearer ...`."""
    return f"{TOKEN_PREFIX}{token_id.hex}_{secret}"


def parse_token(text: str) -> tuple[UUID, str] | None:
    """The token id and secret a bearer token names, or None when it is not a stream token."""
    if not text.startswith(TOKEN_PREFIX):
        return None
    head, _, secret = text[len(TOKEN_PREFIX) :].partition("_")
    if len(head) != 32 or not secret or len(secret) > 100:
        return None
    try:
        return UUID(hex=head), secret
    except ValueError:
        return None


class TokenFields(Fields):
    """A stream token as issued, written once: the fields of `ApiToken.Issued` and the aggregate's
    attributes."""

    district_id: UUID
    name: str
    school_ids: list[UUID]
    """The schools whose events it reads; empty: every school of the district."""
    rate_per_minute: int
    secret_digest: str

    held_as = {"school_ids": list}


class ApiToken(TokenFields, Aggregate):
    class Issued(TokenFields, Acted, Copied):
        """Who issued it; the secret itself is never stored."""

    class IdentifiedAccessGranted(Sets, Acted):
        """From now on the stream names students by their real ids and carries notes."""

        attribute, to = "identified", True

    class IdentifiedAccessWithdrawn(Sets, Acted):
        attribute, to = "identified", False

    class Revoked(Acted):
        def apply(self, aggregate: Any) -> None:
            aggregate.revoked_at = self.timestamp

    def __init__(self, *, actor_id: UUID | None) -> None:
        self.created_by = actor_id
        self.identified = False
        self.revoked_at: datetime | None = None

    @classmethod
    def issue(
        cls,
        *,
        token_id: UUID,
        district_id: UUID,
        name: str,
        school_ids: list[UUID],
        rate_per_minute: int,
        secret: str,
        now: datetime,
        by: ActedBy,
    ) -> ApiToken:
        return cls._create(
            cls.Issued,
            id=token_id,
            timestamp=now,
            district_id=district_id,
            name=name,
            school_ids=sorted(set(school_ids), key=str),
            rate_per_minute=rate_per_minute,
            secret_digest=secret_digest(secret),
            **by,
        )

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None

    @property
    def district_wide(self) -> bool:
        return not self.school_ids

    def authenticate(self, secret: str) -> None:
        if not hmac.compare_digest(secret_digest(secret), self.secret_digest):
            raise Unauthenticated(say("auth.bearer_invalid"))
        if self.revoked:
            raise Unauthenticated(say("auth.bearer_invalid"))

    def set_identified(self, identified: bool, *, now: datetime, by: ActedBy) -> bool:
        """Grant or withdraw identified access; False (and no event) when it already is so."""
        self._ensure_live("change")
        if identified == self.identified:
            return False
        event = self.IdentifiedAccessGranted if identified else self.IdentifiedAccessWithdrawn
        self.trigger_event(event, timestamp=now, **by)
        return True

    def revoke(self, *, now: datetime, by: ActedBy) -> None:
        self._ensure_live("revoke")
        self.trigger_event(self.Revoked, timestamp=now, **by)

    def _ensure_live(self, action: str) -> None:
        if self.revoked:
            raise IllegalTransition(say("tokens.revoked", action=action), token_id=str(self.id))
