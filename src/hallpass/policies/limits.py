"""Per-student limits: passes per school day and per school week, counted in the school's zone.

A student's recent passes are kept on the `Student` aggregate (`Student.openings`: each pass
opened in the last `KEPT` days, with its source and destination), which the creating command
appends in the same transaction as the pass: two passes decided at once for one student clash
on the student's stream, and the second is decided again with the first counted.

Which passes count is the school's setting (`Limits`): the sources that count (staff, kiosk,
portal) and the destinations that are exempt (the nurse, the office). A pass that would not
count is never refused by a limit.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from uuid import UUID
from zoneinfo import ZoneInfo

from hallpass.errors import Invalid
from hallpass.messages import count as say_count
from hallpass.messages import say

if TYPE_CHECKING:
    from hallpass.policies import Policy, Proposal, Refusal

SOURCES = ("staff", "kiosk", "portal")
KEPT = timedelta(days=8)
"""How long a student's opened passes are kept for counting: a school week and a day of margin."""
MAX_LIMIT = 100

Opening = tuple[UUID, datetime, str | None, UUID]
"""A pass the student opened: its id, when, its source (None: before sources were recorded,
always counted) and its destination. Plain tuples, so the student's snapshot holds them."""


@dataclass(frozen=True)
class Limits:
    """A school's limits; None: no limit."""

    per_day: int | None = None
    per_week: int | None = None
    sources: frozenset[str] = frozenset(SOURCES)
    exempt_destination_ids: frozenset[UUID] = field(default_factory=frozenset)

    def __deepcopy__(self, memo: dict[int, Any]) -> Limits:
        return self  # frozen, of values that cannot change: a copy of the aggregate shares it

    def counts(self, source: str | None, destination_id: UUID | None) -> bool:
        """Whether a pass from `source` to `destination_id` counts towards the limits."""
        if destination_id in self.exempt_destination_ids:
            return False
        return source is None or source in self.sources

    def as_json(self) -> dict[str, Any]:
        return {
            "per_day": self.per_day,
            "per_week": self.per_week,
            "sources": sorted(self.sources),
            "exempt_destination_ids": sorted(str(d) for d in self.exempt_destination_ids),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Limits:
        return limits(
            per_day=data.get("per_day"),
            per_week=data.get("per_week"),
            sources=data.get("sources", SOURCES),
            exempt_destination_ids=[UUID(str(d)) for d in data.get("exempt_destination_ids", ())],
        )


def limits(
    *,
    per_day: int | None,
    per_week: int | None,
    sources: Iterable[str],
    exempt_destination_ids: Iterable[UUID],
) -> Limits:
    """Limits, checked: counts of 1 to MAX_LIMIT (or none), known sources."""
    for name, value in (("per_day", per_day), ("per_week", per_week)):
        if value is not None and not 1 <= value <= MAX_LIMIT:
            raise Invalid(say("rules.limit_range", name=name, most=MAX_LIMIT), field=name)
    chosen = frozenset(sources)
    unknown = sorted(chosen - set(SOURCES))
    if unknown:
        among, got = ", ".join(SOURCES), ", ".join(unknown)
        raise Invalid(say("rules.sources", among=among, got=got), field="sources")
    return Limits(per_day, per_week, chosen, frozenset(exempt_destination_ids))


def kept(openings: Sequence[Opening], now: datetime) -> tuple[Opening, ...]:
    """The openings still worth keeping at `now`."""
    return tuple(o for o in openings if o[1] > now - KEPT)


def week_start(day: date) -> date:
    """The Monday of `day`'s week."""
    return day - timedelta(days=day.weekday())


@dataclass(frozen=True)
class Counts:
    today: int
    week: int


def count(openings: Iterable[Opening], limits: Limits, zone: ZoneInfo, now: datetime) -> Counts:
    """Passes that count, opened on `now`'s local day and in its local week (Monday to `now`)."""
    today = now.astimezone(zone).date()
    monday = week_start(today)
    day_count = week_count = 0
    for _, at, source, destination_id in openings:
        if at > now or not limits.counts(source, destination_id):
            continue
        local = at.astimezone(zone).date()
        if monday <= local <= today:
            week_count += 1
            if local == today:
                day_count += 1
    return Counts(day_count, week_count)


def _limit(policy: Policy, proposal: Proposal, weekly: bool) -> Refusal | None:
    from hallpass.policies import Refusal

    limits = policy.limits
    most = limits.per_week if weekly else limits.per_day
    if most is None or not limits.counts(proposal.source, proposal.destination_id):
        return None
    counts = count(proposal.openings, limits, policy.zone, proposal.now)
    used = counts.week if weekly else counts.today
    if used < most:
        return None
    rule, staff_key, plain_key = (
        ("weekly_limit", "rules.weekly_limit", "rules.weekly_limit_plain")
        if weekly
        else ("daily_limit", "rules.daily_limit", "rules.daily_limit_plain")
    )
    return Refusal(
        rule=rule,
        message=say_count(staff_key, used, name=proposal.student_name, limit=most),
        plain=say_count(plain_key, most),
        details={"count": used, "limit": most},
    )


def daily_limit(policy: Policy, proposal: Proposal) -> Refusal | None:
    """No more counted passes in a school day than `Limits.per_day`."""
    return _limit(policy, proposal, weekly=False)


def weekly_limit(policy: Policy, proposal: Proposal) -> Refusal | None:
    """No more counted passes in a week (Monday to Sunday, school time) than `Limits.per_week`."""
    return _limit(policy, proposal, weekly=True)
