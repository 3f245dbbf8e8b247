"""Domain errors. Each carries a stable code that the HTTP layer maps to a status."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A rule of the domain refused a command."""

    code = "domain_error"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class NotFound(DomainError):
    code = "not_found"


class Conflict(DomainError):
    code = "conflict"


class StudentAlreadyOut(Conflict):
    code = "student_already_out"


class StudentInactive(Conflict):
    code = "student_inactive"


class IllegalTransition(Conflict):
    code = "illegal_transition"


class DestinationFull(Conflict):
    code = "destination_full"


class IdempotencyKeyReused(Conflict):
    code = "idempotency_key_reused"


class Forbidden(DomainError):
    code = "forbidden"


class Invalid(DomainError):
    code = "invalid"


class Unauthenticated(DomainError):
    code = "unauthenticated"
