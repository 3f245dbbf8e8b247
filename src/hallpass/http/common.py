"""Small helpers shared by the endpoint modules: parsing, the clock, JSON responses."""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

import msgspec
import orjson
from starlette.requests import Request
from starlette.responses import JSONResponse

from hallpass.bootstrap import Runtime
from hallpass.commands import Outcome
from hallpass.errors import Invalid, NotFound
from hallpass.http.errors import validation_error

S = TypeVar("S", bound=msgspec.Struct)
MAX_KEY_LENGTH = 200
VISIBLE_HEADER = "X-Hallpass-Visible"
NOT_SHOWN_YET = "Saved, but it may take a moment to show here."


class ORJSONResponse(JSONResponse):
    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, default=str, option=orjson.OPT_NON_STR_KEYS)


def runtime(request: Request) -> Runtime:
    return request.app.state.runtime  # type: ignore[no-any-return]


def now(request: Request) -> datetime:
    """Time is decided here, at the edge, and handed to the decisions."""
    return request.app.state.clock()  # type: ignore[no-any-return]


async def parse_body(request: Request, struct: type[S]) -> S:
    raw = await request.body()
    if not raw.strip():
        raw = b"{}"
    try:
        return msgspec.json.decode(raw, type=struct)
    except (msgspec.ValidationError, msgspec.DecodeError) as e:
        raise validation_error(e) from e


def idempotency_key(request: Request) -> str | None:
    key = request.headers.get("idempotency-key")
    if key is None:
        return None
    key = key.strip()
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise Invalid(
            f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} printable characters",
            field="Idempotency-Key",
        )
    return key


def path_uuid(request: Request, name: str, what: str) -> UUID:
    raw = request.path_params[name]
    try:
        return UUID(raw)
    except ValueError as e:
        raise NotFound(f"{what} {raw} not found", id=raw) from e


def query_uuid(request: Request, name: str) -> UUID | None:
    raw = request.query_params.get(name, "").strip()
    if not raw:
        return None
    try:
        return UUID(raw)
    except ValueError as e:
        raise Invalid(f"{name} must be an id", field=name) from e


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


async def respond(request: Request, outcome: Outcome) -> ORJSONResponse:
    """Answer once the read models show the change, so the caller reads its own writes."""
    headers = await visible(request, outcome.notification_id)
    if outcome.replayed:
        headers["Idempotent-Replayed"] = "true"
    return ORJSONResponse(outcome.body, status_code=outcome.status_code, headers=headers)
