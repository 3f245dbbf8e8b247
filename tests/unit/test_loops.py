"""The projector runs on uvloop, as uvicorn runs the web processes (decision 135)."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

import pytest
import uvloop

from hallpass import cli, loops
from hallpass.settings import Settings


async def running_loop() -> type[asyncio.AbstractEventLoop]:
    return type(asyncio.get_running_loop())


def test_run_runs_the_coroutine_on_uvloop_and_answers_its_result() -> None:
    assert loops.run(running_loop()) is uvloop.Loop


def test_run_raises_what_the_coroutine_raises() -> None:
    async def fails() -> None:
        raise LookupError("no such thing")

    with pytest.raises(LookupError, match="no such thing"):
        loops.run(fails())


def test_hallpass_projector_follows_the_log_on_uvloop(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    followed: list[tuple[type[asyncio.AbstractEventLoop], str]] = []

    async def follow_log(url: str, secret_key: str) -> None:
        followed.append((await running_loop(), url))

    monkeypatch.setattr(cli, "follow_log", follow_log)
    url = "postgresql://postgres@127.0.0.1:5432/nowhere"  # given: nothing embedded is started
    settings = Settings(database_url=url, redis_url=None, data_dir=tmp_path, secret_key="x" * 32)
    assert cli.command_projector(settings, argparse.Namespace()) == 0
    assert followed == [(uvloop.Loop, url)]
