"""Commands, named as imperatives. Their fields are the API's request bodies."""

from __future__ import annotations

from uuid import UUID

import msgspec

from hallpass.aggregates.passes import TerminationReason
from hallpass.bounds import Minutes, Note, StudentIds


class Command(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """A request to change something; decoded strictly from a JSON body by `hallpass.bounds`.

    Fields use the value types of `hallpass.bounds`, which carry their bounds.
    """


class Passes(Command, frozen=True):
    """Passes for the selected students, from one place to another; what each way of making them shares."""

    origin_id: UUID
    destination_id: UUID
    student_ids: StudentIds
    allotted_minutes: Minutes | None = None
    note: Note = ""


class CreatePasses(Passes, frozen=True):
    """Create Hall Pass: one Active pass per selected student, all or none."""


class CompletePass(Command, frozen=True):
    """Complete Pass: the student is back; records the return time."""


class TerminatePass(Command, frozen=True):
    """End an open pass for another reason than the student's return."""

    reason: TerminationReason
    note: Note = ""
