"""Reading OneRoster files: both versions, lenient about layout, exact about what is wrong."""

from __future__ import annotations

import io
import zipfile
from datetime import date

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from hallpass.roster import values
from hallpass.roster.mapping import Mode, Status
from hallpass.roster.reader import Known, read_roster
from hallpass.roster.report import Problem, Severity
from hallpass.roster.source import RosterFiles, open_roster, read_zip
from support import oneroster
from support.oneroster import ENROLLMENTS, ORGS, USERS, csv_text, roster


def errors(files: RosterFiles, known: Known = Known()) -> list[tuple[str, int, str]]:
    return [(p.file, p.line, p.field) for p in read_roster(files, known).report.errors]


@pytest.mark.parametrize("version", ["v1p1-full", "v1p2-full"])
def test_the_shared_samples_read_without_errors(version: str) -> None:
    read = read_roster(open_roster(oneroster.samples() / version))
    assert read.report.errors == []
    assert [s.sourced_id for s in read.schools] == ["org-sch-222-456"]
    students = sorted(u.sourced_id for u in read.users if u.role == "student")
    assert students == ["usr-222-1234561232", "usr-222-567891", "usr-222-66778899"]
    assert {c.sourced_id: c.homeroom for c in read.classes} == {
        "cls-222-123456": False,
        "cls-222-123478": True,
    }
    assert {c.sourced_id: c.status for c in read.classes}["cls-222-123478"] is Status.TOBEDELETED
    assert len(read.enrollments) == 6


def test_the_1p2_sample_takes_roles_from_roles_csv() -> None:
    read = read_roster(open_roster(oneroster.samples() / "v1p2-full"))
    roles = {u.sourced_id: u.role for u in read.users}
    assert roles["usr-222-123456"] == "teacher"  # primary teacher, secondary guardian
    assert roles["usr-222-1234561"] == "siteadministrator"
    assert read.version == "1.2"


def test_a_zip_reads_as_its_folder_does() -> None:
    folder = oneroster.samples() / "v1p1-full"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in folder.iterdir():
            archive.write(path, f"export/{path.name}")
    from_zip = read_roster(read_zip(buffer.getvalue(), origin="upload.zip"))
    from_folder = read_roster(open_roster(folder))
    assert from_zip.users == from_folder.users
    assert from_zip.enrollments == from_folder.enrollments


def test_a_missing_required_column_is_reported_on_the_header_line() -> None:
    text = csv_text(USERS, ["sourcedId", "enabledUser", "orgSourcedIds", "role", "username", "familyName"])
    assert ("users.csv", 1, "givenName") in errors(roster(users=text))


def test_a_bad_date_names_its_line_and_column() -> None:
    rows = [dict(ORGS[0], dateLastModified="31/31/2026")]
    read = read_roster(roster(orgs=rows))
    bad = [p for p in read.report.errors if p.file == "orgs.csv"]
    assert [(p.line, p.field) for p in bad] == [(2, "dateLastModified")]
    assert "not a date" in bad[0].reason
    assert read.schools == []  # and what names that school is refused in turn


def test_an_unknown_org_is_reported_on_the_user_line() -> None:
    users = [*USERS, dict(USERS[1], sourcedId="s-9", orgSourcedIds="sch-404")]
    problems = read_roster(roster(users=users)).report.errors
    assert (problems[0].file, problems[0].line, problems[0].field) == ("users.csv", 6, "orgSourcedIds")
    assert "unknown org" in problems[0].reason and "sch-404" in problems[0].reason


def test_a_duplicate_sourced_id_is_reported_and_neither_copy_is_kept() -> None:
    users = [*USERS, dict(USERS[2], givenName="Other")]
    read = read_roster(roster(users=users))
    assert ("users.csv", 6, "sourcedId") in errors(roster(users=users))
    assert "s-2" not in {u.sourced_id for u in read.users}


def test_a_role_hallpass_does_not_know_is_an_error() -> None:
    users = [*USERS, dict(USERS[1], sourcedId="s-9", role="wizard")]
    read = read_roster(roster(users=users))
    assert [(p.line, p.field) for p in read.report.errors] == [(6, "role")]
    assert "wizard" in read.report.errors[0].reason


def test_parents_are_skipped_not_errors() -> None:
    users = [*USERS, dict(USERS[1], sourcedId="p-1", role="parent")]
    read = read_roster(roster(users=users))
    assert read.report.ok
    assert read.report.skips[0] == Problem(
        "users.csv", 6, "role", "Hallpass keeps no account for a parent", Severity.SKIPPED
    )


