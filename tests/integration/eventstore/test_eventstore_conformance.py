"""eventsourcing's own recorder test cases, run against SyncApplicationRecorder."""

from __future__ import annotations

import secrets

import pytest
from eventsourcing.tests.persistence import (
    ApplicationRecorderTestCase,
    NonInterleavingNotificationIDsBaseCase,
    ProcessRecorderTestCase,
    TrackingRecorderTestCase,
)

from hallpass.eventstore import SyncApplicationRecorder


class FreshRecorderMixin:
    """Gives each test its own recorder on new tables in the session database."""

    dsn: str

    @pytest.fixture(autouse=True)
    def _use_session_database(self, eventstore_dsn: str) -> None:
        self.dsn = eventstore_dsn

    def create_recorder(self) -> SyncApplicationRecorder:
        suffix = secrets.token_hex(6)
        recorder = SyncApplicationRecorder(
            self.dsn,
            events_table=f"events_{suffix}",
            tracking_table=f"tracking_{suffix}",
            channel=f"events_{suffix}",
        )
        self.addCleanup(recorder.close)  # type: ignore[attr-defined]
        return recorder


class TestApplicationRecorder(FreshRecorderMixin, ApplicationRecorderTestCase[SyncApplicationRecorder]):
    def test_insert_subscribe(self) -> None:
        self.optional_test_insert_subscribe()


class TestNonInterleavingNotificationIDs(FreshRecorderMixin, NonInterleavingNotificationIDsBaseCase):
    pass


class TestTrackingRecorder(FreshRecorderMixin, TrackingRecorderTestCase):
    pass


class TestProcessRecorder(FreshRecorderMixin, ProcessRecorderTestCase):
    pass
