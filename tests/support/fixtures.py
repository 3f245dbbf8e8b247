"""Fixtures for tests that talk to a running server: the server, a school, signed-in clients,
a module's own school with the Student Portal on."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Coroutine
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from support.api_client import ApiClient
from support.portal import PortalSchool, make_portal_school
from support.rules import school_at_midday
from support.school import SchoolFixture, make_school
from support.server import LiveServer, live_server


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[LiveServer]:
    data_dir: Path = tmp_path_factory.mktemp("hallpass-data")
    async with live_server(database_url, data_dir) as live:
        yield live


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def school(server: LiveServer) -> SchoolFixture:
    return await make_school(server.runtime, label="Lincoln", students=60)


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def other_school(server: LiveServer) -> SchoolFixture:
    return await make_school(server.runtime, label="Other", students=3)


@pytest_asyncio.fixture(loop_scope="session")
async def teacher(server: LiveServer, school: SchoolFixture) -> AsyncIterator[ApiClient]:
    async with ApiClient.session(server.url, school.emails["Ada"]) as client:
        yield client


@pytest_asyncio.fixture(loop_scope="session")
async def other_teacher(server: LiveServer, other_school: SchoolFixture) -> AsyncIterator[ApiClient]:
    async with ApiClient.session(server.url, other_school.emails["Ada"]) as client:
        yield client


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def own_school(request: pytest.FixtureRequest, server: LiveServer) -> SchoolFixture:
    """A school of the test module's own, so its passes never meet another module's; the module
    may set OWN_SCHOOL_STUDENTS (default 40)."""
    label = request.module.__name__.rsplit(".", 1)[-1].removeprefix("test_").title().replace("_", "")
    students = getattr(request.module, "OWN_SCHOOL_STUDENTS", 40)
    return await make_school(server.runtime, label=label, students=students)


@pytest_asyncio.fixture(loop_scope="session")
async def own_teacher(server: LiveServer, own_school: SchoolFixture) -> AsyncIterator[ApiClient]:
    """Ada, a teacher of `own_school` (homeroom Room 101), signed in through the API."""
    async with ApiClient.session(server.url, own_school.emails["Ada"]) as client:
        yield client


def module_portal(
    label: str, *, students: int, needs_approval: bool = False, midday: bool = False, name: str = "portal"
) -> Callable[[LiveServer], Coroutine[Any, Any, PortalSchool]]:
    """A `portal` fixture (or one called `name`) for a test module: a school of its own named after
    `label`, with `students` students and the Student Portal on (passes `needs_approval` or not);
    where `midday`, in a zone where it is midday now. Assign it under its name:
    `portal = module_portal(...)`."""

    @pytest_asyncio.fixture(name=name, scope="module", loop_scope="session")
    async def portal(server: LiveServer) -> PortalSchool:
        made = await make_portal_school(
            server.runtime, label=label, needs_approval=needs_approval, students=students
        )
        if midday:
            await school_at_midday(server.runtime, made.school)
        return made

    return portal
