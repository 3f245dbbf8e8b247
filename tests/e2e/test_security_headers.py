"""Security headers on every answer, no inline code on any page, and the request body limit."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID, uuid4

import httpx
import orjson
import pytest
import pytest_asyncio
from starlette.routing import Route

from hallpass.http.app import create_app
from hallpass.http.security import MAX_BODY_BYTES
from hallpass.settings import Settings
from support.api_client import ApiClient
from support.kiosk_client import set_up_kiosk
from support.pages import hidden_inputs, inline_code, staff_browser, template_inline_code
from support.portal import PortalSchool, StudentClient, hall_pass_id, make_portal_school
from support.school import PASSWORD, SchoolFixture
from support.server import LiveServer, live_server

EVERY_ANSWER = {
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
}
CSP_DIRECTIVES = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'none'",
    "frame-ancestors": "'none'",
}
SIGN_OUT = re.compile(r"sign-out")


def csp(response: httpx.Response) -> dict[str, str]:
    policy = response.headers.get("content-security-policy", "")
    directives = (part.strip().split(None, 1) for part in policy.split(";") if part.strip())
    return {d[0]: d[1] if len(d) > 1 else "" for d in directives}


def assert_protected(response: httpx.Response, *, stored: bool = False) -> None:
    """The headers every answer carries; `stored` for static files, which keep their caching."""
    where = f"{response.request.method} {response.request.url.path} -> {response.status_code}"
    for name, value in EVERY_ANSWER.items():
        assert response.headers.get(name) == value, f"{name} on {where}"
    policy = csp(response)
    for directive, value in CSP_DIRECTIVES.items():
        assert policy.get(directive) == value, f"CSP {directive} on {where}: {policy}"
    assert "unsafe-inline" not in response.headers["content-security-policy"], where
    assert "unsafe-eval" not in response.headers["content-security-policy"], where
    assert "permissions-policy" in response.headers, where
    cache = response.headers.get("cache-control", "")
    if stored:
        assert "no-store" not in cache, where
    else:
        assert cache == "no-store", f"cache-control on {where}: {cache!r}"


@dataclass
class Visitors:
    anonymous: httpx.AsyncClient
    staff: httpx.AsyncClient
    student: httpx.AsyncClient
    kiosk: httpx.AsyncClient
    portal: PortalSchool
    kiosk_student: UUID

    def all(self) -> dict[str, httpx.AsyncClient]:
        return {
            "anonymous": self.anonymous,
            "staff": self.staff,
            "student": self.student,
            "kiosk": self.kiosk,
        }


@pytest_asyncio.fixture(loop_scope="session")
async def visitors(server: LiveServer) -> AsyncIterator[Visitors]:
    """An anonymous browser, an administrator, a signed-in student and a kiosk device."""
    portal = await make_portal_school(server.runtime, label="Headers", needs_approval=False, students=4)
    school = portal.school
    staff = await staff_browser(server, portal.admin_email, PASSWORD)
    student = StudentClient(server.url, school.id)
    await student.ready(await hall_pass_id(server.runtime, school.students[0]))
    teacher = await ApiClient.signed_in(server.url, school.emails["Ada"], PASSWORD)
    made = await set_up_kiosk(teacher, school.rooms["Room 101"], [school.rooms["Nurse"]])
    assert made.status_code == 201, made.text
    await teacher.close()
    kiosk = httpx.AsyncClient(
        base_url=server.url, timeout=30, cookies={"hallpass_kiosk": made.json()["token"]}
    )
    anonymous = httpx.AsyncClient(base_url=server.url, timeout=30)
    yield Visitors(anonymous, staff, student.http, kiosk, portal, school.students[1])
    for client in (anonymous, staff, student.http, kiosk):
        await client.aclose()


async def get(client: httpx.AsyncClient, path: str, accept: str = "*/*") -> tuple[httpx.Response, str]:
    """GET without following redirects; an event stream is closed once its headers are read."""
    async with client.stream("GET", path, follow_redirects=False, headers={"Accept": accept}) as response:
        if response.headers.get("content-type", "").startswith("text/event-stream"):
            return response, ""
        await response.aread()
        return response, response.text


def get_paths(school_id: UUID) -> list[str]:
    """Every GET route of the app, with its path parameters filled in."""
    app = create_app(Settings(database_url=None, redis_url=None, data_dir=Path("."), secret_key="routes"))
    paths = []
    for route in app.routes:
        if not isinstance(route, Route) or "GET" not in (route.methods or ()):
            continue
        path = re.sub(r"\{school_id(:[a-z]+)?\}", str(school_id), route.path)
        paths.append(re.sub(r"\{[a-z_]+(:[a-z]+)?\}", str(uuid4()), path))
    return paths


async def test_every_get_route_answers_with_the_headers_for_every_visitor(
    server: LiveServer, visitors: Visitors
) -> None:
    paths = get_paths(visitors.portal.id)
    assert len(paths) > 30
    statuses: set[int] = set()
    for who, client in visitors.all().items():
        for path in paths:
            if SIGN_OUT.search(path):
                continue  # a GET there would end the session this sweep uses
            response, _ = await get(client, path)
            assert response.status_code < 500, f"{who} GET {path}: {response.status_code}"
            assert_protected(response)
            statuses.add(response.status_code)
    assert {200, 303, 401, 404} <= statuses


PAGES = {
    "anonymous": ["/sign-in", "/portal/{school}", "/no-such-page"],
    "staff": [
        "/hall-pass",
        "/hall-pass/new",
        "/hall-pass/rows",
        "/hall-pass/alerts",
        "/hall-pass/approvals",
        "/hall-pass/kiosk",
        "/hall-pass/kiosks",
        "/hall-pass/kiosks/rows",
        "/hall-pass/school-day",
        "/admin/portal",
    ],
    "student": ["/portal/home", "/portal/create", "/portal/passes", "/portal/password", "/portal/current"],
    "kiosk": [
        "/kiosk",
        "/kiosk/create",
        "/kiosk/create?q=a",
        "/kiosk/create/destination?student_id={student}",
        "/kiosk/complete",
        "/kiosk/exit",
    ],
}


async def test_every_page_carries_the_headers_and_no_inline_code(
    server: LiveServer, visitors: Visitors
) -> None:
    clients = visitors.all()
    for who, paths in PAGES.items():
        for raw in paths:
            path = raw.format(school=visitors.portal.id, student=visitors.kiosk_student)
            response, html = await get(clients[who], path, "text/html,*/*;q=0.8")
            expected = 404 if path == "/no-such-page" else 200
            assert response.status_code == expected, f"{who} GET {path}: {response.status_code} {html[:300]}"
            assert response.headers["content-type"].startswith("text/html"), path
            assert_protected(response)
            assert inline_code(html) == [], f"{who} GET {path}"


def test_no_template_holds_inline_script_handlers_or_styles() -> None:
    assert template_inline_code() == []


def test_the_page_scanner_finds_what_the_policy_forbids() -> None:
    page = (
        '<p onclick="go()">x</p><div style="color:red"></div><style>p{}</style>'
        '<script>alert(1)</script><a href="javascript:go()">y</a>'
        '<script src="/static/a.js"></script><script type="application/json">{"a": 1}</script>'
    )
    assert len(inline_code(page)) == 5


async def test_api_answers_errors_and_streams_carry_the_headers(
    server: LiveServer, visitors: Visitors
) -> None:
    for client, path, status in [
        (visitors.staff, "/api/v1/passes", 200),
        (visitors.staff, "/api/v1/me", 200),
        (visitors.anonymous, "/api/v1/passes", 401),
        (visitors.staff, f"/api/v1/passes/{uuid4()}", 404),
        (visitors.student, "/api/v1/portal/me", 200),
        (visitors.anonymous, "/api/v1/openapi.json", 200),
    ]:
        response, _ = await get(client, path)
        assert response.status_code == status, path
        assert response.headers["content-type"].startswith("application/json"), path
        assert_protected(response)
    for client, path in [(visitors.staff, "/api/v1/events"), (visitors.student, "/portal/events")]:
        async with client.stream("GET", path) as stream:
            assert stream.status_code == 200
            assert stream.headers["content-type"].startswith("text/event-stream")
            assert_protected(stream)
            first = await anext(stream.aiter_text())
            assert "event: hello" in first


async def test_static_files_keep_their_caching_and_carry_nosniff(server: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=server.url) as client:
        for path in ("/static/app.css", "/static/dashboard.js"):
            response = await client.get(path)
            assert response.status_code == 200
            assert_protected(response, stored=True)
            assert "etag" in response.headers


async def test_hsts_only_when_served_over_https(
    server: LiveServer, database_url: str, tmp_path: Path
) -> None:
    async with httpx.AsyncClient(base_url=server.url) as plain:
        assert "strict-transport-security" not in (await plain.get("/sign-in")).headers
    async with (
        live_server(database_url, tmp_path, with_projectors=False, https=True) as secure,
        httpx.AsyncClient(base_url=secure.url) as client,
    ):
        for path in ("/sign-in", "/api/v1/passes", "/static/app.css"):
            hsts = (await client.get(path)).headers.get("strict-transport-security", "")
            assert hsts.startswith("max-age=") and int(hsts.split("=")[1]) >= 31536000, path


# The request body limit.


def padded_json(body: dict[str, object], size: int) -> bytes:
    """`body` as JSON, padded with whitespace to exactly `size` bytes: still valid JSON."""
    raw = orjson.dumps(body)
    assert len(raw) < size
    return raw + b" " * (size - len(raw))


async def passes_of(server: LiveServer, own_teacher: ApiClient, student: UUID) -> list[object]:
    head = await server.runtime.store.max_notification_id()
    assert await server.runtime.watcher.wait_for(head or 0, timeout=15)
    r = await own_teacher.passes(student_id=str(student))
    assert r.status_code == 200
    return list(r.json()["passes"])


def create_body(own_school: SchoolFixture, student: UUID) -> dict[str, object]:
    return {
        "origin_id": str(own_school.rooms["Room 101"]),
        "destination_id": str(own_school.rooms["Library"]),
        "student_ids": [str(student)],
    }


async def test_an_oversized_json_body_is_a_413_and_writes_nothing(
    server: LiveServer, own_teacher: ApiClient, own_school: SchoolFixture
) -> None:
    refused, accepted = own_school.students[0], own_school.students[1]
    r = await own_teacher.http.post(
        "/api/v1/passes",
        content=padded_json(create_body(own_school, refused), MAX_BODY_BYTES + 1),
        headers={"Content-Type": "application/json"},
    )
    assert r.status_code == 413
    assert r.json()["error"]["code"] == "too_large"
    assert_protected(r)
    assert await passes_of(server, own_teacher, refused) == []

    # The same request a byte under the limit is an ordinary request.
    ok = await own_teacher.http.post(
        "/api/v1/passes",
        content=padded_json(create_body(own_school, accepted), MAX_BODY_BYTES),
        headers={"Content-Type": "application/json"},
    )
    assert ok.status_code == 201, ok.text
    assert len(await passes_of(server, own_teacher, accepted)) == 1


async def test_an_oversized_chunked_body_is_a_413_and_writes_nothing(
    server: LiveServer, own_teacher: ApiClient, own_school: SchoolFixture
) -> None:
    student = own_school.students[2]
    body = padded_json(create_body(own_school, student), 2 * MAX_BODY_BYTES)

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 64 * 1024):
            yield body[start : start + 64 * 1024]

    r = await own_teacher.http.post(
        "/api/v1/passes", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert r.request.headers.get("transfer-encoding") == "chunked"
    assert "content-length" not in r.request.headers
    assert r.status_code == 413
    assert r.json()["error"]["code"] == "too_large"
    assert await passes_of(server, own_teacher, student) == []


async def test_a_declared_oversized_body_is_refused_before_it_is_sent(
    server: LiveServer, own_teacher: ApiClient
) -> None:
    host, port = server.url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    token = own_teacher.http.headers["Authorization"]
    writer.write(
        (
            "POST /api/v1/passes HTTP/1.1\r\n"
            f"Host: {host}\r\nAuthorization: {token}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {100 * MAX_BODY_BYTES}\r\n\r\n{{"
        ).encode()
    )
    await writer.drain()
    # Only one byte of the body was sent: the answer cannot be waiting for the rest.
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=30)
    writer.close()
    assert head.startswith(b"HTTP/1.1 413 "), head
    assert b"no-store" in head.lower()


async def test_an_oversized_form_is_a_413_page_and_writes_nothing(
    server: LiveServer, own_teacher: ApiClient, own_school: SchoolFixture
) -> None:
    refused, accepted = own_school.students[3], own_school.students[4]
    browser = await staff_browser(server, own_school.emails["Ada"], PASSWORD)
    try:
        form = hidden_inputs((await browser.get("/hall-pass/new")).text)
        fields = {
            "csrf": form["csrf"],
            "origin_id": str(own_school.rooms["Room 101"]),
            "destination_id": str(own_school.rooms["Library"]),
            "when": "now",
        }
        r = await browser.post(
            "/hall-pass/new",
            data={**fields, "student_ids": str(refused), "padding": "x" * MAX_BODY_BYTES},
            headers={"Accept": "text/html"},
            follow_redirects=False,
        )
        assert r.status_code == 413
        assert r.headers["content-type"].startswith("text/html")
        assert "too large" in r.text.lower()
        assert_protected(r)
        assert await passes_of(server, own_teacher, refused) == []

        ok = await browser.post(
            "/hall-pass/new",
            data={**fields, "student_ids": str(accepted), "padding": "x" * (MAX_BODY_BYTES // 2)},
            follow_redirects=False,
        )
        assert ok.status_code == 303, ok.text[:500]
        assert len(await passes_of(server, own_teacher, accepted)) == 1
    finally:
        await browser.aclose()


@pytest.mark.parametrize("path", ["/api/v1/passes", "/hall-pass/new", "/sign-in", "/api/v1/auth/token"])
async def test_the_limit_holds_on_every_route_before_authentication(server: LiveServer, path: str) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as anonymous:
        r = await anonymous.post(path, content=b"{" + b" " * MAX_BODY_BYTES + b"}")
        assert r.status_code == 413, r.text[:300]
        assert_protected(r)
