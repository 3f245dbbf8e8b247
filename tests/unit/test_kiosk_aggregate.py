"""The Kiosk aggregate's decisions: given a kiosk, when a command arrives, then these events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest

from hallpass.aggregates.kiosks import (
    DestinationNotAllowed,
    Kiosk,
    KioskLocked,
    StudentMode,
    StudentNotAllowed,
    StudentScope,
)
from hallpass.errors import IllegalTransition, Unauthenticated

NOW = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
NURSE, ROOM, HOMEROOM = uuid4(), uuid4(), uuid4()


def given_kiosk(scope: StudentScope | None = None) -> Kiosk:
    kiosk = Kiosk.configure(
        kiosk_id=uuid4(),
        school_id=uuid4(),
        name="Room 101 kiosk",
        room_id=ROOM,
        destination_ids=[NURSE],
        scope=scope or StudentScope(StudentMode.ALL),
        secret="s3cret",
        now=NOW,
        actor_id=uuid4(),
    )
    kiosk.collect_events()
    return kiosk


def names(kiosk: Kiosk) -> list[str]:
    return [type(e).__name__ for e in kiosk.collect_events()]


def test_the_token_secret_must_match_and_the_kiosk_be_on() -> None:
    kiosk = given_kiosk()
    kiosk.authenticate("s3cret")
    with pytest.raises(Unauthenticated):
        kiosk.authenticate("guess")
    kiosk.revoke(now=NOW, actor_kind="staff", actor_id=None)
    assert names(kiosk) == ["Revoked"]
    with pytest.raises(Unauthenticated, match="turned off"):
        kiosk.authenticate("s3cret")
    with pytest.raises(IllegalTransition):
        kiosk.revoke(now=NOW, actor_kind="staff", actor_id=None)


@pytest.mark.parametrize(
    ("scope", "allowed"),
    [
        (StudentScope(StudentMode.ALL), True),
        (StudentScope(StudentMode.CLASSROOM, homeroom_ids=frozenset({HOMEROOM})), True),
        (StudentScope(StudentMode.CLASSROOM, homeroom_ids=frozenset({uuid4()})), False),
        (StudentScope(StudentMode.GRADE, grades=frozenset({7})), True),
        (StudentScope(StudentMode.GRADE, grades=frozenset({8})), False),
        (StudentScope(StudentMode.LIST, student_ids=frozenset({uuid4()})), False),
    ],
)
def test_students_allowed_by_scope(scope: StudentScope, allowed: bool) -> None:
    kiosk = given_kiosk(scope)
    student: UUID = uuid4()
    check = {"student_id": student, "grade": 7, "homeroom_id": HOMEROOM, "name": "Ana"}
    if allowed:
        kiosk.check_student(**check)  # type: ignore[arg-type]
    else:
        with pytest.raises(StudentNotAllowed):
            kiosk.check_student(**check)  # type: ignore[arg-type]


def test_only_chosen_destinations() -> None:
    kiosk = given_kiosk()
    kiosk.check_destination(NURSE)
    with pytest.raises(DestinationNotAllowed):
        kiosk.check_destination(uuid4())


def test_five_wrong_passwords_lock_the_exit_for_five_minutes() -> None:
    kiosk = given_kiosk()
    assert [kiosk.fail_exit(NOW) for _ in range(4)] == [False] * 4
    assert kiosk.tries_left == 1
    assert kiosk.fail_exit(NOW) is True
    assert names(kiosk) == ["ExitFailed"] * 5 + ["LockedOut"]
    with pytest.raises(KioskLocked) as locked:
        kiosk.ensure_unlocked(NOW + timedelta(minutes=4))
    assert locked.value.retry_after == 60
    kiosk.ensure_unlocked(NOW + timedelta(minutes=5))
    assert kiosk.tries_left == 5


def test_exit_ends_kiosk_mode_once() -> None:
    kiosk = given_kiosk()
    kiosk.exit(NOW)
    assert names(kiosk) == ["Exited"]
    with pytest.raises(Unauthenticated):
        kiosk.authenticate("s3cret")
    with pytest.raises(IllegalTransition):
        kiosk.exit(NOW)
