"""Speaks the API in the command language, for end-to-end tests."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from uuid import UUID

import httpx

from support.school import PASSWORD

CSRF_FIELD = re.compile(r'name="csrf" value="([^"]+)"')


def form_csrf(html: str) -> str:
    """The CSRF token of the first form on a page."""
    found = CSRF_FIELD.search(html)
    assert found is not None, "no CSRF field on the page"
    return found.group(1)


async def sign_in_form(http: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    """Sign in the way a browser does: load the form (and its CSRF token), then post it."""
    page = await http.get("/sign-in")
    data = {"email": email, "password": password, "csrf": form_csrf(page.text)}
    return await http.post("/sign-in", data=data, follow_redirects=False)


async def html_browser(base_url: str, email: str, password: str) -> httpx.AsyncClient:
    """A client signed in through the sign-in form that asks for HTML pages, as a browser does."""
    http = httpx.AsyncClient(base_url=base_url, timeout=30, headers={"Accept": "text/html"})
    signed = await sign_in_form(http, email, password)
    assert signed.status_code == 303, signed.text
    return http


class ApiClient:
    def __init__(self, base_url: str, token: str | None = None) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.http = httpx.AsyncClient(base_url=base_url, headers=headers, timeout=30)

    async def close(self) -> None:
        await self.http.aclose()

    @classmethod
    async def signed_in(cls, base_url: str, email: str, password: str) -> ApiClient:
        async with httpx.AsyncClient(base_url=base_url) as anon:
            r = await anon.post("/api/v1/auth/token", json={"email": email, "password": password})
            r.raise_for_status()
            return cls(base_url, r.json()["token"])

    @classmethod
    @asynccontextmanager
    async def session(cls, base_url: str, email: str, password: str = PASSWORD) -> AsyncIterator[ApiClient]:
        """Signed in for the length of a `with` block (a fixture's life), signed out after."""
        client = await cls.signed_in(base_url, email, password)
        try:
            yield client
        finally:
            await client.close()

    async def create_passes(
        self,
        origin: UUID,
        destination: UUID,
        students: list[UUID],
        *,
        key: str | None = None,
        **extra: Any,
    ) -> httpx.Response:
        body = {
            "origin_id": str(origin),
            "destination_id": str(destination),
            "student_ids": [str(s) for s in students],
            **extra,
        }
        headers = {"Idempotency-Key": key} if key else {}
        return await self.http.post("/api/v1/passes", json=body, headers=headers)

    async def complete(self, pass_id: str, *, key: str | None = None) -> httpx.Response:
        headers = {"Idempotency-Key": key} if key else {}
        return await self.http.post(f"/api/v1/passes/{pass_id}/complete", json={}, headers=headers)

    async def terminate(self, pass_id: str, reason: str, note: str = "") -> httpx.Response:
        return await self.http.post(
            f"/api/v1/passes/{pass_id}/terminate", json={"reason": reason, "note": note}
        )

    async def passes(self, **params: Any) -> httpx.Response:
        return await self.http.get("/api/v1/passes", params=params)
