"""Dismissal: at the end of the school day, every pass the log holds open is Terminated.

See docs/decisions/034: the dismissal moment is the log's head when a dismissal run starts;
candidates come from the pass list once it has projected that far, and each pass's own stream
says whether it was open then and is open still.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from hallpass.acting import Acting, system
from hallpass.aggregates import ids
from hallpass.aggregates.emergencies import Emergency
from hallpass.aggregates.passes import Pass, TerminationReason
from hallpass.aggregates.schools import School
from hallpass.commands.base import CommandBase, Decided, Outcome, OutcomeKind, done, handler
from hallpass.projections.pass_list import PassListProjection
from hallpass.projections.queries import PassListView

log = logging.getLogger(__name__)

DISMISS_BATCH = 50
"""Passes ended per command: each batch is one unit of work and one transaction."""

CATCH_UP_TIMEOUT = 10.0
"""How long a dismissal run waits for the pass list to reach the dismissal moment."""


class DismissalCommands(CommandBase):
    """Mixed into `Hallpass`: the end of the school day, issued by the timer worker."""

    async def dismiss_school(
        self,
        school_id: UUID,
        *,
        now: datetime,
        batch_size: int = DISMISS_BATCH,
        catch_up_timeout: float = CATCH_UP_TIMEOUT,
    ) -> Outcome | None:
        """At dismissal every open pass of the school is Terminated with reason "dismissed".

        Once per school day: a late, duplicate or early call does nothing. The day is marked
        done (`School.Dismissed`) only after every pass open at the dismissal moment is ended;
        a run that cannot finish (the pass list is behind, or a batch keeps conflicting) leaves
        the day open, so the timer sweep sends the dismissal again.
        """
        school = await self.repository.find(school_id, School)
        if school is None:
            return None
        if school.dismissal_due(now) is None:
            return Outcome(OutcomeKind.DONE, _body(school_id, [], day_done=False), None)
        swept = await self._end_open_passes(
            Acting(system(school_id), now), TerminationReason.DISMISSED, batch_size, catch_up_timeout
        )
        if swept is None:
            log.warning("dismissal of school %s waits: the pass list is behind the log", school_id)
            body = {**_body(school_id, [], day_done=False), "waiting_for": "pass_list"}
            return Outcome(OutcomeKind.WAITING, body, None)
        dismissed, last = swept
        ended = await self._end_day(Acting(system(school_id), now))
        return Outcome(
            OutcomeKind.DONE,
            _body(school_id, dismissed, day_done=ended.body["day_done"]),
            ended.notification_id or last,
        )

    async def _end_open_passes(
        self, acting: Acting, reason: TerminationReason, batch_size: int, catch_up_timeout: float
    ) -> tuple[list[str], int | None] | None:
        """End, in batches, every pass of the school the log holds open now; None if the pass
        list did not reach the log's head in time (nothing is ended then)."""
        moment = await self.store.max_notification_id() or 0
        if not await self._pass_list_reached(moment, catch_up_timeout):
            return None
        candidates = sorted(await PassListView(self.store.pool).open_pass_ids(acting.school_id), key=str)
        ended: list[str] = []
        last: int | None = None
        for start in range(0, len(candidates), batch_size):
            batch = await self._open_at(candidates[start : start + batch_size], moment)
            if batch:
                outcome = await self._dismiss_batch(acting, batch, reason)
                ended += outcome.body["dismissed"]
                last = outcome.notification_id or last
        return ended, last

    async def _pass_list_reached(self, position: int, timeout: float) -> bool:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not await self.store.has_tracking_id(PassListProjection.name, position):
            if loop.time() >= deadline:
                return False
            await asyncio.sleep(0.05)
        return True

    async def _open_at(self, pass_ids: Sequence[UUID], moment: int) -> list[UUID]:
        """The passes that were open when the log's head was `moment`, from their own streams."""
        then = await asyncio.gather(*(self.repository.find_as_of(p, Pass, moment) for p in pass_ids))
        return [p for p, hall_pass in zip(pass_ids, then, strict=True) if hall_pass and hall_pass.is_open]

    @handler()
    async def _dismiss_batch(
        self, acting: Acting, pass_ids: Sequence[UUID], reason: TerminationReason
    ) -> Decided:
        """One command: end the batch's passes that are still open, each aggregate saved once."""
        changed: list[Aggregate] = []
        ended: list[str] = []
        for pass_id in pass_ids:
            hall_pass = await self.repository.find(pass_id, Pass)
            if hall_pass is None or hall_pass.school_id != acting.school_id or not hall_pass.is_open:
                continue
            changed += await self._end_pass(acting, hall_pass, reason)
            ended.append(str(pass_id))
        return done({"dismissed": ended}, changed)

    async def _end_pass(self, acting: Acting, hall_pass: Pass, reason: TerminationReason) -> list[Aggregate]:
        """Terminate an open pass; for an emergency, record where its student was and since when."""
        hall_pass.terminate(reason=reason, note="", **acting.stamp)
        changed = await self._close(hall_pass, acting.now, offer=False)
        if reason is TerminationReason.EMERGENCY:
            emergency = await self.repository.find(ids.emergency_id(acting.school_id), Emergency)
            if emergency is not None:
                emergency.record_out(hall_pass, now=acting.now)
                changed.append(emergency)
        return changed

    @handler()
    async def _end_day(self, acting: Acting) -> Decided:
        school = await self.repository.find(acting.school_id, School)
        if school is None or not school.dismiss(now=acting.now):
            return done({"day_done": False})
        return done({"day_done": True}, [school])


def _body(school_id: UUID, dismissed: list[str], *, day_done: bool) -> dict[str, Any]:
    return {"school_id": str(school_id), "dismissed": dismissed, "day_done": day_done}