def test_enrolments_that_name_unknown_classes_or_users_are_errors() -> None:
    enrollments = [
        *ENROLLMENTS,
        dict(ENROLLMENTS[1], sourcedId="e-x", classSourcedId="c-404", userSourcedId="s-404"),
    ]
    assert errors(roster(enrollments=enrollments)) == [
        ("enrollments.csv", 6, "classSourcedId"),
        ("enrollments.csv", 6, "userSourcedId"),
    ]


def test_a_delta_may_name_what_the_district_already_holds() -> None:
    delta = roster(
        mode="delta",
        orgs=None,
        users=None,
        classes=None,
        enrollments=[
            dict(ENROLLMENTS[1], sourcedId="e-new", status="active", dateLastModified="2026-10-01T08:00:00Z")
        ],
    )
    assert set(errors(delta)) == {
        ("enrollments.csv", 2, "classSourcedId"),
        ("enrollments.csv", 2, "userSourcedId"),
        ("enrollments.csv", 2, "schoolSourcedId"),
    }
    known = Known(schools=frozenset({"sch-1"}), users=frozenset({"s-1"}), classes=frozenset({"c-1"}))
    read = read_roster(delta, known)
    assert read.report.ok and read.modes == {"enrollments.csv": Mode.DELTA}


def test_a_delta_row_needs_its_status() -> None:
    delta = roster(mode="delta", orgs=[dict(ORGS[0], status="")], users=None, classes=None, enrollments=None)
    assert errors(delta) == [("orgs.csv", 2, "status")]


def test_a_file_the_manifest_names_must_be_there() -> None:
    files = roster()
    del files.texts["classes.csv"]
    assert ("classes.csv", 0, "") in errors(files)


def test_a_class_with_an_unknown_course_is_an_error_when_courses_are_given() -> None:
    courses = [{"sourcedId": "crs-2", "title": "Maths", "orgSourcedId": "sch-1"}]
    assert [e for e in errors(roster(courses=courses)) if e[0] == "classes.csv"] == [
        ("classes.csv", 2, "courseSourcedId")
    ]


# -- layout: column order, extra columns, blank optionals, date formats -----------------------

USER_COLUMNS = [
    *dict.fromkeys(k for row in USERS for k in row),
    "middleName",
    "status",
    "dateLastModified",
]
day_formats = st.sampled_from(
    ["%Y-%m-%d", "%d/%m/%Y", "%Y/%m/%d", "%Y-%m-%dT%H:%M:%S.000Z", "%Y-%m-%dT%H:%M:%SZ"]
)


@given(
    order=st.permutations(USER_COLUMNS),
    extra=st.lists(st.from_regex(r"ext_[a-z]{1,8}", fullmatch=True), max_size=3, unique=True),
    blank=st.sets(st.sampled_from(["middleName", "status", "dateLastModified", "identifier"])),
    day=st.dates(date(2000, 1, 1), date(2099, 12, 31)),
    style=day_formats,
    case=st.booleans(),
)
def test_layout_does_not_change_what_is_read(
    order: list[str], extra: list[str], blank: set[str], day: date, style: str, case: bool
) -> None:
    rows = [
        {
            **row,
            "middleName": "Q",
            "status": "active",
            "dateLastModified": day.strftime(style),
            **{e: "x,y" for e in extra},
        }
        for row in USERS
    ]
    rows = [{k: ("" if k in blank else v) for k, v in row.items()} for row in rows]
    header = [c.upper() if case else c for c in order] + extra
    text = csv_text(
        [{h: row.get(c, "") for h, c in zip(header, order + extra, strict=True)} for row in rows], header
    )
    read = read_roster(roster(users=text))
    assert read.report.errors == []
    expected = read_roster(roster()).users
    expected_ids = [None if "identifier" in blank else u.identifier for u in expected]
    assert [u.identifier for u in read.users] == expected_ids
    assert [(u.sourced_id, u.given_name, u.role, u.grades, u.status) for u in read.users] == [
        (u.sourced_id, u.given_name, u.role, u.grades, u.status) for u in expected
    ]


@given(day=st.dates(date(1990, 1, 1), date(2100, 12, 31)), style=day_formats)
@example(day=date(2023, 6, 15), style="%d/%m/%Y")
@example(day=date(2023, 5, 1), style="%d/%m/%Y")
def test_every_date_format_reads_as_its_day(day: date, style: str) -> None:
    assert values.day(day.strftime(style)) == day


def test_month_first_is_read_when_day_first_cannot_be() -> None:
    assert values.day("06/15/2023") == date(2023, 6, 15)


@pytest.mark.parametrize("raw", ["2023-13-01", "tomorrow", "1/2", "2023-02-30"])
def test_a_bad_date_is_refused(raw: str) -> None:
    with pytest.raises(ValueError):
        values.day(raw)
