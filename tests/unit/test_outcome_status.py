"""Status codes are said in one place (`hallpass.http.errors`): one for each outcome and error."""

from __future__ import annotations

import importlib
import pkgutil
from datetime import UTC, datetime
from uuid import uuid4

import orjson
import pytest
from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import get_topic

import hallpass
from hallpass.aggregates.encoding import TypedMapper
from hallpass.aggregates.idempotency import IdempotencyRecord
from hallpass.aggregates.kiosks import KioskLocked
from hallpass.commands import Outcome, OutcomeKind
from hallpass.commands.kiosk import WrongExitPassword
from hallpass.errors import DomainError, Forbidden, RateLimited, TryLater
from hallpass.http.errors import OUTCOME_STATUS, STATUS, outcome_status, status_for


def every_domain_error() -> set[type[DomainError]]:
    """Every DomainError class anywhere in hallpass (each module imported, so each is defined)."""
    for module in pkgutil.walk_packages(hallpass.__path__, "hallpass."):
        if module.name != "hallpass.__main__":
            importlib.import_module(module.name)
    found: set[type[DomainError]] = set()
    todo = [DomainError]
    while todo:
        for sub in todo.pop().__subclasses__():
            found.add(sub)
            todo.append(sub)
    return found


@pytest.mark.parametrize("kind", list(OutcomeKind))
def test_every_outcome_kind_has_a_status(kind: OutcomeKind) -> None:
    refusal = Forbidden("no") if kind is OutcomeKind.REFUSED else None
    status = outcome_status(Outcome(kind, {}, None, refusal=refusal))
    assert 200 <= status <= 599
    assert kind in OUTCOME_STATUS or refusal is not None


def test_success_and_waiting_have_the_statuses_they_always_had() -> None:
    assert OUTCOME_STATUS == {OutcomeKind.CREATED: 201, OutcomeKind.DONE: 200, OutcomeKind.WAITING: 503}


def test_a_refusal_answers_with_its_errors_status() -> None:
    wrong = Outcome(OutcomeKind.REFUSED, {}, 7, refusal=WrongExitPassword("wrong", tries_left=2))
    locked = Outcome(OutcomeKind.REFUSED, {}, 8, refusal=KioskLocked("locked", retry_after=60))
    assert (outcome_status(wrong), outcome_status(locked)) == (403, 423)


def test_every_domain_error_belongs_to_a_family_with_a_status() -> None:
    errors = every_domain_error()
    assert {KioskLocked, WrongExitPassword} <= errors
    homeless = [e.__name__ for e in errors if not any(c in STATUS for c in e.__mro__ if c is not DomainError)]
    assert homeless == []
    assert {KioskLocked, RateLimited} <= {e for e in errors if issubclass(e, TryLater)}
    assert all(
        400 <= status_for(e("x", retry_after=1) if issubclass(e, TryLater) else e("x")) < 500 for e in errors
    )


@pytest.mark.parametrize(("status_code", "outcome"), [(201, "created"), (200, "done")])
def test_an_idempotency_record_stored_with_a_status_code_reads_as_its_outcome(
    status_code: int, outcome: str
) -> None:
    """The first version stored the HTTP status; such records stay in logs and still replay."""
    state = {
        "timestamp": datetime(2025, 3, 3, 9, tzinfo=UTC).isoformat(),
        "originator_topic": get_topic(IdempotencyRecord),
        "key": "k",
        "principal": "staff:1",
        "fingerprint": "f",
        "status_code": status_code,
        "response": {"pass": {"id": "p"}},
    }
    stored = StoredEvent(uuid4(), 1, get_topic(IdempotencyRecord.Recorded), orjson.dumps(state))

    event = TypedMapper().to_domain_event(stored)
    assert isinstance(event, IdempotencyRecord.Recorded)
    record = event.mutate(None)

    assert isinstance(record, IdempotencyRecord)
    assert (record.outcome, record.response) == (outcome, {"pass": {"id": "p"}})
    assert OutcomeKind(record.outcome) in OUTCOME_STATUS
    assert OUTCOME_STATUS[OutcomeKind(record.outcome)] == status_code
