"""Steps a person takes in the browser, shared by the browser tests."""

from __future__ import annotations

from playwright.async_api import BrowserContext, ConsoleMessage, Page, expect

from support.school import PASSWORD
from support.server import LiveServer


async def sign_in(page: Page, server: LiveServer, email: str) -> None:
    await page.goto(f"{server.url}/hall-pass")
    await expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("heading", name="Hall Pass", exact=True)).to_be_visible()


CSP_MARK = "Content Security Policy"


def watch_csp(context: BrowserContext, seen: list[str]) -> None:
    """Adds to `seen` every console message of `context`'s pages that reports a CSP violation."""

    def on_console(message: ConsoleMessage) -> None:
        if CSP_MARK in message.text:
            seen.append(f"{message.page.url if message.page else '?'}: {message.text}")

    context.on("console", on_console)
