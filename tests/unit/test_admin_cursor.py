"""The administration lists' cursors: what a page's last row encodes decodes to the same sort
values, and anything else is refused as a 422, never a 500."""

from __future__ import annotations

from uuid import UUID

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hallpass.errors import Invalid
from hallpass.projections.admin_lists import STUDENTS, decode_cursor, encode_cursor

names = st.text(st.characters(codec="utf-8"), max_size=40)


@given(last=names, first=names, student_id=st.uuids())
def test_a_cursor_gives_back_the_row_it_was_made_from(last: str, first: str, student_id: UUID) -> None:
    row = {"last_name": last, "first_name": first, "student_id": student_id}
    assert decode_cursor(encode_cursor(row, STUDENTS.order), STUDENTS.order) == [last, first, str(student_id)]


@given(st.text(max_size=200))
def test_anything_else_is_refused_as_invalid(text: str) -> None:
    try:
        values = decode_cursor(text, STUDENTS.order)
    except Invalid as e:
        assert e.details["field"] == "after"
    else:
        assert len(values) == 3 and UUID(values[-1])


@pytest.mark.parametrize("text", ["", "====", "W10=", "WyJhIiwiYiIsImMiXQ==", "\x00"])
def test_known_bad_cursors(text: str) -> None:
    with pytest.raises(Invalid):
        decode_cursor(text, STUDENTS.order)
