"""Shared fixtures: a PostgreSQL server and test databases, a Redis server and namespace.

Real services only: ``DATABASE_URL`` / ``REDIS_URL`` if set, else the usual local
ports if something answers there, else embedded servers in a temporary directory.
"""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import pytest
import redis
from hypothesis import settings

from hallpass.local.postgres import EmbeddedPostgres, create_database, drop_database, postgres_answers
from hallpass.local.redis import EmbeddedRedis, redis_answers

LOCAL_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
LOCAL_REDIS_URL = "redis://127.0.0.1:6379/0"

MakeDatabase = Callable[[], AbstractContextManager[str]]

# Hypothesis: "ci" (the default, and what ops/test uses) draws the same examples on every run
# and machine; "dev" draws new ones each run (`HYPOTHESIS_PROFILE=dev ops/test`). Neither has a
# deadline: the test machines are shared, so a slow example is not a failure. A failure prints
# the blob that replays it with @reproduce_failure.
settings.register_profile("ci", derandomize=True, database=None, print_blob=True, deadline=None)
settings.register_profile("dev", derandomize=False, print_blob=True, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def service_url(
    variable: str,
    local_url: str,
    answers: Callable[[str], bool],
    embedded: Callable[[Path], AbstractContextManager[str]],
) -> Iterator[str]:
    """The URL in `variable` if set, else `local_url` if something answers there, else an
    embedded server in a temporary directory for as long as the caller holds it."""
    configured = os.environ.get(variable, "").strip()
    if configured:
        yield configured
        return
    if answers(local_url):
        yield local_url
        return
    tmp = Path(tempfile.mkdtemp(prefix="hallpass-test-"))
    try:
        with embedded(tmp) as url:
            yield url
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@contextmanager
def embedded_postgres(directory: Path) -> Iterator[str]:
    with EmbeddedPostgres(directory / "postgres", database=None) as server:
        yield server.server_url


@contextmanager
def embedded_redis(directory: Path) -> Iterator[str]:
    with EmbeddedRedis(directory / "redis") as server:
        yield server.url


@pytest.fixture(scope="session")
def pg_server_url() -> Iterator[str]:
    """URL of a PostgreSQL server on which tests may create and drop databases."""
    yield from service_url("DATABASE_URL", LOCAL_POSTGRES_URL, postgres_answers, embedded_postgres)


@pytest.fixture(scope="session")
def make_database(pg_server_url: str) -> MakeDatabase:
    """Factory of throwaway databases: ``with make_database() as url: ...``."""

    @contextmanager
    def fresh_database() -> Iterator[str]:
        name = f"hallpass_test_{secrets.token_hex(6)}"
        url = create_database(pg_server_url, name)
        try:
            yield url
        finally:
            drop_database(pg_server_url, name)

    return fresh_database


@pytest.fixture(scope="session")
def database_url(make_database: MakeDatabase) -> Iterator[str]:
    """A database created for this test run and dropped at its end."""
    with make_database() as url:
        yield url


@pytest.fixture
def fresh_database_url(make_database: MakeDatabase) -> Iterator[str]:
    """A database of its own for one test."""
    with make_database() as url:
        yield url


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """URL of a Redis server for the test run."""
    yield from service_url("REDIS_URL", LOCAL_REDIS_URL, redis_answers, embedded_redis)


@pytest.fixture(scope="session")
def redis_namespace(redis_url: str) -> Iterator[str]:
    """A key prefix unique to this run; its keys are deleted at the end."""
    namespace = f"hallpass-test-{secrets.token_hex(6)}"
    yield namespace
    client = redis.Redis.from_url(redis_url)
    try:
        batch: list[bytes] = []
        for key in client.scan_iter(match=f"{namespace}*", count=500):
            batch.append(key)
            if len(batch) >= 500:
                client.delete(*batch)
                batch.clear()
        if batch:
            client.delete(*batch)
    finally:
        client.close()
