"""axe-core, kept with the tests (tests/browser/vendor/axe-core, MPL-2.0), run on a page.

The page's Content-Security-Policy allows no inline script, so axe is not added as a script tag:
it is an init script of the browser context (Playwright adds it through the DevTools protocol,
outside the page's policy), present in every page the context opens after `watch_with_axe`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.async_api import Page

AXE = Path(__file__).parents[1] / "browser" / "vendor" / "axe-core" / "axe.min.js"
FAILING = ("serious", "critical")


async def with_axe(page: Page) -> Page:
    """`page`, whose context loads axe into every document it opens from now on (the page it
    shows already is loaded again)."""
    await page.context.add_init_script(path=AXE)
    if page.url != "about:blank":
        await page.reload()
    return page


def described(violation: dict[str, Any]) -> str:
    where = "; ".join(" ".join(node["target"]) for node in violation["nodes"][:4])
    return f"{violation['impact']} {violation['id']}: {violation['help']} ({where})"


async def serious_violations(page: Page) -> list[str]:
    """Every serious or critical axe-core violation of the page as it is now, described."""
    result = await page.evaluate(
        "() => axe.run(document, {resultTypes: ['violations'], runOnly: {type: 'tag',"
        " values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}})"
    )
    return [f"{page.url}: {described(v)}" for v in result["violations"] if v["impact"] in FAILING]
