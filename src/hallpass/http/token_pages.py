"""/admin/tokens: a district administrator's stream tokens, as `/api/v1/admin/tokens` has them:
issue one (its secret shown on the answering page only), grant or withdraw identified access,
revoke (docs/decisions/082)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from hallpass.acting import Actor
from hallpass.aggregates.api_tokens import token_text
from hallpass.commands.api_tokens import DEFAULT_RATE, IssueApiToken, SetIdentifiedAccess
from hallpass.errors import DomainError, Forbidden, Invalid, NotFound
from hallpass.http.admin_pages import _render, _saved, page
from hallpass.http.common import acting, is_uuid, parse_form, runtime, visible
from hallpass.http.errors import status_for
from hallpass.messages import say

PATH = "/admin/tokens"


def _token_id(form: FormData) -> UUID:
    raw = str(form.get("token_id", ""))
    if not is_uuid(raw):
        raise NotFound(say("http.record_not_found", what="stream token", id=raw[:40]), field="token_id")
    return UUID(raw)


@page
async def tokens_page(request: Request, actor: Actor, form: FormData | None) -> Response:
    """The district's tokens; the forms that issue, grant, withdraw and revoke."""
    if not actor.has_role("district_admin"):
        raise Forbidden(say("tokens.district_admin_only", action="manage stream tokens"))
    rt = runtime(request)
    error, status, secret = "", 200, ""
    values: dict[str, Any] = {"name": "", "rate_per_minute": DEFAULT_RATE, "school_ids": []}
    if form is not None:
        what = str(form.get("action", ""))
        try:
            if what == "issue":
                values = {
                    "name": str(form.get("name", "")),
                    "rate_per_minute": str(form.get("rate_per_minute", "")).strip() or DEFAULT_RATE,
                    "school_ids": [str(s) for s in form.getlist("school_ids") if str(s)],
                }
                command = parse_form(request, values, IssueApiToken)
                token_id, raw = rt.app.new_token_secret()
                outcome = await rt.app.issue_api_token(
                    acting(request, actor), command, token_id=token_id, secret=raw
                )
                await visible(request, outcome.notification_id)
                secret, status = token_text(token_id, raw), 201
                values = {"name": "", "rate_per_minute": DEFAULT_RATE, "school_ids": []}
            elif what in ("grant", "withdraw"):
                change = SetIdentifiedAccess(identified=what == "grant")
                outcome = await rt.app.set_identified_access(acting(request, actor), _token_id(form), change)
                note = "Identified access granted." if what == "grant" else "Identified access withdrawn."
                return await _saved(request, outcome, note, PATH)
            elif what == "revoke":
                outcome = await rt.app.revoke_api_token(acting(request, actor), _token_id(form))
                return await _saved(request, outcome, "Token revoked: it is refused from now on.", PATH)
            else:
                raise Invalid(say("tokens.action"), field="action")
        except DomainError as e:
            error, status = e.message, status_for(e)
    district_id = await rt.directory.district_of(actor.school_id)
    rows = await rt.tokens.tokens(district_id) if district_id else []
    schools = await rt.admin.schools(actor)
    names = {str(s["school_id"]): s["name"] for s in schools}
    for row in rows:
        row["schools"] = ", ".join(names.get(str(s), str(s)) for s in row["school_ids"]) or "Whole district"
    return _render(
        request,
        "admin/tokens.html",
        actor,
        status,
        school=None,
        tokens=rows,
        schools=schools,
        values=values,
        secret=secret,
        error=error,
        action=PATH,
    )


routes = [Route(PATH, tokens_page, methods=["GET", "POST"])]
