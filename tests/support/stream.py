"""The event stream as an analyst meets it: a district administrator, tokens, and pages read."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import httpx
import orjson

from hallpass.aggregates.staff import Role
from hallpass.bootstrap import Runtime
from hallpass.commands.directory import NewStaff
from support.school import SchoolFixture, give_password

STREAM = "/api/v1/stream"
TOKENS = "/api/v1/admin/tokens"


async def hire_district_admin(runtime: Runtime, school: SchoolFixture) -> tuple[UUID, str]:
    """Dee, who administers every school of the school's district: her id and email."""
    email = f"dee.{uuid4().hex[:6]}@example.org"
    now = datetime.now(UTC)
    (dee,) = await runtime.app.hire_staff(
        school.id, [NewStaff("Dee District", email, (Role.DISTRICT_ADMIN,), None)], now=now
    )
    await give_password(runtime, email, dee.id, school.id, now)
    return dee.id, email


async def issue(admin: httpx.AsyncClient, name: str = "Warehouse", **fields: Any) -> tuple[str, str]:
    """A new stream token: its id and the secret shown once."""
    made = await admin.post(TOKENS, json={"name": name, **fields})
    assert made.status_code == 201, made.text
    return made.json()["token"]["id"], made.json()["secret"]


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def lines(response: httpx.Response) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/x-ndjson")
    return [orjson.loads(line) for line in response.content.splitlines() if line]


async def read_all(
    http: httpx.AsyncClient, secret: str, *, limit: int = 1000, after: str | None = None, **params: str
) -> tuple[list[dict[str, Any]], str]:
    """Every event from `after` (the start) to the head, page by page: the events and the cursor."""
    events: list[dict[str, Any]] = []
    cursor = after
    while True:
        query = {**params, "limit": str(limit), **({"after": cursor} if cursor else {})}
        page = await http.get(STREAM, params=query, headers=bearer(secret))
        events += lines(page)
        cursor = page.headers["x-hallpass-cursor"]
        if page.headers["x-hallpass-at-head"] == "true":
            return events, cursor
