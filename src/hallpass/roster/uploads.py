"""Rosters uploaded in the admin pages: kept until imported, with each run's stage and report.

An upload is checked (a dry run) and then imported, each in a task of the web process that took
the request; any web process can show its state, since it lives here, in Postgres. The import
itself is still one transaction (decision 077): a process that dies mid-import leaves nothing
half-done, and the upload can be imported again.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import orjson

from hallpass.acting import ActedBy
from hallpass.commands import Hallpass
from hallpass.roster.source import RosterFiles

SCHEMA = """
CREATE TABLE IF NOT EXISTS roster_uploads (
    upload_id uuid PRIMARY KEY,
    district_id uuid NOT NULL,
    staff_id uuid NOT NULL,
    origin text NOT NULL,
    files jsonb NOT NULL,
    valid_rows boolean NOT NULL,
    state text NOT NULL,
    stage text NOT NULL DEFAULT '',
    step integer NOT NULL DEFAULT 0,
    result jsonb,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
"""

STEPS = 5
"""Stages an import reports (see `RosterCommands.import_roster`)."""

log = logging.getLogger(__name__)


class UploadState(StrEnum):
    CHECKING = "checking"
    CHECKED = "checked"
    IMPORTING = "importing"
    IMPORTED = "imported"
    FAILED = "failed"

    @property
    def running(self) -> bool:
        return self in {UploadState.CHECKING, UploadState.IMPORTING}


@dataclass(frozen=True)
class Upload:
    upload_id: UUID
    district_id: UUID
    staff_id: UUID
    origin: str
    valid_rows: bool
    state: UploadState
    stage: str
    step: int
    result: dict[str, Any] | None
    created_at: datetime


class RosterUploads:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool
        self._tasks: set[asyncio.Task[None]] = set()

    async def create_schema(self) -> None:
        await self.pool.execute(SCHEMA)

    async def add(
        self, files: RosterFiles, *, district_id: UUID, staff_id: UUID, valid_rows: bool, now: datetime
    ) -> UUID:
        upload_id = uuid4()
        await self.pool.execute(
            "INSERT INTO roster_uploads (upload_id, district_id, staff_id, origin, files, valid_rows, state,"
            " created_at) VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7, $8)",
            upload_id,
            district_id,
            staff_id,
            files.origin,
            orjson.dumps(files.texts).decode(),
            valid_rows,
            UploadState.CHECKING.value,
            now,
        )
        return upload_id

    async def recent(self, district_id: UUID, limit: int = 10) -> list[dict[str, Any]]:
        """The district's latest uploads, newest first, for the upload page's list."""
        rows = await self.pool.fetch(
            "SELECT upload_id, origin, state, created_at FROM roster_uploads WHERE district_id = $1"
            " ORDER BY created_at DESC LIMIT $2",
            district_id,
            limit,
        )
        return [dict(r) for r in rows]

    async def get(self, upload_id: UUID) -> Upload | None:
        row = await self.pool.fetchrow(
            "SELECT upload_id, district_id, staff_id, origin, valid_rows, state, stage, step, result,"
            " created_at FROM roster_uploads WHERE upload_id = $1",
            upload_id,
        )
        if row is None:
            return None
        values = dict(row)
        values["state"] = UploadState(values["state"])
        values["result"] = orjson.loads(values["result"]) if values["result"] else None
        return Upload(**values)

    async def files(self, upload_id: UUID) -> RosterFiles:
        row = await self.pool.fetchrow(
            "SELECT origin, files FROM roster_uploads WHERE upload_id = $1", upload_id
        )
        return RosterFiles(orjson.loads(row["files"]), row["origin"])

    async def begin_import(self, upload_id: UUID) -> bool:
        """Mark a checked upload as importing; False if it is not (already running or done)."""
        changed = await self.pool.fetchval(
            "UPDATE roster_uploads SET state = $2, stage = '', step = 0, updated_at = now()"
            " WHERE upload_id = $1 AND state = $3 RETURNING true",
            upload_id,
            UploadState.IMPORTING.value,
            UploadState.CHECKED.value,
        )
        return bool(changed)

    def run(self, app: Hallpass, upload: Upload, *, by: ActedBy, now: datetime) -> None:
        """Check (`CHECKING`) or import (`IMPORTING`) the upload in a task of this process."""
        task = asyncio.get_running_loop().create_task(self._run(app, upload, by, now))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, app: Hallpass, upload: Upload, by: ActedBy, now: datetime) -> None:
        dry_run = upload.state is UploadState.CHECKING
        step = 0

        async def said(stage: str) -> None:
            nonlocal step
            step += 1
            await self.pool.execute(
                "UPDATE roster_uploads SET stage = $2, step = $3, updated_at = now() WHERE upload_id = $1",
                upload.upload_id,
                stage,
                min(step, STEPS),
            )

        try:
            outcome = await app.import_roster(
                await self.files(upload.upload_id),
                district_id=upload.district_id,
                now=now,
                by=by,
                dry_run=dry_run,
                valid_rows=upload.valid_rows,
                progress=said,
            )
            state = UploadState.CHECKED if dry_run else UploadState.IMPORTED
            result = outcome.as_dict()
        except Exception as e:  # the page says so; the log keeps the trace
            log.exception("roster upload %s failed", upload.upload_id)
            state, result = UploadState.FAILED, {"failure": str(e) or type(e).__name__}
        await self.pool.execute(
            "UPDATE roster_uploads SET state = $2, result = $3::jsonb, step = $4, updated_at = now()"
            " WHERE upload_id = $1",
            upload.upload_id,
            state.value,
            orjson.dumps(result).decode(),
            STEPS,
        )

    async def wait(self) -> None:
        """Let running checks and imports finish (a test, or a process stopping)."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
