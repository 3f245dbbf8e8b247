"""Import a OneRoster roster as one command: every change an event that names its file and line.

The import reads the files, loads every record they name (matched by `sourcedId`, through the
district's index streams and the ids that follow from a class's or enrolment's `sourcedId`),
decides what differs, and saves all of it in one unit of work, so in one transaction: nothing is
half-imported, and a record that is already as the file says appends nothing (decision 077).
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.domain import Aggregate

from hallpass import messages
from hallpass.acting import ActedBy
from hallpass.aggregates import ids
from hallpass.aggregates.administration import Cause, Claim, revise, switch
from hallpass.aggregates.classes import Enrolment, Member, SchoolClass
from hallpass.aggregates.districts import District
from hallpass.aggregates.locations import Location, LocationKind
from hallpass.aggregates.schools import School
from hallpass.aggregates.staff import Staff, ordered_roles
from hallpass.aggregates.students import Student
from hallpass.commands.base import MAX_ATTEMPTS, CommandBase
from hallpass.commands.repository import ConcurrentChange, UnitOfWork
from hallpass.errors import Conflict, NotFound
from hallpass.roster import mapping
from hallpass.roster.mapping import ClassRecord, EnrollmentRecord, OrgRecord, Record, Status, UserRecord
from hallpass.roster.outcome import Change, ImportOutcome, Kind
from hallpass.roster.reader import Known, Roster, check_roster, parse_roster
from hallpass.roster.source import RosterFiles

A = TypeVar("A", bound=Aggregate)

ROOM_MINUTES = 10
"""Time allotted to a classroom the import adds (the school changes it in the admin pages)."""

Progress = Callable[[str], Awaitable[None]]
"""Told each stage of the import as it begins (a progress bar, a page's progress display)."""


def import_id_of(files: RosterFiles) -> str:
    """The same files give the same id: an import names its files' contents, not its moment."""
    digest = hashlib.sha256()
    for name in sorted(files.texts):
        digest.update(name.encode())
        digest.update(files.texts[name].encode())
    return digest.hexdigest()[:16]


@dataclass
class _State:
    """What the district holds of the records these files name, as this unit of work read it."""

    district: District
    schools: dict[UUID, School]
    claims: dict[UUID, Claim]
    people: dict[UUID, Student | Staff]
    classes: dict[UUID, SchoolClass]
    enrolments: dict[UUID, Enrolment]
    rooms: dict[tuple[UUID, str], UUID]
    """A school's locations by folded name."""
    highest_hall_pass_id: dict[UUID, int]


@dataclass
class _Decision:
    outcome: ImportOutcome
    by: ActedBy
    now: datetime
    changed: dict[UUID, Aggregate] = field(default_factory=dict)
    left_out: set[str] = field(default_factory=set)
    """sourcedIds of records to be deleted that the district never had: nothing is made of them."""

    def cause(self, record: Record) -> Cause:
        return {
            "kind": "import",
            "import_id": self.outcome.import_id,
            "file": record.file,
            "line": record.line,
        }

    def add(self, kind: Kind, *aggregates: Aggregate) -> None:
        for aggregate in aggregates:
            self.changed[aggregate.id] = aggregate
        self.outcome.count(kind, Change.ADDED)

    def revised(self, kind: Kind, aggregate: Aggregate, did: bool, change: Change = Change.CHANGED) -> None:
        if did:
            self.changed[aggregate.id] = aggregate
            self.outcome.count(kind, change)

    def create(
        self, aggregate: type[A], created: Any, aggregate_id: UUID, record: Record, **fields: Any
    ) -> A:
        """A new aggregate from the record, made now by whoever runs the import."""
        return aggregate._create(
            created, id=aggregate_id, timestamp=self.now, cause=self.cause(record), **self.by, **fields
        )

    def claim(self, claim_id: UUID, key: str, owner_id: UUID) -> Claim:
        """The index stream that holds `key` (a sourcedId) for `owner_id`, made now."""
        return Claim._create(Claim.Made, id=claim_id, timestamp=self.now, key=key, owner_id=owner_id)

    def revise(self, kind: Kind, aggregate: Aggregate, changed: Any, record: Record, **fields: Any) -> None:
        """The record's values for `aggregate`, as a `changed` event when any differs."""
        did = revise(aggregate, changed, now=self.now, by=self.by, cause=self.cause(record), **fields)
        self.revised(kind, aggregate, did)

    def leaves_out(self, record: Record, *, noted: bool = True) -> bool:
        """A record to be deleted that the district never had: nothing is made of it. A class or a
        person is noted (`noted`): an enrolment naming it is skipped, not an error. A school or an
        enrolment is not: a user of an org left out is reported as of an unknown org."""
        if record.status is Status.ACTIVE:
            return False
        if noted:
            self.left_out.add(record.sourced_id)
        return True

    def error(self, record: Record, field: str, reason: str) -> None:
        self.outcome.report.error(record.file, record.line, field, reason)

    def keep(
        self, kind: Kind, aggregate_class: Any, aggregate: Aggregate, record: Record, **fields: Any
    ) -> None:
        """An aggregate the roster made before, brought in line with its record: first its
        values (a `Changed` event), then whether it is active (`Deactivated`, `Reactivated`)."""
        self.revise(kind, aggregate, aggregate_class.Changed, record, **fields)
        self.active(kind, aggregate, record, aggregate_class.Deactivated, aggregate_class.Reactivated)

    def active(
        self, kind: Kind, aggregate: Aggregate, record: Record, deactivated: Any, reactivated: Any
    ) -> None:
        wanted = record.status is Status.ACTIVE
        did = switch(
            aggregate,
            wanted,
            deactivated=deactivated,
            reactivated=reactivated,
            now=self.now,
            by=self.by,
            cause=self.cause(record),
        )
        self.revised(kind, aggregate, did, Change.REACTIVATED if wanted else Change.DEACTIVATED)


class RosterCommands(CommandBase):
    async def import_roster(
        self,
        files: RosterFiles,
        *,
        district_id: UUID,
        now: datetime,
        by: ActedBy,
        dry_run: bool = False,
        valid_rows: bool = False,
        timezone: str | None = None,
        progress: Progress | None = None,
    ) -> ImportOutcome:
        """Apply the roster, or (`dry_run`) say what it would change. A roster with errors changes
        nothing unless `valid_rows`: then its valid rows are applied and the rest reported."""
        say = progress or _quiet
        for attempt in range(MAX_ATTEMPTS):
            try:
                async with self.repository.unit_of_work() as unit:
                    return await self._import(
                        unit, files, district_id, now, by, dry_run, valid_rows, timezone, say
                    )
            except ConcurrentChange:
                await say(f"another change came first; reading again (attempt {attempt + 2})")
                await asyncio.sleep(0.01 * (attempt + 1))
        raise Conflict(messages.say("roster.busy"))

    async def _import(
        self,
        unit: UnitOfWork,
        files: RosterFiles,
        district_id: UUID,
        now: datetime,
        by: ActedBy,
        dry_run: bool,
        valid_rows: bool,
        timezone: str | None,
        say: Progress,
    ) -> ImportOutcome:
        await say("reading the files")
        parsed = parse_roster(files)
        outcome = ImportOutcome(import_id_of(files), parsed.report)
        if not parsed.version:
            return outcome
        await say("reading what the district holds")
        state = await self._load(unit, district_id, parsed.references(), parsed.enrollments)
        known = Known(
            schools=frozenset(
                s for s in parsed.references().schools if _owner(state, ids.org_index(district_id, s))
            ),
            users=frozenset(
                u for u in parsed.references().users if _owner(state, ids.sourced_id_index(district_id, u))
            ),
            classes=frozenset(
                c for c in parsed.references().classes if ids.class_id(district_id, c) in state.classes
            ),
        )
        await say("checking the files against each other")
        roster = check_roster(parsed, known)
        decision = _Decision(outcome, by, now)
        await say("deciding what changes")
        await self._decide(unit, decision, state, roster, timezone)
        outcome.events = sum(len(a.pending_events) for a in decision.changed.values())
        if dry_run or not (outcome.report.ok or valid_rows):
            return outcome
        await say(f"saving {outcome.events:,} events")
        outcome.notification_id = await unit.commit(list(decision.changed.values()))
        outcome.applied = True
        return outcome

    # -- reading ---------------------------------------------------------------------------

    async def _load(
        self, unit: UnitOfWork, district_id: UUID, named: Known, enrollments: Sequence[EnrollmentRecord]
    ) -> _State:
        district = await unit.find(district_id, District)
        if district is None:
            raise NotFound(messages.say("admin.district_not_found", id=district_id), field="district_id")
        school_rows = await self.store.pool.fetch(
            "SELECT school_id FROM dir_schools WHERE district_id = $1", district_id
        )
        claim_ids = [ids.org_index(district_id, s) for s in named.schools]
        claim_ids += [ids.sourced_id_index(district_id, u) for u in named.users]
        schools, claims, classes, enrolments = await asyncio.gather(
            _find_all(unit, [r["school_id"] for r in school_rows], School),
            _find_all(unit, claim_ids, Claim),
            _find_all(unit, [ids.class_id(district_id, c) for c in named.classes], SchoolClass),
            _find_all(unit, [ids.enrolment_id(district_id, e.sourced_id) for e in enrollments], Enrolment),
        )
        owners = await _find_all(
            unit, [c.owner_id for c in claims.values() if c.owner_id], School, Student, Staff
        )
        schools |= {k: v for k, v in owners.items() if isinstance(v, School)}
        room_rows = await self.store.pool.fetch(
            "SELECT school_id, location_id, name FROM dir_locations WHERE school_id = ANY($1::uuid[])",
            list(schools),
        )
        highest = await self.store.pool.fetch(
            "SELECT school_id, max(hall_pass_id) AS highest FROM dir_students"
            " WHERE school_id = ANY($1::uuid[]) GROUP BY school_id",
            list(schools),
        )
        return _State(
            district=district,
            schools=schools,
            claims=claims,
            people={k: v for k, v in owners.items() if isinstance(v, Student | Staff)},
            classes=classes,
            enrolments=enrolments,
            rooms={(r["school_id"], r["name"].casefold()): r["location_id"] for r in room_rows},
            highest_hall_pass_id={r["school_id"]: r["highest"] for r in highest},
        )

    # -- deciding ---------------------------------------------------------------------------

    async def _decide(
        self, unit: UnitOfWork, d: _Decision, state: _State, roster: Roster, timezone: str | None
    ) -> None:
        district_id = state.district.id
        org_school = self._schools(d, state, roster.schools, timezone)
        for sourced_id in {o for u in roster.users for o in u.orgs} | {c.school for c in roster.classes}:
            claim = state.claims.get(ids.org_index(district_id, sourced_id))
            if sourced_id not in org_school and claim is not None and claim.owner_id is not None:
                org_school[sourced_id] = claim.owner_id
        await self._rooms(unit, d, state, roster.classes, org_school)
        self._classes(d, state, roster.classes, org_school)
        placed = _placements(state, roster.enrollments, district_id)
        await self._people(unit, d, state, roster.users, org_school, placed)
        self._enrolments(d, state, roster.enrollments)

    def _schools(
        self, d: _Decision, state: _State, orgs: Iterable[OrgRecord], timezone: str | None
    ) -> dict[str, UUID]:
        district_id = state.district.id
        claimed = {c.owner_id for c in state.claims.values()}
        unclaimed = {s.name.casefold(): s for s in state.schools.values() if s.id not in claimed}
        zone = timezone or next((s.timezone for s in state.schools.values()), "UTC")
        found: dict[str, UUID] = {}
        for org in orgs:
            claim_id = ids.org_index(district_id, org.sourced_id)
            owner = _owner(state, claim_id)
            school = state.schools.get(owner) if owner else None
            if school is None:
                school = unclaimed.pop(org.name.casefold(), None)
                if school is not None:  # the school set up by hand is the roster's org of that name
                    d.changed[claim_id] = d.claim(claim_id, org.sourced_id, school.id)
            if school is None:
                if d.leaves_out(org, noted=False):
                    continue
                school = d.create(
                    School,
                    School.Registered,
                    ids.org_school_id(district_id, org.sourced_id),
                    org,
                    district_id=district_id,
                    name=org.name,
                    timezone=zone,
                )
                d.add(Kind.SCHOOLS, school, d.claim(claim_id, org.sourced_id, school.id))
                state.schools[school.id] = school
            else:
                d.revise(Kind.SCHOOLS, school, School.Changed, org, name=org.name, timezone=school.timezone)
                if org.status is not Status.ACTIVE:
                    d.outcome.report.skipped(
                        org.file, org.line, "status", "a school is closed in the admin pages, not by import"
                    )
            found[org.sourced_id] = school.id
        return found

    async def _rooms(
        self,
        unit: UnitOfWork,
        d: _Decision,
        state: _State,
        classes: Iterable[ClassRecord],
        org_school: dict[str, UUID],
    ) -> None:
        """Each class's room: the school's location of that name, or a classroom the import adds."""
        wanted = {
            (org_school[c.school], c.room.casefold()): c
            for c in classes
            if c.room
            and c.school in org_school
            and (org_school[c.school], c.room.casefold()) not in state.rooms
            and (c.status is Status.ACTIVE or ids.class_id(state.district.id, c.sourced_id) in state.classes)
        }
        made = await _find_all(
            unit, [ids.roster_room_id(s, c.room or "") for (s, _), c in wanted.items()], Location
        )
        for (school_id, name), cls in wanted.items():
            room_id = ids.roster_room_id(school_id, cls.room or "")
            if room_id not in made:
                room = d.create(
                    Location,
                    Location.Added,
                    room_id,
                    cls,
                    school_id=school_id,
                    name=cls.room or "",
                    kind=LocationKind.CLASSROOM.value,
                    allotted_minutes=ROOM_MINUTES,
                    capacity=None,
                    kiosk_allowed=True,
                    portal_allowed=True,
                    needs_approval=False,
                )
                d.add(Kind.ROOMS, room)
            state.rooms[(school_id, name)] = room_id

    def _classes(
        self, d: _Decision, state: _State, classes: Iterable[ClassRecord], org_school: dict[str, UUID]
    ) -> None:
        district_id = state.district.id
        for record in classes:
            class_id = ids.class_id(district_id, record.sourced_id)
            school_id = org_school.get(record.school)
            existing = state.classes.get(class_id)
            if school_id is None or (existing is not None and existing.school_id != school_id):
                d.error(record, "schoolSourcedId", "a class cannot move to another school")
                continue
            room_id = state.rooms.get((school_id, record.room.casefold())) if record.room else None
            fields = {
                "title": record.title,
                "code": record.code,
                "homeroom": record.homeroom,
                "room_id": room_id,
                "periods": record.periods,
            }
            if existing is None:
                if d.leaves_out(record):
                    continue
                created = d.create(
                    SchoolClass,
                    SchoolClass.Registered,
                    class_id,
                    record,
                    school_id=school_id,
                    sourced_id=record.sourced_id,
                    **fields,
                )
                d.add(Kind.CLASSES, created)
                state.classes[class_id] = created
                continue
            d.keep(Kind.CLASSES, SchoolClass, existing, record, **fields)

    async def _people(
        self,
        unit: UnitOfWork,
        d: _Decision,
        state: _State,
        users: Sequence[UserRecord],
        org_school: dict[str, UUID],
        placed: dict[str, UUID],
    ) -> None:
        district_id = state.district.id
        new_staff = [
            u for u in users if u.role != mapping.STUDENT and u.email and not _owner_of(state, district_id, u)
        ]
        emails = await _find_all(
            unit, [ids.staff_email_index(u.email or "") for u in new_staff], Staff, Claim
        )
        new_students = [
            u for u in users if u.role == mapping.STUDENT and not _owner_of(state, district_id, u)
        ]
        numbers = _hall_pass_ids(state, new_students, org_school)
        taken = await _find_all(unit, [ids.student_id(s, n) for s, n in numbers.values()], Student)
        found = _Users(d, state, placed, numbers, taken, emails)
        for record in users:
            school_id = next((org_school[o] for o in record.orgs if o in org_school), None)
            if school_id is None:
                d.error(record, "orgSourcedIds", "unknown org: the user belongs to no school")
                continue
            owner = _owner_of(state, district_id, record)
            person = state.people.get(owner) if owner else None
            if owner is not None and person is None:
                d.error(record, "sourcedId", "this sourcedId belongs to a record that is not a person")
                continue
            if record.role == mapping.STUDENT:
                found.student(record, school_id, person)
            else:
                found.staff(record, school_id, person)

    def _enrolments(self, d: _Decision, state: _State, enrollments: Iterable[EnrollmentRecord]) -> None:
        district_id = state.district.id
        for record in enrollments:
            enrolment_id = ids.enrolment_id(district_id, record.sourced_id)
            class_id = ids.class_id(district_id, record.class_)
            cls = state.classes.get(class_id)
            person_id = _owner(state, ids.sourced_id_index(district_id, record.user))
            person = state.people.get(person_id) if person_id else None
            if cls is None or person is None:
                what = "class" if cls is None else "user"
                if {record.class_, record.user} & d.left_out:
                    reason = f"the {what} is to be deleted and was never imported"
                    d.outcome.report.skipped(record.file, record.line, f"{what}SourcedId", reason)
                    continue
                d.error(record, f"{what}SourcedId", f"the {what} was not imported")
                continue
            member = Member.STUDENT if record.role == mapping.STUDENT else Member.TEACHER
            if (member is Member.STUDENT) != isinstance(person, Student):
                kind = "a student" if isinstance(person, Student) else "a member of staff"
                d.outcome.report.skipped(
                    record.file, record.line, "role", f"{record.user!r} is {kind}, enrolled as {record.role}"
                )
                continue
            fields = {
                "class_id": class_id,
                "person_id": person.id,
                "member": member.value,
                "primary": record.primary,
                "begins": record.begins,
                "ends": record.ends,
            }
            existing = state.enrolments.get(enrolment_id)
            if existing is None:
                if d.leaves_out(record, noted=False):
                    continue
                created = d.create(
                    Enrolment,
                    Enrolment.Registered,
                    enrolment_id,
                    record,
                    school_id=cls.school_id,
                    sourced_id=record.sourced_id,
                    **fields,
                )
                d.add(Kind.ENROLMENTS, created)
                continue
            d.keep(Kind.ENROLMENTS, Enrolment, existing, record, **fields)


@dataclass
class _Users:
    """The files' users, decided one at a time against what was read at once for the new ones."""

    d: _Decision
    state: _State
    placed: dict[str, UUID]
    """Each user's room from their enrolments (`_placements`)."""
    numbers: dict[str, tuple[UUID, int]]
    """A new student's school and hall pass ID (`_hall_pass_ids`)."""
    taken: dict[UUID, Student]
    """The students who already hold one of those hall pass IDs."""
    emails: dict[UUID, Staff | Claim]
    """What already holds a new member of staff's email."""

    def student(self, record: UserRecord, school_id: UUID, person: Student | Staff | None) -> None:
        d, state = self.d, self.state
        if isinstance(person, Staff):
            d.error(record, "role", "this sourcedId belongs to a member of staff, not a student")
            return
        if person is not None and person.school_id != school_id:
            d.error(record, "orgSourcedIds", "moving a student to another school is done in the admin pages")
            return
        homeroom = self.placed.get(record.sourced_id)
        fields = {
            "first_name": record.given_name,
            "last_name": record.family_name,
            "grade": record.grades[0],
            "external_id": record.identifier,
            "sourced_id": record.sourced_id,
        }
        if person is None:
            if d.leaves_out(record):
                return
            school, number = self.numbers[record.sourced_id]
            student_id = ids.student_id(school, number)
            if student_id in self.taken:
                d.error(
                    record,
                    "metadata.hallpass.hallPassId",
                    f"hall pass ID {number} belongs to another student",
                )
                return
            student = d.create(
                Student,
                Student.Registered,
                student_id,
                record,
                school_id=school_id,
                homeroom_id=homeroom,
                hall_pass_id=number,
                **fields,
            )
            claim = _claim(d, state, record, student.id)
            d.add(Kind.STUDENTS, student, claim)
            state.people[student.id] = student
            return
        d.keep(
            Kind.STUDENTS,
            Student,
            person,
            record,
            homeroom_id=homeroom or person.homeroom_id,
            hall_pass_id=person.hall_pass_id,
            **fields,
        )

    def staff(self, record: UserRecord, school_id: UUID, person: Student | Staff | None) -> None:
        d, state = self.d, self.state
        if isinstance(person, Student):
            d.error(record, "role", "this sourcedId belongs to a student, not a member of staff")
            return
        if person is not None and person.school_id != school_id:
            d.error(
                record,
                "orgSourcedIds",
                "moving a member of staff to another school is done in the admin pages",
            )
            return
        email = record.email or ""
        roles = record.hallpass_roles or ordered_roles(
            mapping.STAFF_ROLES[r] for r in record.roles if r in mapping.STAFF_ROLES
        )
        room = self.placed.get(record.sourced_id)
        if room is None and record.room:
            room = state.rooms.get((school_id, record.room.casefold()))
            if room is None:
                d.outcome.report.skipped(
                    record.file, record.line, "metadata.hallpass.room", f"no location named {record.room!r}"
                )
        if person is None:
            if d.leaves_out(record):
                return
            staff_id = ids.staff_email_index(email)
            if staff_id in self.emails:
                d.error(record, "email", f"{email} belongs to another member of staff")
                return
            staff = d.create(
                Staff,
                Staff.Hired,
                staff_id,
                record,
                school_id=school_id,
                name=f"{record.given_name} {record.family_name}",
                email=email,
                roles=tuple(r.value for r in roles),
                room_id=room,
                sourced_id=record.sourced_id,
            )
            d.add(Kind.STAFF, staff, _claim(d, state, record, staff.id))
            state.people[staff.id] = staff
            return
        if email != person.email:
            d.error(record, "email", "a new email is given in the admin pages, where the old sign-in ends")
            return
        d.keep(
            Kind.STAFF,
            Staff,
            person,
            record,
            name=f"{record.given_name} {record.family_name}",
            email=person.email,
            roles=roles,
            room_id=room or person.room_id,
            sourced_id=record.sourced_id,
        )


# -- helpers ------------------------------------------------------------------------------------


async def _quiet(stage: str) -> None:
    return None


async def _find_all(unit: UnitOfWork, wanted: Iterable[UUID], *classes: type[Any]) -> dict[UUID, Any]:
    """Each aggregate of those classes that exists, read in one round trip."""
    found = await unit.find_many(list(wanted))
    return {k: a for k, a in found.items() if a is not None and isinstance(a, classes)}


def _owner(state: _State, claim_id: UUID) -> UUID | None:
    claim = state.claims.get(claim_id)
    return claim.owner_id if claim is not None else None


def _owner_of(state: _State, district_id: UUID, record: UserRecord) -> UUID | None:
    return _owner(state, ids.sourced_id_index(district_id, record.sourced_id))


def _claim(d: _Decision, state: _State, record: UserRecord, owner_id: UUID) -> Claim:
    claim_id = ids.sourced_id_index(state.district.id, record.sourced_id)
    existing = state.claims.get(claim_id)
    if existing is not None:  # released by a person the district no longer has
        existing.take(owner_id, now=d.now)
        return existing
    claim = d.claim(claim_id, record.sourced_id, owner_id)
    state.claims[claim_id] = claim
    return claim


def _hall_pass_ids(
    state: _State, students: Iterable[UserRecord], org_school: dict[str, UUID]
) -> dict[str, tuple[UUID, int]]:
    """A hall pass ID for each new student: the roster's own, or the next free one of the school."""
    highest = dict(state.highest_hall_pass_id)
    chosen: dict[str, tuple[UUID, int]] = {}
    later: list[tuple[UserRecord, UUID]] = []
    for record in students:
        school_id = next((org_school[o] for o in record.orgs if o in org_school), None)
        if school_id is None:
            continue
        if record.hall_pass_id is not None:
            chosen[record.sourced_id] = (school_id, record.hall_pass_id)
            highest[school_id] = max(highest.get(school_id, 0), record.hall_pass_id)
        else:
            later.append((record, school_id))
    for record, school_id in later:
        highest[school_id] = highest.get(school_id, 0) + 1
        chosen[record.sourced_id] = (school_id, highest[school_id])
    return chosen


def _placements(state: _State, enrollments: Iterable[EnrollmentRecord], district_id: UUID) -> dict[str, UUID]:
    """Each user's room from their enrolments in these files: a student's homeroom class's room;
    a teacher's homeroom class's, else their primary class's, else any class's."""
    ranked: dict[str, tuple[int, UUID]] = {}
    for record in enrollments:
        if record.status is not Status.ACTIVE:
            continue
        cls = state.classes.get(ids.class_id(district_id, record.class_))
        if cls is None or cls.room_id is None:
            continue
        if record.role == mapping.STUDENT:
            rank = 0 if cls.homeroom else -1
        else:
            rank = 3 if cls.homeroom and record.primary else 2 if cls.homeroom else 1 if record.primary else 0
        if rank >= 0 and rank > ranked.get(record.user, (-1, cls.room_id))[0]:
            ranked[record.user] = (rank, cls.room_id)
    return {user: room for user, (_, room) in ranked.items()}
