"""The timer broker is configured from the environment or from the app's settings alike."""

from __future__ import annotations

from pathlib import Path

from hallpass.settings import Settings
from hallpass.timers.broker import QUEUE, DaemonAsyncIO, PromptRedisBroker, TimerSettings, make_broker


def test_timer_settings_read_the_same_variables_as_the_app() -> None:
    env = {
        "DATABASE_URL": "postgresql://u@db:5432/x",
        "REDIS_URL": "redis://cache:6379/3",
        "HALLPASS_REDIS_NAMESPACE": "school-a",
    }
    assert TimerSettings.from_env(env) == TimerSettings(
        "postgresql://u@db:5432/x", "redis://cache:6379/3", "school-a"
    )
    assert TimerSettings.from_env({}).redis_namespace == "hallpass"


def test_the_broker_takes_the_app_settings_namespace(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {
            "HALLPASS_DATA_DIR": str(tmp_path),
            "REDIS_URL": "redis://127.0.0.1:6379/9",
            "HALLPASS_REDIS_NAMESPACE": "ns-x",
        }
    )
    broker = make_broker(settings)
    try:
        assert isinstance(broker, PromptRedisBroker)
        assert broker.namespace == "ns-x"
        assert broker.client.connection_pool.connection_kwargs["db"] == 9
        assert any(isinstance(m, DaemonAsyncIO) for m in broker.middleware)
        assert QUEUE == "hallpass_timers"
    finally:
        broker.close()
