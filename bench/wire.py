"""A lean HTTP/1.1 client for the load generators: one kept-alive connection, JSON in and out.

The servers under test share the machine's cores with the client that drives them, so what the
client spends per request is taken from them. httpx spends about 1.5 ms of CPU per request here,
more than the web process answering it; this client writes the request with one `write` and
parses the answer with httptools (the parser uvicorn uses), a small fraction of that. It does
only what the benches need: requests with a JSON body or none, answers with `Content-Length` or
chunked, a timeout per request, and a new connection when the server closed the old one.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any
from urllib.parse import urlencode, urlsplit

import httptools
import orjson


class WireError(Exception):
    """The request got no answer: the connection failed, closed early, or timed out."""


class Answer:
    """What the benches read of an answer (the names are httpx's, so either client fits)."""

    __slots__ = ("content", "headers", "status_code")

    def __init__(self, status_code: int, headers: dict[str, str], content: bytes) -> None:
        self.status_code = status_code
        self.headers = headers
        self.content = content

    @property
    def is_success(self) -> bool:
        return 200 <= self.status_code < 300

    def json(self) -> Any:
        return orjson.loads(self.content)

    def raise_for_status(self) -> None:
        if not self.is_success:
            raise WireError(f"answer {self.status_code}: {self.content[:200]!r}")


class _Parsed:
    """httptools callbacks for one answer."""

    def __init__(self) -> None:
        self.headers: dict[str, str] = {}
        self.body: list[bytes] = []
        self.done = False
        self.keep_alive = False
        self.parser: httptools.HttpResponseParser | None = None

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers[name.decode("latin-1").lower()] = value.decode("latin-1")

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        # Asked here: once the message is complete the parser is reset for the next one, and
        # says False (which had every request open a new connection).
        self.keep_alive = self.parser is not None and self.parser.should_keep_alive()
        self.done = True


class WireClient:
    def __init__(self, base_url: str, headers: dict[str, str] | None = None, timeout: float = 30) -> None:
        parts = urlsplit(base_url)
        if parts.scheme != "http" or parts.hostname is None:
            raise ValueError(f"only http://host:port is served here, not {base_url!r}")
        self.host = parts.hostname
        self.port = parts.port or 80
        self.timeout = timeout
        fixed = {"Host": f"{self.host}:{self.port}", "User-Agent": "hallpass-bench", **(headers or {})}
        self._fixed = "".join(f"{k}: {v}\r\n" for k, v in fixed.items())
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, json: Any = None, headers: dict[str, str] | None = None) -> Answer:
        return await self.request("POST", path, json=json, headers=headers)

    async def get(self, path: str, params: dict[str, Any] | None = None) -> Answer:
        return await self.request("GET", f"{path}?{urlencode(params)}" if params else path)

    async def request(
        self, method: str, path: str, *, json: Any = None, headers: dict[str, str] | None = None
    ) -> Answer:
        body = b"" if json is None else orjson.dumps(json)
        head = f"{method} {path} HTTP/1.1\r\n{self._fixed}"
        head += "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
        if json is not None:
            head += "Content-Type: application/json\r\n"
        if json is not None or method != "GET":
            head += f"Content-Length: {len(body)}\r\n"
        message = head.encode("latin-1") + b"\r\n" + body
        try:
            return await asyncio.wait_for(self._exchange(message), self.timeout)
        except (OSError, EOFError, asyncio.IncompleteReadError, httptools.HttpParserError) as e:
            await self.aclose()
            raise WireError(f"{method} {path}: {e!r}") from e
        except TimeoutError as e:
            await self.aclose()
            raise WireError(f"{method} {path}: no answer within {self.timeout} s") from e

    async def _exchange(self, message: bytes) -> Answer:
        if self._writer is None or self._reader is None or self._writer.is_closing():
            self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
        reader, writer = self._reader, self._writer
        writer.write(message)
        parsed = _Parsed()
        parser = parsed.parser = httptools.HttpResponseParser(parsed)
        while not parsed.done:
            data = await reader.read(65536)
            if not data:
                raise EOFError("the server closed the connection before answering")
            parser.feed_data(data)
        if not parsed.keep_alive:
            await self.aclose()
        return Answer(parser.get_status_code(), parsed.headers, b"".join(parsed.body))

    async def aclose(self) -> None:
        writer, self._reader, self._writer = self._writer, None, None
        if writer is not None:
            writer.close()
            with contextlib.suppress(OSError):  # already gone
                await writer.wait_closed()

    async def __aenter__(self) -> WireClient:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.aclose()
