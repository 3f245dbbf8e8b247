"""Every operation of /api/v1, fed generated and hostile input with every kind of credential.

The operations, their parameters and body schemas come from the OpenAPI document the server
publishes. Each example sends one request as staff (bearer token), an administrator, a kiosk
device (bearer device token), a student (portal session cookie + X-CSRF-Token), staff of another
school, or nobody. No answer may be a 5xx, and afterwards every projection must reach the head of
the log (nothing was appended that a projection cannot apply).

Hypothesis runs under the project's settings profile (fixed seed in CI); requests go from a
worker thread so the server keeps the test's event loop.
"""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import quote
from uuid import uuid4

import httpx
import orjson
import pytest
import pytest_asyncio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.datastructures import QueryParams
from starlette.requests import HTTPConnection
from starlette.routing import Route

from hallpass.acting import Acting
from hallpass.aggregates.api_tokens import token_text
from hallpass.commands.api_tokens import MAX_RATE, IssueApiToken
from hallpass.http.app import create_app
from hallpass.settings import Settings
from support.portal import PortalSchool, hall_pass_id, make_portal_school
from support.school import PASSWORD, SchoolFixture
from support.server import LiveServer

pytestmark = pytest.mark.slow

UNUSED = Settings(
    database_url="postgresql://unused/x", redis_url=None, data_dir=Path("unused"), secret_key="k"
)
DOCUMENT: dict[str, Any] = create_app(UNUSED).state.openapi
"""The document the server publishes, built from the routes' declarations."""
SCHEMAS: dict[str, Any] = DOCUMENT["components"]["schemas"]
OPERATIONS = sorted(
    (method.upper(), path)
    for path, item in DOCUMENT["paths"].items()
    if path.startswith("/api/v1/")
    for method in item
    if method != "parameters"
)
CREDENTIALS = ("staff", "admin", "kiosk", "student", "other_staff", "stream", "none")
EXAMPLES_PER_OPERATION = 15
KIOSK_PASSWORD = "2468"

# -- hostile values ----------------------------------------------------------------------

HOSTILE_TEXT = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "\ud800",
    "\n",
    "abc\n",
    "\x7f\x85\x1b[31m",
    "x" * 5000,
    "9" * 25,
    "-1",
    "1e309",
    "NaN",
    "١٢٣",
    "²",
    "#",
    "#\x00",
    "../../etc/passwd",
    "<script>alert(1)</script>",
    "'; DROP TABLE events; --",
    "%00",
    "9999-12-31",
    "0001-01-01",
    "9999-12-31T23:00:00-23:59",
    "0001-01-01T00:00:00+23:59",
    "9999-12-31T23:59:59.999999",
    "2024-02-30T10:00:00Z",
    "10:00:00+05:00",
    "24:00:00",
    "23:59:60",
    "America/Chicago\n",
    "Etc/../../x",
    "00000000-0000-0000-0000-000000000000",
]
URL_TEXT = [t for t in HOSTILE_TEXT if "\ud800" not in t]
"""What a URL can carry: a lone surrogate cannot even be encoded."""
HOSTILE_MOMENTS = ["9999-12-31T23:00:00-23:59", "0001-01-01T00:00:00+23:59", "2025-01-01T10:00:00"]
HOSTILE_NUMBERS: list[Any] = [
    0,
    -1,
    1,
    7,
    14,
    15,
    999,
    1000,
    2**31,
    2**63,
    -(2**63) - 1,
    10**30,
    1.5,
    -0.0,
    True,
]


def _moment(days: int) -> str:
    return (datetime.now(UTC) + timedelta(days=days, minutes=30)).isoformat()


@dataclass(repr=False)
class World:
    """Ids and credentials the examples draw from: this school's, another school's, and made up."""

    base_url: str
    ids: dict[str, list[str]]
    """This school's ids by kind: room, place (a destination), student, staff, school, pass, kiosk,
    schedule, keep-apart group."""
    other_ids: list[str]
    tokens: dict[str, str]
    emails: dict[str, str] = field(default_factory=dict)
    """The email each staff token was issued to, so a revoked token can be issued again."""
    kiosk_token: str = ""
    student: httpx.Client | None = None
    student_csrf: str = ""
    spare_students: list[str] = field(default_factory=list)
    portal_school_id: str = ""

    def __repr__(self) -> str:
        return f"World({self.base_url})"


