"""Staff pages: the Hall Pass dashboard and Create Hall Pass, server-rendered."""

from __future__ import annotations

import asyncio
import functools
import secrets
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
from datetime import date, datetime, time
from typing import Any
from urllib.parse import urlencode
from uuid import UUID
from zoneinfo import ZoneInfo

from jinja2 import Environment
from markupsafe import Markup
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from hallpass.acting import Acting, Actor
from hallpass.aggregates.keep_apart import KeepApart
from hallpass.aggregates.passes import Source, Status, TerminationReason
from hallpass.commands import Outcome
from hallpass.commands.base import settled
from hallpass.commands.messages import CreatePasses, TerminatePass
from hallpass.commands.schedules import (
    CancelScheduledPass,
    ReschedulePass,
    SchedulePasses,
    ScheduleRepeating,
)
from hallpass.errors import DomainError, Invalid, NotFound
from hallpass.http.auth import csrf_token, current_actor, require_staff
from hallpass.http.common import (
    acting,
    concurrently,
    form_key,
    is_uuid,
    now,
    parse_form,
    query_grade,
    query_search,
    runtime,
    visible_on_page,
)
from hallpass.http.errors import status_for
from hallpass.http.labels import creator_words, local, moment
from hallpass.http.lines_pages import school_lines
from hallpass.http.passes_api import MAX_LIMIT, filters_from
from hallpass.messages import count as count_of
from hallpass.messages import say
from hallpass.policies import RuleRefused
from hallpass.projections.queries import DASHBOARD, DashboardView
from hallpass.projections.schedules import ScheduleListView
from hallpass.text import is_number

REASONS = {
    TerminationReason.LEFT_EARLY: "Left early",
    TerminationReason.CHECKED_IN_ELSEWHERE: "Checked in elsewhere",
    TerminationReason.OTHER: "Other",
}
STATUS_LABELS = {s.value: s.value.capitalize() for s in Status}
REASON_OPTIONS = Markup("").join(
    Markup('<option value="{}">{}</option>').format(reason.value, label) for reason, label in REASONS.items()
)
"""The options of each active row's Reason, written once (decision 114)."""


