"""Small OneRoster rosters in memory for tests: a valid 1.1 school, and ways to spoil it."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from pathlib import Path

from hallpass.roster.source import RosterFiles


def samples() -> Path:
    """The OneRoster 1.1 and 1.2 samples kept with the tests (see their README)."""
    return Path(__file__).resolve().parent.parent / "fixtures" / "oneroster"


Rows = Sequence[Mapping[str, str]]

ORGS: Rows = [
    {
        "sourcedId": "sch-1",
        "status": "active",
        "dateLastModified": "2026-09-01",
        "name": "Elm School",
        "type": "school",
    }
]
USERS: Rows = [
    {
        "sourcedId": "t-1",
        "enabledUser": "true",
        "orgSourcedIds": "sch-1",
        "role": "teacher",
        "username": "ada",
        "givenName": "Ada",
        "familyName": "Byron",
        "email": "ada@elm.example.org",
        "grades": "",
    },
    *(
        {
            "sourcedId": f"s-{n}",
            "enabledUser": "true",
            "orgSourcedIds": "sch-1",
            "role": "student",
            "username": f"pupil{n}",
            "givenName": f"Pupil{n}",
            "familyName": "Elm",
            "identifier": str(5000 + n),
            "email": "",
            "grades": "07",
        }
        for n in range(1, 4)
    ),
]
CLASSES: Rows = [
    {
        "sourcedId": "c-1",
        "title": "Homeroom 7A",
        "courseSourcedId": "crs-1",
        "classType": "homeroom",
        "location": "Room 7A",
        "schoolSourcedId": "sch-1",
        "termSourcedIds": "term-1",
    }
]
ENROLLMENTS: Rows = [
    {
        "sourcedId": "e-t1",
        "classSourcedId": "c-1",
        "schoolSourcedId": "sch-1",
        "userSourcedId": "t-1",
        "role": "teacher",
        "primary": "true",
    },
    *(
        {
            "sourcedId": f"e-s{n}",
            "classSourcedId": "c-1",
            "schoolSourcedId": "sch-1",
            "userSourcedId": f"s-{n}",
            "role": "student",
        }
        for n in range(1, 4)
    ),
]


def csv_text(rows: Rows, columns: Sequence[str] | None = None) -> str:
    """The rows as CSV, with the given columns in that order (default: every key, first seen first)."""
    names = list(columns) if columns is not None else list(dict.fromkeys(k for row in rows for k in row))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(names)
    for row in rows:
        writer.writerow([row.get(name, "") for name in names])
    return out.getvalue()


def manifest(version: str, modes: Mapping[str, str]) -> str:
    rows = [
        {"propertyName": "manifest.version", "value": "1.0"},
        {"propertyName": "oneroster.version", "value": version},
    ]
    rows += [{"propertyName": f"file.{name}", "value": mode} for name, mode in modes.items()]
    return csv_text(rows)


def roster(
    *,
    version: str = "1.1",
    mode: str = "bulk",
    orgs: Rows | str | None = ORGS,
    users: Rows | str | None = USERS,
    classes: Rows | str | None = CLASSES,
    enrollments: Rows | str | None = ENROLLMENTS,
    **more: Rows | str | None,
) -> RosterFiles:
    """A roster whose manifest lists each file given (as rows, or as CSV text) in `mode`."""
    files = {"orgs": orgs, "users": users, "classes": classes, "enrollments": enrollments, **more}
    texts = {
        f"{name.lower()}.csv": v if isinstance(v, str) else csv_text(v)
        for name, v in files.items()
        if v is not None
    }
    modes = {name: mode for name, v in files.items() if v is not None}
    texts["manifest.csv"] = manifest(version, modes)
    return RosterFiles(texts, origin="test roster")
