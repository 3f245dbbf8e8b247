"""A compliance officer and a pass on a past day, for the audit's tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

from hallpass.acting import Acting
from hallpass.aggregates.staff import Role
from hallpass.bootstrap import Runtime
from hallpass.commands.directory import NewStaff
from hallpass.commands.messages import CreatePasses
from hallpass.credentials import hash_password
from support.school import PASSWORD, SchoolFixture

# A Tuesday long past, 10:30 in Chicago.
PAST = datetime(2026, 11, 24, 16, 30, tzinfo=UTC)


async def hire_officer(runtime: Runtime, school: SchoolFixture) -> str:
    """Olive Officer, the school's compliance officer; her email (password `PASSWORD`)."""
    email = f"olive.{uuid4().hex[:6]}@example.org"
    now = datetime.now(UTC)
    (olive,) = await runtime.app.hire_staff(
        school.id, [NewStaff("Olive Officer", email, (Role.COMPLIANCE,), None)], now=now
    )
    await runtime.credentials.set_password_hash(
        login=email,
        principal_kind="staff",
        principal_id=olive.id,
        school_id=school.id,
        password_hash=await hash_password(PASSWORD),
        now=now,
    )
    return email


async def a_past_pass(runtime: Runtime, school: SchoolFixture, student: UUID) -> UUID:
    """Ada sent the student from Room 101 to the Nurse at 10:30 on `PAST`; back at 10:36."""
    command = CreatePasses(
        origin_id=school.rooms["Room 101"], destination_id=school.rooms["Nurse"], student_ids=[student]
    )
    outcome = await runtime.app.create_passes(Acting(school.teacher(), PAST), command)
    pass_id = UUID(outcome.body["passes"][0]["id"])
    await runtime.app.complete_pass(Acting(school.teacher(), PAST + timedelta(minutes=6)), pass_id)
    for runner in runtime.runners:
        await runner.catch_up()
    return pass_id