KINDS = {
    "origin_id": "room",
    "destination_id": "place",
    "room_id": "room",
    "homeroom_id": "room",
    "homeroom_ids": "room",
    "destination_ids": "place",
    "approval_destination_ids": "room",
    "student_id": "student",
    "student_ids": "student",
    "creator_id": "staff",
    "pass_id": "pass",
    "kiosk_id": "kiosk",
    "schedule_id": "schedule",
    "school_id": "school",
    "location_id": "room",
    "staff_id": "staff",
    "token_id": "token",
    "group_id": "group",
}


def _own_ids(world: World, name: str) -> st.SearchStrategy[str]:
    """An id of the kind the field names, in this school."""
    return st.sampled_from(tuple(world.ids[KINDS.get(name, "student")]))


def _uuid_values(world: World, name: str = "") -> st.SearchStrategy[str]:
    """Mostly an id of the right kind in this school; else another kind, another school's, or made up."""
    anyone = st.sampled_from(tuple(i for ids in world.ids.values() for i in ids))
    own = _own_ids(world, name)
    return st.one_of(own, own, anyone, st.sampled_from(tuple(world.other_ids)), st.uuids().map(str))


def _any_value(world: World) -> st.SearchStrategy[Any]:
    return st.one_of(
        st.sampled_from(HOSTILE_TEXT),
        st.sampled_from(HOSTILE_NUMBERS),
        _uuid_values(world),
        st.none(),
        st.lists(st.sampled_from(HOSTILE_TEXT), max_size=3),
        st.dictionaries(st.sampled_from(["x", "id", "__proto__"]), st.sampled_from(HOSTILE_TEXT), max_size=2),
    )


def _string(world: World, schema: dict[str, Any], name: str) -> st.SearchStrategy[Any]:
    fmt = schema.get("format")
    if fmt == "uuid":
        return _own_ids(world, name)
    if fmt == "date-time":
        return st.sampled_from([-400, -2, 0, 1, 1, 30, 200, 400]).map(_moment)
    if fmt == "date":
        return st.integers(-3, 10).map(lambda d: str(date.today() + timedelta(days=d)))
    if fmt in ("partial-time", "time"):
        return st.times().map(lambda t: t.replace(microsecond=0).isoformat())
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    if schema.get("pattern", "").startswith("^[0-9]"):
        return st.sampled_from([KIOSK_PASSWORD, "1234", "12345678", "123", "123456789"])
    if name in ("timezone",):
        return st.sampled_from(["America/Chicago", "Europe/Paris", "UTC", "Mars/Olympus"])
    return st.text(max_size=min(schema.get("maxLength", 40), 40))


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = SCHEMAS[schema["$ref"].rsplit("/", 1)[1]]
    return schema


def from_schema(
    world: World, schema: dict[str, Any], *, name: str = "", depth: int = 0
) -> st.SearchStrategy[Any]:
    """Values that fit `schema`, so that requests reach the commands and their rules."""
    schema = _resolve(schema)
    if "anyOf" in schema:
        return st.one_of(*[from_schema(world, s, name=name, depth=depth) for s in schema["anyOf"]])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    kind = schema.get("type")
    if kind == "object" and depth < 3:
        properties: dict[str, Any] = schema.get("properties", {})
        required = set(schema.get("required", []))
        fields = {
            k: from_schema(world, sub, name=k, depth=depth + 1)
            for k, sub in properties.items()
            if k in required
        }
        optional = {
            k: from_schema(world, sub, name=k, depth=depth + 1)
            for k, sub in properties.items()
            if k not in required
        }
        return st.fixed_dictionaries(fields, optional=optional)
    if kind == "array":
        low = schema.get("minItems", 0)
        items = from_schema(world, schema.get("items", {}), name=name, depth=depth + 1)
        return st.lists(items, min_size=low, max_size=low + 2, unique=name.endswith("_ids"))
    if kind == "integer":
        return st.integers(schema.get("minimum", -5), min(schema.get("maximum", 2000), 2000))
    if kind == "boolean":
        return st.booleans()
    if kind == "string":
        return _string(world, schema, name)
    if kind == "null":
        return st.none()
    return _any_value(world)


