"""Async event store on asyncpg, compatible with eventsourcing's Postgres layout."""

from hallpass.eventstore.store import DbConnection, EventStore, StreamRead
from hallpass.eventstore.sync import SyncApplicationRecorder

__all__ = ["DbConnection", "EventStore", "StreamRead", "SyncApplicationRecorder"]
