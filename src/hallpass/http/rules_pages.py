"""Administration → Hallway rules: per-student limits, the bell schedule and blackout windows
(docs/decisions/088 and 089), as three forms over the same commands as the API."""

from __future__ import annotations

from itertools import zip_longest
from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from hallpass.acting import Actor
from hallpass.commands import Outcome
from hallpass.commands.rules import SetBellSchedule, SetBlackouts, SetLimits
from hallpass.errors import DomainError, Invalid
from hallpass.http.admin_pages import _render, _saved, _school_in_path, page
from hallpass.http.common import acting, now, parse_form, runtime
from hallpass.http.errors import status_for
from hallpass.messages import say
from hallpass.policies.bells import WEEKDAYS
from hallpass.text import is_number

DAYS = {name[:3].lower(): i for i, name in enumerate(WEEKDAYS)}
BLANK_ROWS = 4


def _rows(form: FormData, *names: str) -> list[dict[str, str]]:
    """The rows of a repeated group of fields (each name once per row), blank rows left out."""
    columns = zip_longest(*(form.getlist(n) for n in names), fillvalue="")  # a row per set of values
    rows = [dict(zip(names, (str(v).strip() for v in values), strict=True)) for values in columns]
    return [r for r in rows if any(r.values())]


def _limits(request: Request, form: FormData) -> SetLimits:
    def count(name: str) -> int | None:
        """Empty: no limit; anything but a small whole number is 0, which the bounds refuse."""
        raw = str(form.get(name, "")).strip()
        if not raw:
            return None
        return int(raw) if is_number(raw) and len(raw) < 4 else 0

    return parse_form(
        request,
        {
            "per_day": count("per_day"),
            "per_week": count("per_week"),
            "sources": [str(s) for s in form.getlist("sources")],
            "exempt_destination_ids": [str(d) for d in form.getlist("exempt_destination_ids")],
        },
        SetLimits,
    )


def _bells(request: Request, form: FormData) -> SetBellSchedule:
    kinds: dict[str, list[dict[str, str]]] = {}
    for row in _rows(form, "period_day_type", "period_name", "period_start", "period_end"):
        kinds.setdefault(row["period_day_type"], []).append(
            {"name": row["period_name"], "start": row["period_start"], "end": row["period_end"]}
        )
    return parse_form(
        request,
        {
            "day_types": [{"name": name, "periods": periods} for name, periods in kinds.items()],
            "weekdays": [str(form.get(f"weekday_{i}", "")).strip() or None for i in range(7)],
            "dates": [
                {"date": r["date_date"], "day_type": r["date_day_type"] or None}
                for r in _rows(form, "date_date", "date_day_type")
            ],
        },
        SetBellSchedule,
    )


def _days(text: str) -> tuple[list[int], list[str]]:
    """Weekdays (Mon ... Sun) and dates (YYYY-MM-DD) typed in one field."""
    weekdays: list[int] = []
    dates: list[str] = []
    for word in text.replace(",", " ").split():
        if word[:3].lower() in DAYS and not word[:1].isdigit():
            weekdays.append(DAYS[word[:3].lower()])
        else:
            dates.append(word)
    return weekdays, dates


def _blackouts(request: Request, form: FormData) -> SetBlackouts:
    made: list[dict[str, Any]] = []
    names = ("b_kind", "b_name", "b_first", "b_last", "b_start", "b_end", "b_days", "b_place")
    for row in _rows(form, *names):
        if not row["b_kind"]:
            continue
        weekdays, dates = _days(row["b_days"])
        body: dict[str, Any] = {"kind": row["b_kind"], "name": row["b_name"]}
        if row["b_kind"] == "edges":
            body |= {"first_minutes": row["b_first"] or "0", "last_minutes": row["b_last"] or "0"}
        else:
            body |= {"start": row["b_start"] or None, "end": row["b_end"] or None}
            body |= {"weekdays": weekdays, "dates": dates}
        if row["b_place"]:
            body["destination_ids"] = [row["b_place"]]
        made.append(body)
    return parse_form(request, {"blackouts": made}, SetBlackouts)


@page
async def rules_page(request: Request, actor: Actor, form: FormData | None) -> Response:
    """The school's hallway rules, each part saved on its own."""
    school_id, school = await _school_in_path(request, actor)
    app = runtime(request).app
    error, status = "", 200
    if form is not None:
        by = acting(request, actor)
        what = str(form.get("action", ""))
        try:
            outcome: Outcome
            if what == "limits":
                outcome = await app.set_limits(by, school_id, _limits(request, form))
            elif what == "bells":
                outcome = await app.set_bell_schedule(by, school_id, _bells(request, form))
            elif what == "blackouts":
                outcome = await app.set_blackouts(by, school_id, _blackouts(request, form))
            else:
                raise Invalid(say("rules.choose_part"), field="action")
            return await _saved(request, outcome, say("rules.saved"), request.url.path)
        except DomainError as e:
            error, status = e.message, status_for(e)
    rules = (await app.school_rules(actor, school_id, now(request)))["rules"]
    places = [r for r in await runtime(request).admin.locations(school_id) if r["active"]]
    return _render(
        request,
        "admin/rules.html",
        actor,
        status,
        school=school,
        rules=rules,
        places=places,
        place_names={str(p["location_id"]): p["name"] for p in places},
        weekdays=WEEKDAYS,
        blank=range(BLANK_ROWS),
        day_names={i: name[:3] for i, name in enumerate(WEEKDAYS)},
        error=error,
        action=request.url.path,
    )


routes = [Route("/admin/schools/{school_id}/rules", rules_page, methods=["GET", "POST"])]
