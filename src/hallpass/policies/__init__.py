"""Hallway rules: pure functions of the aggregates a new pass involves and `now`.

A rule looks at a `Proposal` (the student's recent passes, the destination, where the pass is
made, when) under a school's `Policy` (its limits, bell schedule and blackout windows) and
answers a `Refusal` naming itself, or None. Nothing here reads or writes the store: the
creating command reads the student, the school and its `SchoolRules` in its own unit of work
and appends the pass and the student together, so a rule sees what the pass will be appended
after (docs/decisions/088).

A refusal is settled by `settle`: refused (`RuleRefused`, 409, the rule named), or, when a
member of staff gives an override reason, let through; the command then records the override
on the pass (`Pass.RulesOverridden`: who, why, which rules). Rules added later (keep-apart
groups, wait lines) answer `Refusal`s in the same way and are settled together.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from hallpass.acting import Actor
from hallpass.errors import Conflict, Forbidden, Invalid
from hallpass.messages import say
from hallpass.policies.bells import BellSchedule
from hallpass.policies.blackouts import Blackout
from hallpass.policies.limits import Limits, Opening


@dataclass(frozen=True)
class Refusal:
    """A rule's answer: its name, what staff are told, what a student is told, and the facts."""

    rule: str
    message: str
    plain: str
    details: dict[str, Any] = field(default_factory=dict)

    def as_json(self, *, for_staff: bool = True) -> dict[str, Any]:
        return {"rule": self.rule, "message": self.message if for_staff else self.plain, **self.details}


@dataclass(frozen=True)
class Policy:
    """What a school has set: its zone, limits, bell schedule and blackout windows."""

    timezone: str = "UTC"
    limits: Limits = field(default_factory=Limits)
    bells: BellSchedule = field(default_factory=BellSchedule)
    blackouts: tuple[Blackout, ...] = ()

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


@dataclass(frozen=True)
class Proposal:
    """A pass about to be made: for whom, to where, from which source, at `now`."""

    student_id: UUID
    student_name: str
    openings: Sequence[Opening]
    destination_id: UUID | None
    """None: any place (the preview before a destination is chosen)."""
    destination_name: str
    source: str
    now: datetime

    @property
    def by_student(self) -> bool:
        """Asked for by the student (at a kiosk or in the portal): told plainly, never overridden."""
        return self.source != "staff"


Rule = Callable[[Policy, Proposal], Refusal | None]


def evaluate(policy: Policy, proposal: Proposal, rules: Sequence[Rule] | None = None) -> list[Refusal]:
    """Every refusal the school's rules give this pass (none: it may be made)."""
    from hallpass.policies.blackouts import blackout
    from hallpass.policies.limits import daily_limit, weekly_limit

    chosen = rules if rules is not None else (daily_limit, weekly_limit, blackout)
    return [r for rule in chosen if (r := rule(policy, proposal)) is not None]


class RuleRefused(Conflict):
    """A hallway rule refuses the pass; `details.rule` names it (`details.rules`: every one)."""


MAX_REASON = 500


def override_reason(reason: str | None, actor: Actor) -> str | None:
    """The override reason a command carries, checked: staff only, and not blank."""
    if reason is None:
        return None
    if not actor.is_staff:
        raise Forbidden(say("auth.staff_may", action="override a rule"))
    if not reason.strip():
        raise Invalid(say("rules.override_reason"), field="override.reason")
    return reason.strip()


def settle(refused: Sequence[tuple[UUID, Refusal]], reason: str | None, actor: Actor) -> None:
    """Refuse unless a member of staff overrides (`reason`); kiosk and portal are told plainly.

    `refused` pairs each refusal with the student it is about. With a reason, the caller
    records the override on each pass (`Pass.record_override`).
    """
    if not refused or (reason is not None and actor.is_staff):
        return
    staff = actor.is_staff
    messages = list(dict.fromkeys(r.message if staff else r.plain for _, r in refused))
    if staff:
        messages.append(say("rules.override_hint"))
    raise RuleRefused(
        " ".join(messages),
        rule=refused[0][1].rule,
        rules=[{"student_id": str(s), **r.as_json(for_staff=staff)} for s, r in refused],
        overridable=staff,
    )
