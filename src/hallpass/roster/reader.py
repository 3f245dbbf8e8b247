"""Read a roster's files into records, and check them against each other and the district.

`read_roster` never raises for bad content: every problem goes into the report with its file,
line and field, and the records returned are the valid ones, each of which names only records
that are valid too (in these files or already in the district, `Known`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import TypeVar

from hallpass.roster import mapping
from hallpass.roster.mapping import (
    ClassRecord,
    CourseRecord,
    EnrollmentRecord,
    Mode,
    OrgRecord,
    Record,
    RoleRecord,
    SessionRecord,
    Status,
    UserRecord,
)
from hallpass.roster.report import Report
from hallpass.roster.source import RosterFiles
from hallpass.roster.table import Row, read_table

R = TypeVar("R", bound=Record)

VERSIONS = ("1.1", "1.2")
READ = (
    "orgs.csv",
    "users.csv",
    "roles.csv",
    "courses.csv",
    "academicsessions.csv",
    "classes.csv",
    "enrollments.csv",
)


@dataclass(frozen=True)
class Known:
    """sourcedIds the district already holds, which a delta may name without giving them."""

    schools: frozenset[str] = frozenset()
    users: frozenset[str] = frozenset()
    classes: frozenset[str] = frozenset()


@dataclass
class _Records:
    """The records every stage keeps, file by file."""

    version: str
    modes: dict[str, Mode]
    report: Report
    users: list[UserRecord] = field(default_factory=list)
    courses: list[CourseRecord] = field(default_factory=list)
    sessions: list[SessionRecord] = field(default_factory=list)
    classes: list[ClassRecord] = field(default_factory=list)
    enrollments: list[EnrollmentRecord] = field(default_factory=list)


@dataclass
class Roster(_Records):
    """The records checked against each other: the schools among the orgs, roles folded in."""

    schools: list[OrgRecord] = field(default_factory=list)


@dataclass
class Parsed(_Records):
    """Each file's well-formed records, before they are checked against each other."""

    orgs: list[OrgRecord] = field(default_factory=list)
    roles: list[RoleRecord] = field(default_factory=list)

    def references(self) -> Known:
        """Every school, user and class these files name or give: what a delta may take as known."""
        schools = {o.sourced_id for o in self.orgs} | {o for u in self.users for o in u.orgs}
        schools |= (
            {r.org for r in self.roles}
            | {c.school for c in self.classes}
            | {e.school for e in self.enrollments}
        )
        users = (
            {u.sourced_id for u in self.users}
            | {r.user for r in self.roles}
            | {e.user for e in self.enrollments}
        )
        classes = {c.sourced_id for c in self.classes} | {e.class_ for e in self.enrollments}
        return Known(frozenset(schools), frozenset(users), frozenset(classes))


def read_roster(files: RosterFiles, known: Known = Known()) -> Roster:
    return check_roster(parse_roster(files), known)


def parse_roster(files: RosterFiles) -> Parsed:
    report = Report()
    version, modes = _manifest(files, report)
    parsed = Parsed(version, modes, report)
    if not report.ok:
        return parsed

    def records(file: str, build: Callable[[Row, bool], R | None]) -> list[R]:
        mode = modes.get(file, Mode.ABSENT)
        if mode is Mode.ABSENT:
            return []
        table = read_table(file, files.texts[file], mapping.columns_for(file, version), report)
        built = [build(row, mode is Mode.DELTA) for row in table.rows]
        return _unique(file, [r for r in built if r is not None], report)

    parsed.orgs = records("orgs.csv", mapping.org)
    parsed.users = records("users.csv", lambda row, delta: mapping.user(row, delta, version))
    parsed.roles = records("roles.csv", mapping.role)
    parsed.courses = records("courses.csv", mapping.course)
    parsed.sessions = records("academicsessions.csv", mapping.session)
    parsed.classes = records("classes.csv", mapping.class_)
    parsed.enrollments = records("enrollments.csv", mapping.enrollment)
    return parsed


