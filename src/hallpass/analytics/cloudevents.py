"""The event stream's one encoding: a domain event as a CloudEvents 1.0 JSON object, with student
identity pseudonymised per district unless the reader was granted identified access.

Only the events listed in `TYPES` are ever encoded: the passes, schedules and emergencies of a
school and its places. A student is named by `student` (`student_ids` on a schedule,
`actor.id` when a student acted): a keyed hash under the district's own key (HMAC-SHA256,
`district_key`), the same for the same student in every event of that district and different in
another district; with identified access, the student's real id. Free-text notes
(`note`, `decision_note`) go only to identified readers. Names, hall pass IDs and external IDs
are in none of these events. See docs/decisions/082.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic

from hallpass.aggregates.emergencies import Emergency
from hallpass.aggregates.encoding import MOVED
from hallpass.aggregates.locations import Location
from hallpass.aggregates.passes import Pass
from hallpass.aggregates.schedules import Schedule

SPECVERSION = "1.0"
DATACONTENTTYPE = "application/json"
PSEUDONYM_PREFIX = "s_"
PSEUDONYMISED = "pseudonymised"
IDENTIFIED = "identified"

TYPES: Mapping[type, str] = {
    Pass.Started: "hallpass.pass.started",
    Pass.Scheduled: "hallpass.pass.scheduled",
    Pass.Requested: "hallpass.pass.requested",
    Pass.Approved: "hallpass.pass.approved",
    Pass.Denied: "hallpass.pass.denied",
    Pass.Activated: "hallpass.pass.activated",
    Pass.Rescheduled: "hallpass.pass.rescheduled",
    Pass.Cancelled: "hallpass.pass.cancelled",
    Pass.Completed: "hallpass.pass.completed",
    Pass.ReturnRecorded: "hallpass.pass.return_recorded",
    Pass.Expired: "hallpass.pass.expired",
    Pass.Terminated: "hallpass.pass.terminated",
    Schedule.Created: "hallpass.schedule.created",
    Schedule.Cancelled: "hallpass.schedule.cancelled",
    Emergency.Declared: "hallpass.emergency.declared",
    Emergency.WasOut: "hallpass.emergency.was_out",
    Emergency.MarkedSafe: "hallpass.emergency.marked_safe",
    Emergency.Ended: "hallpass.emergency.ended",
    Location.Added: "hallpass.location.added",
    Location.Changed: "hallpass.location.changed",
    Location.Archived: "hallpass.location.archived",
    Location.Restored: "hallpass.location.restored",
}
"""Every event the stream carries, and its CloudEvents `type`."""

CLASSES_BY_TYPE: Mapping[str, type] = {name: cls for cls, name in TYPES.items()}
SUBJECTS: Mapping[str, str] = {
    "Pass": "passes",
    "Schedule": "schedules",
    "Emergency": "emergencies",
    "Location": "locations",
}
NOTES = frozenset({"note", "decision_note"})
_LEFT_OUT = frozenset(
    {"originator_id", "originator_version", "timestamp", "originator_topic", "cause"}
    | {"actor_kind", "actor_id"}  # given as `actor`
)


def topics(classes: Iterable[type]) -> list[str]:
    """The stored topics that may decode to one of `classes`: each class's own, the topic it was
    written under before it moved (decision 065), and the superseded `Pass.Created` that is read
    as a pass's first event (decision 066)."""
    wanted = set(classes)
    found = {get_topic(cls) for cls in wanted}
    for old, moved in MOVED.items():
        for cls in wanted:
            prefix = moved.__qualname__ + "."
            if cls.__qualname__.startswith(prefix):
                found.add(f"{old}.{cls.__qualname__.removeprefix(prefix)}")
    if wanted & {Pass.Started, Pass.Scheduled, Pass.Requested}:
        found.add(get_topic(Pass.Created))
    return sorted(found)


def district_key(secret_key: str, district_id: UUID) -> bytes:
    """The district's pseudonym key, derived from the server's secret key; it never leaves it."""
    return hmac.new(
        secret_key.encode(), b"hallpass-stream-pseudonyms:" + district_id.bytes, hashlib.sha256
    ).digest()


@dataclass(frozen=True)
class Audience:
    """Who reads: with `identified` the real student ids and notes, else pseudonyms under `key`."""

    key: bytes
    identified: bool = False

    def student(self, student_id: UUID) -> str:
        if self.identified:
            return str(student_id)
        digest = hmac.new(self.key, student_id.bytes, hashlib.sha256).hexdigest()
        return PSEUDONYM_PREFIX + digest[:32]


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return str(value)


def data(event: Any, audience: Audience) -> dict[str, Any]:
    """The event's fields as the stream gives them to `audience`."""
    out: dict[str, Any] = {}
    for name, value in vars(event).items():
        if name in _LEFT_OUT or (name in NOTES and not audience.identified):
            continue
        if name == "student_id":
            out["student"] = audience.student(value)
        elif name == "student_ids":
            out["students"] = [audience.student(s) for s in value]
        else:
            out[name] = _plain(value)
    kind = getattr(event, "actor_kind", None)
    if kind is not None:
        actor_id = getattr(event, "actor_id", None)
        if actor_id is None:
            shown = None
        elif kind == "student":
            shown = audience.student(actor_id)
        else:
            shown = str(actor_id)
        out["actor"] = {"kind": kind, "id": shown}
    return out


def encode(event: Any, *, school_id: UUID, cursor: str, audience: Audience) -> dict[str, Any]:
    """One CloudEvents 1.0 object. `cursor` (extension `hallpasscursor`) is where a reader that has
    this event continues from; `hallpassidentity` says whether students are pseudonyms."""
    kind = type(event).__qualname__.split(".")[0]
    return {
        "specversion": SPECVERSION,
        "id": f"{event.originator_id}:{event.originator_version}",
        "source": f"/hallpass/schools/{school_id}",
        "type": TYPES[type(event)],
        "time": event.timestamp.isoformat(),
        "subject": f"{SUBJECTS[kind]}/{event.originator_id}",
        "datacontenttype": DATACONTENTTYPE,
        "hallpasscursor": cursor,
        "hallpassidentity": IDENTIFIED if audience.identified else PSEUDONYMISED,
        "data": data(event, audience),
    }
