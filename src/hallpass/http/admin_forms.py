"""The administration pages' forms, described once: each kind of record's fields (what the
generic `admin/form.html` draws), how a posted form becomes the command's body (checked by the
same bounds as the API's JSON), and the columns of its list."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from starlette.datastructures import FormData

from hallpass.aggregates.locations import LocationKind
from hallpass.aggregates.staff import Role

ROLE_LABELS = {
    Role.DISTRICT_ADMIN: "District administrator",
    Role.ADMIN: "School administrator",
    Role.OFFICE: "Office staff",
    Role.TEACHER: "Teacher",
    Role.COMPLIANCE: "Compliance officer",
    Role.ANALYST: "District analyst",
}
KIND_OPTIONS = tuple((k.value, k.value.capitalize()) for k in LocationKind)
ROLE_OPTIONS = tuple((r.value, label) for r, label in ROLE_LABELS.items())


@dataclass(frozen=True)
class Field:
    """One input. `input`: text, email, number, time, select, checkbox or checks (several of
    `options`); `rooms`: the options are the school's locations, with "none" first."""

    name: str
    label: str
    input: str = "text"
    required: bool = True
    options: tuple[tuple[str, str], ...] = ()
    rooms: bool = False
    hint: str = ""
    edit_only: bool = False


@dataclass(frozen=True)
class Column:
    label: str
    value: Callable[[dict[str, Any]], Any]


@dataclass(frozen=True)
class Form:
    """A kind of record as the pages show it."""

    kind: str
    title: str
    plural: str
    fields: tuple[Field, ...]
    columns: tuple[Column, ...]
    defaults: dict[str, Any] = field(default_factory=dict)

    def shown(self, *, editing: bool) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if editing or not f.edit_only)

    def read(self, form: FormData, *, editing: bool) -> dict[str, Any]:
        """The posted values as the command's body wants them; a blank optional field is left out."""
        values: dict[str, Any] = {}
        for f in self.shown(editing=editing):
            if f.input == "checkbox":
                values[f.name] = form.get(f.name) == "on"
            elif f.input == "checks":
                values[f.name] = [str(v) for v in form.getlist(f.name)]
            else:
                raw = str(form.get(f.name, "")).strip()
                if raw or f.required:
                    values[f.name] = f"{raw}:00" if f.input == "time" and len(raw) == 5 else raw
        return values

    def values(self, row: Mapping[str, Any]) -> dict[str, Any]:
        """A record's current values, as the form shows them."""
        shown = {f.name: row.get(f.name) for f in self.fields}
        if "archived" in shown:
            shown["archived"] = not row.get("active", True)
        return {k: ("" if v is None else v) for k, v in shown.items()}


def _yes(value: Any) -> str:
    return "Yes" if value else "No"


def _state(row: Mapping[str, Any]) -> str:
    return "Active" if row.get("active", True) else "Deactivated"


SCHOOL = Form(
    "school",
    "School",
    "Schools",
    (
        Field("name", "Name"),
        Field("timezone", "Time zone", hint="An IANA name, e.g. America/Chicago"),
        Field("dismissal_time", "Dismissal time", "time", required=False),
        Field("portal_enabled", "Student Portal is on", "checkbox"),
        Field(
            "portal_needs_approval", "Student passes need teacher approval (every destination)", "checkbox"
        ),
    ),
    (Column("Name", lambda r: r["name"]), Column("Time zone", lambda r: r["timezone"])),
)
LOCATION = Form(
    "location",
    "Location",
    "Locations",
    (
        Field("name", "Name"),
        Field("kind", "Kind", "select", options=KIND_OPTIONS),
        Field("allotted_minutes", "Time allotted (minutes)", "number"),
        Field("capacity", "Capacity", "number", required=False, hint="Blank: no limit"),
        Field("kiosk_allowed", "Available at kiosks", "checkbox"),
        Field("portal_allowed", "Available in the Student Portal", "checkbox"),
        Field("needs_approval", "Student passes need teacher approval", "checkbox"),
        Field("archived", "Archived (offered nowhere)", "checkbox", edit_only=True),
    ),
    (
        Column("Name", lambda r: r["name"]),
        Column("Kind", lambda r: r["kind"].capitalize()),
        Column("Minutes", lambda r: r["allotted_minutes"]),
        Column("Capacity", lambda r: r["capacity"] or "—"),
        Column("Kiosk", lambda r: _yes(r["kiosk_allowed"])),
        Column("Portal", lambda r: _yes(r["portal_allowed"])),
        Column("State", lambda r: "Active" if r["active"] else "Archived"),
    ),
    {"kiosk_allowed": True, "portal_allowed": True},
)
STAFF = Form(
    "staff",
    "Member of staff",
    "Staff",
    (
        Field("name", "Name"),
        Field("email", "Email", "email"),
        Field("roles", "Roles", "checks", options=ROLE_OPTIONS),
        Field("room_id", "Default room", "select", required=False, rooms=True),
        Field("sourced_id", "Roster ID (sourcedId)", required=False),
        Field("active", "Active (may sign in)", "checkbox", edit_only=True),
    ),
    (
        Column("Name", lambda r: r["name"]),
        Column("Email", lambda r: r["email"]),
        Column("Roles", lambda r: ", ".join(ROLE_LABELS[Role(x)] for x in r["roles"] or ())),
        Column("State", _state),
    ),
    {"roles": [Role.TEACHER.value]},
)
STUDENT = Form(
    "student",
    "Student",
    "Students",
    (
        Field("first_name", "First name"),
        Field("last_name", "Last name"),
        Field("grade", "Grade", "number", hint="-1 pre-K, 0 kindergarten"),
        Field("hall_pass_id", "Hall pass ID", "number"),
        Field("homeroom_id", "Homeroom", "select", required=False, rooms=True),
        Field("external_id", "School ID", required=False, hint="Typed as # and the ID at a kiosk"),
        Field("sourced_id", "Roster ID (sourcedId)", required=False),
        Field("active", "Active (may get passes)", "checkbox", edit_only=True),
    ),
    (
        Column("Name", lambda r: f"{r['last_name']}, {r['first_name']}"),
        Column("Grade", lambda r: r["grade"]),
        Column("Hall pass ID", lambda r: r["hall_pass_id"]),
        Column("School ID", lambda r: f"#{r['external_id']}" if r["external_id"] else "—"),
        Column("State", _state),
    ),
)
