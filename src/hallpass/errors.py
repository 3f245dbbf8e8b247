"""Domain errors. Each carries a stable code that the HTTP layer maps to a status."""

from __future__ import annotations

import re
from typing import Any


class DomainError(Exception):
    """A rule of the domain refused a command.

    Its stable `code` is the class name in snake case (`StudentAlreadyOut`: "student_already_out")
    unless the class says otherwise.
    """

    code = "domain_error"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "code" not in cls.__dict__:
            cls.code = re.sub(r"(?<!^)(?=[A-Z])", "_", cls.__name__).lower()

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class NotFound(DomainError):
    """No such thing, or none the caller may see."""


class Conflict(DomainError):
    """The thing's current state refuses the change."""


class StudentAlreadyOut(Conflict):
    """The student already has an open pass."""


class StudentInactive(Conflict):
    """The student was deactivated and gets no new pass."""


class IllegalTransition(Conflict):
    """The pass's status does not allow this step."""


class DestinationFull(Conflict):
    """The destination has as many students out as its capacity."""


class IdempotencyKeyReused(Conflict):
    """An Idempotency-Key sent again with a different request."""


class Forbidden(DomainError):
    """The caller may not do this."""


class Invalid(DomainError):
    """A value is out of its bounds or malformed."""


class BadRequest(DomainError):
    """The request names something that cannot be read at all (a cursor this server never gave)."""


class TryLater(DomainError):
    """A refusal that passes with time: the same request may succeed after `retry_after` seconds."""

    def __init__(self, message: str, *, retry_after: int, **details: Any) -> None:
        super().__init__(message, retry_after=retry_after, **details)
        self.retry_after = retry_after


class RateLimited(TryLater):
    """Too many requests for the caller's rate limit (429)."""


class Unauthenticated(DomainError):
    """No one is signed in, or the credentials are wrong."""
