"""The words pages show for the codes the data keeps: who created a pass, who acted, from where."""

from __future__ import annotations

from uuid import uuid4

import pytest

from hallpass.http.labels import actor_kind, created_by, pass_source


@pytest.mark.parametrize(
    ("creator", "shown"),
    [
        ({"kind": "staff", "id": uuid4(), "name": "Ada Lovelace"}, "Ada Lovelace"),
        ({"kind": "kiosk", "id": uuid4(), "name": "Room 101 door"}, "Room 101 door"),
        ({"kind": "kiosk", "id": uuid4(), "name": None}, "Kiosk"),
        ({"kind": "student", "id": uuid4(), "name": None}, "Student Portal"),
        ({"kind": "student", "id": uuid4(), "name": "Chen Brontë"}, "Student Portal"),
        ({"kind": "system", "id": None, "name": None}, "Hallpass"),
        ({"kind": "robot", "id": None, "name": None}, "Unknown"),
    ],
)
def test_created_by_is_a_name_or_words_never_a_code(creator: dict[str, object], shown: str) -> None:
    assert created_by(creator) == shown


def test_actor_kinds_and_pass_sources_read_as_words() -> None:
    assert [actor_kind(k) for k in ("staff", "student", "kiosk", "system", None)] == [
        "Staff",
        "Student Portal",
        "Kiosk",
        "Hallpass",
        "Unknown",
    ]
    assert [pass_source(s) for s in ("staff", "portal", "kiosk", "")] == [
        "Staff",
        "Student Portal",
        "Kiosk",
        "Unknown",
    ]
