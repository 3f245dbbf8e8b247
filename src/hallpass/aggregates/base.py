"""What the aggregates' events share: who acted (`Acted`).

Event classes are the stored format: a base class here adds no topic of its own (a stored event
names its own class) and the fields it declares keep their names, so moving a declaration here
changes nothing that is stored (decision 100).
"""

from __future__ import annotations

from dataclasses import KW_ONLY
from uuid import UUID

from eventsourcing.domain import Aggregate


class Acted(Aggregate.Event):
    """An event that names who acted: a member of staff, a student, a kiosk or the system.

    The fields are keyword-only, so an event may declare its own after them, with or without
    defaults. The aggregates' methods take them as one `hallpass.acting.ActedBy` (`**by`).
    """

    _: KW_ONLY
    actor_kind: str
    actor_id: UUID | None
