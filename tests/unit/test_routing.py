"""The indexed router chooses the route Starlette's full search would, for every path."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, cast

import httpx
from hypothesis import given
from hypothesis import strategies as st
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Match, Mount, Route

from hallpass.bootstrap import Runtime
from hallpass.http.app import create_app
from hallpass.http.routing import IndexedRouter, literal_start
from hallpass.settings import Settings

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
APP = create_app(
    Settings(database_url=None, redis_url=None, data_dir=Path("/nonexistent"), secret_key="x" * 32),
    runtime=cast(Runtime, object()),
)
ROUTER = cast(IndexedRouter, APP.router)
SEGMENTS = sorted({s for route in ROUTER.routes for s in literal_start(route)})
PARAMETERS = ["0b8c8f3e-1d3c-4c1e-9e5e-111111111111", "x", "", "a.b", "%00", "..", "9" * 40]


def scope(method: str, path: str) -> dict[str, Any]:
    return {"type": "http", "method": method, "path": path, "root_path": "", "headers": []}


def first_full(routes: list[BaseRoute], method: str, path: str) -> BaseRoute | None:
    for route in routes:
        if route.matches(scope(method, path))[0] is Match.FULL:
            return route
    return None


def filled(path: str, value: str) -> str:
    return re.sub(r"\{[^}]*\}", value, path)


def test_the_app_routes_through_the_indexed_router_and_each_route_is_found_by_its_own_path() -> None:
    assert isinstance(APP.router, IndexedRouter)
    assert len(ROUTER.routes) > 100
    checked = 0
    for route in ROUTER.routes:
        path = getattr(route, "path", None)
        if not isinstance(path, str):
            continue
        for value in PARAMETERS:
            concrete = filled(path, value) + ("/app.css" if isinstance(route, Mount) else "")
            for method in METHODS:
                expected = first_full(ROUTER.routes, method, concrete)
                assert first_full(ROUTER.candidates(concrete), method, concrete) is expected
                checked += expected is not None
    assert checked > 300


def test_a_pass_command_tries_a_handful_of_routes_not_every_one() -> None:
    complete = "/api/v1/passes/0b8c8f3e-1d3c-4c1e-9e5e-111111111111/complete"
    assert 0 < len(ROUTER.candidates(complete)) <= 20
    assert first_full(ROUTER.candidates(complete), "POST", complete) is not None


@given(
    st.lists(st.sampled_from(SEGMENTS) | st.sampled_from(PARAMETERS) | st.text(max_size=6), max_size=7),
    st.booleans(),
    st.sampled_from(METHODS),
)
def test_any_path_gets_the_route_a_search_of_every_route_gets(
    segments: list[str], slash: bool, method: str
) -> None:
    path = "/" + "/".join(segments) + ("/" if slash and segments else "")
    expected = first_full(ROUTER.routes, method, path)
    assert first_full(ROUTER.candidates(path), method, path) is expected


async def test_405_redirects_404_and_a_route_added_later_answer_as_starlette_does() -> None:
    async def hello(request: Request) -> Response:
        return PlainTextResponse("hello " + request.path_params.get("name", ""))

    router = IndexedRouter(
        [
            Route("/a/{name}", hello, methods=["POST"]),
            Route("/b/", hello),
            Mount("/m", routes=[Route("/x", hello)]),
        ]
    )
    transport = httpx.ASGITransport(app=router)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        assert (await http.post("/a/ann")).text == "hello ann"
        wrong = await http.get("/a/ann")
        assert wrong.status_code == 405 and wrong.headers["allow"] == "POST"
        moved = await http.get("/b", follow_redirects=False)
        assert moved.status_code == 307 and moved.headers["location"] == "http://t/b/"
        assert (await http.get("/m/x")).text == "hello "
        assert (await http.get("/nowhere")).status_code == 404
        router.add_route("/nowhere/{name}", hello)
        assert (await http.get("/nowhere/now")).text == "hello now"
