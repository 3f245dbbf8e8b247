"""Portal sessions: a student's session ends after a while without activity."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any
from uuid import uuid4

import pytest
from starlette.requests import Request

from hallpass.errors import Forbidden, Unauthenticated
from hallpass.http.auth import PORTAL_IDLE_SECONDS, require_student

START = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)


def request_at(moment: datetime, session: dict[str, Any]) -> Request:
    app = SimpleNamespace(state=SimpleNamespace(clock=lambda: moment))
    scope = {"type": "http", "method": "GET", "headers": [], "session": session, "app": app}
    return Request(scope)


def student_session(*, must_change: bool = False) -> dict[str, Any]:
    actor = {"kind": "student", "id": str(uuid4()), "school_id": str(uuid4()), "role": None, "name": "Ana"}
    return {"actor": actor, "csrf": "t", "portal": {"must_change": must_change, "seen": START.timestamp()}}


def test_activity_keeps_the_session_alive() -> None:
    session = student_session()
    later = START + timedelta(seconds=PORTAL_IDLE_SECONDS - 1)
    assert require_student(request_at(later, session)).name == "Ana"
    assert session["portal"]["seen"] == later.timestamp()
    assert require_student(request_at(later + timedelta(seconds=PORTAL_IDLE_SECONDS - 1), session))


def test_inactivity_ends_the_session() -> None:
    session = student_session()
    with pytest.raises(Unauthenticated, match="without activity"):
        require_student(request_at(START + timedelta(seconds=PORTAL_IDLE_SECONDS + 1), session))
    assert session == {}


def test_live_updates_do_not_count_as_activity() -> None:
    session = student_session()
    require_student(request_at(START + timedelta(minutes=5), session), touch=False)
    assert session["portal"]["seen"] == START.timestamp()


def test_a_new_password_comes_first() -> None:
    session = student_session(must_change=True)
    with pytest.raises(Forbidden, match="new password"):
        require_student(request_at(START, session))
    assert require_student(request_at(START, session), allow_must_change=True)


def test_staff_sessions_are_not_portal_sessions() -> None:
    session = student_session()
    session["actor"]["kind"] = "staff"
    with pytest.raises(Unauthenticated):
        require_student(request_at(START, session))
