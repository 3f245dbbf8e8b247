"""Hallway rules for tests: a school whose clock reads midday, and its rules set through the app."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import httpx

from hallpass.acting import Acting, Actor
from hallpass.bootstrap import Runtime
from hallpass.bounds import convert
from hallpass.commands.admin_messages import ChangeSchool
from hallpass.commands.keep_apart import KeepApartFields
from hallpass.commands.rules import SetBellSchedule, SetBlackouts, SetLimits
from support.api_client import ApiClient
from support.portal import PortalSchool, make_portal_school
from support.school import SchoolFixture, send_out
from support.server import LiveServer


def midday_zone(now: datetime) -> str:
    """A fixed-offset zone (no daylight saving) in which `now` is between 11:30 and 12:30, so a
    test's school day cannot end while it runs."""
    offset = 12 - round(now.astimezone(UTC).hour + now.minute / 60)
    # Etc/GMT+N is N hours behind UTC: the sign is the other way round.
    return "Etc/GMT" if offset == 0 else f"Etc/GMT{'-' if offset > 0 else '+'}{abs(offset)}"


async def school_at_midday(runtime: Runtime, school: SchoolFixture) -> str:
    """Move `school` into a zone where it is midday now; its zone's name."""
    now = datetime.now(UTC)
    zone = midday_zone(now)
    command = ChangeSchool(name=f"Rules {school.id.hex[:6]}", timezone=zone)
    outcome = await runtime.app.change_school(Acting(school.admin(), now), school.id, command)
    assert await runtime.watcher.wait_for(outcome.notification_id, timeout=15)
    return zone


async def midday_portal_school(runtime: Runtime, *, label: str, students: int) -> PortalSchool:
    """A school whose Student Portal needs no approval, where it is midday now."""
    made = await make_portal_school(runtime, label=label, needs_approval=False, students=students)
    await school_at_midday(runtime, made.school)
    return made


def overridden(shown: dict[str, Any]) -> tuple[list[str], str]:
    """The rules a pass (as the API answers it) was created over, and the reason given."""
    return shown["override"]["rules"], shown["override"]["reason"]


async def active_pass(server: LiveServer, school: SchoolFixture, student: UUID) -> dict[str, Any]:
    """The student's one active pass, as Ada reads it through the API."""
    async with ApiClient.session(server.url, school.emails["Ada"]) as ada:
        answer = await ada.passes(student_id=str(student), status="active")
    shown: dict[str, Any]
    (shown,) = answer.json()["passes"]
    return shown


def refusal(r: httpx.Response) -> dict[str, Any]:
    """The error of an API answer refused by a hallway rule (409 `rule_refused`)."""
    assert r.status_code == 409, r.text
    error: dict[str, Any] = r.json()["error"]
    assert error["code"] == "rule_refused"
    return error


async def set_rules(
    runtime: Runtime,
    admin: Actor,
    school_id: UUID,
    *,
    limits: dict[str, Any] | None = None,
    bells: dict[str, Any] | None = None,
    blackouts: list[dict[str, Any]] | None = None,
) -> None:
    """Set the rules given (each as its API body would say it), as the school's administrator."""
    now = datetime.now(UTC)
    acting = Acting(admin, now)
    if limits is not None:
        await runtime.app.set_limits(acting, school_id, convert(limits, SetLimits, now=now))
    if bells is not None:
        await runtime.app.set_bell_schedule(acting, school_id, convert(bells, SetBellSchedule, now=now))
    if blackouts is not None:
        command = convert({"blackouts": blackouts}, SetBlackouts, now=now)
        await runtime.app.set_blackouts(acting, school_id, command)


async def keep_apart_with_one_out(
    runtime: Runtime, school: SchoolFixture, first: UUID, second: UUID, now: datetime
) -> None:
    """`first` and `second` kept apart (the group "Pair", for "private words"), and `first` sent
    out to the Library, so that a pass for `second` is refused."""
    await runtime.app.form_keep_apart(
        Acting(school.admin(), now),
        school.id,
        KeepApartFields(name="Pair", student_ids=[first, second], reason="private words"),
    )
    await send_out(runtime, school, "Library", [first], now)
