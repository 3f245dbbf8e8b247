"""Fault tests run against a PostgreSQL of their own.

They start many processes, each with its own connection pool: on a server of their own they
neither take the connections other test runs need nor fail for want of them.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest

from hallpass.local.postgres import create_database, drop_database
from support.private_services import PrivatePostgres, private_postgres
from support.runtime import runtime

__all__ = ["runtime"]


@pytest.fixture(scope="session")
def faults_postgres() -> Iterator[PrivatePostgres]:
    with private_postgres() as server:
        yield server


@pytest.fixture
def fresh_database_url(faults_postgres: PrivatePostgres) -> Iterator[str]:
    """A database of its own for one test, on the fault tests' own server."""
    name = f"hallpass_faults_{secrets.token_hex(6)}"
    url = create_database(faults_postgres.server_url, name)
    try:
        yield url
    finally:
        drop_database(faults_postgres.server_url, name)
