"""/admin/tokens: a district administrator issues a token (its secret on that page only), grants
identified access and revokes it from the page; a school administrator gets 403."""

from __future__ import annotations

import re

import httpx
import pytest

from support.forms import post_form, staff_browser
from support.school import PASSWORD, SchoolFixture
from support.server import LiveServer
from support.stream import STREAM, bearer, hire_district_admin

OWN_SCHOOL_STUDENTS = 2
SECRET = re.compile(r"<code>(hpt_[A-Za-z0-9_-]+)</code>")
TOKEN_ID = re.compile(r'name="token_id" value="([0-9a-f-]{36})"')


@pytest.mark.asyncio(loop_scope="session")
async def test_the_page_issues_grants_and_revokes(server: LiveServer, own_school: SchoolFixture) -> None:
    _, email = await hire_district_admin(server.runtime, own_school)
    browser = await staff_browser(server.url, email, PASSWORD)
    try:
        issued = await post_form(
            browser,
            "/admin/tokens",
            {
                "action": "issue",
                "name": "Warehouse loader",
                "rate_per_minute": "120",
                "school_ids": str(own_school.id),
            },
        )
        assert issued.status_code == 201, issued.text
        (secret,) = SECRET.findall(issued.text)
        assert "Warehouse loader" in issued.text
        page = await browser.get("/admin/tokens")
        assert secret not in page.text and "Pseudonymised" in page.text and "120" in page.text
        (token_id,) = set(TOKEN_ID.findall(page.text))
        async with httpx.AsyncClient(base_url=server.url) as analyst:
            assert (await analyst.get(STREAM, headers=bearer(secret))).status_code == 200

            granted = await post_form(browser, "/admin/tokens", {"action": "grant", "token_id": token_id})
            assert granted.status_code == 303
            assert "Identified access granted." in (await browser.get("/admin/tokens")).text
            revoked = await post_form(browser, "/admin/tokens", {"action": "revoke", "token_id": token_id})
            assert revoked.status_code == 303
            assert "Revoked" in (await browser.get("/admin/tokens")).text
            assert (await analyst.get(STREAM, headers=bearer(secret))).status_code == 401

        bad = await post_form(
            browser, "/admin/tokens", {"action": "issue", "name": "", "rate_per_minute": "0"}
        )
        assert bad.status_code == 422 and 'role="alert"' in bad.text
        gone = await post_form(browser, "/admin/tokens", {"action": "revoke", "token_id": "nope"})
        assert gone.status_code == 404
    finally:
        await browser.aclose()

    school_admin = await staff_browser(server.url, own_school.emails["Cleo"], PASSWORD)
    try:
        refused = await school_admin.get("/admin/tokens", headers={"Accept": "text/html"})
        assert refused.status_code == 403
    finally:
        await school_admin.aclose()
