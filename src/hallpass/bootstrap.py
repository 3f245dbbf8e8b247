"""The composition root: builds every component from settings. Nothing runs at import time."""

from __future__ import annotations

from dataclasses import dataclass, field

import asyncpg

from hallpass.analytics.stream import StreamReader
from hallpass.audit.access import AccessLog
from hallpass.audit.index import AuditIndexProjection
from hallpass.commands import Hallpass
from hallpass.credentials import CredentialStore
from hallpass.eventstore import EventStore
from hallpass.projections import trigrams
from hallpass.projections.admin_lists import AdminListView
from hallpass.projections.api_tokens import ApiTokenProjection, ApiTokenView
from hallpass.projections.base import Projection
from hallpass.projections.classes import ClassesProjection, ClassesView
from hallpass.projections.directory import DirectoryProjection
from hallpass.projections.emergency import EmergencyProjection
from hallpass.projections.kiosks import KioskProjection, KioskView
from hallpass.projections.pass_facts import PassFactsProjection
from hallpass.projections.pass_list import PassListProjection
from hallpass.projections.queries import DirectoryView, PassListView
from hallpass.projections.runner import ProjectionRunner
from hallpass.projections.schedules import ScheduleListProjection
from hallpass.projections.school_settings import SchoolSettingsProjection, SchoolSettingsView
from hallpass.projections.timers import TimersProjection
from hallpass.projections.wait_lines import WaitLinesProjection
from hallpass.projections.watch import Watcher
from hallpass.roster.uploads import RosterUploads
from hallpass.sessions import SESSIONS_CHANNEL, SessionStore


def all_projections() -> list[Projection]:
    return [
        DirectoryProjection(),
        PassListProjection(),
        TimersProjection(),
        KioskProjection(),
        SchoolSettingsProjection(),
        ScheduleListProjection(),
        EmergencyProjection(),
        ClassesProjection(),
        AuditIndexProjection(),
        PassFactsProjection(),
        ApiTokenProjection(),
        WaitLinesProjection(),
    ]


@dataclass
class Runtime:
    pool: asyncpg.Pool
    store: EventStore
    app: Hallpass
    credentials: CredentialStore
    sessions: SessionStore
    passes: PassListView
    directory: DirectoryView
    kiosks: KioskView
    settings: SchoolSettingsView
    classes: ClassesView
    admin: AdminListView
    tokens: ApiTokenView
    stream: StreamReader
    roster_uploads: RosterUploads
    runners: list[ProjectionRunner]
    watcher: Watcher
    extras: dict[str, object] = field(default_factory=dict)

    @property
    def projections(self) -> list[Projection]:
        return [p for runner in self.runners for p in runner.projections]

    async def close(self) -> None:
        await self.roster_uploads.wait()
        await self.watcher.stop()
        await self.pool.close()


class PooledConnection(asyncpg.Connection):  # type: ignore[misc]
    """Released without asyncpg's reset query, which would double the round trips of short reads.

    Pooled connections keep no session state here: locks are transaction-scoped or released
    explicitly, and listeners are removed (with UNLISTEN) by their owners.
    """

    def get_reset_query(self) -> str:
        return ""


# Seconds to wait for a new connection: an unreachable database fails requests fast (503).
CONNECT_TIMEOUT = 5.0
# Seconds at least between the starts of two live batches of the read models only background
# work reads (timers, reports, the audit's index): under load a batch then holds many commands'
# events, its fixed statements shared; no answer waits on them (decision 133).
BACKGROUND_GATHER = 0.02


async def create_pool(database_url: str, *, size: int = 10) -> asyncpg.Pool:
    pool = await asyncpg.create_pool(
        database_url,
        min_size=1,
        max_size=size,
        connection_class=PooledConnection,
        timeout=CONNECT_TIMEOUT,
    )
    if pool is None:
        raise RuntimeError("could not create a database pool")
    return pool


async def build_runtime(database_url: str, *, pool_size: int = 10) -> Runtime:
    """Connect, create the schema if needed (idempotent), and wire the components."""
    projections = all_projections()
    # The read models that answers wait for are fed together, one transaction per batch
    # (docs/decisions/055); those only background work reads (timers, reports, the audit's
    # index) by a runner of their own, so their statements never hold an answer up (decision 112),
    # which gathers its batches (decision 133).
    serving = [p for p in projections if p.serves_requests]
    background = [p for p in projections if not p.serves_requests]
    groups = [(g, gather) for g, gather in ((serving, 0.0), (background, BACKGROUND_GATHER)) if g]
    # Each running runner holds a listening connection and one for its current batch.
    pool = await create_pool(database_url, size=pool_size + 2 * len(groups))
    store = EventStore(pool)
    sessions = SessionStore(pool)
    credentials = CredentialStore(pool, sessions)
    uploads = RosterUploads(pool)
    runners = [ProjectionRunner(pool, store, *group, gather=gather) for group, gather in groups]
    async with pool.acquire() as conn:
        await conn.execute("SELECT pg_advisory_lock(727274)")
        try:
            await store.create_schema()
            await credentials.create_schema()
            await sessions.create_schema()
            await uploads.create_schema()
            await AccessLog(pool).create_schema()
            for runner in runners:
                await runner.create_schema()
        finally:
            await conn.execute("SELECT pg_advisory_unlock(727274)")
    app = Hallpass(store, credentials)
    watcher = Watcher(
        pool,
        tuple(p.name for p in serving),
        events_channel=store.channel,
        events_table=store.events_table,
        also={SESSIONS_CHANNEL: sessions.cache.changed},
        streams_moved=app.repository.moved,
    )
    sessions.cache.follow(watcher.listening)
    await watcher.start()
    return Runtime(
        pool=pool,
        store=store,
        app=app,
        credentials=credentials,
        sessions=sessions,
        passes=PassListView(pool),
        directory=DirectoryView(pool),
        kiosks=KioskView(pool, trigrams=await trigrams.installed(pool)),
        settings=SchoolSettingsView(pool),
        classes=ClassesView(pool),
        admin=AdminListView(pool),
        tokens=ApiTokenView(pool),
        stream=StreamReader(store),
        roster_uploads=uploads,
        runners=runners,
        watcher=watcher,
    )
