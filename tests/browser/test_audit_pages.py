"""A compliance officer in the browser: a student's history, the hallway at a past moment stepped
through, and the moment downloaded as CSV."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import expect

from support.audit import a_past_pass, hire_officer
from support.browser import Screens
from support.school import SchoolFixture
from support.server import LiveServer

pytestmark = pytest.mark.browser


async def test_an_officer_reads_a_history_steps_through_a_past_moment_and_downloads_it(
    screens: Screens, server: LiveServer, own_school: SchoolFixture, tmp_path: Path
) -> None:
    student, name = own_school.student_and_name(1)
    await a_past_pass(server.runtime, own_school, student)
    officer = await screens.staff(await hire_officer(server.runtime, own_school))

    await officer.get_by_role("link", name="Audit", exact=True).first.click()
    await officer.get_by_label("Student name").fill(name.split()[0])
    await officer.get_by_role("button", name="Find").click()
    await officer.get_by_role("link", name=name).click()
    await expect(officer.get_by_role("heading", name=f"History of student {name}")).to_be_visible()
    await expect(officer.get_by_role("row", name="Pass Started")).to_contain_text("Ada")
    await expect(officer.get_by_role("row", name="Pass Completed")).to_contain_text("2026-11-24 10:36")

    await officer.get_by_role("link", name="Audit", exact=True).first.click()
    await officer.get_by_label("Date").fill("2026-11-24")
    await officer.get_by_label("Time").fill("10:33")
    await officer.get_by_role("button", name="Show the hallway").click()
    await expect(
        officer.get_by_role("heading", name="The hallway at Tuesday 2026-11-24 10:33")
    ).to_be_visible()
    await expect(officer.get_by_role("row", name=name)).to_contain_text("Nurse")

    await officer.get_by_role("link", name="10 minutes later").click()
    await expect(
        officer.get_by_role("heading", name="The hallway at Tuesday 2026-11-24 10:43")
    ).to_be_visible()
    await expect(officer.get_by_text("Nobody was out.")).to_be_visible()
    await officer.get_by_role("link", name="10 minutes earlier").click()
    await officer.get_by_role("link", name="1 minute later").click()
    await expect(
        officer.get_by_role("heading", name="The hallway at Tuesday 2026-11-24 10:34")
    ).to_be_visible()
    await expect(officer.get_by_role("row", name=name)).to_contain_text("4")

    async with officer.expect_download() as downloading:
        await officer.get_by_role("link", name="Download CSV").click()
    download = await downloading.value
    saved = tmp_path / download.suggested_filename
    await download.save_as(saved)
    lines = saved.read_text().splitlines()
    assert lines[0] == f"# school_id: {own_school.id}"
    assert lines[1].startswith("# at: 2026-11-24T10:34")
    assert any(name in line and "Nurse" in line for line in lines[5:])