def corrupted(
    world: World, schema: dict[str, Any], *, name: str = "", depth: int = 0
) -> st.SearchStrategy[Any]:
    """Values that fit `schema` except in one place, which holds something hostile of its kind."""
    schema = _resolve(schema)
    if "anyOf" in schema:
        branches = [s for s in schema["anyOf"] if _resolve(s).get("type") != "null"]
        return corrupted(world, branches[0], name=name, depth=depth) if branches else _any_value(world)
    properties: dict[str, Any] = schema.get("properties", {})
    if schema.get("type") == "object" and properties and depth < 3:
        return st.sampled_from(sorted(properties)).flatmap(lambda bad: _spoiled(world, schema, bad, depth))
    return st.one_of(_hostile_of_kind(world, schema, name), _any_value(world))


def _spoiled(world: World, schema: dict[str, Any], bad: str, depth: int) -> st.SearchStrategy[dict[str, Any]]:
    """An object that fits `schema` but for its property `bad`."""
    properties: dict[str, Any] = schema["properties"]
    required = set(schema.get("required", []))
    fields = {
        k: corrupted(world, sub, name=k, depth=depth + 1)
        if k == bad
        else from_schema(world, sub, name=k, depth=depth + 1)
        for k, sub in properties.items()
        if k in required or k == bad
    }
    optional = {
        k: from_schema(world, sub, name=k, depth=depth + 1)
        for k, sub in properties.items()
        if k not in required and k != bad
    }
    return st.fixed_dictionaries(fields, optional=optional)


def each_corrupted(world: World, schema: dict[str, Any]) -> st.SearchStrategy[list[Any]]:
    """One object per property of `schema`, each fitting except in that property."""
    schema = _resolve(schema)
    if schema.get("type") != "object" or not schema.get("properties"):
        return corrupted(world, schema).map(lambda v: [v])
    return st.tuples(*[_spoiled(world, schema, bad, 0) for bad in sorted(schema["properties"])]).map(list)


def _hostile_of_kind(world: World, schema: dict[str, Any], name: str) -> st.SearchStrategy[Any]:
    fmt, kind = schema.get("format"), schema.get("type")
    if fmt == "date-time":
        return st.sampled_from([*HOSTILE_MOMENTS, _moment(400)])
    if fmt == "date":
        return st.sampled_from(
            ["0001-01-01", "9999-12-31", "2025-02-30", str(date.today() + timedelta(days=400))]
        )
    if fmt in ("partial-time", "time"):
        return st.sampled_from(["10:00:00+05:00", "10:00:00Z", "24:00:00", "25:61:00", "10:00"])
    if fmt == "uuid":
        return st.one_of(_uuid_values(world), st.sampled_from(["not-a-uuid", "0" * 40, ""]))
    if kind == "array":
        item = from_schema(world, schema.get("items", {}), name=name)
        return st.one_of(st.just([]), item.map(lambda v: [v] * 600), st.lists(_any_value(world), max_size=3))
    if kind == "integer":
        return st.sampled_from([2**63, -(2**63) - 1, 10**30, -1, 0, 1.5, "7", True])
    if kind == "string":
        return st.sampled_from(["a\x00b", "x" * 5000, "\x1b[31m\n", "\ud800"])
    return _any_value(world)


RAW_BODIES = st.sampled_from(
    [
        b"",
        b"{",
        b"[]",
        b"null",
        b'"x"',
        b'{"a": NaN}',
        b'{"note": Infinity}',
        b"\xff\xfe\x00",
        b'{"note": "\xc3\x28"}',
        b"[" * 5000 + b"]" * 5000,
        b'{"a": ' + b"9" * 5000 + b"}",
    ]
)
"""Bodies that are not what any operation reads: broken JSON, invalid UTF-8, deep nesting."""


