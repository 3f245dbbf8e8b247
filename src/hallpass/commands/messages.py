"""Commands, named as imperatives. Their fields are the API's request bodies."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

import msgspec

from hallpass.aggregates.passes import TerminationReason
from hallpass.bounds import MAX_NOTE, TEXT_PATTERN, Minutes, Note, StudentIds

Reason = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_NOTE, pattern=TEXT_PATTERN)]


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


class Override(Command, frozen=True):
    """Staff make a pass that hallway rules refuse, saying why (recorded on the pass)."""

    reason: Reason


class CreatePasses(Passes, frozen=True):
    """Create Hall Pass: one Active pass per selected student, all or none. With `override`,
    a member of staff makes it even where hallway rules refuse (docs/decisions/088)."""

    override: Override | None = None


class CompletePass(Command, frozen=True):
    """Complete Pass: the student is back; records the return time."""


class TerminatePass(Command, frozen=True):
    """End an open pass for another reason than the student's return."""

    reason: TerminationReason
    note: Note = ""
