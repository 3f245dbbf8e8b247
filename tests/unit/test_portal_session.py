"""Portal sessions: a student's session ends after a while without activity."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any
from uuid import uuid4

import pytest
from starlette.requests import Request

from hallpass.acting import Actor
from hallpass.errors import Forbidden, Unauthenticated
from hallpass.http.auth import PORTAL_IDLE_SECONDS, SCOPE_KEY, RequestSession, require_student
from hallpass.sessions import COOKIE, SessionRecord

START = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)


def request_at(moment: datetime, found: RequestSession, cookie: dict[str, Any] | None = None) -> Request:
    app = SimpleNamespace(state=SimpleNamespace(clock=lambda: moment))
    scope: dict[str, Any] = {
        "type": "http",
        "method": "GET",
        "headers": [],
        "session": cookie if cookie is not None else {"sid": "x"},
        "app": app,
        SCOPE_KEY: found,
    }
    return Request(scope)


def student_session(*, must_change: bool = False, kind: str = "student") -> RequestSession:
    actor = Actor(kind, uuid4(), uuid4(), None, "Ana")
    record = SessionRecord("digest", COOKIE, actor, "t", must_change, START, START + timedelta(hours=12))
    return RequestSession(record)


def test_activity_keeps_the_session_alive() -> None:
    found = student_session()
    later = START + timedelta(seconds=PORTAL_IDLE_SECONDS - 1)
    assert require_student(request_at(later, found)).name == "Ana"
    assert found.record is not None and found.record.last_seen_at == later
    assert found.touched
    assert require_student(request_at(later + timedelta(seconds=PORTAL_IDLE_SECONDS - 1), found))


def test_inactivity_ends_the_session() -> None:
    found, cookie = student_session(), {"sid": "x"}
    with pytest.raises(Unauthenticated, match="without activity"):
        require_student(request_at(START + timedelta(seconds=PORTAL_IDLE_SECONDS + 1), found, cookie))
    assert cookie == {}
    assert found.record is None


def test_live_updates_do_not_count_as_activity() -> None:
    found = student_session()
    require_student(request_at(START + timedelta(minutes=5), found), touch=False)
    assert found.record is not None and found.record.last_seen_at == START
    assert not found.touched


def test_a_new_password_comes_first() -> None:
    found = student_session(must_change=True)
    with pytest.raises(Forbidden, match="new password"):
        require_student(request_at(START, found))
    assert require_student(request_at(START, found), allow_must_change=True)


def test_staff_sessions_are_not_portal_sessions() -> None:
    with pytest.raises(Unauthenticated):
        require_student(request_at(START, student_session(kind="staff")))
