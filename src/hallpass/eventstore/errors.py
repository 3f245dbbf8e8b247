"""Translation of asyncpg exceptions into eventsourcing's persistence exceptions."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import asyncpg  # type: ignore[import-untyped, unused-ignore]
from eventsourcing.persistence import (
    DatabaseError,
    DataError,
    IntegrityError,
    InterfaceError,
    InternalError,
    NotSupportedError,
    OperationalError,
    PersistenceError,
    ProgrammingError,
)

_exc = asyncpg.exceptions

_TRANSLATIONS: tuple[tuple[type[BaseException], type[PersistenceError]], ...] = (
    (_exc.IntegrityConstraintViolationError, IntegrityError),
    (_exc.DataError, DataError),
    (_exc.SyntaxOrAccessError, ProgrammingError),
    (_exc.FeatureNotSupportedError, NotSupportedError),
    (_exc.InternalServerError, InternalError),
    (_exc.PostgresConnectionError, OperationalError),
    (_exc.OperatorInterventionError, OperationalError),
    (_exc.InsufficientResourcesError, OperationalError),
    (_exc.TransactionRollbackError, OperationalError),
    (_exc.ObjectNotInPrerequisiteStateError, OperationalError),
    (_exc.PostgresError, DatabaseError),
    (_exc._base.DataError, DataError),
    (_exc.InterfaceError, InterfaceError),
    (ConnectionError, OperationalError),
)


def translate(error: BaseException) -> PersistenceError | None:
    """Return the eventsourcing exception corresponding to ``error``, if any."""
    for source, target in _TRANSLATIONS:
        if isinstance(error, source):
            return target(str(error))
    return None


@contextmanager
def translated_errors() -> Iterator[None]:
    """Re-raise asyncpg and connection errors as eventsourcing persistence errors."""
    try:
        yield
    except PersistenceError:
        raise
    except Exception as error:
        translated = translate(error)
        if translated is None:
            raise
        raise translated from error