def _bodies(world: World, operation: dict[str, Any], mode: str) -> st.SearchStrategy[list[bytes | None]]:
    """One body, or with `hostile` one body per property, each spoiled in that property."""
    content = operation.get("requestBody", {}).get("content", {}).get("application/json")
    if content is None:
        return st.just([None]) if mode == "fit" else RAW_BODIES.map(lambda b: [b])
    if mode == "raw":
        return RAW_BODIES.map(lambda b: [b])
    schema = content["schema"]
    values = (
        each_corrupted(world, schema) if mode == "hostile" else from_schema(world, schema).map(lambda v: [v])
    )
    return values.map(lambda vs: [_encoded(v) for v in vs])


def _encoded(value: Any) -> bytes:
    return orjson.dumps(value) if _encodable(value) else b'{"broken": "\\ud800"}'


def _encodable(value: Any) -> bool:
    try:
        orjson.dumps(value)
    except (TypeError, orjson.JSONEncodeError):
        return False
    return True


PATH_PARAM = re.compile(r"\{([a-z_]+)\}")


def _path(world: World, path: str) -> st.SearchStrategy[str]:
    names = PATH_PARAM.findall(path)
    if not names:
        return st.just(path)
    (name,) = names
    value = st.one_of(
        _uuid_values(world, name), _uuid_values(world, name), st.sampled_from(URL_TEXT).filter(bool)
    )
    return value.map(lambda v: path.replace("{" + name + "}", quote(str(v)[:200], safe="")))


def _query(world: World, operation: dict[str, Any]) -> st.SearchStrategy[dict[str, str]]:
    params = [p for p in operation.get("parameters", []) if p["in"] == "query"]
    if not params:
        return st.just({})
    value = st.one_of(
        st.sampled_from(URL_TEXT).map(lambda t: t[:300]),
        st.sampled_from(HOSTILE_NUMBERS).map(str),
        _uuid_values(world, "room"),
        _uuid_values(world, "student"),
        st.integers(-3, 600).map(str),
        st.sampled_from(["active", "completed,expired", "staff,kiosk", "true", str(date.today())]),
    )
    names = [p["name"] for p in params]
    return st.dictionaries(st.sampled_from(names), value, max_size=len(names))


HEADER_SAFE = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=250)


def _intended(operation: dict[str, Any]) -> str:
    """The credential the operation is meant for, from its security requirement."""
    schemes = {name for requirement in operation.get("security", [{"bearer": []}]) for name in requirement}
    if "x-hallpass-roles" in operation:
        return "admin"
    if "kiosk" in schemes:
        return "kiosk"
    if "stream" in schemes:
        return "stream"
    if "session" in schemes and "bearer" not in schemes:
        return "student"
    return "staff" if schemes else "none"


@st.composite
def requests(draw: st.DrawFn, world: World, method: str, path: str) -> list[dict[str, Any]]:
    """Requests for one operation: one that fits, one with a broken body, or one per body property
    with a hostile value there (as the operation's intended caller, so the body is read)."""
    operation = DOCUMENT["paths"][path][method.lower()]
    mode = draw(st.sampled_from(["fit", "hostile", "fit", "raw"]))
    headers: dict[str, str] = {}
    key = draw(st.one_of(st.uuids().map(str), st.none(), HEADER_SAFE))
    if key is not None:
        headers["Idempotency-Key"] = key
    intended = st.just(_intended(operation))
    credential = draw(
        intended if mode == "hostile" else st.one_of(intended, intended, st.sampled_from(CREDENTIALS))
    )
    url, params = draw(_path(world, path)), draw(_query(world, operation))
    return [
        {
            "method": method,
            "url": url,
            "params": params,
            "content": body,
            "headers": {**headers, "Idempotency-Key": str(uuid4())} if key and len(bodies) > 1 else headers,
            "credential": credential,
        }
        for bodies in [draw(_bodies(world, operation, mode))]
        for body in bodies
    ]


# -- the world: a portal school with passes, a kiosk and a student signed in -------------