def _sign_in_redirect(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse("/sign-in?" + urlencode({"next": target}), status_code=303)


def _staff_or_none(request: Request, form: FormData | None = None) -> Actor | None:
    csrf = str(form.get("csrf", "")) if form is not None else None
    actor = current_actor(request, form_csrf=csrf)
    return actor if actor is not None and actor.is_staff else None


def _minutes_over(at: datetime) -> Callable[[dict[str, Any]], int]:
    def minutes_over(p: dict[str, Any]) -> int:
        return max(0, int((at - p["due_at"]).total_seconds() // 60))

    return minutes_over


async def _alerts(request: Request, actor: Actor) -> list[dict[str, Any]]:
    """The overdue passes `_alerts.html` tells the staff member of, in one statement with only
    what it shows (decision 119)."""
    return _alerts_shown(await runtime(request).passes.overdue_for(actor.school_id, actor.id))


def _alerts_shown(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Overdue passes (`ALERT_COLUMNS`) as `_alerts.html` reads them."""
    return [
        {
            "id": r["pass_id"],
            "student": {"name": r["student_name"]},
            "origin": {"name": r["origin_name"]},
            "destination": {"name": r["destination_name"]},
            "start_at": r["start_at"],
            "due_at": r["due_at"],
        }
        for r in rows
    ]


async def _context(request: Request, actor: Actor, **extra: Any) -> dict[str, Any]:
    rt = runtime(request)
    school = await rt.directory.school(actor.school_id)
    return {
        "minutes_over": _minutes_over(now(request)),
        "actor": actor,
        "school": school,
        "tz": school["timezone"] if school else "UTC",
        "csrf": csrf_token(request),
        "today_local": now(request).astimezone(ZoneInfo(school["timezone"] if school else "UTC")).date(),
        "status_labels": STATUS_LABELS,
        "reasons": REASONS,
        **extra,
    }


async def _rows(request: Request, actor: Actor, tz: str) -> dict[str, Any]:
    """The dashboard's rows. With no From or To it shows today in the school's time zone and
    every pass still open, whenever it started (decision 054); the date filters look back."""
    filters = await filters_from(request, tz)
    params = request.query_params
    default_view = not params.get("from", "").strip() and not params.get("to", "").strip()
    if default_view:
        today = now(request).astimezone(ZoneInfo(tz)).date()
        filters = replace(filters, since=datetime.combine(today, time(0), tzinfo=ZoneInfo(tz)), open_too=True)
    rt = runtime(request)
    page = await rt.passes.page(actor.school_id, filters, DASHBOARD)
    older = {k: v for k, v in params.multi_items() if k != "after"}
    env = request.app.state.templates.env
    zone, at = ZoneInfo(tz), now(request)
    day = at.astimezone(zone).date()
    return {
        "rows": [pass_row_html(env, tuple(r.items()), zone, day, minutes_over(r, at)) for r in page.rows],
        "total": page.total_label,
        "default_view": default_view,
        "today": filters.since if default_view else None,
        "older_query": urlencode([*older.items(), ("after", page.next.encode())]) if page.next else "",
        "newest_query": urlencode(list(older.items())) if filters.after else None,
    }


ROWS_KEPT = 4096
"""Rendered dashboard rows kept (about 2 KB each): a few pages for each of many schools."""


@functools.lru_cache(maxsize=ROWS_KEPT)
def pass_row_html(
    env: Environment,
    row: tuple[tuple[str, Any], ...],
    zone: ZoneInfo,
    today: date,
    over: int,
) -> bytes:
    """One row of the dashboard's table: a row of `PassListView.page` with the DASHBOARD columns
    (as its items, its repeating series among them), the school's zone and day and the minutes it is over
    (`minutes_over`), rendered by `_pass_row.html` the first time and kept (decision 114), as
    the UTF-8 the page sends (`with_rows`, decision 127).

    A row holds nothing of the reader or the request (its actions' CSRF token is in the page's
    one form), so every member of staff looking at a school, and every live refresh, shows the
    same rows; a row is worked out and rendered again only when something it shows changes (a
    column, its minutes over, the day)."""
    shown = row_shown(dict(row), zone, today, over)
    return env.get_template("_pass_row.html").render(p=shown, reason_options=REASON_OPTIONS).encode()


ROWS_HERE = Markup(f"<!-- the rows {secrets.token_hex(8)} -->")
"""Where `with_rows` puts the rows in a page: text no template writes, and that no value can
write either, as every value is escaped (its `<` written `&lt;`)."""


def with_rows(request: Request, name: str, context: dict[str, Any]) -> Response:
    """The template `name` (`_pass_rows.html` or a page that includes it) with `context`, whose
    `rows` (`pass_row_html`'s) are put into the page as the bytes they were kept as (decision
    127): the template writes `ROWS_HERE` where they go, and only the rest is encoded."""
    rows: list[bytes] = context["rows"]
    text = request.app.state.templates.get_template(name).render(
        {**context, "request": request, "rows": ROWS_HERE if rows else ""}
    )
    head, _, tail = text.partition(ROWS_HERE) if rows else (text, "", "")
    return Response(b"".join([head.encode(), *rows, tail.encode()]), media_type="text/html")


@functools.lru_cache(maxsize=256)
def options(choices: tuple[tuple[str, str], ...], selected: str | None) -> Markup:
    """The `<option>`s of a filter's choices (value, words), `selected` chosen: written once
    for each list of choices and choice, as a school's places and staff change rarely
    (decision 114)."""
    return Markup("").join(
        Markup('<option value="{}"{}>{}</option>').format(
            value, Markup(" selected") if value == selected else "", words
        )
        for value, words in choices
    )


MARKER_TITLES = {Source.PORTAL.value: "Student Portal", Source.KIOSK.value: "Kiosk"}
MARKERS = {s.value: s.marker for s in Source}
ENDED = frozenset({Status.TERMINATED.value, Status.CANCELLED.value})
NOT_STARTED = frozenset({Status.REQUESTED.value, Status.DENIED.value})


def minutes_over(row: Mapping[str, Any], at: datetime) -> int:
    """How many whole minutes an overdue pass (expired, not back) is over at `at`; 0 for others."""
    if row["status"] != Status.EXPIRED or row["returned_at"] is not None:
        return 0
    return max(0, int((at - row["due_at"]).total_seconds() // 60))


def row_shown(r: Mapping[str, Any], zone: ZoneInfo, today: date, over: int) -> dict[str, Any]:
    """A row of the dashboard (`PassListView.page` with the DASHBOARD columns) as the words and
    moments `_pass_row.html` writes: the template only puts them in place (decision 114)."""
    status = r["status"]
    returned = r["returned_at"]
    start, due = r["start_at"], r["due_at"]
    source = r["source"]
    return {
        "id": str(r["pass_id"]),
        "status": status,
        "label": STATUS_LABELS[status],
        "overdue": status == Status.EXPIRED and returned is None,
        "over": over,
        "name": r["student_name"],
        "grade": r["grade"],
        "origin": r["origin_name"],
        "destination": r["destination_name"],
        "marker": MARKERS[source],
        "marker_title": MARKER_TITLES.get(source, ""),
        "not_started": status in NOT_STARTED or (status == Status.CANCELLED and returned is None),
        "start_iso": start.isoformat(),
        "start": moment(start, zone, today),
        "start_input": local(start, zone, "%Y-%m-%dT%H:%M") if status == Status.SCHEDULED else "",
        "due_iso": due.isoformat(),
        "due": moment(due, zone, today),
        "returned_iso": returned.isoformat() if returned else "",
        "returned": moment(returned, zone, today),
        "ended": (r["end_reason"] or "").replace("_", " ") if status in ENDED else "",
        "creator": creator_words(r["created_by_kind"], r["creator_name"]),
        "schedule_id": r["schedule_id"],
    }


async def home(request: Request) -> Response:
    """An empty instance offers its set-up first (docs/decisions/075)."""
    if await runtime(request).app.needs_set_up():
        return RedirectResponse("/setup", status_code=303)
    return RedirectResponse("/hall-pass", status_code=303)


async def _period(request: Request, actor: Actor, school: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The bell schedule's period now, in the school's time (decision 089), if any. `school`:
    the school's row in the directory, whose rules' version says whether the policy this
    process worked out last is still the school's (decision 119)."""
    shown = (school["rules_version"], school["timezone"]) if school is not None else None
    policy = await runtime(request).app.school_policy(actor.school_id, shown)
    period = policy.bells.period_at(now(request), policy.zone)
    return period.as_json(policy.zone) if period else None


async def _listed(request: Request, actor: Actor) -> tuple[dict[str, Any], dict[str, Any]]:
    """The page's context (`_context`, with the school's row) and the dashboard's rows (`_rows`).

    The list's dates are in the school's zone, which is in the school's row. Where this process
    keeps the school's policy (`Hallpass.kept_zone`), the list goes out at once in the policy's
    zone, beside the row's read (decision 131); if the row says another zone (the school changed
    it since), the list is read again in that one, so a page never shows a day in a zone the
    school no longer has."""
    guess = runtime(request).app.kept_zone(actor.school_id)
    early = None if guess is None else asyncio.ensure_future(_rows(request, actor, guess))
    try:
        context = await _context(request, actor)
        tz: str = context["tz"]
        rows = await (early if early is not None and guess == tz else _rows(request, actor, tz))
    finally:
        if early is not None:  # done, or not wanted: its outcome is read here either way
            early.cancel()
            await asyncio.gather(early, return_exceptions=True)
    return context, rows


async def dashboard(request: Request) -> Response:
    actor = _staff_or_none(request)
    if actor is None:
        return _sign_in_redirect(request)
    # The reads go out together, each on its own pooled connection (decisions 127 and 131): the
    # school and its passes (`_listed`); and, in one statement, everything else the page shows
    # (`DashboardView.frame`). Then the period (the school's rules as this process keeps them)
    # and the wait lines the frame named.
    (context, rows), frame = await concurrently(
        _listed(request, actor), DashboardView(runtime(request).pool).frame(actor.school_id, actor.id)
    )
    period, lines = await concurrently(
        _period(request, actor, context["school"]), school_lines(request, actor, frame.line_ids)
    )
    return with_rows(
        request,
        "dashboard.html",
        {
            **context,
            **rows,
            "alerts": _alerts_shown(frame.alerts),
            "query": request.query_params,
            "query_string": request.url.query,
            "place_choices": frame.places,
            "staff_choices": frame.staff,
            "options": options,
            "statuses": [s.value for s in Status],
            "sources": [s.value for s in Source],
            "flash": request.session.pop("flash", ""),
            "emergency": frame.emergency,
            "period": period,
            "lines": lines,
        },
    )


async def dashboard_period(request: Request) -> Response:
    """The dashboard's current period, redrawn by static/dashboard.js with the rows and on its timer."""
    actor = _staff_or_none(request)
    if actor is None:
        return Response(say("auth.sign_in"), status_code=401)
    return request.app.state.templates.TemplateResponse(  # type: ignore[no-any-return]
        request,
        "_period.html",
        {"period": await _period(request, actor, await runtime(request).directory.school(actor.school_id))},
    )


async def dashboard_rows(request: Request) -> Response:
    actor = _staff_or_none(request)
    if actor is None:
        return Response(say("auth.sign_in"), status_code=401)
    context, rows = await _listed(request, actor)
    return with_rows(request, "_pass_rows.html", {**context, **rows})


async def dashboard_alerts(request: Request) -> Response:
    actor = _staff_or_none(request)
    if actor is None:
        return Response(say("auth.sign_in"), status_code=401)
    context = await _context(request, actor, alerts=await _alerts(request, actor))
    return request.app.state.templates.TemplateResponse(  # type: ignore[no-any-return]
        request, "_alerts.html", context
    )


async def _create_form(
    request: Request,
    actor: Actor,
    *,
    error: str = "",
    status: int = 200,
    values: dict[str, Any] | None = None,
    overridable: bool = False,
) -> Response:
    """The form; `overridable`: a hallway rule refused it, so the override reason is asked for."""
    rt = runtime(request)
    context = await _context(request, actor)
    locations = await rt.directory.locations(actor.school_id)
    me = await rt.directory.staff_member(actor.id) if actor.id else None
    values = values or {}
    params = request.query_params
    carried = [UUID(v) for v in params.getlist("selected") if is_uuid(v)]
    carried += [UUID(v) for v in values.get("student_ids", []) if is_uuid(v)]
    classes = await rt.classes.classes(actor.school_id, teacher_id=actor.id)
    mine = [c for c in classes if c["mine"]]
    # Unfiltered, a teacher sees their first class (their homeroom first), else their room's homeroom.
    # A name or ID typed looks in every room and class of the school (decision 095).
    searching = bool(query_search(request))
    first_class = str(mine[0]["class_id"]) if mine and "homeroom_id" not in params else ""
    class_id = "" if searching else params.get("class_id", first_class)
    homeroom = "" if searching else params.get("homeroom_id", "")
    if "homeroom_id" not in params and not class_id and not searching and me and me["room_id"]:
        homeroom = str(me["room_id"])
    grade = params.get("grade", "")
    students = await rt.directory.students(
        actor.school_id,
        name=query_search(request),
        grade=query_grade(request),
        homeroom_id=UUID(homeroom) if is_uuid(homeroom) else None,
        class_id=UUID(class_id) if is_uuid(class_id) else None,
        limit=200,
    )
    chosen = await rt.directory.students_by_ids(actor.school_id, carried[:500]) if carried else []
    chosen_ids = {s["student_id"] for s in chosen}
    students = chosen + [s for s in students if s["student_id"] not in chosen_ids]
    return request.app.state.templates.TemplateResponse(  # type: ignore[no-any-return]
        request,
        "create.html",
        {
            **context,
            "locations": locations,
            "origin_id": values.get("origin_id")
            or params.get("origin_id")
            or (str(me["room_id"]) if me and me["room_id"] else ""),
            "destination_id": values.get("destination_id") or params.get("destination_id", ""),
            "selected": {str(c) for c in carried},
            "students": students,
            "grades": await rt.directory.grades(actor.school_id),
            "q": params.get("q", ""),
            "grade": grade,
            "homeroom_id": homeroom,
            "my_classes": mine,
            "other_classes": [c for c in classes if not c["mine"]],
            "class_id": class_id,
            "error": error,
            "overridable": overridable,
            "override_reason": (values or {}).get("override_reason", ""),
            **_when_values(values or dict(params)),
            "weekdays": set(values.get("weekdays") or params.getlist("weekdays")),
        },
        status_code=status,
    )


def _uuid_field(form: FormData, name: str, label: str) -> UUID:
    raw = str(form.get(name, "")).strip()
    if not is_uuid(raw):
        raise Invalid(say(label), field=name)
    return UUID(raw)


async def create_page(request: Request) -> Response:
    form = await request.form() if request.method == "POST" else None
    actor = _staff_or_none(request, form)
    if actor is None:
        return _sign_in_redirect(request)
    if form is None:
        return await _create_form(request, actor)
    student_ids = [str(s) for s in form.getlist("student_ids")]
    values = {
        "origin_id": str(form.get("origin_id", "")),
        "destination_id": str(form.get("destination_id", "")),
        "student_ids": student_ids,
        **_when_values(dict(form)),
        "weekdays": [str(d) for d in form.getlist("weekdays")],
        "override_reason": str(form.get("override_reason", "")),
    }
    try:
        outcome, message = await _submit_create(request, actor, form, student_ids)
    except DomainError as e:
        overridable = isinstance(e, (RuleRefused, KeepApart)) and bool(e.details.get("overridable"))
        return await _create_form(
            request, actor, error=e.message, status=status_for(e), values=values, overridable=overridable
        )
    request.session["flash"] = message
    headers = await visible_on_page(request, outcome.notification_id)
    return RedirectResponse("/hall-pass", status_code=303, headers=headers)


WHEN_FIELDS = ("start_at", "allotted_minutes", "repeat_at", "first_date", "last_date")


def _when_values(source: Mapping[str, Any]) -> dict[str, str]:
    """The timing fields of Create Hall Pass, as typed, to show the form again."""
    values = {name: str(source.get(name, "")) for name in WHEN_FIELDS}
    when = str(source.get("when", "now"))
    values["when"] = when if when in ("now", "later", "repeating") else "now"
    return values


async def _submit_create(
    request: Request, actor: Actor, form: FormData, student_ids: list[str]
) -> tuple[Outcome, str]:
    """Create Hall Pass now, later today or another day, or on a repeating schedule."""
    if not student_ids or not all(is_uuid(s) for s in student_ids):
        raise Invalid(say("create.choose_students"), field="student_ids")
    app = runtime(request).app
    origin = _uuid_field(form, "origin_id", "create.choose_origin")
    destination = _uuid_field(form, "destination_id", "create.choose_destination")
    students = [UUID(s) for s in student_ids]
    by = acting(request, actor, form_key(form, "idempotency_key"))
    when = str(form.get("when", "now"))
    minutes = _minutes(str(form.get("allotted_minutes", "")))
    chosen: dict[str, Any] = {
        "origin_id": origin,
        "destination_id": destination,
        "student_ids": students,
        "allotted_minutes": minutes,
    }
    if when == "later":
        start = _local_moment(str(form.get("start_at", "")), await _school_tz(request, actor), "start_at")
        outcome = await app.schedule_passes(
            by, parse_form(request, {**chosen, "start_at": start}, SchedulePasses)
        )
        count = len(outcome.body.get("passes", []))
        return outcome, count_of("create.scheduled", count)
    if when == "repeating":
        outcome = await app.schedule_repeating(by, _repeating(request, form, chosen))
        count = len(outcome.body.get("passes", []))
        return outcome, count_of("create.repeating", count)
    reason = str(form.get("override_reason", "")).strip()
    if reason:
        chosen["override"] = {"reason": reason}
    outcome = settled(await app.create_passes(by, parse_form(request, chosen, CreatePasses)))
    return outcome, count_of("create.created", len(outcome.body.get("passes", [])))


def _minutes(raw: str) -> int | None:
    if not raw.strip():
        return None
    if not is_number(raw.strip()) or not 1 <= int(raw) <= 999:
        raise Invalid(say("pass.minutes_range"), field="allotted_minutes")
    return int(raw)


def _repeating(request: Request, form: FormData, chosen: dict[str, Any]) -> ScheduleRepeating:
    days = [str(d) for d in form.getlist("weekdays")]
    weekdays = sorted({int(d) for d in days if is_number(d) and int(d) <= 6})
    if not weekdays:
        raise Invalid(say("create.choose_weekday"), field="weekdays")
    try:
        at = time.fromisoformat(str(form.get("repeat_at", "")))
    except ValueError as e:
        raise Invalid(say("create.give_repeat_time"), field="repeat_at") from e
    try:
        first = date.fromisoformat(str(form.get("first_date", "")))
        last = date.fromisoformat(str(form.get("last_date", "")))
    except ValueError as e:
        raise Invalid(say("create.give_dates"), field="first_date") from e
    return parse_form(
        request,
        {
            **chosen,
            "weekdays": weekdays,
            "at": at,
            "first_date": first,
            "last_date": last,
        },
        ScheduleRepeating,
    )


def _local_moment(raw: str, tz: str, field: str) -> datetime:
    """A datetime-local value from a form, read in the school's time zone."""
    try:
        moment = datetime.fromisoformat(raw.strip())
    except ValueError as e:
        raise Invalid(say("create.give_start"), field=field) from e
    return moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo(tz))


async def _school_tz(request: Request, actor: Actor) -> str:
    school = await runtime(request).directory.school(actor.school_id)
    return str(school["timezone"]) if school else "UTC"


async def _pass_form(
    request: Request, send: Callable[[Acting, UUID, FormData], Awaitable[Outcome]], said: str
) -> Response:
    """A dashboard form that sends one command about the pass its path names, then goes back
    and says what it did (the catalogue's message `said`, with the student's name)."""
    # The dashboard's one form of actions sends every row's fields (decision 114): up to two
    # for each of a page's MAX_LIMIT rows, and the token.
    form = await request.form(max_fields=2 * MAX_LIMIT + 10)
    actor = require_staff(request, form_csrf=str(form.get("csrf", "")))
    raw = request.path_params["pass_id"]
    if not is_uuid(raw):
        raise Invalid(say("pass.no_such_pass"))
    outcome = await send(acting(request, actor), UUID(raw), form)
    student = outcome.body.get("pass", {}).get("student", {})
    request.session["flash"] = say(said, name=student.get("name", ""))
    headers = await visible_on_page(request, outcome.notification_id)
    return RedirectResponse("/hall-pass", status_code=303, headers=headers)


def _pass_field(form: FormData, name: str, pass_id: UUID) -> str:
    """A field of the pass's row on the dashboard, `name-<pass id>` in the page's one form of
    actions (decision 114), or plain `name` as a form of its own sends it."""
    return str(form.get(f"{name}-{pass_id}", form.get(name, "")))


async def complete_form(request: Request) -> Response:
    async def send(by: Acting, pass_id: UUID, form: FormData) -> Outcome:
        return await runtime(request).app.complete_pass(by, pass_id)

    return await _pass_form(request, send, "dashboard.completed")


async def terminate_form(request: Request) -> Response:
    async def send(by: Acting, pass_id: UUID, form: FormData) -> Outcome:
        try:
            reason = TerminationReason(_pass_field(form, "reason", pass_id))
        except ValueError as e:
            raise Invalid(say("pass.choose_reason"), field="reason") from e
        command = parse_form(
            request, {"reason": reason, "note": _pass_field(form, "note", pass_id)}, TerminatePass
        )
        return await runtime(request).app.terminate_pass(by, pass_id, command)

    return await _pass_form(request, send, "dashboard.terminated")


async def cancel_form(request: Request) -> Response:
    async def send(by: Acting, pass_id: UUID, form: FormData) -> Outcome:
        command = parse_form(request, {"note": _pass_field(form, "note", pass_id)}, CancelScheduledPass)
        return await runtime(request).app.cancel_scheduled_pass(by, pass_id, command)

    return await _pass_form(request, send, "dashboard.cancelled")


async def reschedule_form(request: Request) -> Response:
    async def send(by: Acting, pass_id: UUID, form: FormData) -> Outcome:
        tz = await _school_tz(request, by.actor)
        start = _local_moment(_pass_field(form, "start_at", pass_id), tz, "start_at")
        return await runtime(request).app.reschedule_pass(
            by, pass_id, parse_form(request, {"start_at": start}, ReschedulePass)
        )

    return await _pass_form(request, send, "dashboard.rescheduled")


WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


async def _series(request: Request, actor: Actor) -> tuple[UUID, dict[str, Any]]:
    raw = request.path_params["schedule_id"]
    found = (
        await ScheduleListView(runtime(request).pool).schedule(actor.school_id, UUID(raw))
        if is_uuid(raw)
        else None
    )
    if found is None:
        raise NotFound(say("schedule.not_found", id=raw), id=raw)
    return UUID(raw), found


async def series_page(request: Request) -> Response:
    """A repeating pass: its days, time and dates, every pass it planned, and Cancel the series."""
    actor = _staff_or_none(request)
    if actor is None:
        return _sign_in_redirect(request)
    schedule_id, series = await _series(request, actor)
    context = await _context(request, actor)
    passes = await ScheduleListView(runtime(request).pool).passes(schedule_id)
    upcoming = [p for p in passes if p["status"] == Status.SCHEDULED]
    return request.app.state.templates.TemplateResponse(  # type: ignore[no-any-return]
        request,
        "series.html",
        {
            **context,
            "series": series,
            "days": ", ".join(WEEKDAYS[d] for d in sorted(series["weekdays"])),
            "passes": passes,
            "upcoming": len(upcoming),
            "flash": request.session.pop("flash", ""),
        },
    )


async def cancel_series_form(request: Request) -> Response:
    """Cancel the series: every pass of it that has not started is cancelled (the API's
    POST /api/v1/schedules/{id}/cancel)."""
    form = await request.form()
    actor = require_staff(request, form_csrf=str(form.get("csrf", "")))
    schedule_id, _ = await _series(request, actor)
    outcome = await runtime(request).app.cancel_schedule(acting(request, actor), schedule_id)
    request.session["flash"] = count_of("dashboard.series_cancelled", len(outcome.body.get("cancelled", [])))
    headers = await visible_on_page(request, outcome.notification_id)
    return RedirectResponse(f"/hall-pass/schedules/{schedule_id}", status_code=303, headers=headers)


routes = [
    Route("/hall-pass/schedules/{schedule_id}", series_page, methods=["GET"]),
    Route("/hall-pass/schedules/{schedule_id}/cancel", cancel_series_form, methods=["POST"]),
    Route("/", home, methods=["GET"]),
    Route("/hall-pass", dashboard, methods=["GET"]),
    Route("/hall-pass/rows", dashboard_rows, methods=["GET"]),
    Route("/hall-pass/alerts", dashboard_alerts, methods=["GET"]),
    Route("/hall-pass/period", dashboard_period, methods=["GET"]),
    Route("/hall-pass/new", create_page, methods=["GET", "POST"]),
    Route("/hall-pass/{pass_id}/complete", complete_form, methods=["POST"]),
    Route("/hall-pass/{pass_id}/terminate", terminate_form, methods=["POST"]),
    Route("/hall-pass/{pass_id}/cancel", cancel_form, methods=["POST"]),
    Route("/hall-pass/{pass_id}/reschedule", reschedule_form, methods=["POST"]),
]
