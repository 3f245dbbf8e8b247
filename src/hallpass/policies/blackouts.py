"""Blackout windows: times when no pass may start, school-wide or for chosen destinations.

Two kinds: `edges`, the first and last N minutes of every period of the bell schedule (real
minutes from the period's start and to its end instants); and `window`, a local time of day
(start included, end not) on every day, on chosen weekdays, or on chosen dates only. A
blackout with destinations applies to passes to those places only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, time, timedelta
from typing import TYPE_CHECKING, Any
from uuid import UUID

from hallpass.errors import Invalid
from hallpass.messages import say

if TYPE_CHECKING:
    from hallpass.policies import Policy, Proposal, Refusal

MAX_BLACKOUTS = 50
MAX_EDGE_MINUTES = 120
KINDS = ("edges", "window")


@dataclass(frozen=True)
class Blackout:
    kind: str
    name: str = ""
    first_minutes: int = 0
    last_minutes: int = 0
    start: time | None = None
    end: time | None = None
    weekdays: frozenset[int] = field(default_factory=frozenset)
    dates: frozenset[date] = field(default_factory=frozenset)
    destination_ids: frozenset[UUID] = field(default_factory=frozenset)

    def __deepcopy__(self, memo: dict[int, Any]) -> Blackout:
        return self  # frozen, of values that cannot change: a copy of the aggregate shares it

    def applies_to(self, destination_id: UUID | None) -> bool:
        """Every destination, or those chosen (None, any place: only a school-wide blackout)."""
        return not self.destination_ids or destination_id in self.destination_ids

    def on(self, day: date) -> bool:
        """Whether a window applies on `day`: its dates if it has any, else its weekdays, else every day."""
        if self.dates:
            return day in self.dates
        return not self.weekdays or day.weekday() in self.weekdays

    def as_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"kind": self.kind, "name": self.name}
        if self.kind == "edges":
            body |= {"first_minutes": self.first_minutes, "last_minutes": self.last_minutes}
        else:
            assert self.start is not None and self.end is not None
            body |= {
                "start": self.start.strftime("%H:%M"),
                "end": self.end.strftime("%H:%M"),
                "weekdays": sorted(self.weekdays),
                "dates": sorted(d.isoformat() for d in self.dates),
            }
        body["destination_ids"] = sorted(str(d) for d in self.destination_ids)
        return body

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Blackout:
        def moment(key: str) -> time | None:
            raw = data.get(key)
            return None if raw is None else raw if isinstance(raw, time) else time.fromisoformat(str(raw))

        return blackout_window(
            kind=str(data.get("kind", "")),
            name=str(data.get("name", "")),
            first_minutes=int(data.get("first_minutes", 0)),
            last_minutes=int(data.get("last_minutes", 0)),
            start=moment("start"),
            end=moment("end"),
            weekdays=[int(w) for w in data.get("weekdays", ())],
            dates=[d if isinstance(d, date) else date.fromisoformat(str(d)) for d in data.get("dates", ())],
            destination_ids=[UUID(str(d)) for d in data.get("destination_ids", ())],
        )


def blackout_window(
    *,
    kind: str,
    name: str = "",
    first_minutes: int = 0,
    last_minutes: int = 0,
    start: time | None = None,
    end: time | None = None,
    weekdays: Iterable[int] = (),
    dates: Iterable[date] = (),
    destination_ids: Iterable[UUID] = (),
) -> Blackout:
    """A blackout, checked."""
    if kind not in KINDS:
        raise Invalid(say("blackouts.kind", kinds=", ".join(KINDS)), field="kind")
    days = frozenset(weekdays)
    if any(not 0 <= d <= 6 for d in days):
        raise Invalid(say("blackouts.weekdays"), field="weekdays")
    common = {"name": name.strip(), "destination_ids": frozenset(destination_ids)}
    if kind == "edges":
        for label, minutes in (("first_minutes", first_minutes), ("last_minutes", last_minutes)):
            if not 0 <= minutes <= MAX_EDGE_MINUTES:
                raise Invalid(say("blackouts.edge_minutes", name=label, most=MAX_EDGE_MINUTES), field=label)
        if first_minutes == last_minutes == 0:
            raise Invalid(say("blackouts.edge_none"), field="first_minutes")
        return Blackout("edges", first_minutes=first_minutes, last_minutes=last_minutes, **common)  # type: ignore[arg-type]
    if start is None or end is None:
        raise Invalid(say("blackouts.window_times"), field="start")
    start, end = start.replace(second=0, microsecond=0), end.replace(second=0, microsecond=0)
    if start >= end:
        raise Invalid(say("blackouts.window_order"), field="end")
    return Blackout("window", start=start, end=end, weekdays=days, dates=frozenset(dates), **common)  # type: ignore[arg-type]


SAID = {
    "window": ("rules.blackout_window", "rules.blackout_window_any", "rules.blackout_window_plain"),
    "first": ("rules.blackout_first", "rules.blackout_first_any", "rules.blackout_first_plain"),
    "last": ("rules.blackout_last", "rules.blackout_last_any", "rules.blackout_last_plain"),
}
"""What each kind of refusal says: to staff about a place, to staff about any place (the preview
before a destination is chosen, which shows school-wide blackouts), and to a student."""


def _said(kind: str, place: str) -> str:
    return SAID[kind][0] if place else SAID[kind][1]


def _hm(at: time) -> str:
    return at.strftime("%H:%M")


def check(policy: Policy, proposal: Proposal, blackout: Blackout) -> Refusal | None:
    """The refusal `blackout` gives the proposal, if any."""
    from hallpass.policies import Refusal

    if not blackout.applies_to(proposal.destination_id):
        return None
    zone, now = policy.zone, proposal.now
    local = now.astimezone(zone)
    place = proposal.destination_name
    details: dict[str, Any] = {"blackout": blackout.as_json()}
    if blackout.kind == "window":
        assert blackout.start is not None and blackout.end is not None
        at = local.time().replace(tzinfo=None)
        if not (blackout.on(local.date()) and blackout.start <= at < blackout.end):
            return None
        span = {"place": place, "start": _hm(blackout.start), "end": _hm(blackout.end)}
        return Refusal(
            rule="blackout",
            message=say(_said("window", place), **span),
            plain=say(SAID["window"][2], **span),
            details={**details, "until": span["end"]},
        )
    period = policy.bells.period_at(now, zone)
    if period is None:
        return None
    first_until = period.start_at + timedelta(minutes=blackout.first_minutes)
    last_from = period.end_at - timedelta(minutes=blackout.last_minutes)
    if blackout.first_minutes and now < first_until:
        key, minutes, until = "first", blackout.first_minutes, first_until
    elif blackout.last_minutes and now >= last_from:
        key, minutes, until = "last", blackout.last_minutes, period.end_at
    else:
        return None
    back = until.astimezone(zone).strftime("%H:%M")
    said = {"place": place, "minutes": minutes, "period": period.name, "until": back}
    return Refusal(
        rule="blackout",
        message=say(_said(key, place), **said),
        plain=say(SAID[key][2], **said),
        details={**details, "period": period.name, "until": back},
    )


def blackout(policy: Policy, proposal: Proposal) -> Refusal | None:
    """The first blackout that refuses the proposal, if any."""
    return next((r for b in policy.blackouts if (r := check(policy, proposal, b)) is not None), None)
