"""A browser-like client for the HTML forms: a session cookie, and the CSRF field of each page."""

from __future__ import annotations

import re
from typing import Any

import httpx

CSRF_FIELD = re.compile(r'name="csrf"\s+value="([^"]*)"')


async def csrf_of(http: httpx.AsyncClient, page: str) -> str:
    """The CSRF field of a form page ('' when the page has none)."""
    found = CSRF_FIELD.search((await http.get(page)).text)
    return found.group(1) if found else ""


async def post_form(http: httpx.AsyncClient, page: str, data: dict[str, Any]) -> httpx.Response:
    """Submit a form the way its page would: with the page's CSRF field, as a browser asking for HTML."""
    body = {"csrf": await csrf_of(http, page), **data}
    return await http.post(page, data=body, headers={"Accept": "text/html"}, follow_redirects=False)


async def staff_browser(base_url: str, email: str, password: str) -> httpx.AsyncClient:
    """A browser signed in at /sign-in: it holds the staff session cookie."""
    http = httpx.AsyncClient(base_url=base_url, timeout=30)
    r = await post_form(http, "/sign-in", {"email": email, "password": password})
    assert r.status_code == 303, r.text
    return http
