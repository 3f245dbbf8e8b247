from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator
from urllib.parse import urlsplit, urlunsplit

import asyncpg  # type: ignore[import-untyped, unused-ignore]
import pytest

from hallpass.eventstore import EventStore

DEFAULT_SERVER_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def with_database(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{database}"))


def unique_name(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(6)}"


@pytest.fixture(scope="session")
async def eventstore_dsn() -> AsyncIterator[str]:
    """DSN of a throwaway database, created on the DATABASE_URL server for this session."""
    server_url = os.environ.get("DATABASE_URL") or DEFAULT_SERVER_URL
    database = unique_name("es_test")
    admin = await asyncpg.connect(server_url)
    try:
        await admin.execute(f'CREATE DATABASE "{database}"')
    finally:
        await admin.close()
    try:
        yield with_database(server_url, database)
    finally:
        admin = await asyncpg.connect(server_url)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        finally:
            await admin.close()


@pytest.fixture
async def eventstore_pool(eventstore_dsn: str) -> AsyncIterator[asyncpg.Pool]:
    pool: asyncpg.Pool = await asyncpg.create_pool(eventstore_dsn, min_size=2, max_size=12)
    try:
        yield pool
    finally:
        await pool.close()


@pytest.fixture
async def event_store(eventstore_pool: asyncpg.Pool) -> EventStore:
    """EventStore on freshly created tables, so notification IDs start at 1."""
    suffix = secrets.token_hex(6)
    store = EventStore(
        eventstore_pool,
        events_table=f"events_{suffix}",
        tracking_table=f"tracking_{suffix}",
        channel=f"events_{suffix}",
    )
    await store.create_schema()
    return store
