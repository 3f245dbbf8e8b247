"""Portal requests on the Pass aggregate: given a pass, when a decision arrives, then these events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from hallpass.aggregates.passes import Pass, Source, Status
from hallpass.aggregates.schools import School
from hallpass.commands.password_rules import check_new_password
from hallpass.errors import IllegalTransition, Invalid
from support import builders
from support.builders import fresh, only_event

NOW = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
LATER = NOW + timedelta(minutes=3)
STUDENT, TEACHER = uuid4(), uuid4()


def given_requested() -> Pass:
    return fresh(builders.requested(student_id=STUDENT))


def test_a_request_waits_as_requested_from_the_portal_and_is_open() -> None:
    hall_pass = given_requested()
    assert hall_pass.status is Status.REQUESTED
    assert hall_pass.source is Source.PORTAL and hall_pass.source.marker == "(S)"
    assert hall_pass.is_open


def test_a_request_to_the_place_it_leaves_is_invalid() -> None:
    place = uuid4()
    with pytest.raises(Invalid):
        Pass.request(
            pass_id=uuid4(),
            school_id=uuid4(),
            student_id=STUDENT,
            origin_id=place,
            destination_id=place,
            allotted_minutes=5,
            now=NOW,
            actor_kind="student",
            actor_id=STUDENT,
        )


def test_approve_starts_the_pass_at_the_approval_time() -> None:
    hall_pass = given_requested()
    hall_pass.approve(note="Be quick", now=LATER, actor_kind="staff", actor_id=TEACHER)
    event = only_event(hall_pass)
    assert isinstance(event, Pass.Approved)
    assert (event.note, event.due_at, event.actor_id) == ("Be quick", LATER + timedelta(minutes=5), TEACHER)
    assert (hall_pass.status, hall_pass.start_at, hall_pass.due_at) == (
        Status.ACTIVE,
        LATER,
        LATER + timedelta(minutes=5),
    )


def test_deny_ends_the_request_with_the_note() -> None:
    hall_pass = given_requested()
    hall_pass.deny(note="Not now", now=LATER, actor_kind="staff", actor_id=TEACHER)
    assert isinstance(only_event(hall_pass), Pass.Denied)
    assert (hall_pass.status, hall_pass.end_note, hall_pass.ended_at) == (Status.DENIED, "Not now", LATER)
    assert not hall_pass.is_open


def test_the_student_cancels_a_waiting_request() -> None:
    hall_pass = given_requested()
    hall_pass.cancel_request(now=LATER, actor_kind="student", actor_id=STUDENT)
    event = only_event(hall_pass)
    assert isinstance(event, Pass.Cancelled)
    assert event.reason == "cancelled_by_student"
    assert hall_pass.status is Status.CANCELLED and not hall_pass.is_open


@pytest.mark.parametrize("first", ["approve", "deny", "cancel"])
@pytest.mark.parametrize("then", ["approve", "deny", "cancel"])
def test_a_decided_request_refuses_another_decision_with_its_status(first: str, then: str) -> None:
    hall_pass = given_requested()
    decide(hall_pass, first)
    hall_pass.collect_events()
    with pytest.raises(IllegalTransition) as refused:
        decide(hall_pass, then)
    assert refused.value.details["status"] == hall_pass.status.value
    assert hall_pass.collect_events() == []


def test_a_staff_pass_cannot_be_approved() -> None:
    hall_pass = builders.started(student_id=STUDENT, actor_id=TEACHER)
    with pytest.raises(IllegalTransition, match="cannot approve a pass that is active"):
        hall_pass.approve(note="", now=LATER, actor_kind="staff", actor_id=TEACHER)


def decide(hall_pass: Pass, what: str) -> None:
    if what == "approve":
        hall_pass.approve(note="", now=LATER, actor_kind="staff", actor_id=TEACHER)
    elif what == "deny":
        hall_pass.deny(note="", now=LATER, actor_kind="staff", actor_id=TEACHER)
    else:
        hall_pass.cancel_request(now=LATER, actor_kind="student", actor_id=STUDENT)


def test_approval_applies_school_wide_or_per_destination() -> None:
    school = School._create(School.Registered, id=uuid4(), district_id=uuid4(), name="S", timezone="UTC")
    nurse, library = uuid4(), uuid4()
    assert not school.portal_approval_needed(nurse, False)
    assert school.portal_approval_needed(nurse, True)
    school.change_portal_settings(
        enabled=True, needs_approval=False, approval_destination_ids=[nurse], now=NOW, actor_id=None
    )
    assert school.portal_enabled
    assert school.portal_approval_needed(nurse, False) and not school.portal_approval_needed(library, False)
    school.change_portal_settings(
        enabled=True, needs_approval=True, approval_destination_ids=[], now=NOW, actor_id=None
    )
    assert school.portal_approval_needed(library, False)


@pytest.mark.parametrize(
    ("password", "rule"),
    [("abc", "length"), ("12345", "length"), ("#00012345", "not_id"), ("12345678", "common")],
)
def test_new_password_rules_name_the_broken_rule(password: str, rule: str) -> None:
    with pytest.raises(Invalid) as refused:
        check_new_password(password, ids={"12345", "00012345", "#00012345"})
    assert refused.value.details["rule"] == rule


def test_a_good_new_password_passes() -> None:
    check_new_password("purple-otter-42", ids={"12345"})
