"""/api/v1/admin/tokens: the district's stream tokens, issued, listed and revoked by district
administrators, who also grant identified access (docs/decisions/082)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from hallpass.acting import Actor
from hallpass.aggregates.api_tokens import token_text
from hallpass.aggregates.staff import Role
from hallpass.commands import Hallpass
from hallpass.commands.api_tokens import IssueApiToken
from hallpass.errors import Forbidden, NotFound
from hallpass.http.auth import require_staff
from hallpass.http.common import ORJSONResponse, acting, command_endpoint, parse_body, respond, runtime
from hallpass.http.openapi import get, post, put
from hallpass.messages import say

TOKENS = "/api/v1/admin/tokens"
DISTRICT_ADMINS = ("district_admin",)


def require_district_admin(request: Request) -> Actor:
    actor = require_staff(request)
    if not actor.has_role(Role.DISTRICT_ADMIN):
        raise Forbidden(say("tokens.district_admin_only", action="manage stream tokens"))
    return actor


def listed(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "school_ids": [str(s) for s in row["school_ids"]]}


async def list_tokens(request: Request) -> Response:
    """The district's stream tokens (never their secrets), revoked ones last"""
    actor = require_district_admin(request)
    district_id = await runtime(request).directory.district_of(actor.school_id)
    if district_id is None:
        raise NotFound(say("http.school_not_found", id=actor.school_id))
    rows = await runtime(request).tokens.tokens(district_id)
    return ORJSONResponse({"tokens": [listed(r) for r in rows]})


async def issue_token(request: Request) -> Response:
    """Issue a stream token for the district or named schools; its secret is in this answer only"""
    actor = require_district_admin(request)
    command = await parse_body(request, IssueApiToken)
    app = runtime(request).app
    token_id, secret = app.new_token_secret()
    outcome = await app.issue_api_token(acting(request, actor), command, token_id=token_id, secret=secret)
    return await respond(request, outcome, {"secret": token_text(token_id, secret)})


revoke_token = command_endpoint(
    "Revoke a stream token: refused from now on",
    Hallpass.revoke_api_token,
    require_district_admin,
    keyed=False,
)


set_identified = command_endpoint(
    "Grant or withdraw a token's identified access (real student ids and notes); an audited event",
    Hallpass.set_identified_access,
    require_district_admin,
    keyed=False,
)


routes = [
    get(TOKENS, list_tokens, errors=(401, 403, 404), roles=DISTRICT_ADMINS),
    post(TOKENS, issue_token, body=IssueApiToken, ok=201, errors=(401, 403, 404, 422), roles=DISTRICT_ADMINS),
    post(f"{TOKENS}/{{token_id}}/revoke", revoke_token, errors=(401, 403, 404, 409), roles=DISTRICT_ADMINS),
    put(
        f"{TOKENS}/{{token_id}}/identified",
        set_identified,
        errors=(401, 403, 404, 409, 422),
        roles=DISTRICT_ADMINS,
    ),
]