def _ok(r: httpx.Response, *codes: int) -> dict[str, Any]:
    assert r.status_code in (codes or (200, 201)), r.text
    return r.json()  # type: ignore[no-any-return]


def _renew_kiosk(world: World, http: httpx.Client, room: str, places: list[str]) -> None:
    body = {
        "room_id": room,
        "destination_ids": places,
        "students": {"mode": "all"},
        "exit_password": KIOSK_PASSWORD,
        "name": "Fuzz kiosk",
    }
    made = _ok(http.post("/api/v1/kiosks", json=body, headers=_auth(world, "staff")))
    world.kiosk_token = made["token"]
    if not world.ids["kiosk"]:
        world.ids["kiosk"].append(made["kiosk"]["id"])


def _renew_student(world: World) -> None:
    """A student's browser: signed in for the first time, with a new password chosen."""
    username = world.spare_students.pop()
    if world.student is not None:
        world.student.close()
    world.student = student = httpx.Client(base_url=world.base_url, timeout=60)
    signed = student.post(
        f"/api/v1/portal/{world.portal_school_id}/session", json={"username": username, "password": username}
    )
    world.student_csrf = _ok(signed, 201)["csrf_token"]
    changed = student.post(
        "/api/v1/portal/password",
        json={"new_password": "purple-otter-42"},
        headers={"X-CSRF-Token": world.student_csrf},
    )
    _ok(changed)


def _auth(world: World, credential: str) -> dict[str, str]:
    if credential in world.tokens:
        return {"Authorization": f"Bearer {world.tokens[credential]}"}
    if credential == "kiosk":
        return {"Authorization": f"Bearer {world.kiosk_token}"}
    if credential == "student":
        return {"X-CSRF-Token": world.student_csrf}
    return {}


def _token(http: httpx.Client, email: str) -> str:
    return str(
        _ok(http.post("/api/v1/auth/token", json={"email": email, "password": PASSWORD}), 201)["token"]
    )


def build_world(
    base_url: str, portal: PortalSchool, other: SchoolFixture, usernames: list[str], stream: tuple[str, str]
) -> World:
    """`stream`: a stream token of the school's district (its id, and the token)."""
    school = portal.school
    with httpx.Client(base_url=base_url, timeout=30) as http:
        world = World(
            base_url=base_url,
            ids={
                "school": [str(school.id)],
                "room": [str(i) for i in school.rooms.values()],
                "place": [str(school.rooms[n]) for n in ("Nurse", "Library", "Restroom", "Room 102")],
                # Not Ada: administration examples must not deactivate the teacher the examples sign in as.
                "staff": [str(i) for n, i in school.teachers.items() if n != "Ada"],
                # The spare students (the portal's next sign-ins) are never an example's target:
                # an administration example could deactivate one or change their hall pass ID.
                "student": [str(i) for i in school.students[:SPARE_FROM]],
                "pass": [],
                "kiosk": [],
                "schedule": [],
                "token": [stream[0]],
                "group": [],
            },
            other_ids=[
                str(i) for i in [other.id, *other.rooms.values(), *other.teachers.values(), *other.students]
            ],
            tokens={
                "staff": _token(http, school.emails["Ada"]),
                "admin": _token(http, portal.admin_email),
                "other_staff": _token(http, other.emails["Ada"]),
                "stream": stream[1],
            },
            emails={
                "staff": school.emails["Ada"],
                "admin": portal.admin_email,
                "other_staff": other.emails["Ada"],
            },
            spare_students=usernames,
            portal_school_id=str(school.id),
        )
        staff = _auth(world, "staff")
        room, nurse, library = (str(school.rooms[n]) for n in ("Room 101", "Nurse", "Library"))

        def made(path: str, to: str, student: int, **fields: Any) -> dict[str, Any]:
            """What Ada's POST of passes from Room 101 to `to` for the `student`th student answers."""
            trip = {"origin_id": room, "destination_id": to, "student_ids": [str(school.students[student])]}
            return _ok(http.post(path, json={**trip, **fields}, headers=staff), 201)

        active = made("/api/v1/passes", library, 0)
        scheduled = made("/api/v1/passes/scheduled", nurse, 1, start_at=_moment(1))
        start = date.today() + timedelta(days=2)
        repeating = made(
            "/api/v1/schedules",
            nurse,
            2,
            weekdays=[0, 1, 2, 3, 4, 5, 6],
            at="10:00:00",
            first_date=str(start),
            last_date=str(start + timedelta(days=3)),
        )
        world.ids["pass"] += [p["id"] for p in active["passes"] + scheduled["passes"] + repeating["passes"]]
        world.ids["schedule"].append(repeating["schedule_id"])
        group = _ok(
            http.post(
                f"/api/v1/admin/schools/{school.id}/keep-apart",
                json={"name": "Apart", "student_ids": [str(s) for s in school.students[3:5]]},
                headers=_auth(world, "admin"),
            ),
            201,
        )
        world.ids["group"].append(group["group"]["id"])
        _renew_kiosk(world, http, room, [nurse, library])
        _renew_student(world)
        assert world.student is not None
        requested = world.student.post(
            "/api/v1/portal/passes",
            json={"origin_id": room, "destination_id": nurse},
            headers={"X-CSRF-Token": world.student_csrf},
        )
        assert requested.status_code == 201, requested.text
        world.ids["pass"].append(requested.json()["pass"]["id"])
        return world


