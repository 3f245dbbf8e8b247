"""A school administrator opens Reports in the browser: every report's chart is drawn (under the
Content-Security-Policy, which the autouse fixture watches), and each downloaded CSV holds
exactly the rows of the table under its chart."""

from __future__ import annotations

import csv
import io
import random
import re
from datetime import date
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from hallpass.projections.reports import REPORTS
from support.browser import Screens
from support.report_month import save_month
from support.school import SchoolFixture
from support.server import LiveServer

pytestmark = pytest.mark.browser
OWN_SCHOOL_STUDENTS = 8


async def painted(page: Page, name: str) -> int:
    """How many pixels of the report's canvas are not blank."""
    count = await page.evaluate(
        """(name) => {
            const c = document.querySelector(`canvas[data-chart="${name}"]`);
            const data = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
            let n = 0;
            for (let i = 3; i < data.length; i += 4) if (data[i] !== 0) n++;
            return n;
        }""",
        name,
    )
    assert isinstance(count, int)
    return count


async def table_rows(page: Page, name: str) -> list[list[str]]:
    rows = await page.evaluate(
        """(name) => Array.from(
            document.querySelectorAll(`table[data-report-table="${name}"] tr`),
            (tr) => Array.from(tr.querySelectorAll("th, td"), (cell) => cell.textContent.trim()))""",
        name,
    )
    assert isinstance(rows, list)
    return rows


async def test_the_reports_page_draws_every_chart_and_each_csv_matches_its_table(
    screens: Screens, server: LiveServer, own_school: SchoolFixture, tmp_path: Path
) -> None:
    await save_month(server.runtime, random.Random(7), own_school, date(2026, 10, 1), 31)
    for runner in server.runtime.runners:
        await runner.catch_up()
    admin = await screens.staff(own_school.emails["Cleo"])

    await admin.get_by_role("link", name="Reports", exact=True).first.click()
    await admin.get_by_label("From").fill("2026-10-01")
    await admin.get_by_label("To").fill("2026-10-31")
    await admin.get_by_role("button", name="Show the reports").click()
    await expect(admin.locator("h1")).to_have_text(re.compile(r"^Reports · \w+ School$"))

    for name, title in REPORTS.items():
        section = admin.locator(f"#report-{name}")
        await expect(section.get_by_role("heading", name=title)).to_be_visible()
        await expect(section.locator("canvas")).to_have_attribute("data-drawn", "true")
        assert await painted(admin, name) > 500, name

        shown = await table_rows(admin, name)
        assert len(shown) > 1 and "No passes in these days." not in shown[1], name
        async with admin.expect_download() as downloading:
            await section.get_by_role("link", name="Download CSV").click()
        download = await downloading.value
        saved = tmp_path / download.suggested_filename
        await download.save_as(saved)
        text = saved.read_text(encoding="utf-8")
        assert "# from: 2026-10-01" in text and "# to: 2026-10-31" in text
        body = "\n".join(line for line in text.splitlines() if not line.startswith("# "))
        assert list(csv.reader(io.StringIO(body))) == shown, name
