"""A school's bell schedule: periods per day type, and which dates use which day type.

Each weekday (Monday to Sunday) has a day type, or none (no school); a date may use another
day type than its weekday's, or none (a holiday). A period is a name and a start and end in
local time; the instant a local time names on a date is found as `hallpass.aggregates.schools`
finds the dismissal: a time the clocks skip (spring forward) is read with the offset before the
change, a time they repeat (fall back) is its first occurrence. So a period lasts as long as the
clocks say on an ordinary day, and on a day the clocks change it lasts the real time between its
two instants.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

from hallpass.errors import Invalid
from hallpass.messages import say

MAX_DAY_TYPES = 20
MAX_PERIODS = 30
MAX_DATES = 400
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def instant(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The instant `at` names on `day` in `zone` (fold 0), in UTC."""
    return datetime.combine(day, at.replace(tzinfo=None, fold=0), tzinfo=zone).astimezone(UTC)


@dataclass(frozen=True)
class Period:
    name: str
    start: time
    end: time

    def as_json(self) -> dict[str, str]:
        return {"name": self.name, "start": self.start.strftime("%H:%M"), "end": self.end.strftime("%H:%M")}


@dataclass(frozen=True)
class DayType:
    name: str
    periods: tuple[Period, ...]

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "periods": [p.as_json() for p in self.periods]}


@dataclass(frozen=True)
class CurrentPeriod:
    """A period on a given date: its instants."""

    name: str
    day_type: str
    day: date
    start_at: datetime
    end_at: datetime

    def as_json(self, zone: ZoneInfo) -> dict[str, Any]:
        return {
            "name": self.name,
            "day_type": self.day_type,
            "date": self.day.isoformat(),
            "start_at": self.start_at.isoformat(),
            "end_at": self.end_at.isoformat(),
            "starts": self.start_at.astimezone(zone).strftime("%H:%M"),
            "ends": self.end_at.astimezone(zone).strftime("%H:%M"),
        }


@dataclass(frozen=True)
class BellSchedule:
    """Day types, the day type of each weekday (None: no school), and dates that differ."""

    day_types: tuple[DayType, ...] = ()
    weekdays: tuple[str | None, ...] = (None,) * 7
    dates: tuple[tuple[date, str | None], ...] = ()

    def __deepcopy__(self, memo: dict[int, Any]) -> BellSchedule:
        return self  # frozen, of values that cannot change: a copy of the aggregate shares it

    def day_type_on(self, day: date) -> DayType | None:
        special = dict(self.dates)
        name = special[day] if day in special else self.weekdays[day.weekday()]
        return next((t for t in self.day_types if t.name == name), None) if name else None

    def periods_on(self, day: date, zone: ZoneInfo) -> list[CurrentPeriod]:
        kind = self.day_type_on(day)
        if kind is None:
            return []
        return [
            CurrentPeriod(p.name, kind.name, day, instant(day, p.start, zone), instant(day, p.end, zone))
            for p in kind.periods
        ]

    def period_at(self, now: datetime, zone: ZoneInfo) -> CurrentPeriod | None:
        """The period `now` falls in (start included, end not), if any."""
        today = now.astimezone(zone).date()
        return next((p for p in self.periods_on(today, zone) if p.start_at <= now < p.end_at), None)

    def as_json(self) -> dict[str, Any]:
        return {
            "day_types": [t.as_json() for t in self.day_types],
            "weekdays": list(self.weekdays),
            "dates": [{"date": d.isoformat(), "day_type": n} for d, n in self.dates],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> BellSchedule:
        return bell_schedule(
            day_types=[
                (
                    str(t["name"]),
                    [(str(p["name"]), _time(p["start"]), _time(p["end"])) for p in t.get("periods", ())],
                )
                for t in data.get("day_types", ())
            ],
            weekdays=list(data.get("weekdays", [None] * 7)),
            dates=[(date.fromisoformat(str(d["date"])), d.get("day_type")) for d in data.get("dates", ())],
        )


def _time(value: Any) -> time:
    return value if isinstance(value, time) else time.fromisoformat(str(value))


def bell_schedule(
    *,
    day_types: Sequence[tuple[str, Sequence[tuple[str, time, time]]]],
    weekdays: Sequence[str | None],
    dates: Iterable[tuple[date, str | None]],
) -> BellSchedule:
    """A bell schedule, checked: named day types of named periods that start before they end
    and do not overlap; weekdays and dates naming day types that exist."""
    if len(day_types) > MAX_DAY_TYPES:
        raise Invalid(say("bells.too_many_day_types", limit=MAX_DAY_TYPES), field="day_types")
    kinds: list[DayType] = []
    for i, (name, periods) in enumerate(day_types):
        where = f"day_types[{i}]"
        name = name.strip()
        if not name:
            raise Invalid(say("bells.day_type_name"), field=f"{where}.name")
        if any(k.name == name for k in kinds):
            raise Invalid(say("bells.day_type_twice", name=name), field=f"{where}.name")
        if len(periods) > MAX_PERIODS:
            raise Invalid(say("bells.too_many_periods", limit=MAX_PERIODS), field=f"{where}.periods")
        made = sorted(
            (
                Period(p.strip(), s.replace(second=0, microsecond=0), e.replace(second=0, microsecond=0))
                for p, s, e in periods
            ),
            key=lambda p: p.start,
        )
        for p in made:
            if not p.name:
                raise Invalid(say("bells.period_name", day_type=name), field=f"{where}.periods")
            if p.start >= p.end:
                raise Invalid(
                    say("bells.period_order", period=p.name, day_type=name), field=f"{where}.periods"
                )
        for before, after in pairwise(made):
            if after.start < before.end:
                raise Invalid(
                    say("bells.overlap", first=before.name, second=after.name, day_type=name),
                    field=f"{where}.periods",
                )
        kinds.append(DayType(name, tuple(made)))
    names = {k.name for k in kinds}
    if len(weekdays) != 7:
        raise Invalid(say("bells.weekdays"), field="weekdays")
    week = tuple((w.strip() or None) if w is not None else None for w in weekdays)
    for weekday, used in zip(WEEKDAYS, week, strict=True):
        if used is not None and used not in names:
            raise Invalid(say("bells.unknown_day_type", day=weekday, name=used), field="weekdays")
    special: dict[date, str | None] = {}
    for day, given in dates:
        chosen = (given.strip() or None) if given is not None else None
        if chosen is not None and chosen not in names:
            raise Invalid(say("bells.unknown_day_type", day=day.isoformat(), name=chosen), field="dates")
        special[day] = chosen
    if len(special) > MAX_DATES:
        raise Invalid(say("bells.too_many_dates", limit=MAX_DATES), field="dates")
    return BellSchedule(tuple(kinds), week, tuple(sorted(special.items())))
