"""/api/v1/reports/...: the analytics reports (hours, students, destinations, teachers, sources,
overdue) as JSON or CSV, for school administrators (their own school), district administrators
and district analysts (any school of their district, or the whole district). The /reports page
reads the same reports through `read_scope` (decision 085).

The role is asked first (403), then the school: another district's school, or for a school
administrator any other school, answers 404 as one that does not exist.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import Response

from hallpass.acting import Actor
from hallpass.errors import Forbidden, Invalid, NotFound
from hallpass.http.auth import require_staff
from hallpass.http.common import ORJSONResponse, now, parses, runtime
from hallpass.http.openapi import Query, get
from hallpass.messages import say
from hallpass.projections.pass_facts import PassFactsProjection
from hallpass.projections.reports import REPORTS, Report, ReportsView, Scope

REPORTERS = ("admin", "district_admin", "analyst")
DISTRICT_ROLES = ("district_admin", "analyst")
DISTRICT = "district"
DEFAULT_DAYS = 30
MAX_DAYS = 400  # a school year and a little more
EARLIEST, LATEST = date(2000, 1, 1), date(2100, 12, 31)
DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
QUERY = (
    Query(
        "school", "A school's id, or `district` for every school of the district (default: your own school)"
    ),
    Query("from", "First day, YYYY-MM-DD, school time (default: 29 days before `to`)"),
    Query("to", "Last day, YYYY-MM-DD, school time, included (default: today)"),
    Query("format", "`json` (default) or `csv`: the report's table, one row per table row"),
)


@dataclass(frozen=True)
class School:
    id: UUID
    name: str
    timezone: str


@dataclass(frozen=True)
class ReportScope:
    """What a request asked for, checked: the schools, their names, the days."""

    scope: Scope
    choice: str  # a school's id, or "district"
    label: str
    schools: list[School]  # every school the caller may choose
    may_choose_district: bool

    @property
    def query(self) -> dict[str, str]:
        return {"school": self.choice, "from": self.scope.start.isoformat(), "to": self.scope.end.isoformat()}


def require_reporter(actor: Actor) -> None:
    if not actor.has_role(*REPORTERS):
        raise Forbidden(say("reports.readers_only"))


async def _schools(request: Request, actor: Actor) -> list[School]:
    """The schools `actor` may report on: their own, or their district's for a district role."""
    directory = runtime(request).directory
    rows = await directory.schools_seen_from(actor.school_id, district=actor.has_role(*DISTRICT_ROLES))
    return [School(r["school_id"], r["name"], r["timezone"]) for r in rows]


def _day(request: Request, name: str) -> date | None:
    raw = request.query_params.get(name, "").strip()
    if not raw:
        return None
    if not DAY.fullmatch(raw):
        raise Invalid(say("reports.day", name=name), field=name)
    try:
        day = date.fromisoformat(raw)
    except ValueError as e:
        raise Invalid(say("reports.day", name=name), field=name) from e
    if not EARLIEST <= day <= LATEST:
        raise Invalid(say("reports.day_range", name=name, earliest=EARLIEST, latest=LATEST), field=name)
    return day


async def read_scope(request: Request, actor: Actor) -> ReportScope:
    """The schools and days a reports request names, or the refusal: 403, 404 or 422."""
    require_reporter(actor)
    schools = await _schools(request, actor)
    may_choose_district = actor.has_role(*DISTRICT_ROLES)
    raw = request.query_params.get("school", "").strip() or str(actor.school_id)
    if raw == DISTRICT:
        if not may_choose_district:
            raise Forbidden(say("reports.district_only"))
        chosen = schools
        label = "Whole district"
    else:
        try:
            wanted = UUID(raw)
        except ValueError as e:
            raise Invalid(say("reports.school"), field="school") from e
        chosen = [s for s in schools if s.id == wanted]
        if not chosen:
            raise NotFound(say("http.school_not_found", id=wanted), id=str(wanted))
        label = chosen[0].name
    home = next((s for s in schools if s.id == actor.school_id), chosen[0] if chosen else None)
    today = now(request).astimezone(ZoneInfo(home.timezone if home else "UTC")).date()
    end = _day(request, "to") or today
    start = _day(request, "from") or end - timedelta(days=DEFAULT_DAYS - 1)
    if start > end:
        raise Invalid(say("reports.range_order"), field="from")
    if (end - start).days + 1 > MAX_DAYS:
        raise Invalid(say("reports.range_too_long", days=MAX_DAYS), field="from")
    scope = Scope(tuple(s.id for s in chosen), start, end)
    return ReportScope(
        scope, DISTRICT if raw == DISTRICT else str(chosen[0].id), label, schools, may_choose_district
    )


async def reports_view(request: Request) -> ReportsView:
    """The reports, once their rows show every pass event committed before this request
    (decision 120): a pass just ended is counted in the report opened next."""
    await runtime(request).watcher.log_shown_by((PassFactsProjection.name,))
    return ReportsView(runtime(request).pool)


def csv_text(report: Report, scope: ReportScope, exported_at: str) -> str:
    """The report's table: `# key: value` lines naming it, then the headings and the rows."""
    out = io.StringIO()
    for key, value in (
        ("report", report.title),
        ("schools", scope.label),
        ("from", scope.scope.start.isoformat()),
        ("to", scope.scope.end.isoformat()),
        ("exported_at", exported_at),
    ):
        out.write(f"# {key}: {value}\n")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([heading for _, heading in report.columns])
    for cells in report.cells():
        writer.writerow([_spreadsheet_safe(text) for text in cells])
    return out.getvalue()


def _spreadsheet_safe(text: str) -> str:
    """A name typed as a formula stays text in a spreadsheet (numbers keep their sign)."""
    if text[:1] in ("=", "+", "@") or (text[:1] == "-" and not parses(float, text)):
        return "'" + text
    return text


def report_endpoint(name: str, title: str) -> Any:
    async def endpoint(request: Request) -> Response:
        actor = require_staff(request)
        fmt = request.query_params.get("format", "json")
        if fmt not in ("json", "csv"):
            raise Invalid(say("reports.format"), field="format")
        scope = await read_scope(request, actor)
        read = await (await reports_view(request)).reports[name](scope.scope)
        if fmt == "csv":
            filename = f"{name}-{scope.choice}-{scope.scope.start}-{scope.scope.end}.csv"
            return Response(
                csv_text(read, scope, now(request).isoformat()),
                media_type="text/csv; charset=utf-8",
                headers={"Content-Disposition": f'attachment; filename="{filename}"'},
            )
        schools = [str(s) for s in scope.scope.school_ids]
        return ORJSONResponse({**scope.query, "schools": schools, **read.as_json()})

    endpoint.__doc__ = f"The report {title.lower()}, of a school or the whole district, as JSON or CSV"
    endpoint.__name__ = f"report_{name}"
    return endpoint


routes = [
    get(
        f"/api/v1/reports/{name}",
        report_endpoint(name, title),
        query=QUERY,
        errors=(401, 403, 404, 422),
        roles=REPORTERS,
    )
    for name, title in REPORTS.items()
]