def send(world: World, http: httpx.Client, request: dict[str, Any]) -> httpx.Response:
    headers = {**request["headers"], **_auth(world, request["credential"])}
    if request["content"] is not None:
        headers["Content-Type"] = "application/json"
    client = world.student if request["credential"] == "student" and world.student is not None else http
    built = client.build_request(
        request["method"],
        request["url"],
        params=request["params"],
        content=request["content"],
        headers=headers,
    )
    response = client.send(built, stream=True)
    try:
        if not response.headers.get("content-type", "").startswith("text/event-stream"):
            response.read()
    finally:
        response.close()
    return response


def renew_credentials(world: World, http: httpx.Client) -> None:
    """Examples may revoke a staff token, sign the student out or revoke the kiosk; later
    examples get fresh ones."""
    for credential, email in world.emails.items():
        if http.get("/api/v1/locations", headers=_auth(world, credential)).status_code == 401:
            world.tokens[credential] = _token(http, email)
    assert world.student is not None
    me = world.student.get("/api/v1/portal/me", headers=_auth(world, "student"))
    if me.status_code == 401 and world.spare_students:
        _renew_student(world)
    kiosk = http.get("/api/v1/kiosk", headers=_auth(world, "kiosk"))
    if kiosk.status_code in (401, 403):
        room, *places = world.ids["room"]
        _renew_kiosk(world, http, room, places)


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def fuzz_world(server: LiveServer, other_school: SchoolFixture) -> World:
    portal = await make_portal_school(server.runtime, label="Fuzz", students=40)
    usernames = [await hall_pass_id(server.runtime, s) for s in portal.school.students[SPARE_FROM:]]
    app = server.runtime.app
    token_id, secret = app.new_token_secret()
    issue = IssueApiToken(name="Fuzz", rate_per_minute=MAX_RATE)
    district_admin = Acting(portal.school.admin(district=True), datetime.now(UTC))
    await app.issue_api_token(district_admin, issue, token_id=token_id, secret=secret)
    stream = (str(token_id), token_text(token_id, secret))
    return await asyncio.to_thread(build_world, server.url, portal, other_school, usernames, stream)


async def projections_at_head(server: LiveServer, deadline_seconds: float = 60) -> dict[str, tuple[int, int]]:
    """Each projection's position and the head of the log, once all have reached it (or the deadline)."""
    deadline = time.monotonic() + deadline_seconds
    while True:
        head = await server.runtime.store.max_notification_id() or 0
        positions = {n: p for r in server.runtime.runners for n, p in (await r.positions()).items()}
        if all(p >= head for p in positions.values()) or time.monotonic() > deadline:
            return {name: (p, head) for name, p in positions.items()}
        await asyncio.sleep(0.05)


