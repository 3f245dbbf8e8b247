"""Small helpers shared by the endpoint modules: parsing, the clock, JSON responses."""

from __future__ import annotations

import asyncio
import inspect
import types
import typing
from collections.abc import Awaitable, Callable, Mapping
from datetime import date, datetime, time, timedelta
from typing import Any, TypeVar
from uuid import UUID
from zoneinfo import ZoneInfo

import msgspec
import orjson
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from hallpass import bounds
from hallpass.acting import Acting, Actor
from hallpass.bootstrap import Runtime
from hallpass.commands import Outcome
from hallpass.commands.messages import Command
from hallpass.errors import Invalid, NotFound
from hallpass.http.auth import csrf_token, require_staff
from hallpass.http.errors import error_body, outcome_status, refusal_headers
from hallpass.messages import say
from hallpass.projections.school_settings import SchoolSettings
from hallpass.text import is_number

S = TypeVar("S", bound=msgspec.Struct)
Endpoint = Callable[[Request], Awaitable[Response]]
COMMAND_INPUTS: dict[Endpoint, tuple[type[Command] | None, bool]] = {}
"""Each `command_endpoint`'s body type and whether it takes Idempotency-Key."""
MAX_KEY_LENGTH = 200
VISIBLE_HEADER = "X-Hallpass-Visible"
NOT_SHOWN_YET = "Saved, but it may take a moment to show here."


class ORJSONResponse(JSONResponse):
    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, default=str, option=orjson.OPT_NON_STR_KEYS)


def runtime(request: Request) -> Runtime:
    return request.app.state.runtime  # type: ignore[no-any-return]


async def school_settings(request: Request, school_id: UUID) -> SchoolSettings:
    """What the school's administrators set (read model); NotFound for a school that is not there."""
    school = await runtime(request).settings.get(school_id)
    if school is None:
        raise NotFound(say("http.school_not_found", id=school_id))
    return school


async def staff_fragment(request: Request, actor: Actor, template: str, **context: Any) -> Response:
    """A live-refreshed staff fragment: `context` plus the form token and the school's time zone."""
    school = await runtime(request).directory.school(actor.school_id)
    return request.app.state.templates.TemplateResponse(  # type: ignore[no-any-return]
        request,
        template,
        {**context, "csrf": csrf_token(request), "tz": school["timezone"] if school else "UTC"},
    )


def now(request: Request) -> datetime:
    """Time is decided here, at the edge, and handed to the decisions."""
    return request.app.state.clock()  # type: ignore[no-any-return]


async def parse_body(request: Request, struct: type[S]) -> S:
    """The JSON body as `struct`, checked against the bounds of its value types and the clock."""
    return bounds.decode(await request.body(), struct, now=now(request))


def parse_form(request: Request, data: Mapping[str, Any], struct: type[S]) -> S:
    """Form values as `struct`, checked exactly as a JSON body would be."""
    return bounds.convert(data, struct, now=now(request))


def query_text(request: Request, name: str) -> str:
    """A search typed in a query parameter: at most 100 characters, no control characters."""
    raw = request.query_params.get(name, "")
    return str(bounds.value(raw, bounds.Search, field=name)).strip()


def query_search(request: Request, name: str = "q") -> str:
    """A student search: a name, `#` and an external ID, or digits that can be a hall pass ID."""
    text = query_text(request, name)
    if is_number(text) and bounds.hall_pass_id(text) is None:
        raise Invalid(say("http.hall_pass_id", name=name, limit=bounds.MAX_HALL_PASS_ID), field=name)
    return text


