"""Write a OneRoster 1.1 CSV roster: for the demo school and the benchmark, which import it."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from hallpass.roster.source import RosterFiles

ORG_COLUMNS = ("sourcedId", "status", "dateLastModified", "name", "type", "identifier", "parentSourcedId")
USER_COLUMNS = (
    "sourcedId",
    "status",
    "dateLastModified",
    "enabledUser",
    "orgSourcedIds",
    "role",
    "username",
    "userIds",
    "givenName",
    "familyName",
    "middleName",
    "identifier",
    "email",
    "sms",
    "phone",
    "agentSourcedIds",
    "grades",
    "password",
    "metadata.hallpass.hallPassId",
    "metadata.hallpass.room",
    "metadata.hallpass.roles",
)
SESSION_COLUMNS = (
    "sourcedId",
    "status",
    "dateLastModified",
    "title",
    "type",
    "startDate",
    "endDate",
    "parentSourcedId",
    "schoolYear",
)
CLASS_COLUMNS = (
    "sourcedId",
    "status",
    "dateLastModified",
    "title",
    "grades",
    "courseSourcedId",
    "classCode",
    "classType",
    "location",
    "schoolSourcedId",
    "termSourcedIds",
    "subjects",
    "subjectCodes",
    "periods",
)
ENROLLMENT_COLUMNS = (
    "sourcedId",
    "status",
    "dateLastModified",
    "classSourcedId",
    "schoolSourcedId",
    "userSourcedId",
    "role",
    "primary",
    "beginDate",
    "endDate",
)

Row = Mapping[str, str]


@dataclass
class RosterWriter:
    """Rows of each file, written as a bulk OneRoster 1.1 roster (blank columns where not given)."""

    modified: str
    orgs: list[Row] = field(default_factory=list)
    users: list[Row] = field(default_factory=list)
    sessions: list[Row] = field(default_factory=list)
    classes: list[Row] = field(default_factory=list)
    enrollments: list[Row] = field(default_factory=list)

    def files(self, origin: str = "generated roster") -> RosterFiles:
        given = {
            "orgs": (ORG_COLUMNS, self.orgs),
            "users": (USER_COLUMNS, self.users),
            "academicSessions": (SESSION_COLUMNS, self.sessions),
            "classes": (CLASS_COLUMNS, self.classes),
            "enrollments": (ENROLLMENT_COLUMNS, self.enrollments),
        }
        texts = {
            f"{name.lower()}.csv": _csv(
                columns, ({"status": "active", "dateLastModified": self.modified, **r} for r in rows)
            )
            for name, (columns, rows) in given.items()
        }
        manifest = [("manifest.version", "1.0"), ("oneroster.version", "1.1")]
        manifest += [(f"file.{name}", "bulk" if rows else "absent") for name, (_, rows) in given.items()]
        texts["manifest.csv"] = _csv(
            ("propertyName", "value"), ({"propertyName": k, "value": v} for k, v in manifest)
        )
        return RosterFiles(
            {k: v for k, v in texts.items() if v.count("\n") > 1 or k == "manifest.csv"}, origin
        )


def _csv(columns: Sequence[str], rows: Iterable[Row]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    writer.writerows([row.get(c, "") for c in columns] for row in rows)
    return out.getvalue()
