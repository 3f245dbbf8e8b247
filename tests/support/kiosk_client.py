"""Speaks the kiosk API in the command language: set-up by staff, then the device's own calls."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

import httpx

from support.api_client import ApiClient

EXIT_PASSWORD = "2468"


async def set_up_kiosk(
    staff: ApiClient,
    room: UUID,
    destinations: list[UUID],
    *,
    students: dict[str, Any] | None = None,
    password: str = EXIT_PASSWORD,
    name: str = "",
) -> httpx.Response:
    body = {
        "room_id": str(room),
        "destination_ids": [str(d) for d in destinations],
        "students": students or {"mode": "all"},
        "exit_password": password,
        "name": name,
    }
    return await staff.http.post("/api/v1/kiosks", json=body)


class KioskClient:
    def __init__(self, base_url: str, token: str) -> None:
        self.token = token
        self.http = httpx.AsyncClient(
            base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=30
        )

    @classmethod
    async def started(
        cls, staff: ApiClient, base_url: str, room: UUID, destinations: list[UUID], **kw: Any
    ) -> KioskClient:
        r = await set_up_kiosk(staff, room, destinations, **kw)
        r.raise_for_status()
        return cls(base_url, r.json()["token"])

    async def close(self) -> None:
        await self.http.aclose()

    async def find(self, query: str) -> httpx.Response:
        return await self.http.get("/api/v1/kiosk/students", params={"q": query})

    async def create(self, student: UUID, destination: UUID, *, key: str | None = None) -> httpx.Response:
        body = {"student_id": str(student), "destination_id": str(destination)}
        headers = {"Idempotency-Key": key or str(uuid4())}
        return await self.http.post("/api/v1/kiosk/passes", json=body, headers=headers)

    async def complete(self, student: UUID, *, key: str | None = None) -> httpx.Response:
        headers = {"Idempotency-Key": key or str(uuid4())}
        return await self.http.post(
            "/api/v1/kiosk/passes/complete", json={"student_id": str(student)}, headers=headers
        )

    async def exit(self, password: str) -> httpx.Response:
        return await self.http.post("/api/v1/kiosk/exit", json={"password": password})
