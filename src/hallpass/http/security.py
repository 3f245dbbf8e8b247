"""Response headers every answer carries, and the request body limit (pure ASGI, so streams stream).

See docs/decisions/038-security-headers-and-body-limit.md.
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hallpass.http.errors import http_error
from hallpass.messages import say

MAX_BODY_BYTES = 1024 * 1024
STATIC_PREFIX = "/static/"
HSTS = "max-age=31536000"

# Scripts and styles only from our own files: no inline script, no inline style, no eval.
# Frames, plugins and <base> are refused; forms and fetches stay on this origin.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"


class SecurityHeaders:
    """Adds the security headers to every HTTP response, before its first byte leaves.

    Pages and API answers are never stored by a browser or a proxy (`no-store`); files under
    /static/ keep their own caching. HSTS is sent only when the site is served over HTTPS.
    """

    def __init__(self, app: ASGIApp, *, https: bool) -> None:
        self.app = app
        fixed = [
            ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
            ("X-Frame-Options", "DENY"),
            ("X-Content-Type-Options", "nosniff"),
            ("Referrer-Policy", "same-origin"),
            ("Permissions-Policy", PERMISSIONS_POLICY),
            ("Cross-Origin-Opener-Policy", "same-origin"),
        ]
        if https:
            fixed.append(("Strict-Transport-Security", HSTS))
        # Encoded once: each answer's own headers of these names are replaced by these.
        self.static = _raw(fixed)
        self.dynamic = _raw([*fixed, ("Cache-Control", "no-store")])

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        names, headers = self.static if scope["path"].startswith(STATIC_PREFIX) else self.dynamic

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                own = message.get("headers", ())
                message["headers"] = [h for h in own if h[0].lower() not in names] + headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _raw(pairs: list[tuple[str, str]]) -> tuple[frozenset[bytes], list[tuple[bytes, bytes]]]:
    """The lower-case names, and the headers as an ASGI message holds them."""
    raw = [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in pairs]
    return frozenset(name for name, _ in raw), raw


class BodyTooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(413, say("http.too_large", limit=limit))


class BodyLimit:
    """Refuses request bodies over `limit` bytes with 413, without holding more than it reads.

    A Content-Length over the limit is answered at once, before the application runs. A body
    without one (chunked) is counted as it arrives: the read that passes the limit raises
    `BodyTooLarge`, an HTTPException, so the handler stops before it decides or writes anything
    and the error handlers answer with the JSON error body or a readable page.
    """

    def __init__(
        self, app: ASGIApp, *, limit: int = MAX_BODY_BYTES, larger: Mapping[str, int] | None = None
    ) -> None:
        self.app = app
        self.limit = limit
        self.larger = dict(larger or {})
        """Paths that take larger bodies (a roster upload), each with its own limit."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.larger.get(scope["path"], self.limit)
        declared = _content_length(scope)
        if declared is not None:
            if declared > limit:
                await self._refuse(scope, receive, send, limit)
            else:  # the server reads no more than the declared length: nothing to count
                await self.app(scope, receive, send)
            return

        received = 0
        started = False

        async def counted_receive() -> Message:
            nonlocal received
            if received > limit:
                raise BodyTooLarge(limit)
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        async def watched_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, watched_send)
        except BodyTooLarge:
            if started:
                raise
            await self._refuse(scope, receive, send, limit)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        response = await http_error(Request(scope, receive), BodyTooLarge(limit))
        await response(scope, receive, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None
