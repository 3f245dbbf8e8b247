"""`SecurityHeaders` replaces an answer's own headers of the names it sets, whatever their case."""

from __future__ import annotations

from starlette.types import Message, Receive, Scope, Send

from hallpass.http.security import CONTENT_SECURITY_POLICY, SecurityHeaders

OWN = [
    (b"content-type", b"text/plain"),
    (b"Cache-Control", b"max-age=60"),
    (b"x-frame-options", b"SAMEORIGIN"),
    (b"x-frame-options", b"ALLOW-FROM x"),
]


async def answer(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": list(OWN)})
    await send({"type": "http.response.body", "body": b"hi"})


async def sent_through(path: str, *, https: bool = False) -> list[Message]:
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b""}

    async def send(message: Message) -> None:
        sent.append(message)

    await SecurityHeaders(answer, https=https)({"type": "http", "path": path}, receive, send)
    return sent


def values(message: Message, name: bytes) -> list[bytes]:
    return [v for k, v in message["headers"] if k.lower() == name]


async def test_a_page_carries_each_header_once_in_place_of_its_own() -> None:
    start, body = await sent_through("/dashboard")
    assert values(start, b"cache-control") == [b"no-store"]
    assert values(start, b"x-frame-options") == [b"DENY"]
    assert values(start, b"content-type") == [b"text/plain"]
    assert values(start, b"content-security-policy") == [CONTENT_SECURITY_POLICY.encode()]
    assert values(start, b"strict-transport-security") == []
    assert body == {"type": "http.response.body", "body": b"hi"}


async def test_a_static_file_keeps_its_caching_and_https_adds_hsts() -> None:
    start, _ = await sent_through("/static/app.css", https=True)
    assert values(start, b"cache-control") == [b"max-age=60"]
    assert values(start, b"x-frame-options") == [b"DENY"]
    assert values(start, b"strict-transport-security") == [b"max-age=31536000"]
