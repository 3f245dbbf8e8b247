"""The dashboard's rows as the page shows them (decision 114): each row's words worked out once
from the DASHBOARD columns, the row rendered once for what it shows and kept, with no CSRF field
of its own; and the filters' options written once for each list and choice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4
from zoneinfo import ZoneInfo

from hallpass.http.app import templates
from hallpass.http.pages import minutes_over, options, pass_row_html, row_shown

ZONE = ZoneInfo("America/Chicago")
NOW = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)  # 9:00 AM in Chicago
ENV = templates().env
TODAY = NOW.astimezone(ZONE).date()


def _shown(row: dict[str, Any], at: datetime = NOW) -> dict[str, Any]:
    return row_shown(row, ZONE, at.astimezone(ZONE).date(), minutes_over(row, at))


def _row(**values: Any) -> dict[str, Any]:
    """A row of PassListView.page with the DASHBOARD columns."""
    return {
        "pass_id": uuid4(),
        "status": "active",
        "source": "staff",
        "start_at": NOW - timedelta(minutes=5),
        "due_at": NOW + timedelta(minutes=5),
        "returned_at": None,
        "end_reason": None,
        "created_by_kind": "staff",
        "student_name": "Chen <Brontë>",
        "grade": 9,
        "origin_name": "Room 101",
        "destination_name": "Nurse",
        "creator_name": "Ada Lovelace",
        "schedule_id": None,
        **values,
    }


def test_each_row_says_its_status_times_origin_and_creator_in_words() -> None:
    rows = [
        _row(),
        _row(
            status="expired",
            source="kiosk",
            created_by_kind="kiosk",
            creator_name="Front door",
            due_at=NOW - timedelta(minutes=12),
        ),
        _row(
            status="terminated",
            end_reason="left_early",
            source="portal",
            created_by_kind="student",
            creator_name=None,
        ),
        _row(status="requested", source="portal", created_by_kind="student", creator_name=None),
        _row(
            status="scheduled", start_at=NOW + timedelta(days=2), due_at=NOW + timedelta(days=2, minutes=10)
        ),
    ]
    active, overdue, ended, asked, planned = (_shown(r) for r in rows)
    assert (active["label"], active["start"], active["due"], active["creator"]) == (
        "Active",
        "8:55 AM",
        "9:05 AM",
        "Ada Lovelace",
    )
    assert (overdue["overdue"], overdue["over"], overdue["marker"], overdue["marker_title"]) == (
        True,
        12,
        "(K)",
        "Kiosk",
    )
    assert (ended["ended"], ended["marker"], ended["creator"]) == ("left early", "(S)", "Student Portal")
    assert asked["not_started"] and not active["not_started"]
    assert (planned["start"], planned["start_input"]) == ("Thu 3 Dec, 9:00 AM", "2026-12-03T09:00")


def test_a_row_is_rendered_once_for_what_it_shows_and_has_no_csrf_field() -> None:
    schedule_id = uuid4()
    row = _row(
        status="scheduled",
        start_at=NOW + timedelta(days=1),
        due_at=NOW + timedelta(days=1, minutes=5),
        schedule_id=schedule_id,
    )
    kept = pass_row_html(ENV, tuple(row.items()), ZONE, TODAY, 0)
    assert pass_row_html(ENV, tuple(dict(row).items()), ZONE, TODAY, 0) is kept
    html = kept.decode()
    assert 'name="csrf"' not in html and "Chen &lt;Brontë&gt;" in html and "<Brontë>" not in html
    assert f'formaction="/hall-pass/{row["pass_id"]}/cancel"' in html
    assert f'name="start_at-{row["pass_id"]}" form="pass-actions"' in html
    assert f'href="/hall-pass/schedules/{schedule_id}"' in html
    assert "Wed 2 Dec, 9:00 AM" in html
    assert b"9:00 AM</time>" in pass_row_html(ENV, tuple(row.items()), ZONE, TODAY.replace(day=2), 0)

    overdue = _row(status="expired", due_at=NOW - timedelta(minutes=3))
    (three, four) = (minutes_over(overdue, NOW), minutes_over(overdue, NOW + timedelta(minutes=1)))
    assert (three, four, minutes_over(_row(), NOW)) == (3, 4, 0)
    assert b"3 min over" in pass_row_html(ENV, tuple(overdue.items()), ZONE, TODAY, three)
    assert b"4 min over" in pass_row_html(ENV, tuple(overdue.items()), ZONE, TODAY, four)


def test_rows_of_every_kind_add_no_character_beyond_latin_1_to_their_names() -> None:
    """A page of rows whose names are Latin-1 stays one byte a character to join and encode
    (decision 127): the rows' own words write `…` and `—` as entities."""
    kinds = [
        _row(),
        _row(status="expired", due_at=NOW - timedelta(minutes=3)),
        _row(status="scheduled", start_at=NOW + timedelta(days=1), due_at=NOW + timedelta(days=1, minutes=5)),
        _row(status="requested"),
        _row(status="terminated", end_reason="left_early", returned_at=NOW),
    ]
    for row in kinds:
        series = {**row, "schedule_id": uuid4()}
        html = pass_row_html(ENV, tuple(series.items()), ZONE, TODAY, minutes_over(row, NOW)).decode()
        assert html.encode("latin-1").decode("latin-1") == html
    shown = b"".join(pass_row_html(ENV, tuple(r.items()), ZONE, TODAY, 0) for r in kinds)
    assert b"&hellip;</summary>" in shown and b">&mdash;</span>" in shown


def test_the_filters_options_mark_the_choice_and_escape_the_words() -> None:
    choices = (("a", "Room 101"), ("b", "Nurse & Office"))
    assert options(choices, "b") == (
        '<option value="a">Room 101</option><option value="b" selected>Nurse &amp; Office</option>'
    )
    assert "selected" not in options(choices, None)
