"""The demo school in a bench's database: seeded through the commands, and served by uvicorn in
this process (the test suite's `support.server`, so `tests/` must be on `sys.path`)."""

from __future__ import annotations

import sys
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

import httpx

from hallpass.bootstrap import Runtime
from hallpass.seed import DEMO_PASSWORD, DemoSchool, seed_demo_school

DIRECTORY_ARRAYS = """
s AS (SELECT array_agg(student_id ORDER BY hall_pass_id) AS a FROM dir_students WHERE school_id = $1),
rooms AS (SELECT array_agg(location_id ORDER BY name) AS a FROM dir_locations
          WHERE school_id = $1 AND kind = 'classroom'),
places AS (SELECT array_agg(location_id ORDER BY name) AS a FROM dir_locations
           WHERE school_id = $1 AND kind <> 'classroom'),
staff AS (SELECT array_agg(staff_id ORDER BY name) AS a FROM dir_staff WHERE school_id = $1)"""
"""SQL common table expressions for a generated load: the school `$1`'s students, classrooms,
other places and staff, each as one array `a` in a fixed order."""


async def seed_demo(runtime: Runtime, now: datetime | None = None) -> DemoSchool:
    """The demo school, seeded into `runtime`'s empty database, with the projections caught up."""
    print("seeding the demo school ...", file=sys.stderr)
    demo = await seed_demo_school(runtime, now=now or datetime.now(UTC))
    assert demo is not None
    for runner in runtime.runners:
        await runner.catch_up()
    return demo


@asynccontextmanager
async def demo_client(
    database_url: str, *, timeout: float, email: str | None = None, own_process: bool = False
) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the app served over `database_url` without projectors, its start-up heap
    frozen as `hallpass web` freezes it (decision 106); with a bearer token of `email` (the demo
    password) where given. `own_process`: the app runs in a web process of its own, as `hallpass
    web` runs it (`bench/passes.py --serve`), so the client's work is not the server's; otherwise
    under uvicorn in this process."""
    async with (
        served(database_url, own_process) as url,
        httpx.AsyncClient(base_url=url, timeout=timeout) as http,
    ):
        if email is not None:
            r = await http.post("/api/v1/auth/token", json={"email": email, "password": DEMO_PASSWORD})
            r.raise_for_status()
            http.headers["Authorization"] = f"Bearer {r.json()['token']}"
        yield http


@asynccontextmanager
async def served(database_url: str, own_process: bool) -> AsyncIterator[str]:
    """The base URL of the app served over `database_url` (see `demo_client`)."""
    from support.server import free_port, live_server

    if own_process:
        from passes import start_child, stop_server, wait_ready

        port = free_port()
        child = start_child("--serve", database_url, str(port))
        try:
            await wait_ready(child)
            yield f"http://127.0.0.1:{port}"
        finally:
            stop_server(child)
        return
    with tempfile.TemporaryDirectory(prefix="hallpass-bench-") as data_dir:
        data = Path(data_dir)
        async with live_server(database_url, data, with_projectors=False, settle_heap=True) as server:
            yield server.url
