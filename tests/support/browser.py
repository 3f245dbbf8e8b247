"""Steps a person takes in the browser, shared by the browser tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from uuid import UUID

from playwright.async_api import Browser, BrowserContext, ConsoleMessage, Page, ViewportSize, expect

from support.portal import NEW_PASSWORD, StudentClient, hall_pass_id
from support.school import PASSWORD, SchoolFixture
from support.server import LiveServer

DESKTOP: ViewportSize = {"width": 1280, "height": 900}
TABLET: ViewportSize = {"width": 1024, "height": 768}
PHONE: ViewportSize = {"width": 390, "height": 844}


async def sign_in(page: Page, server: LiveServer, email: str) -> None:
    await page.goto(f"{server.url}/hall-pass")
    await expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("heading", name="Hall Pass", exact=True)).to_be_visible()


async def create_in_portal(page: Page, school: SchoolFixture, place: str) -> None:
    """In the Student Portal: Create Pass, from Room 101 to `place`, and Create."""
    await page.get_by_role("link", name="Create Pass").click()
    await page.get_by_label("Leaving From").select_option(str(school.rooms["Room 101"]))
    await page.get_by_label("Going To").select_option(str(school.rooms[place]))
    await page.get_by_role("button", name="Create", exact=True).click()


async def create_at_kiosk(page: Page, base_url: str, name: str, place: str) -> None:
    """At a kiosk (served at `base_url`): the student `name` found, `place` picked, Create Pass."""
    await page.goto(f"{base_url}/kiosk/create?q={name}")
    await page.get_by_role("button", name="Next Step").click()
    await page.get_by_label(place).check()
    await page.get_by_role("button", name="Next Step").click()
    await page.get_by_role("button", name="Create Pass").click()


CSP_MARK = "Content Security Policy"


def watch_csp(context: BrowserContext, seen: list[str]) -> None:
    """Adds to `seen` every console message of `context`'s pages that reports a CSP violation."""

    def on_console(message: ConsoleMessage) -> None:
        if CSP_MARK in message.text:
            seen.append(f"{message.page.url if message.page else '?'}: {message.text}")

    context.on("console", on_console)


@dataclass
class Screens:
    """The pages one test opens, each in a browser context of its own (a device of its own),
    all closed when the test ends so that no live stream outlives it."""

    browser: Browser
    server: LiveServer
    contexts: list[BrowserContext] = field(default_factory=list)

    def url(self, path: str) -> str:
        return f"{self.server.url}{path}"

    async def page(self, viewport: ViewportSize = DESKTOP) -> Page:
        context = await self.browser.new_context(viewport=viewport)
        self.contexts.append(context)
        return await context.new_page()

    async def staff(self, email: str, viewport: ViewportSize = DESKTOP) -> Page:
        """A member of staff signed in on the dashboard."""
        page = await self.page(viewport)
        await sign_in(page, self.server, email)
        return page

    async def kiosk(self, token: str, viewport: ViewportSize = TABLET) -> Page:
        """A device in kiosk mode (it holds the kiosk's token), on the kiosk's start screen."""
        page = await self.page(viewport)
        await page.context.add_cookies([{"name": "hallpass_kiosk", "value": token, "url": self.server.url}])
        await page.goto(self.url("/kiosk"))
        await expect(page.get_by_role("heading", name="Welcome to the Hall Pass Kiosk")).to_be_visible()
        return page

    async def student(self, school_id: UUID, student: UUID, viewport: ViewportSize = PHONE) -> Page:
        """A student who already chose a password, signed in on the portal's home page."""
        sid = await hall_pass_id(self.server.runtime, student)
        api = StudentClient(self.server.url, school_id)
        await api.ready(sid)
        await api.close()
        page = await self.page(viewport)
        await page.goto(self.url(f"/portal/{school_id}"))
        await page.get_by_label("Hall pass ID or #school ID").fill(sid)
        await page.get_by_label("Password").fill(NEW_PASSWORD)
        await page.get_by_role("button", name="Sign in").click()
        await expect(page.get_by_role("heading", name="Welcome")).to_be_visible()
        return page

    async def close(self) -> None:
        for context in self.contexts:
            await context.close()
        self.contexts.clear()
