import secrets
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
import redis
from playwright.async_api import Browser, BrowserContext, Page, async_playwright, expect

from support.browser import Screens, watch_csp
from support.fixtures import other_school, other_teacher, own_school, own_teacher, school, server, teacher
from support.server import LiveServer, live_server
from support.worker import Worker, workers

__all__ = [
    "browser",
    "csp_violations",
    "other_school",
    "other_teacher",
    "own_school",
    "own_teacher",
    "school",
    "server",
    "teacher",
]

# A page's expectations wait up to 15 s (Playwright's default is 5 s): on a loaded two-core machine
# a live update can take longer than 5 s to arrive, and waiting longer costs nothing when it is quick.
expect.set_options(timeout=15_000)

CHROMIUM = Path("/usr/bin/chromium")
HAVE_CHROMIUM = CHROMIUM.exists()
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def browser() -> AsyncIterator[Browser]:
    if not HAVE_CHROMIUM:
        pytest.skip("Debian's chromium is not installed (ops/test installs it as root)")
    async with async_playwright() as p:
        chromium = await p.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        yield chromium
        await chromium.close()


@pytest_asyncio.fixture(loop_scope="session")
async def screens(browser: Browser, server: LiveServer) -> AsyncIterator[Screens]:
    """Pages for one test, each on a device of its own; all closed when the test ends."""
    opened = Screens(browser, server)
    yield opened
    await opened.close()


@pytest_asyncio.fixture(loop_scope="session")
async def empty_screens(browser: Browser, fresh_database_url: str, tmp_path: Path) -> AsyncIterator[Screens]:
    """Pages for one test on a server of its own over an empty database: nothing is set up yet."""
    async with live_server(fresh_database_url, tmp_path) as empty:
        opened = Screens(browser, empty)
        try:
            yield opened
        finally:
            await opened.close()


@pytest.fixture(scope="module")
def timer_worker(database_url: str, redis_url: str) -> Iterator[Worker]:
    """One real timer worker for the browser server's database, for the module that asks for it:
    left running, it went on expiring that module's passes as they fell due during later
    modules, whose checks that a refused request wrote no event then saw one."""
    namespace = f"hallpass-browser-{secrets.token_hex(6)}"
    with workers(database_url, redis_url, namespace) as started:
        yield started[0]
    client = redis.Redis.from_url(redis_url)
    try:
        keys = list(client.scan_iter(match=f"{namespace}*"))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


@pytest.fixture(autouse=True)
def csp_violations(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every browser test fails if any page it opens reports a Content-Security-Policy violation
    in the console: each context the test makes (directly or through Browser.new_page) is watched.
    """
    seen: list[str] = []
    new_context, new_page = Browser.new_context, Browser.new_page

    async def watched_context(self: Browser, *args: Any, **kwargs: Any) -> BrowserContext:
        context = await new_context(self, *args, **kwargs)
        watch_csp(context, seen)
        return context

    async def watched_page(self: Browser, *args: Any, **kwargs: Any) -> Page:
        page = await new_page(self, *args, **kwargs)
        watch_csp(page.context, seen)
        return page

    monkeypatch.setattr(Browser, "new_context", watched_context)
    monkeypatch.setattr(Browser, "new_page", watched_page)
    yield seen
    assert seen == [], "Content-Security-Policy violations reported in the console"
