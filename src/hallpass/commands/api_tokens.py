"""Stream tokens: a district administrator issues, revokes and grants identified access to the
tokens analysts read the event stream with (docs/decisions/082)."""

from __future__ import annotations

import secrets
from typing import Annotated, Any
from uuid import UUID, uuid4

import msgspec

from hallpass.acting import Acting, Actor
from hallpass.aggregates.api_tokens import ApiToken
from hallpass.aggregates.schools import School
from hallpass.aggregates.staff import Role
from hallpass.bounds import RecordName
from hallpass.commands.administration import AdministrationCommands
from hallpass.commands.base import Decided, created, done, handler
from hallpass.commands.messages import Command
from hallpass.errors import Forbidden, NotFound, Unauthenticated
from hallpass.messages import say

DEFAULT_RATE = 600
MAX_RATE = 100_000
RatePerMinute = Annotated[int, msgspec.Meta(ge=1, le=MAX_RATE)]


class IssueApiToken(Command, frozen=True):
    """A token for the event stream: every school of the district (no `school_ids`) or those named."""

    name: RecordName
    school_ids: Annotated[list[UUID], msgspec.Meta(max_length=500)] = msgspec.field(default_factory=list)
    rate_per_minute: RatePerMinute = DEFAULT_RATE


class SetIdentifiedAccess(Command, frozen=True):
    """Grant (true) or withdraw (false) identified access: real student ids and notes."""

    identified: bool


def token_body(token: ApiToken) -> dict[str, Any]:
    return {
        "id": str(token.id),
        "name": token.name,
        "district_id": str(token.district_id),
        "school_ids": [str(s) for s in token.school_ids],
        "rate_per_minute": token.rate_per_minute,
        "identified": token.identified,
        "revoked": token.revoked,
    }


class ApiTokenCommands(AdministrationCommands):
    """Mixed into `Hallpass`."""

    async def _district_of_admin(self, actor: Actor, action: str) -> UUID:
        if not actor.has_role(Role.DISTRICT_ADMIN):
            raise Forbidden(say("tokens.district_admin_only", action=action))
        home = await self.repository.find(actor.school_id, School)
        if home is None:
            raise NotFound(say("http.school_not_found", id=actor.school_id))
        return home.district_id

    async def _district_token(self, actor: Actor, token_id: UUID, action: str) -> ApiToken:
        district_id = await self._district_of_admin(actor, action)
        token = await self.repository.find(token_id, ApiToken)
        if token is None or token.district_id != district_id:
            raise NotFound(say("http.record_not_found", what="stream token", id=token_id), id=str(token_id))
        return token

    def new_token_secret(self) -> tuple[UUID, str]:
        return uuid4(), secrets.token_urlsafe(32)

    @handler(keyed=False)
    async def issue_api_token(
        self, acting: Acting, command: IssueApiToken, *, token_id: UUID, secret: str
    ) -> Decided:
        """Issue a stream token. The caller shows `secret` once; the log keeps only its digest.

        Not keyed: an idempotency record would keep the answer, and the answer leads to the secret."""
        district_id = await self._district_of_admin(acting.actor, "issue a stream token")
        for school_id in command.school_ids:
            school = await self.repository.find(school_id, School)
            if school is None or school.district_id != district_id:
                raise NotFound(
                    say("http.school_not_found", id=school_id), field="school_ids", id=str(school_id)
                )
        token = ApiToken.issue(
            token_id=token_id,
            district_id=district_id,
            name=command.name.strip(),
            school_ids=list(command.school_ids),
            rate_per_minute=command.rate_per_minute,
            secret=secret,
            now=acting.now,
            by=acting.by,
        )
        return created({"token": token_body(token)}, [token])

    @handler(keyed=False)
    async def revoke_api_token(self, acting: Acting, token_id: UUID) -> Decided:
        """Revoke a stream token: refused at once from then on."""
        token = await self._district_token(acting.actor, token_id, "revoke a stream token")
        token.revoke(now=acting.now, by=acting.by)
        return done({"token": token_body(token)}, [token])

    @handler(keyed=False)
    async def set_identified_access(
        self, acting: Acting, token_id: UUID, command: SetIdentifiedAccess
    ) -> Decided:
        """Grant or withdraw a token's identified access (real student ids and notes)."""
        token = await self._district_token(acting.actor, token_id, "grant identified access")
        changed = token.set_identified(command.identified, now=acting.now, by=acting.by)
        return done({"token": token_body(token)}, [token] if changed else [])

    async def stream_token(self, token_id: UUID, secret: str) -> ApiToken:
        """The token a bearer names, if it is still good (Unauthenticated otherwise)."""
        token = await self.repository.find(token_id, ApiToken)
        if token is None:
            raise Unauthenticated(say("auth.bearer_invalid"))
        token.authenticate(secret)
        return token

    async def token_still_good(self, token_id: UUID) -> ApiToken | None:
        """The token again, for a reader that stays connected; None once revoked (or gone)."""
        token = await self.repository.find(token_id, ApiToken)
        return None if token is None or token.revoked else token
