"""2 web + 2 projector + 2 worker processes under concurrent load end with a rebuild's read models."""

from __future__ import annotations

import asyncio
import secrets
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from hallpass.bootstrap import Runtime
from support.load import assert_no_half_made_pass, caught_up, load, read_models, sign_in, until
from support.processes import cluster
from support.school import SchoolFixture, make_school

pytestmark = pytest.mark.slow


async def schedule(
    url: str, token: str, school: SchoolFixture, students: list[str], start_at: datetime
) -> None:
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        r = await http.post(
            "/api/v1/passes/scheduled",
            headers={"Authorization": f"Bearer {token}"},
            json={
                "origin_id": str(school.rooms["Room 102"]),
                "destination_id": str(school.rooms["Nurse"]),
                "student_ids": students,
                "start_at": start_at.isoformat(),
            },
        )
        assert r.status_code == 201, r.text


async def test_two_of_each_process_end_with_the_read_models_of_a_rebuild(
    runtime: Runtime, fresh_database_url: str, redis_url: str, tmp_path: Path
) -> None:
    school = await make_school(runtime, label="Many", students=40)
    loaded = SchoolFixture(**{**school.__dict__, "students": school.students[:30]})
    scheduled = [str(s) for s in school.students[30:]]
    namespace = f"hallpass-faults-{secrets.token_hex(4)}"
    with cluster(fresh_database_url, redis_url, namespace, tmp_path) as processes:
        for kind in ("projector", "projector", "worker", "worker", "web", "web"):
            processes.start(kind)
        for process in processes.processes:
            process.wait_ready()
        urls = [p.url for p in processes.processes if p.kind == "web"]
        names = ("Ada", "Bo")
        tokens = [await sign_in(url, school.emails[name]) for url, name in zip(urls, names, strict=True)]

        # Scheduled passes that the workers start while the clients create and complete others.
        start_at = datetime.now(UTC) + timedelta(seconds=3)
        await schedule(urls[0], tokens[0], school, scheduled[:5], start_at)
        await schedule(urls[1], tokens[1], school, scheduled[5:], start_at)
        async with load(urls, tokens, loaded, clients=8) as answers:
            await until(answers, lambda a: len(a.completed) >= 80)

        deadline = time.monotonic() + 60
        while await runtime.pool.fetchval("SELECT count(*) FROM pass_list WHERE status = 'scheduled'"):
            assert time.monotonic() < deadline, "the workers did not start the scheduled passes"
            await asyncio.sleep(0.1)
        await caught_up(runtime)

    assert not answers.statuses.get(500), answers.statuses
    for runner in runtime.runners:
        await runner.catch_up()  # anything a worker appended while stopping
    projected = await read_models(runtime)
    assert len(projected["pass_list"]) >= 80 + len(scheduled)
    for runner in runtime.runners:
        await runner.rebuild()
    assert await read_models(runtime) == projected
    await assert_no_half_made_pass(runtime, school)
