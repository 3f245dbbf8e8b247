"""Error codes are part of the API: each is the class name in snake case, and stays put."""

from hallpass import errors
from hallpass.aggregates.kiosks import DestinationNotAllowed, KioskLocked, StudentNotAllowed
from hallpass.commands.kiosk import NoOpenPass, WrongExitPassword


def test_each_domain_error_answers_its_stable_code() -> None:
    codes = {
        cls.__name__: cls.code
        for cls in (
            errors.DomainError,
            errors.NotFound,
            errors.Conflict,
            errors.StudentAlreadyOut,
            errors.IdempotencyKeyReused,
            errors.Unauthenticated,
            StudentNotAllowed,
            DestinationNotAllowed,
            KioskLocked,
            NoOpenPass,
            WrongExitPassword,
        )
    }
    assert codes == {
        "DomainError": "domain_error",
        "NotFound": "not_found",
        "Conflict": "conflict",
        "StudentAlreadyOut": "student_already_out",
        "IdempotencyKeyReused": "idempotency_key_reused",
        "Unauthenticated": "unauthenticated",
        "StudentNotAllowed": "student_not_allowed",
        "DestinationNotAllowed": "destination_not_allowed",
        "KioskLocked": "kiosk_locked",
        "NoOpenPass": "no_open_pass",
        "WrongExitPassword": "wrong_exit_password",
    }


def test_a_class_may_name_its_own_code() -> None:
    class Gone(errors.NotFound):
        code = "gone_for_good"

    assert Gone("x").code == "gone_for_good"
