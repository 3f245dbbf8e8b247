"""Student Portal helpers: a school with the portal on, and a student's API session."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import httpx
import pytest_asyncio

from hallpass.acting import Acting, Actor
from hallpass.aggregates.staff import Role
from hallpass.aggregates.students import Student
from hallpass.bootstrap import Runtime
from hallpass.commands.directory import NewStaff
from hallpass.commands.portal import ChangePortalSettings
from support.api_client import ApiClient
from support.school import SchoolFixture, give_password, make_school
from support.server import LiveServer

NEW_PASSWORD = "purple-otter-42"


@dataclass(frozen=True)
class PortalSchool:
    school: SchoolFixture
    admin: Actor
    admin_email: str

    @property
    def id(self) -> UUID:
        return self.school.id


async def make_portal_school(
    runtime: Runtime, *, label: str, enabled: bool = True, needs_approval: bool = True, students: int = 8
) -> PortalSchool:
    school = await make_school(runtime, label=label, students=students)
    now = datetime.now(UTC)
    email = f"admin.{school.id.hex[:8]}@{label.lower()}.example.org"
    (admin,) = await runtime.app.hire_staff(
        school.id, [NewStaff("Admin", email, (Role.ADMIN,), None)], now=now
    )
    await give_password(runtime, email, admin.id, school.id, now)
    actor = Actor("staff", admin.id, school.id, Role.ADMIN.value, "Admin")
    await set_portal(runtime, actor, enabled=enabled, needs_approval=needs_approval)
    return PortalSchool(school=school, admin=actor, admin_email=email)


# API sessions in the school of a module's own `portal` fixture; a module imports them to use them.
@pytest_asyncio.fixture(name="admin", loop_scope="session")
async def portal_admin(server: LiveServer, portal: PortalSchool) -> AsyncIterator[ApiClient]:
    """The school's administrator."""
    async with ApiClient.session(server.url, portal.admin_email) as client:
        yield client


@pytest_asyncio.fixture(name="ada", loop_scope="session")
async def portal_ada(server: LiveServer, portal: PortalSchool) -> AsyncIterator[ApiClient]:
    """Ada, a teacher of the school."""
    async with ApiClient.session(server.url, portal.school.emails["Ada"]) as client:
        yield client


async def set_portal(runtime: Runtime, admin: Actor, *, enabled: bool, needs_approval: bool) -> None:
    command = ChangePortalSettings(enabled=enabled, needs_approval=needs_approval)
    outcome = await runtime.app.change_portal_settings(Acting(admin, datetime.now(UTC)), command)
    assert await runtime.watcher.wait_for(outcome.notification_id, timeout=15)


async def hall_pass_id(runtime: Runtime, student_id: UUID) -> str:
    student = await runtime.app.repository.find(student_id, Student)
    assert student is not None
    return str(student.hall_pass_id)


class StudentClient:
    """A student's browser-like session against the portal API: cookie plus CSRF header."""

    def __init__(self, base_url: str, school_id: UUID) -> None:
        self.http = httpx.AsyncClient(base_url=base_url, timeout=30)
        self.school_id = school_id

    async def close(self) -> None:
        await self.http.aclose()

    async def sign_in(self, username: str, password: str) -> httpx.Response:
        r = await self.http.post(
            f"/api/v1/portal/{self.school_id}/session", json={"username": username, "password": password}
        )
        if r.status_code == 201:
            self.http.headers["X-CSRF-Token"] = r.json()["csrf_token"]
        return r

    async def set_password(self, new_password: str) -> httpx.Response:
        return await self.http.post("/api/v1/portal/password", json={"new_password": new_password})

    async def ready(self, student_id: str) -> None:
        """Sign in for the first time and choose NEW_PASSWORD."""
        r = await self.sign_in(student_id, student_id)
        assert r.status_code == 201, r.text
        r = await self.set_password(NEW_PASSWORD)
        assert r.status_code == 200, r.text

    async def request_pass(self, origin: UUID, destination: UUID, **extra: Any) -> httpx.Response:
        body = {"origin_id": str(origin), "destination_id": str(destination), **extra}
        return await self.http.post("/api/v1/portal/passes", json=body)

    async def complete(self, pass_id: str) -> httpx.Response:
        return await self.http.post(f"/api/v1/portal/passes/{pass_id}/complete", json={})

    async def cancel(self, pass_id: str) -> httpx.Response:
        return await self.http.post(f"/api/v1/portal/passes/{pass_id}/cancel", json={})

    async def get_pass(self, pass_id: str) -> httpx.Response:
        return await self.http.get(f"/api/v1/portal/passes/{pass_id}")

    async def passes(self) -> httpx.Response:
        return await self.http.get("/api/v1/portal/passes")
