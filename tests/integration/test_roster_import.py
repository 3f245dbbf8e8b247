"""Importing OneRoster rosters: matched by sourcedId, idempotent, all or nothing, every change caused."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TypedDict, Unpack
from uuid import UUID

import pytest

from hallpass.acting import ActedBy, Acting, Actor
from hallpass.aggregates import ids
from hallpass.aggregates.administration import Claim
from hallpass.aggregates.classes import Enrolment, SchoolClass
from hallpass.aggregates.locations import LocationKind
from hallpass.aggregates.students import Student
from hallpass.bootstrap import Runtime
from hallpass.commands.directory import NewLocation
from hallpass.commands.messages import CreatePasses
from hallpass.errors import StudentInactive
from hallpass.roster.outcome import Change, ImportOutcome, Kind
from hallpass.roster.source import RosterFiles, open_roster
from support import oneroster
from support.oneroster import ENROLLMENTS, ORGS, USERS, csv_text, roster

NOW = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)
BY: ActedBy = {"actor_kind": "system", "actor_id": None}


async def district(runtime: Runtime) -> UUID:
    return (await runtime.app.found_district(name="Roster District", now=NOW)).id


class Flags(TypedDict, total=False):
    dry_run: bool
    valid_rows: bool


async def run(
    runtime: Runtime, district_id: UUID, files: RosterFiles, **flags: Unpack[Flags]
) -> ImportOutcome:
    """`files` imported into the district at NOW, with the import's `flags` (`dry_run`,
    `valid_rows`); the projections caught up."""
    outcome = await runtime.app.import_roster(
        files, district_id=district_id, now=NOW, by=BY, timezone="America/Chicago", **flags
    )
    for runner in runtime.runners:
        await runner.catch_up()
    return outcome


async def head(runtime: Runtime) -> int | None:
    return await runtime.store.max_notification_id()


async def student(runtime: Runtime, district_id: UUID, sourced_id: str) -> Student:
    claim = await runtime.app.repository.find(ids.sourced_id_index(district_id, sourced_id), Claim)
    assert claim is not None and claim.owner_id is not None
    found = await runtime.app.repository.find(claim.owner_id, Student)
    assert found is not None
    return found


@pytest.mark.parametrize("version", ["v1p1-full", "v1p2-full"])
async def test_a_shared_sample_imports_and_again_appends_nothing(runtime: Runtime, version: str) -> None:
    district_id = await district(runtime)
    files = open_roster(oneroster.samples() / version)
    first = await run(runtime, district_id, files)
    assert first.applied and first.report.ok
    assert first.counts[Kind.STUDENTS][Change.ADDED] == 3
    assert first.counts[Kind.CLASSES][Change.ADDED] == 1  # the other is to be deleted
    rows = await runtime.pool.fetch("SELECT first_name, sourced_id FROM dir_students ORDER BY sourced_id")
    assert [r["sourced_id"] for r in rows] == ["usr-222-1234561232", "usr-222-567891", "usr-222-66778899"]
    classes = await runtime.pool.fetch("SELECT title, room_id FROM roster_classes")
    assert [c["title"] for c in classes] == ["Introduction to Physics"]
    assert classes[0]["room_id"] is not None

    before = await head(runtime)
    again = await run(runtime, district_id, files)
    assert again.applied and again.events == 0 and again.changes == 0
    assert await head(runtime) == before


async def test_a_delta_changes_only_what_it_names(runtime: Runtime) -> None:
    district_id = await district(runtime)
    await run(runtime, district_id, roster())
    before = await head(runtime)
    renamed = dict(USERS[2], givenName="Renamed", status="active", dateLastModified="2026-10-01")
    delta = roster(mode="delta", orgs=None, classes=None, enrollments=None, users=[renamed])
    outcome = await run(runtime, district_id, delta)
    assert outcome.applied and outcome.events == 1
    assert {k: dict(c) for k, c in outcome.counts.items()} == {Kind.STUDENTS: {Change.CHANGED: 1}}
    assert await head(runtime) == (before or 0) + 1
    names = {r["sourced_id"]: r["first_name"] for r in await runtime.pool.fetch("SELECT * FROM dir_students")}
    assert names == {"s-1": "Pupil1", "s-2": "Renamed", "s-3": "Pupil3"}


async def test_tobedeleted_deactivates_and_the_student_gets_no_pass(runtime: Runtime) -> None:
    district_id = await district(runtime)
    await run(runtime, district_id, roster())
    gone = dict(USERS[1], status="tobedeleted", dateLastModified="2026-10-01")
    outcome = await run(
        runtime, district_id, roster(mode="delta", orgs=None, classes=None, enrollments=None, users=[gone])
    )
    assert {k: dict(c) for k, c in outcome.counts.items()} == {Kind.STUDENTS: {Change.DEACTIVATED: 1}}
    pupil = await student(runtime, district_id, "s-1")
    assert pupil.active is False and pupil.first_name == "Pupil1"  # history stays
    row = await runtime.pool.fetchrow("SELECT active FROM dir_students WHERE student_id = $1", pupil.id)
    assert row["active"] is False

    (restroom,) = await runtime.app.add_locations(
        pupil.school_id, [NewLocation("Restroom", LocationKind.RESTROOM, 5)], now=NOW
    )
    teacher = Actor("staff", None, pupil.school_id, "teacher", "Ada")
    assert pupil.homeroom_id is not None
    command = CreatePasses(origin_id=pupil.homeroom_id, destination_id=restroom.id, student_ids=[pupil.id])
    with pytest.raises(StudentInactive):
        await runtime.app.create_passes(Acting(teacher, datetime.now(UTC)), command)


async def test_every_change_names_the_import_file_and_line(runtime: Runtime) -> None:
    district_id = await district(runtime)
    outcome = await run(runtime, district_id, roster())
    pupil = await student(runtime, district_id, "s-2")
    (created,) = [
        runtime.app.repository.mapper.to_domain_event(e) for e in await runtime.store.read_stream(pupil.id)
    ]
    assert isinstance(created, Student.Registered)
    assert created.cause == {"kind": "import", "import_id": outcome.import_id, "file": "users.csv", "line": 4}
    enrolment = await runtime.app.repository.find(ids.enrolment_id(district_id, "e-s2"), Enrolment)
    assert enrolment is not None and enrolment.person_id == pupil.id
    homeroom = await runtime.app.repository.find(ids.class_id(district_id, "c-1"), SchoolClass)
    assert homeroom is not None and pupil.homeroom_id == homeroom.room_id is not None


async def test_a_teacher_sees_their_classes_first(runtime: Runtime) -> None:
    district_id = await district(runtime)
    second = dict(
        oneroster.CLASSES[0], sourcedId="c-2", title="Art", classType="scheduled", location="Art Room"
    )
    await run(runtime, district_id, roster(classes=[*oneroster.CLASSES, second]))
    teacher = await runtime.pool.fetchrow("SELECT staff_id, school_id, room_id FROM dir_staff")
    classes = await runtime.classes.classes(teacher["school_id"], teacher_id=teacher["staff_id"])
    assert [(c["title"], c["mine"], c["students"]) for c in classes] == [
        ("Homeroom 7A", True, 3),
        ("Art", False, 0),
    ]
    assert teacher["room_id"] == classes[0]["room_id"]


async def test_a_dry_run_says_what_would_change_and_changes_nothing(runtime: Runtime) -> None:
    district_id = await district(runtime)
    before = await head(runtime)
    outcome = await run(runtime, district_id, roster(), dry_run=True)
    assert not outcome.applied and outcome.events > 0
    assert outcome.counts[Kind.STUDENTS][Change.ADDED] == 3
    assert outcome.counts[Kind.ENROLMENTS][Change.ADDED] == 4
    assert await head(runtime) == before


BAD_FILES = {
    "missing required column": (
        {
            "users": csv_text(
                USERS, ["sourcedId", "enabledUser", "orgSourcedIds", "role", "username", "familyName"]
            )
        },
        ("users.csv", 1, "givenName"),
    ),
    "bad date": (
        {"enrollments": [dict(ENROLLMENTS[1], beginDate="2026-02-30"), *ENROLLMENTS[2:]]},
        ("enrollments.csv", 2, "beginDate"),
    ),
    "unknown org": (
        {"users": [*USERS, dict(USERS[1], sourcedId="s-9", orgSourcedIds="nowhere")]},
        ("users.csv", 6, "orgSourcedIds"),
    ),
    "duplicate sourcedId": ({"users": [*USERS, dict(USERS[3])]}, ("users.csv", 6, "sourcedId")),
    "unknown role": (
        {"users": [*USERS, dict(USERS[1], sourcedId="s-9", role="janitor")]},
        ("users.csv", 6, "role"),
    ),
    "unknown org type": ({"orgs": [dict(ORGS[0], type="galaxy")]}, ("orgs.csv", 2, "type")),
}


@pytest.mark.parametrize("kind", BAD_FILES)
async def test_a_bad_file_gets_its_line_report_and_changes_nothing(runtime: Runtime, kind: str) -> None:
    district_id = await district(runtime)
    files, where = BAD_FILES[kind]
    before = await head(runtime)
    outcome = await run(runtime, district_id, roster(**files))  # type: ignore[arg-type]
    assert not outcome.applied
    assert where in [(p.file, p.line, p.field) for p in outcome.report.errors]
    assert await head(runtime) == before


async def test_the_valid_rows_are_imported_when_asked(runtime: Runtime) -> None:
    district_id = await district(runtime)
    users = [*USERS, dict(USERS[1], sourcedId="s-9", role="janitor")]
    outcome = await run(runtime, district_id, roster(users=users), valid_rows=True)
    assert outcome.applied and [(p.line, p.field) for p in outcome.report.errors] == [(6, "role")]
    assert outcome.counts[Kind.STUDENTS][Change.ADDED] == 3