def check_roster(parsed: Parsed, known: Known = Known()) -> Roster:
    """The records that are valid together, given what the district already holds (`known`)."""
    report, modes = parsed.report, parsed.modes
    roster = Roster(parsed.version, modes, report)
    if not parsed.version:
        return roster
    users = parsed.users
    if parsed.version != "1.1":
        users = _with_roles(users, parsed.roles, known, report)
    roster.schools = _schools(parsed.orgs, users, parsed.classes, parsed.enrollments, report)
    school_ids = known.schools | {s.sourced_id for s in roster.schools}
    roster.users = _users(users, school_ids, report)
    roster.courses = [
        c for c in parsed.courses if _refers(report, c, "orgSourcedId", c.org, school_ids, "school")
    ]
    roster.sessions = parsed.sessions
    roster.classes = _classes(parsed.classes, school_ids, parsed.courses, parsed.sessions, modes, report)
    roster.enrollments = _enrollments(parsed.enrollments, roster, users, known, school_ids, report)
    return roster


# -- manifest ------------------------------------------------------------------------------


def _manifest(files: RosterFiles, report: Report) -> tuple[str, dict[str, Mode]]:
    if "manifest.csv" not in files.texts:
        report.error("manifest.csv", 0, "", "the roster has no manifest.csv")
        return "", {}
    table = read_table("manifest.csv", files.texts["manifest.csv"], mapping.MANIFEST, report)
    properties = {row.cells["propertyName"].strip(): row for row in table.rows}
    version_row = properties.get("oneroster.version")
    version = version_row.cells["value"].strip() if version_row else ""
    if version not in VERSIONS:
        line = version_row.line if version_row else 0
        report.error("manifest.csv", line, "oneroster.version", f"{version or 'no version'}: use 1.1 or 1.2")
    modes: dict[str, Mode] = {}
    for name, row in properties.items():
        if not name.startswith("file."):
            continue
        file = name.removeprefix("file.").lower() + ".csv"
        value = row.cells["value"].strip().lower() or Mode.ABSENT.value
        try:
            mode = Mode(value)
        except ValueError:
            report.error("manifest.csv", row.line, name, f"{value!r} is not bulk, delta or absent")
            continue
        if file not in READ or mode is Mode.ABSENT:
            continue
        if file not in files.texts:
            report.error(file, 0, "", f"manifest.csv gives it as {mode.value}, but the file is missing")
            continue
        modes[file] = mode
    if version == "1.2" and "users.csv" in modes and "roles.csv" not in modes:
        report.error("roles.csv", 0, "", "a OneRoster 1.2 roster gives users' roles in roles.csv")
    return version, modes


# -- checks across files -------------------------------------------------------------------


def _unique(file: str, records: list[R], report: Report) -> list[R]:
    first: dict[str, int] = {}
    kept = []
    for record in records:
        line = first.setdefault(record.sourced_id, record.line)
        if line != record.line:
            report.error(
                file,
                record.line,
                "sourcedId",
                f"duplicate sourcedId {record.sourced_id!r} (first on line {line})",
            )
        else:
            kept.append(record)
    duplicated = {r.sourced_id for r in records if first[r.sourced_id] != r.line}
    return [r for r in kept if r.sourced_id not in duplicated]


def _refers(
    report: Report, record: Record, column: str, target: str, known: Iterable[str], what: str
) -> bool:
    if target in known:
        return True
    report.error(record.file, record.line, column, f"unknown {what} {target!r}")
    return False


def _with_roles(
    users: list[UserRecord], roles: list[RoleRecord], known: Known, report: Report
) -> list[UserRecord]:
    """1.2: each user's role is their primary role's; their schools, those of all their roles."""
    by_user: dict[str, list[RoleRecord]] = {}
    for role in roles:
        if role.status is Status.ACTIVE:
            by_user.setdefault(role.user, []).append(role)
    user_ids = {u.sourced_id for u in users} | known.users
    for role in roles:
        if role.user not in user_ids:
            report.error(role.file, role.line, "userSourcedId", f"unknown user {role.user!r}")
    merged = []
    for user in users:
        held = sorted(by_user.get(user.sourced_id, []), key=lambda r: (not r.primary, r.line))
        if not held:
            if user.status is Status.ACTIVE:
                report.error(user.file, user.line, "sourcedId", "roles.csv gives this user no role")
            continue
        orgs = tuple(dict.fromkeys([*user.orgs, *(r.org for r in held)]))
        kind = held[0].role
        if kind in mapping.STAFF_ROLES and not user.email:
            report.error(user.file, user.line, "email", "staff need an email address to sign in")
            continue
        if kind == mapping.STUDENT and not user.grades:
            report.error(user.file, user.line, "grades", "a student needs a grade")
            continue
        merged.append(replace(user, orgs=orgs, role=kind, roles=tuple(dict.fromkeys(r.role for r in held))))
    return merged


