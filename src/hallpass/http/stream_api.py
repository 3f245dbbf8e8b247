"""GET /api/v1/stream: the district's pass events for an analyst's stream token, as CloudEvents.

One page as JSON lines (`application/x-ndjson`, one CloudEvents 1.0 object a line), the cursor to
continue from in `X-Hallpass-Cursor`; or, with `Accept: text/event-stream`, a live tail of
server-sent events whose `id:` is the cursor, resumed from `Last-Event-ID`. See
docs/decisions/082 (tokens, pseudonyms) and 083 (cursor, horizon, live tail).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from hallpass.aggregates.api_tokens import ApiToken, parse_token
from hallpass.analytics.cloudevents import CLASSES_BY_TYPE, Audience, district_key, encode
from hallpass.analytics.stream import Cursors, Item, Scope
from hallpass.credentials import Limit, TooManyAttempts
from hallpass.errors import Invalid, NotFound, RateLimited, Unauthenticated
from hallpass.http.auth import bearer_token
from hallpass.http.common import now, query_int, query_uuid, runtime
from hallpass.http.openapi import Query, get
from hallpass.messages import say

STREAM = "/api/v1/stream"
NDJSON = "application/x-ndjson"
CURSOR_HEADER = "X-Hallpass-Cursor"
AT_HEAD_HEADER = "X-Hallpass-At-Head"
DEFAULT_LIMIT = 100
MAX_LIMIT = 1_000
TAIL_PAGE = 500
HEARTBEAT_SECONDS = 15.0
"""A live tail sends a comment this often when nothing happens (and checks its token again)."""
RATE_WINDOW = timedelta(minutes=1)


@dataclass(frozen=True)
class Reader:
    """Who reads the stream and what they see: the token, its schools, its audience, its types."""

    token: ApiToken
    scope: Scope
    audience: Audience
    types: tuple[type, ...]


def cursors(request: Request) -> Cursors:
    return Cursors(request.app.state.settings.secret_key)


async def stream_token(request: Request) -> ApiToken:
    """The stream token the request carries (401 if none or not good), after its rate limit (429)."""
    sent = bearer_token(request)
    parsed = parse_token(sent) if sent else None
    if parsed is None:
        raise Unauthenticated(say("stream.token_missing"))
    token = await runtime(request).app.stream_token(*parsed)
    limit = Limit(failures=token.rate_per_minute, window=RATE_WINDOW, lockout=RATE_WINDOW)
    try:
        await runtime(request).credentials.limiter.spend(f"stream-token:{token.id}", limit, now=now(request))
    except TooManyAttempts as e:
        raise RateLimited(
            f"this token may make {token.rate_per_minute} requests a minute; try again later",
            retry_after=e.retry_after,
        ) from e
    return token


async def reader(request: Request) -> Reader:
    token = await stream_token(request)
    stream = runtime(request).stream
    school_id = query_uuid(request, "school")
    schools = None if token.district_wide else frozenset(token.school_ids)
    if school_id is not None:
        district_of = await stream.district_of(school_id)
        if district_of != token.district_id or (schools is not None and school_id not in schools):
            raise NotFound(say("http.school_not_found", id=school_id), field="school", id=str(school_id))
        schools = frozenset({school_id})
    raw_types = request.query_params.get("type", "")
    types: list[type] = []
    for name in (t.strip() for t in raw_types.split(",") if t.strip()):
        if name not in CLASSES_BY_TYPE:
            raise Invalid(
                say("stream.type_unknown", name=repr(name[:80])), field="type", known=sorted(CLASSES_BY_TYPE)
            )
        types.append(CLASSES_BY_TYPE[name])
    key = district_key(request.app.state.settings.secret_key, token.district_id)
    return Reader(token, Scope(token.district_id, schools), Audience(key, token.identified), tuple(types))


def line(item: Item, reader: Reader, codec: Cursors) -> bytes:
    cursor = codec.encode(item.notification_id)
    return orjson.dumps(encode(item.event, school_id=item.school_id, cursor=cursor, audience=reader.audience))


async def stream(request: Request) -> Response:
    """The token's pass events after a cursor: CloudEvents in JSON lines, or a live tail (SSE)

    A page as JSON lines, or with `Accept: text/event-stream` a live tail resumed from
    `Last-Event-ID`."""
    read = await reader(request)
    codec = cursors(request)
    events = runtime(request).stream
    head = await events.head()
    live = "text/event-stream" in request.headers.get("accept", "")
    sent = request.headers.get("last-event-id") if live else None
    text = sent if sent else request.query_params.get("after", "")
    after = codec.decode(text, head=head) if text else 0
    if live:
        return tail(request, read, codec, after)
    limit = query_int(request, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    page = await events.page(after, limit, read.scope, types=read.types, head=head)
    body = b"".join(line(item, read, codec) + b"\n" for item in page.items)
    return Response(
        body,
        media_type=NDJSON,
        headers={CURSOR_HEADER: codec.encode(page.position), AT_HEAD_HEADER: str(page.at_head).lower()},
    )


def tail(request: Request, read: Reader, codec: Cursors, after: int) -> StreamingResponse:
    """Server-sent events from `after` on, for as long as the client stays.

    Each event's `id:` is its cursor. When a page passes only events this reader does not see, a
    block with an `id:` alone moves the client's Last-Event-ID on without an event, so a resumed
    tail does not read them again. At the head it waits for the log to grow (the process's one
    LISTEN connection) and sends a comment after HEARTBEAT_SECONDS without news; every
    HEARTBEAT_SECONDS, busy or idle, it reads its token again (revoked: the tail ends)."""
    events = runtime(request).stream
    watcher = runtime(request).watcher
    app = runtime(request).app
    token_id = read.token.id

    async def body() -> AsyncIterator[bytes]:
        current = read
        position = after
        clock = asyncio.get_running_loop().time
        checked = clock()
        yield b"retry: 2000\n\n"
        while not watcher.stopped:
            if clock() - checked >= HEARTBEAT_SECONDS:  # busy or idle, the token is read again
                checked = clock()
                token = await app.token_still_good(token_id)
                if token is None:
                    return
                audience = Audience(current.audience.key, token.identified)
                current = Reader(token, current.scope, audience, current.types)
            page = await events.page(position, TAIL_PAGE, current.scope, types=current.types)
            for item in page.items:
                yield b"id: " + codec.encode(item.notification_id).encode() + b"\ndata: "
                yield line(item, current, codec) + b"\n\n"
            passed = page.items[-1].notification_id if page.items else position
            if page.position > passed:
                yield b"id: " + codec.encode(page.position).encode() + b"\n\n"
            position = page.position
            if not page.at_head:
                continue
            if not await watcher.log_past(position, HEARTBEAT_SECONDS):
                if watcher.stopped:
                    return
                yield b": heartbeat\n\n"

    return StreamingResponse(
        body(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


CLOUDEVENT: dict[str, Any] = {
    "type": "object",
    "description": "Each line of the answer: one CloudEvents 1.0 object (JSON format)",
    "required": ["specversion", "id", "source", "type", "time", "subject", "datacontenttype", "data"],
    "properties": {
        "specversion": {"const": "1.0"},
        "id": {"type": "string", "description": "<stream id>:<version>, unique with `source`"},
        "source": {"type": "string", "description": "/hallpass/schools/<school id>"},
        "type": {"enum": sorted(CLASSES_BY_TYPE)},
        "time": {"type": "string", "format": "date-time"},
        "subject": {"type": "string", "description": "passes/<id>, schedules/<id>, emergencies/<id>, ..."},
        "datacontenttype": {"const": "application/json"},
        "hallpasscursor": {"type": "string", "description": "The cursor just after this event"},
        "hallpassidentity": {"enum": ["pseudonymised", "identified"]},
        "data": {"type": "object", "description": "The event's fields; `student`: a pseudonym"},
    },
}

QUERY = (
    Query("after", "The cursor to continue after (X-Hallpass-Cursor of the page before); else the start"),
    Query("limit", f"Events in the page, 1 to {MAX_LIMIT} (default {DEFAULT_LIMIT})"),
    Query("school", "Only this school's events (one of the token's schools)"),
    Query("type", "Only events of these CloudEvents types, comma-separated (e.g. `hallpass.pass.started`)"),
)

routes = [
    get(
        STREAM,
        stream,
        query=QUERY,
        security="stream",
        media=NDJSON,
        answer=CLOUDEVENT,
        ok_description=f"JSON lines, the next cursor in {CURSOR_HEADER}; or text/event-stream",
        errors=(400, 401, 404, 422, 429),
    )
]
