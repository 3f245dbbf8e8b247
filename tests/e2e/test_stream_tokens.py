"""/api/v1/admin/tokens: a district administrator issues, lists, revokes and grants identified
access to stream tokens; each step is an event in the audit; nobody else may."""

from __future__ import annotations

from collections.abc import AsyncIterator
from uuid import uuid4

import pytest
import pytest_asyncio

from support.api_client import ApiClient
from support.school import SchoolFixture
from support.server import LiveServer
from support.stream import STREAM, TOKENS, bearer, hire_district_admin, issue

OWN_SCHOOL_STUDENTS = 4


@pytest_asyncio.fixture(loop_scope="session")
async def dee(server: LiveServer, own_school: SchoolFixture) -> AsyncIterator[tuple[str, ApiClient]]:
    dee_id, email = await hire_district_admin(server.runtime, own_school)
    async with ApiClient.session(server.url, email) as client:
        yield str(dee_id), client


@pytest.mark.asyncio(loop_scope="session")
async def test_issue_list_grant_and_revoke_each_an_audited_event(
    server: LiveServer, dee: tuple[str, ApiClient], own_school: SchoolFixture
) -> None:
    dee_id, admin = dee
    schools = [str(own_school.id)]
    token_id, secret = await issue(admin.http, "Warehouse", school_ids=schools, rate_per_minute=50)
    assert secret.startswith("hpt_")
    listed = (await admin.http.get(TOKENS)).json()["tokens"]
    (row,) = [t for t in listed if t["id"] == token_id]
    assert row["school_ids"] == [str(own_school.id)] and row["rate_per_minute"] == 50
    assert row["identified"] is False and row["revoked"] is False
    assert secret not in str(listed) and secret.rsplit("_", 1)[1] not in str(listed)
    assert (await admin.http.get(STREAM, headers=bearer(secret))).status_code == 200

    granted = await admin.http.put(f"{TOKENS}/{token_id}/identified", json={"identified": True})
    assert granted.status_code == 200 and granted.json()["token"]["identified"] is True
    revoked = await admin.http.post(f"{TOKENS}/{token_id}/revoke")
    assert revoked.status_code == 200 and revoked.json()["token"]["revoked"] is True
    again = await admin.http.post(f"{TOKENS}/{token_id}/revoke")
    assert again.status_code == 409 and again.json()["error"]["code"] == "illegal_transition"
    refused = await admin.http.get(STREAM, headers=bearer(secret))
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "unauthenticated"
    listed = (await admin.http.get(TOKENS)).json()["tokens"]
    assert [t["revoked"] for t in listed if t["id"] == token_id] == [True]

    history = await admin.http.get(f"/api/v1/audit/staff/{dee_id}/history")
    assert history.status_code == 200, history.text
    kinds = [e["kind"] for e in history.json()["events"] if e["stream_id"] == token_id]
    assert kinds == ["Issued", "IdentifiedAccessGranted", "Revoked"]


@pytest.mark.asyncio(loop_scope="session")
async def test_only_a_district_administrator_of_the_district_manages_its_tokens(
    server: LiveServer,
    dee: tuple[str, ApiClient],
    own_school: SchoolFixture,
    other_school: SchoolFixture,
    own_teacher: ApiClient,
) -> None:
    _, admin = dee
    async with ApiClient.session(server.url, own_school.emails["Cleo"]) as school_admin:
        assert (await school_admin.http.get(TOKENS)).status_code == 403
        assert (await school_admin.http.post(TOKENS, json={"name": "x"})).status_code == 403
    assert (await own_teacher.http.get(TOKENS)).status_code == 403
    foreign = await admin.http.post(TOKENS, json={"name": "x", "school_ids": [str(other_school.id)]})
    assert foreign.status_code == 404 and foreign.json()["error"]["code"] == "not_found"
    for bad in ({"name": ""}, {"name": "x", "rate_per_minute": 0}, {"name": "x", "extra": 1}):
        assert (await admin.http.post(TOKENS, json=bad)).status_code == 422, bad

    other_id, other_email = await hire_district_admin(server.runtime, other_school)
    async with ApiClient.session(server.url, other_email) as other:
        theirs, _ = await issue(other.http, "Theirs")
        assert theirs not in str((await admin.http.get(TOKENS)).json())
        assert (await admin.http.post(f"{TOKENS}/{theirs}/revoke")).status_code == 404
        put = await admin.http.put(f"{TOKENS}/{theirs}/identified", json={"identified": True})
        assert put.status_code == 404
    assert (await admin.http.post(f"{TOKENS}/{uuid4()}/revoke")).status_code == 404
    assert (await admin.http.post(f"{TOKENS}/not-an-id/revoke")).status_code == 404
    assert other_id != own_school.id