def _schools(
    orgs: list[OrgRecord],
    users: list[UserRecord],
    classes: list[ClassRecord],
    enrollments: list[EnrollmentRecord],
    report: Report,
) -> list[OrgRecord]:
    """Orgs of type school, and orgs of another kind (a department) that something names as its
    school; district-level orgs are the district itself."""
    named = {c.school for c in classes} | {e.school for e in enrollments}
    named |= {o for u in users for o in u.orgs}
    schools = []
    for org in orgs:
        if org.type in mapping.SCHOOL_ORG_TYPES:
            schools.append(org)
        elif org.type in mapping.DISTRICT_ORG_TYPES:
            report.skipped(org.file, org.line, "type", f"a {org.type} org is the district, not a school")
        elif org.sourced_id in named:
            report.skipped(
                org.file,
                org.line,
                "type",
                f"a {org.type} taken as a school: users or classes name it as theirs",
            )
            schools.append(org)
        else:
            report.skipped(org.file, org.line, "type", f"a {org.type} that no user or class names")
    return schools


def _users(
    users: list[UserRecord], school_ids: frozenset[str] | set[str], report: Report
) -> list[UserRecord]:
    kept = []
    for user in users:
        if user.role in mapping.NOT_KEPT:
            report.skipped(user.file, user.line, "role", f"Hallpass keeps no account for a {user.role}")
            continue
        unknown = [o for o in user.orgs if o not in school_ids]
        schools = [o for o in user.orgs if o in school_ids]
        if not schools:
            field = "orgSourcedIds" if user.role is not None else "primaryOrgSourcedId"
            named = ", ".join(repr(o) for o in unknown) or "none"
            report.error(
                user.file, user.line, field, f"unknown org: the user belongs to no school (names {named})"
            )
            continue
        kept.append(user)
    return kept


def _skipped_users(users: list[UserRecord]) -> set[str]:
    return {u.sourced_id for u in users if u.role in mapping.NOT_KEPT}


def _classes(
    classes: list[ClassRecord],
    school_ids: frozenset[str] | set[str],
    courses: list[CourseRecord],
    sessions: list[SessionRecord],
    modes: dict[str, Mode],
    report: Report,
) -> list[ClassRecord]:
    course_ids = {c.sourced_id for c in courses}
    term_ids = {s.sourced_id for s in sessions}
    kept = []
    for cls in classes:
        ok = _refers(report, cls, "schoolSourcedId", cls.school, school_ids, "school")
        if modes.get("courses.csv") is Mode.BULK:
            ok = _refers(report, cls, "courseSourcedId", cls.course, course_ids, "course") and ok
        if modes.get("academicsessions.csv") is Mode.BULK:
            for term in cls.terms:
                ok = _refers(report, cls, "termSourcedIds", term, term_ids, "academic session") and ok
        if ok:
            kept.append(cls)
    return kept


def _enrollments(
    enrollments: list[EnrollmentRecord],
    roster: Roster,
    users: list[UserRecord],
    known: Known,
    school_ids: frozenset[str] | set[str],
    report: Report,
) -> list[EnrollmentRecord]:
    skipped = _skipped_users(users)
    people = known.users | {u.sourced_id for u in roster.users} | skipped
    class_ids = known.classes | {c.sourced_id for c in roster.classes}
    kept = []
    for e in enrollments:
        ok = _refers(report, e, "classSourcedId", e.class_, class_ids, "class")
        ok = _refers(report, e, "userSourcedId", e.user, people, "user") and ok
        ok = _refers(report, e, "schoolSourcedId", e.school, school_ids, "school") and ok
        if ok and e.user in skipped:
            report.skipped(e.file, e.line, "userSourcedId", f"{e.user!r} is not kept (a family member)")
        elif ok:
            kept.append(e)
    return kept
