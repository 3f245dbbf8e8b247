"""The Reports page, /reports: every analytics report of a school or the district for a range of
days, each a chart, its table and a CSV download of the same rows (decision 085). The checks are
those of /api/v1/reports: the role (403), then the school (404), then the dates (422)."""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from hallpass.http.auth import csrf_token, current_actor
from hallpass.http.reports_api import read_scope, reports_view


async def reports_page(request: Request) -> Response:
    actor = current_actor(request)
    if actor is None or not actor.is_staff:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse("/sign-in?" + urlencode({"next": target}), status_code=303)
    scope = await read_scope(request, actor)
    reports = await (await reports_view(request)).all(scope.scope)
    query = scope.query
    home = next((s for s in scope.schools if s.id == actor.school_id), None)
    return request.app.state.templates.TemplateResponse(  # type: ignore[no-any-return]
        request,
        "reports.html",
        {
            "actor": actor,
            "csrf": csrf_token(request),
            "school": {"name": home.name} if home else None,
            "scope": scope,
            "reports": reports,
            "charts": {r.name: {"title": r.title, **r.chart} for r in reports},
            "csv": {
                r.name: f"/api/v1/reports/{r.name}?{urlencode({**query, 'format': 'csv'})}" for r in reports
            },
            "json": {r.name: f"/api/v1/reports/{r.name}?{urlencode(query)}" for r in reports},
        },
    )


routes = [Route("/reports", reports_page, methods=["GET"])]
