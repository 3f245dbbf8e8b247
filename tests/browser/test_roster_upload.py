"""A district administrator uploads a OneRoster zip: the dry run's report first, which changes
nothing, then the import, with its progress shown until it is done."""

from __future__ import annotations

import zipfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect

from hallpass.bootstrap import Runtime
from hallpass.commands.admin_messages import SetUp
from support import oneroster
from support.browser import Screens, sign_in
from support.runtime import runtime_on
from support.school import PASSWORD
from support.server import live_server

pytestmark = pytest.mark.browser

ADMIN = "dana@roster.example.org"


def sample_zip(folder: Path) -> Path:
    path = folder / "oneroster-export.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for csv_file in (oneroster.samples() / "v1p1-full").iterdir():
            archive.write(csv_file, f"export/{csv_file.name}")
    return path


@asynccontextmanager
async def signed_in_admin(
    browser: Browser, database_url: str, folder: Path
) -> AsyncIterator[tuple[Runtime, Screens, Page]]:
    """A set-up instance of its own, its district administrator signed in."""
    async with runtime_on(database_url) as runtime:
        set_up = SetUp(
            district_name="Roster District",
            school_name="Roster High",
            timezone="America/Chicago",
            name="Dana Admin",
            email=ADMIN,
            password=PASSWORD,
        )
        await runtime.app.set_up(set_up, now=datetime.now(UTC))
        async with live_server(database_url, folder / "data") as server:
            screens = Screens(browser, server)
            try:
                page = await screens.page()
                await sign_in(page, server, ADMIN)
                yield runtime, screens, page
            finally:
                await screens.close()


async def test_an_upload_is_checked_then_imported(
    browser: Browser, fresh_database_url: str, tmp_path: Path
) -> None:
    async with signed_in_admin(browser, fresh_database_url, tmp_path) as (runtime, screens, page):
        await page.goto(screens.url("/admin/schools"))
        await page.get_by_role("link", name="Roster import").click()
        await page.get_by_label("Roster files (zip or CSV)").set_input_files(sample_zip(tmp_path))
        await page.get_by_role("button", name="Upload and check").click()

        await expect(page.get_by_role("status")).to_contain_text("Dry run", timeout=30_000)
        students = page.get_by_role("row", name="students")
        await expect(students.get_by_role("cell").first).to_have_text("3")
        await expect(page.get_by_text("rows skipped")).to_be_visible()
        assert await runtime.pool.fetchval("SELECT count(*) FROM dir_students") == 0

        await page.get_by_role("button", name="Import").click()
        await expect(page.get_by_role("status")).to_contain_text("Imported", timeout=30_000)
        await expect(page.get_by_role("row", name="enrolments").get_by_role("cell").first).to_have_text("2")
        for runner in runtime.runners:
            await runner.catch_up()
        assert await runtime.pool.fetchval("SELECT count(*) FROM dir_students") == 3


async def test_a_file_that_is_not_a_roster_is_refused_on_the_page(
    browser: Browser, fresh_database_url: str, tmp_path: Path
) -> None:
    async with signed_in_admin(browser, fresh_database_url, tmp_path) as (_, screens, page):
        await page.goto(screens.url("/admin/roster"))
        notes = tmp_path / "notes.txt"
        notes.write_text("not a roster")
        await page.get_by_label("Roster files (zip or CSV)").set_input_files(notes)
        await page.get_by_role("button", name="Upload and check").click()
        await expect(page.get_by_role("alert")).to_contain_text("neither a zip file nor a CSV file")
