"""kill -9 the web process under load: every answered command is in the log, no pass is half made."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest

from hallpass.aggregates.passes import Status
from hallpass.bootstrap import Runtime
from support.load import assert_no_half_made_pass, caught_up, load, sign_in, until
from support.processes import Hallpass, cluster
from support.school import make_school

pytestmark = pytest.mark.slow


async def test_a_web_process_killed_under_load_loses_no_answered_command(
    runtime: Runtime, fresh_database_url: str, redis_url: str, tmp_path: Path
) -> None:
    school = await make_school(runtime, label="Killed", students=24)
    namespace = f"hallpass-faults-{secrets.token_hex(4)}"
    with cluster(fresh_database_url, redis_url, namespace, tmp_path) as processes:
        processes.start("projector")
        web = processes.web()
        token = await sign_in(web.url, school.emails["Ada"])
        async with load([web.url], [token], school, clients=8) as answers:
            await until(answers, lambda a: len(a.completed) >= 30)
            web.kill()
            assert web.process.returncode == -9
            before = answers.successes()
            # The same address again, as a supervisor would restart it.
            restarted = Hallpass("web", processes.env, tmp_path, port=web.port)
            processes.processes.append(restarted)
            restarted.wait_ready()
            await until(answers, lambda a: a.successes() >= before + 30)
        assert answers.unreachable > 0, "some requests met the dead process"
        assert not answers.statuses.get(500), answers.statuses
        await caught_up(runtime)

    passes = {p.id: p for p in await assert_no_half_made_pass(runtime, school)}
    for pass_id, student_id in answers.created.items():
        assert pass_id in passes, "a 2xx create is missing from the log"
        assert passes[pass_id].student_id == student_id
    for pass_id in answers.completed:
        assert passes[pass_id].status is Status.COMPLETED
