"""ApiTokenView: the district's stream tokens, for the administrators' list (never the secret)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from hallpass.aggregates.api_tokens import ApiToken
from hallpass.projections.base import Rows, StatementProjection, View

SCHEMA = """
CREATE TABLE IF NOT EXISTS api_tokens (
    token_id uuid PRIMARY KEY,
    district_id uuid NOT NULL,
    name text NOT NULL,
    school_ids uuid[] NOT NULL,
    rate_per_minute integer NOT NULL,
    identified boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL,
    created_by uuid,
    revoked_at timestamptz
);
CREATE INDEX IF NOT EXISTS api_tokens_district ON api_tokens (district_id, created_at);
"""

TOKENS = Rows("api_tokens", "token_id")


class ApiTokenProjection(StatementProjection):
    name = "api_tokens"
    schema = SCHEMA
    statements = {
        ApiToken.Issued: TOKENS.insert(
            "district_id, name, school_ids, rate_per_minute, created_at, created_by",
            lambda e: (e.district_id, e.name, list(e.school_ids), e.rate_per_minute, e.timestamp, e.actor_id),
        ),
        ApiToken.IdentifiedAccessGranted: TOKENS.update("identified", lambda e: (True,)),
        ApiToken.IdentifiedAccessWithdrawn: TOKENS.update("identified", lambda e: (False,)),
        ApiToken.Revoked: TOKENS.update("revoked_at", lambda e: (e.timestamp,)),
    }


class ApiTokenView(View):
    async def tokens(self, district_id: UUID) -> list[dict[str, Any]]:
        """The district's tokens, newest first, revoked ones last."""
        return await self.rows(
            "SELECT t.token_id AS id, t.name, t.district_id, t.school_ids, t.rate_per_minute,"
            " t.identified, t.created_at, t.created_by, s.name AS created_by_name, t.revoked_at,"
            " t.revoked_at IS NOT NULL AS revoked FROM api_tokens t"
            " LEFT JOIN dir_staff s ON s.staff_id = t.created_by"
            " WHERE t.district_id = $1 ORDER BY t.revoked_at IS NOT NULL, t.created_at DESC",
            district_id,
        )