def query_int(request: Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query_params.get(name, "").strip()
    if not raw:
        return default
    if not is_number(raw.lstrip("-")) or len(raw) > 12:
        raise Invalid(say("http.whole_number", name=name), field=name)
    value = int(raw)
    if not low <= value <= high:
        raise Invalid(say("http.number_between", name=name, low=low, high=high), field=name)
    return value


def query_grade(request: Request, name: str = "grade") -> int | None:
    return bounds.grade(request.query_params.get(name, ""), field=name)


def query_moment(request: Request, name: str, tz: ZoneInfo, *, end: bool) -> datetime | None:
    """A filter bound: a date (the start of that day, or of the next one for `end`) or an instant."""
    raw = request.query_params.get(name, "").strip()
    if not raw:
        return None
    try:
        if "T" in raw:
            moment = datetime.fromisoformat(raw)
            moment = moment if moment.tzinfo else moment.replace(tzinfo=tz)
        else:
            moment = datetime.combine(date.fromisoformat(raw), time(0), tzinfo=tz)
    except ValueError as e:
        raise Invalid(say("http.date", name=name), field=name) from e
    moment = bounds.filter_moment(moment, field=name)
    return moment + timedelta(days=1) if end and "T" not in raw else moment


def idempotency_key(request: Request) -> str | None:
    key = request.headers.get("idempotency-key")
    return None if key is None else checked_key(key, "Idempotency-Key")


def form_key(form: Mapping[str, Any], name: str) -> str | None:
    """The idempotency key a form carries (blank is none), checked as the header is."""
    key = str(form.get(name, "")).strip()
    return checked_key(key, name) if key else None


def checked_key(raw: str, field: str) -> str:
    key = raw.strip()
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise Invalid(say("http.key", field=field, limit=MAX_KEY_LENGTH), field=field)
    return key


def parses(convert: Callable[[str], object], text: str) -> bool:
    """Whether `convert` (`UUID`, `float`...) takes `text` without a ValueError."""
    try:
        convert(text)
    except ValueError:
        return False
    return True


def is_uuid(text: str) -> bool:
    return parses(UUID, text)


def path_uuid(request: Request, name: str, what: str) -> UUID:
    raw = request.path_params[name]
    try:
        return UUID(raw)
    except ValueError as e:
        raise NotFound(say("http.record_not_found", what=what, id=raw), id=raw) from e


def query_uuid(request: Request, name: str) -> UUID | None:
    raw = request.query_params.get(name, "").strip()
    if not raw:
        return None
    try:
        return UUID(raw)
    except ValueError as e:
        raise Invalid(say("http.id", name=name), field=name) from e


async def visible(request: Request, notification_id: int | None) -> dict[str, str]:
    """Wait (bounded) until the read models show a change; headers that say if they do not yet.

    The change is saved either way. `X-Hallpass-Visible: pending` tells the caller that reads
    may not show it yet (docs/decisions/033).
    """
    shown = await runtime(request).watcher.wait_for(notification_id)
    return {} if shown else {VISIBLE_HEADER: "pending"}


async def visible_on_page(
    request: Request, notification_id: int | None, flash_key: str = "flash"
) -> dict[str, str]:
    """`visible` for a browser form: when the change is not shown yet, the next page says so."""
    headers = await visible(request, notification_id)
    if headers:
        note = str(request.session.get(flash_key, ""))
        request.session[flash_key] = f"{note} {NOT_SHOWN_YET}".strip()
    return headers


def acting(request: Request, actor: Actor, key: str | None = None) -> Acting:
    """The command's circumstances: this caller, the time now, and the idempotency key sent."""
    return Acting(actor, now(request), key)


async def respond(
    request: Request, outcome: Outcome, also: Mapping[str, Any] | None = None
) -> ORJSONResponse:
    """Answer once the read models show the change, so the caller reads its own writes.

    A refusal answers as its error would (with the change it recorded saved); `also` adds to
    the body of any other answer.
    """
    headers = await visible(request, outcome.notification_id)
    if outcome.replayed:
        headers["Idempotent-Replayed"] = "true"
    body: dict[str, Any] = {**outcome.body, **(also or {})}
    if outcome.refusal is not None:
        body = error_body(outcome.refusal.code, outcome.refusal.message, **outcome.refusal.details)
        headers.update(refusal_headers(outcome.refusal))
    return ORJSONResponse(body, status_code=outcome_status(outcome), headers=headers)


Caller = Callable[[Request], Actor | Awaitable[Actor]]


def command_body(run: Callable[..., Awaitable[Outcome]]) -> type[Command] | None:
    """The body a command method takes: the `Command` its signature names (optional or not)."""
    for hint in typing.get_type_hints(run).values():
        for kind in typing.get_args(hint) if isinstance(hint, types.UnionType) else (hint,):
            if isinstance(kind, type) and issubclass(kind, Command):
                return kind
    return None


def command_endpoint(
    summary: str,
    run: Callable[..., Awaitable[Outcome]],
    caller: Caller = require_staff,
    *,
    keyed: bool = True,
    body: bool = True,
) -> Endpoint:
    """An API endpoint that sends one command (a `Hallpass` method) and answers with its outcome.

    In order: what it does (`summary`, its docstring and the OpenAPI summary), who calls
    (`caller`, staff unless said, refusing whoever may not), the ids the path names (each
    ``{thing_id}`` parameter, a 404 naming the thing when it is not an id), the JSON body of the
    type the method takes (`command_body`; none with `body=False`, where the method's body is
    optional), and the Idempotency-Key header unless the command takes none (`keyed=False`). The
    route's declaration reads the body type and the key from `COMMAND_INPUTS`.
    """
    struct = command_body(run) if body else None

    async def endpoint(request: Request) -> Response:
        actor = caller(request)
        if inspect.isawaitable(actor):
            actor = await actor
        assert isinstance(actor, Actor)
        args: list[Any] = [path_uuid(request, name, name.removesuffix("_id")) for name in request.path_params]
        if struct is not None:
            args.append(await parse_body(request, struct))
        key = idempotency_key(request) if keyed else None
        outcome = await run(runtime(request).app, acting(request, actor, key), *args)
        return await respond(request, outcome)

    endpoint.__name__ = endpoint.__qualname__ = run.__name__
    endpoint.__doc__ = summary
    COMMAND_INPUTS[endpoint] = (struct, keyed)
    return endpoint


async def concurrently(*reads: Awaitable[Any]) -> list[Any]:
    """The results of `reads`, run at once. The first to fail cancels the others and is raised
    as it is (not wrapped in a group), so the error handlers answer it as they would alone."""
    tasks = [asyncio.ensure_future(read) for read in reads]
    try:
        return list(await asyncio.gather(*tasks))
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
