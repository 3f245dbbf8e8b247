"""An outage of PostgreSQL or Redis answers 503 with Retry-After; a bug still answers 500."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import cast

import asyncpg
import httpx
import pytest
import redis
from eventsourcing.persistence import OperationalError
from starlette.requests import Request
from starlette.responses import Response

from hallpass.bootstrap import Runtime
from hallpass.http.app import create_app
from hallpass.outages import RETRY_AFTER_SECONDS, Backoff, is_outage
from hallpass.settings import Settings


def translated(error: Exception) -> OperationalError:
    """As the event store re-raises an asyncpg error."""
    try:
        raise OperationalError(str(error)) from error
    except OperationalError as e:
        return e


OUTAGES = [
    ConnectionRefusedError(111, "Connection refused"),
    FileNotFoundError(2, "no socket"),
    asyncpg.CannotConnectNowError("the database system is starting up"),
    asyncpg.AdminShutdownError("terminating connection due to administrator command"),
    asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
    asyncpg.TooManyConnectionsError("sorry, too many clients already"),
    asyncpg.InterfaceError("connection is closed"),
    asyncpg.InternalClientError("cannot switch to state 12; another operation (2) is in progress"),
    redis.ConnectionError("Error 111 connecting"),
    translated(ConnectionResetError(104, "Connection reset by peer")),
]
BUGS = [
    ValueError("bad"),
    asyncpg.DataError("date value out of range"),
    asyncpg.InterfaceError("cannot perform operation: another operation is in progress"),
    translated(ValueError("bad")),
]


@pytest.mark.parametrize("error", OUTAGES, ids=lambda e: type(e).__name__)
def test_these_are_outages(error: Exception) -> None:
    assert is_outage(error)


@pytest.mark.parametrize("error", BUGS, ids=lambda e: type(e).__name__)
def test_these_are_not(error: Exception) -> None:
    assert not is_outage(error)


def test_backoff_grows_to_its_bound_and_starts_again_after_a_reset() -> None:
    backoff = Backoff(first=0.1, most=5.0)
    delays = [backoff.next() for _ in range(12)]
    assert all(0.05 <= d <= 5.0 for d in delays)
    assert delays[-1] >= 2.5
    backoff.reset()
    assert backoff.next() <= 0.1


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(database_url=None, redis_url=None, data_dir=tmp_path, secret_key="x" * 32)
    app = create_app(settings, runtime=cast(Runtime, object()))
    errors = {"refused": OUTAGES[0], "translated": OUTAGES[-1], "internal": OUTAGES[7], "bug": BUGS[0]}

    async def fail(request: Request) -> Response:
        raise errors[request.path_params["kind"]]

    app.add_route("/api/v1/fail/{kind}", fail)
    app.add_route("/fail/{kind}", fail)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://hallpass.test") as http:
        yield http


@pytest.mark.parametrize("kind", ["refused", "translated", "internal"])
async def test_the_api_answers_503_with_retry_after_while_the_database_is_away(
    client: httpx.AsyncClient, kind: str
) -> None:
    r = await client.get(f"/api/v1/fail/{kind}")
    assert r.status_code == 503
    assert r.headers["Retry-After"] == str(RETRY_AFTER_SECONDS)
    assert r.json()["error"]["code"] == "unavailable"


async def test_a_browser_gets_a_readable_503_page(client: httpx.AsyncClient) -> None:
    r = await client.get("/fail/refused", headers={"Accept": "text/html"})
    assert r.status_code == 503
    assert r.headers["Retry-After"] == str(RETRY_AFTER_SECONDS)
    assert "text/html" in r.headers["content-type"]
    assert "unavailable for a moment" in r.text


async def test_a_bug_is_still_a_500(client: httpx.AsyncClient) -> None:
    r = await client.get("/api/v1/fail/bug")
    assert r.status_code == 500
    assert "Retry-After" not in r.headers
