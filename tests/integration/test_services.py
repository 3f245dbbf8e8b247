from __future__ import annotations

import stat
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

import asyncpg
import dramatiq
import pytest
import redis
from dramatiq.brokers.redis import RedisBroker

from hallpass.local.postgres import database_url_for, postgres_answers
from hallpass.local.redis import redis_answers
from hallpass.local.services import ensure_services
from hallpass.settings import Settings


def _settings(tmp_path: Path, **extra: str) -> Settings:
    return Settings.from_env({"HALLPASS_DATA_DIR": str(tmp_path / "data"), **extra})


def test_defaults(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    assert settings.database_url is None
    assert settings.redis_url is None
    assert settings.data_dir == (tmp_path / "data").resolve()
    assert (settings.host, settings.port) == ("127.0.0.1", 8000)
    assert settings.seed_demo is True
    assert settings.redis_namespace == "hallpass"
    assert settings.https_only is False
    assert settings.secret_key not in repr(settings)


def test_explicit_values(tmp_path: Path) -> None:
    settings = _settings(
        tmp_path,
        DATABASE_URL="postgresql://u:p@db:5432/hp",
        REDIS_URL="redis://cache:6379/2",
        HALLPASS_SECRET_KEY="k" * 40,
        HALLPASS_HOST="0.0.0.0",
        HALLPASS_PORT="9123",
        HALLPASS_SEED_DEMO="no",
        HALLPASS_REDIS_NAMESPACE="hp-x",
        HALLPASS_HTTPS="yes",
    )
    assert settings.database_url == "postgresql://u:p@db:5432/hp"
    assert settings.redis_url == "redis://cache:6379/2"
    assert settings.secret_key == "k" * 40
    assert (settings.host, settings.port, settings.seed_demo) == ("0.0.0.0", 9123, False)
    assert settings.redis_namespace == "hp-x"
    assert settings.https_only is True
    assert not (tmp_path / "data").exists()

    replaced = settings.with_services("postgresql://other/db", "redis://other:1/0")
    assert (replaced.database_url, replaced.redis_url) == (
        "postgresql://other/db",
        "redis://other:1/0",
    )
    assert replaced.secret_key == settings.secret_key


def test_secret_key_is_generated_once_and_private(tmp_path: Path) -> None:
    first = _settings(tmp_path)
    second = _settings(tmp_path)
    assert len(first.secret_key) >= 32
    assert first.secret_key == second.secret_key
    key_file = tmp_path / "data" / "secret_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert key_file.read_text().strip() == first.secret_key


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("HALLPASS_PORT", "eighty"),
        ("HALLPASS_PORT", "70000"),
        ("HALLPASS_SEED_DEMO", "maybe"),
        ("DATABASE_URL", "mysql://localhost/hp"),
        ("REDIS_URL", "http://localhost:6379"),
        ("HALLPASS_REDIS_NAMESPACE", "two words"),
        ("HALLPASS_HTTPS", "sometimes"),
    ],
)
def test_bad_values_name_the_variable(tmp_path: Path, variable: str, value: str) -> None:
    with pytest.raises(ValueError, match=variable):
        _settings(tmp_path, **{variable: value})


def test_database_url_for_keeps_host_and_query() -> None:
    assert (
        database_url_for("postgresql://postgres@/postgres?host=/run/pg", "hp")
        == "postgresql://postgres@/hp?host=/run/pg"
    )
    assert (
        database_url_for("postgresql://u:p@127.0.0.1:5432/postgres", "hp")
        == "postgresql://u:p@127.0.0.1:5432/hp"
    )


def test_configured_urls_are_used_as_is(tmp_path: Path) -> None:
    settings = _settings(
        tmp_path, DATABASE_URL="postgresql://u@db.invalid/hp", REDIS_URL="redis://r.invalid/0"
    )
    with ensure_services(settings) as services:
        assert services.database_url == "postgresql://u@db.invalid/hp"
        assert services.redis_url == "redis://r.invalid/0"
        assert services.postgres is None
        assert services.redis_server is None
    assert not (tmp_path / "data" / "postgres").exists()


def test_probes_report_unreachable_services(tmp_path: Path) -> None:
    assert not postgres_answers(f"postgresql://postgres@/x?host={tmp_path}", timeout=0.5)
    assert not redis_answers(f"unix://{tmp_path}/missing.sock", timeout=0.5)
    assert not redis_answers("not-a-url")


def test_test_databases(database_url: str, make_database: Callable[[], AbstractContextManager[str]]) -> None:
    assert postgres_answers(database_url)
    with make_database() as url:
        assert url != database_url
        assert postgres_answers(url)
    assert not postgres_answers(url)


@pytest.mark.slow
async def test_embedded_services_start_serve_and_stop(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    started = time.monotonic()
    with ensure_services(settings) as services:
        assert services.database_url.startswith("postgresql://")
        assert services.redis_url.startswith("unix://")
        assert (tmp_path / "data" / "postgres" / "PG_VERSION").exists()

        conn = await asyncpg.connect(services.database_url)
        try:
            assert await conn.fetchval("SELECT 1") == 1
            assert await conn.fetchval("SELECT current_database()") == "hallpass"
        finally:
            await conn.close()

        client = redis.Redis.from_url(services.redis_url)
        try:
            assert client.ping()
            client.set("hallpass-test", "1")
        finally:
            client.close()

        broker = RedisBroker(  # type: ignore[no-untyped-call]
            url=services.redis_url, namespace="hallpass-services-test"
        )
        try:
            assert broker.client.ping()
            broker.declare_queue("default")
            message: dramatiq.Message[None] = dramatiq.Message(
                queue_name="default", actor_name="noop", args=(), kwargs={}, options={}
            )
            broker.enqueue(message)
            consumer = broker.consume("default", prefetch=1, timeout=1000)
            try:
                received = next(msg for msg in consumer if msg is not None)
                assert received.message_id == message.message_id
                consumer.ack(received)
            finally:
                consumer.close()
        finally:
            broker.close()

        again = ensure_services(settings)
        assert (again.database_url, again.redis_url) == (
            services.database_url,
            services.redis_url,
        )
        again.close()
        assert postgres_answers(services.database_url)
        assert redis_answers(services.redis_url)

    assert not postgres_answers(services.database_url)
    assert not redis_answers(services.redis_url)
    with pytest.raises((OSError, asyncpg.PostgresError)):
        await asyncpg.connect(services.database_url, timeout=2)

    with ensure_services(settings) as services:
        client = redis.Redis.from_url(services.redis_url)
        try:
            assert client.get("hallpass-test") == b"1"
        finally:
            client.close()
    assert not redis_answers(services.redis_url)
    assert time.monotonic() - started < 30


def test_embedded_postgres_rejects_data_dir_with_spaces(tmp_path: Path) -> None:
    settings = _settings(tmp_path / "my data", REDIS_URL="redis://r.invalid/0")
    with pytest.raises(ValueError, match="HALLPASS_DATA_DIR"):
        ensure_services(settings)


@pytest.mark.slow
def test_embedded_redis_in_data_dir_with_spaces(tmp_path: Path) -> None:
    settings = _settings(tmp_path / "my data", DATABASE_URL="postgresql://u@db.invalid/hp")
    with ensure_services(settings) as services:
        assert services.postgres is None
        client = redis.Redis.from_url(services.redis_url)
        try:
            assert client.ping()
        finally:
            client.close()
    assert not redis_answers(services.redis_url)