def test_every_api_route_is_in_the_document(tmp_path: Path) -> None:
    """The fuzz covers every operation only if the document lists every route."""
    settings_ = Settings(
        database_url="postgresql://unused/x", redis_url=None, data_dir=tmp_path, secret_key="k"
    )
    app = create_app(settings_)
    routes = {
        (method, route.path)
        for route in app.routes
        if isinstance(route, Route)
        and route.path.startswith("/api/v1")
        and route.path != "/api/v1/openapi.json"
        for method in route.methods or ()
        if method != "HEAD"
    }
    assert routes == set(OPERATIONS)


def test_every_documented_operation_is_a_route_with_its_path_parameters() -> None:
    """Path, method and path parameters of each documented operation are those of a route."""
    routes = {
        (method.lower(), route.path): route
        for route in create_app(UNUSED).routes
        if isinstance(route, Route)
        for method in route.methods or ()
    }
    for path, item in DOCUMENT["paths"].items():
        for method, operation in item.items():
            route = routes.get((method, path))
            assert route is not None, f"{method.upper()} {path} is documented but not routed"
            documented = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
            assert documented == set(route.param_convertors), (method, path)
            assert documented == set(PATH_PARAM.findall(path)), (method, path)


class ReadQuery(QueryParams):
    """Query parameters that note which names the handler asked for."""

    asked: ClassVar[set[str]] = set()

    def get(self, key: Any, default: Any = None) -> Any:
        self.asked.add(key)
        return super().get(key, default)

    def getlist(self, key: Any) -> list[str]:
        self.asked.add(key)
        return super().getlist(key)

    def __getitem__(self, key: Any) -> str:
        self.asked.add(key)
        return super().__getitem__(key)

    def __contains__(self, key: Any) -> bool:
        self.asked.add(key)
        return super().__contains__(key)


SPARE_FROM = 20
"""The fuzz school's students from this one on are kept for portal sign-ins."""


async def test_each_handler_reads_the_query_parameters_its_operation_documents(
    server: LiveServer, fuzz_world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each operation sent as its intended caller, with ids of this school and an empty body: the
    query parameters its handler reads are exactly those the document lists."""
    monkeypatch.setattr(
        HTTPConnection, "query_params", property(lambda c: ReadQuery(c.scope["query_string"]))
    )

    def read_by_each() -> dict[tuple[str, str], set[str]]:
        out = {}
        with httpx.Client(base_url=fuzz_world.base_url, timeout=60) as http:
            for method, path in OPERATIONS:
                url = PATH_PARAM.sub(lambda m: fuzz_world.ids[KINDS[m.group(1)]][0], path)
                operation = DOCUMENT["paths"][path][method.lower()]
                body = None if method == "GET" else b"{}"
                request = {"method": method, "url": url, "params": {}, "content": body, "headers": {}}
                ReadQuery.asked.clear()
                response = send(fuzz_world, http, {**request, "credential": _intended(operation)})
                assert response.status_code < 500, (method, path, response.status_code)
                out[method, path] = set(ReadQuery.asked)
                if 200 <= response.status_code < 300 and method != "GET":
                    renew_credentials(fuzz_world, http)
        return out

    read = await asyncio.to_thread(read_by_each)
    for method, path in OPERATIONS:
        operation = DOCUMENT["paths"][path][method.lower()]
        documented = {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}
        assert read[method, path] == documented, (method, path)
    assert any(read.values())


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
async def test_no_5xx_and_the_projections_keep_up(
    server: LiveServer, fuzz_world: World, method: str, path: str
) -> None:
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    )
    @given(batch=requests(fuzz_world, method, path))
    def fuzz(batch: list[dict[str, Any]]) -> None:
        for request in batch:
            response = send(fuzz_world, http, request)
            assert response.status_code < 500, (response.status_code, request)
            if 200 <= response.status_code < 300 and method in ("POST", "DELETE"):
                renew_credentials(fuzz_world, http)

    with httpx.Client(base_url=fuzz_world.base_url, timeout=60) as http:
        await asyncio.to_thread(fuzz)
    reached = await projections_at_head(server)
    behind = {name: at for name, at in reached.items() if at[0] < at[1]}
    assert not behind, f"projections behind the head of the log after {method} {path}: {behind}"
