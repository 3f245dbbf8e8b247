"""Reading rendered pages in tests: hidden form fields, and what a Content-Security-Policy forbids."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import httpx

from support.server import LiveServer

TEMPLATES = Path(__file__).resolve().parents[2] / "src" / "hallpass" / "http" / "templates"
URL_ATTRIBUTES = frozenset({"href", "src", "action", "formaction"})
DATA_SCRIPT_TYPES = frozenset({"application/json", "application/ld+json"})


class _Inputs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.values: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "input" and a.get("type") == "hidden" and a.get("name"):
            self.values.setdefault(str(a["name"]), a.get("value") or "")


def hidden_inputs(html: str) -> dict[str, str]:
    """The hidden fields of a page's forms (the first value of each name)."""
    parser = _Inputs()
    parser.feed(html)
    return parser.values


async def staff_browser(server: LiveServer, email: str, password: str) -> httpx.AsyncClient:
    """A cookie session signed in through the sign-in form, as a browser would."""
    client = httpx.AsyncClient(base_url=server.url, timeout=30)
    form = await client.get("/sign-in")
    signed = await client.post(
        "/sign-in",
        data={**hidden_inputs(form.text), "email": email, "password": password},
        follow_redirects=False,
    )
    assert signed.status_code == 303, signed.text
    return client


class _InlineCode(HTMLParser):
    """Collects what a CSP without 'unsafe-inline' would refuse to run or apply."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self._script_without_src = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {name.lower(): value or "" for name, value in attrs}
        for name, value in a.items():
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}=...> (inline event handler)")
            if name == "style":
                self.found.append(f"<{tag} style=...> (inline style)")
            if name in URL_ATTRIBUTES and value.strip().lower().startswith("javascript:"):
                self.found.append(f"<{tag} {name}=javascript:...>")
        if tag == "style":
            self.found.append("<style> element")
        if tag == "script":
            kind = a.get("type", "").strip().lower()
            self._script_without_src = "src" not in a and kind not in DATA_SCRIPT_TYPES

    def handle_data(self, data: str) -> None:
        if self._script_without_src and data.strip():
            self.found.append(f"inline <script>: {data.strip()[:60]!r}")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._script_without_src = False


def inline_code(html: str) -> list[str]:
    """Inline scripts, event handlers, styles and javascript: URLs in an HTML document."""
    parser = _InlineCode()
    parser.feed(html)
    parser.close()
    return parser.found


_TEMPLATE_RULES = [
    (
        re.compile(r"<script\b(?![^>]*\bsrc=)(?![^>]*type=\"application/(ld\+)?json\")", re.I),
        "inline <script>",
    ),
    (re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.I), "inline event handler"),
    (re.compile(r"<[a-z][^>]*\sstyle\s*=", re.I), "inline style attribute"),
    (re.compile(r"<style\b", re.I), "<style> element"),
    (re.compile(r"javascript:", re.I), "javascript: URL"),
]


def template_inline_code() -> list[str]:
    """Every template line that holds inline script or style, as 'path:line: what'."""
    found = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        text = path.read_text(encoding="utf-8")
        for pattern, what in _TEMPLATE_RULES:
            for match in pattern.finditer(text):
                line = text.count("\n", 0, match.start()) + 1
                found.append(f"{path.relative_to(TEMPLATES)}:{line}: {what}")
    return found
