"""/api/v1/audit/...: histories, the hallway at a past moment, exports and who looked, for
compliance officers and administrators (docs/decisions/080).

The role is asked first (403 for anyone else), then the school: another school's record answers
404, as one that does not exist. Every read is itself recorded (`audit_views`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import Response

from hallpass.acting import Actor
from hallpass.audit.export import FORMATS, exported
from hallpass.audit.history import HistoryFilter
from hallpass.audit.index import AuditIndexProjection
from hallpass.audit.service import HALLWAY_COLUMNS, HISTORY_COLUMNS, Audit, HallwayRead, HistoryRead
from hallpass.errors import Invalid
from hallpass.http.auth import require_staff
from hallpass.http.common import ORJSONResponse, now, path_uuid, query_moment, query_text, runtime
from hallpass.http.openapi import Query, get
from hallpass.messages import say

AUDITORS = ("compliance", "admin", "district_admin")
FORMAT = Query(
    "format", "`json` (default), `csv` or `jsonl`: a file with the school, range and time of export"
)
HISTORY_QUERY = (
    Query("from", "Events from this date (school time, YYYY-MM-DD) or instant"),
    Query("to", "Events up to the end of this date (school time) or before this instant"),
    Query("kind", "Only events of these kinds, comma-separated (e.g. `Started,Completed`)"),
    FORMAT,
)
HALLWAY_QUERY = (Query("at", "The instant, school time: YYYY-MM-DDTHH:MM (required)"), FORMAT)
ERRORS = (401, 403, 404, 422)


async def audit(request: Request) -> Audit:
    """The audit, once its index shows every event committed before this request (decision 120):
    a pass just made has its history."""
    await runtime(request).watcher.log_shown_by((AuditIndexProjection.name,))
    return Audit(runtime(request))


def wanted_format(request: Request) -> str:
    fmt = request.query_params.get("format", "json")
    if fmt != "json" and fmt not in FORMATS:
        raise Invalid(say("audit.format"), field="format")
    return fmt


def history_filter(request: Request, tz: ZoneInfo) -> HistoryFilter:
    raw_kinds = query_text(request, "kind")
    kinds = frozenset(k.strip() for k in raw_kinds.split(",") if k.strip())
    start = query_moment(request, "from", tz, end=False)
    end = query_moment(request, "to", tz, end=True)
    if start is not None and end is not None and end <= start:
        raise Invalid(say("audit.to_after_from"), field="to")
    return HistoryFilter(start, end, kinds)


def instant(request: Request, tz: ZoneInfo) -> datetime:
    if "T" not in request.query_params.get("at", ""):
        raise Invalid(say("audit.at"), field="at")
    at = query_moment(request, "at", tz, end=False)
    assert at is not None
    return at


async def read_history(request: Request, actor: Actor, kind: str, key: str, fmt: str) -> HistoryRead:
    subject_id = path_uuid(request, key, kind)
    service = await audit(request)
    _, tz = await service.subject(actor, kind, subject_id)
    filters = history_filter(request, tz)
    what = f"{kind} history" + ("" if fmt == "json" else f" export ({fmt})")
    return await service.history(actor, kind, subject_id, filters, now(request), what)


def download(name: str, body: str, fmt: str) -> Response:
    """An export the browser saves as the file `name`."""
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    return Response(body, media_type=FORMATS[fmt], headers=headers)


def history_file(read: HistoryRead, fmt: str, exported_at: datetime, filters: dict[str, Any]) -> Response:
    header = {
        "school_id": str(read.subject.school_id),
        "subject": f"{read.subject.kind} {read.subject.id}",
        **filters,
        "exported_at": exported_at.isoformat(),
        "events": len(read.events),
    }
    name = f"{read.subject.kind}-{read.subject.id}-history.{fmt}"
    return download(name, exported(fmt, header, HISTORY_COLUMNS, read.rows()), fmt)


def history_endpoint(kind: str, key: str, summary: str) -> Any:
    async def endpoint(request: Request) -> Response:
        actor = require_staff(request)
        fmt = wanted_format(request)
        read = await read_history(request, actor, kind, key, fmt)
        if fmt != "json":
            bounds = {"from": request.query_params.get("from", ""), "to": request.query_params.get("to", "")}
            return history_file(read, fmt, now(request), bounds)
        return ORJSONResponse(
            {"school_id": str(read.subject.school_id), "timezone": str(read.timezone), "events": read.rows()}
        )

    endpoint.__doc__ = summary
    endpoint.__name__ = f"audit_{kind}_history"
    return endpoint


def hallway_file(read: HallwayRead, fmt: str, exported_at: datetime) -> Response:
    header = {
        "school_id": str(read.school_id),
        "at": read.local(read.at),
        "exported_at": exported_at.isoformat(),
        "out": len(read.out),
    }
    name = f"hallway-{read.at.astimezone(read.timezone):%Y-%m-%dT%H%M}.{fmt}"
    return download(name, exported(fmt, header, HALLWAY_COLUMNS, read.rows()), fmt)


async def hallway(request: Request) -> Response:
    """The hallway at a past moment: who was out, from where, to where, since when, replayed from the log"""
    actor = require_staff(request)
    fmt = wanted_format(request)
    school_id = path_uuid(request, "school_id", "school")
    service = await audit(request)
    tz = await service.school(actor, school_id)
    at = instant(request, tz)
    what = "hallway at a moment" + ("" if fmt == "json" else f" export ({fmt})")
    read = await service.hallway(actor, school_id, at, tz, now(request), what)
    if fmt != "json":
        return hallway_file(read, fmt, now(request))
    return ORJSONResponse(
        {"school_id": str(school_id), "at": at.astimezone(tz).isoformat(), "out": read.rows()}
    )


async def views(request: Request) -> Response:
    """Who looked: the latest audit views of the school's records (who, when, what)"""
    actor = require_staff(request)
    school_id = path_uuid(request, "school_id", "school")
    service = await audit(request)
    await service.school(actor, school_id)
    seen = await service.access.views(school_id)
    return ORJSONResponse({"views": [v.as_json() for v in seen]})


SUBJECT_ROUTES = (
    ("pass", "passes", "pass_id", "Every event of a pass, in log order"),
    ("student", "students", "student_id", "A student's history: their record and every pass they took"),
    ("location", "locations", "location_id", "A place's history: its record and every pass from or to it"),
    ("staff", "staff", "staff_id", "A member of staff's history: their record and every event they acted in"),
    ("kiosk", "kiosks", "kiosk_id", "A kiosk's history: its record and every event it acted in"),
)

routes = [
    *(
        get(
            f"/api/v1/audit/{plural}/{{{key}}}/history",
            history_endpoint(kind, key, summary),
            query=HISTORY_QUERY,
            errors=ERRORS,
            roles=AUDITORS,
        )
        for kind, plural, key, summary in SUBJECT_ROUTES
    ),
    get(
        "/api/v1/audit/schools/{school_id}/hallway",
        hallway,
        query=HALLWAY_QUERY,
        errors=ERRORS,
        roles=AUDITORS,
    ),
    get("/api/v1/audit/schools/{school_id}/views", views, errors=(401, 403, 404), roles=AUDITORS),
]
