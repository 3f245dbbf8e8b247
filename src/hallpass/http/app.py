"""The Starlette app factory: builds the runtime in the lifespan, from settings."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates
from starlette.types import ASGIApp

from hallpass import errors
from hallpass.bootstrap import Runtime, build_runtime
from hallpass.heap import freeze_start_up
from hallpass.http import (
    admin_api,
    admin_pages,
    approvals_api,
    audit_api,
    audit_pages,
    directory_api,
    health,
    kiosk_api,
    kiosk_pages,
    kiosk_setup,
    labels,
    lines_api,
    lines_pages,
    live,
    openapi,
    pages,
    passes_api,
    portal_api,
    portal_pages,
    portal_settings,
    reports_api,
    reports_pages,
    roster_pages,
    rules_pages,
    schedules_api,
    school_day_pages,
    session_api,
    setup_pages,
    stream_api,
    token_pages,
    tokens_api,
)
from hallpass.http.auth import SessionLookup
from hallpass.http.errors import OUTAGE_ERRORS, domain_error, http_error, unexpected_error
from hallpass.http.routing import IndexedRouter
from hallpass.http.security import BodyLimit, SecurityHeaders
from hallpass.messages import count as count_of
from hallpass.messages import say
from hallpass.settings import Settings

HERE = Path(__file__).parent
Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


def templates() -> Jinja2Templates:
    t = Jinja2Templates(directory=str(HERE / "templates"))
    # The templates ship with the package: read each once, not its file's time on every render.
    t.env.auto_reload = False
    t.env.filters["local"] = labels.local
    t.env.filters["moment"] = labels.moment
    t.env.globals["created_by"] = labels.created_by
    t.env.globals["actor_kind"] = labels.actor_kind
    t.env.globals["pass_source"] = labels.pass_source
    t.env.globals["say"] = say
    t.env.globals["count_of"] = count_of
    return t


class HallpassApp(Starlette):
    """Starlette with the security headers outside every other layer, so that even the
    500 answer of the outermost error handler carries them, and routes found by their paths'
    literal start (`IndexedRouter`)."""

    def __init__(self, *, https: bool, **kwargs: Any) -> None:
        self.https = https
        super().__init__(**kwargs)
        self.router = IndexedRouter(self.router.routes, lifespan=kwargs.get("lifespan"))

    def build_middleware_stack(self) -> ASGIApp:
        return SecurityHeaders(super().build_middleware_stack(), https=self.https)


def create_app(
    settings: Settings,
    *,
    runtime: Runtime | None = None,
    clock: Clock | None = None,
    database_url: str | None = None,
    settle_heap: bool = False,
) -> Starlette:
    """Build the web app. With no runtime given, one is built on start-up and closed after.

    `settle_heap`: freeze what start-up made (`hallpass.heap`), for the web process's own
    entry point (`hallpass web`), not for tests that build many apps in one process.
    """

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        owned = None
        if runtime is None:
            url = database_url or settings.database_url
            if url is None:
                raise RuntimeError("DATABASE_URL is not set")
            owned = await build_runtime(url)
        app.state.runtime = runtime or owned
        if settle_heap:
            freeze_start_up()
        try:
            yield
        finally:
            if owned is not None:
                await owned.close()

    handlers: dict[Any, Any] = {
        errors.DomainError: domain_error,
        HTTPException: http_error,
        **dict.fromkeys(OUTAGE_ERRORS, unexpected_error),
        Exception: unexpected_error,
    }
    app = HallpassApp(
        https=settings.https_only,
        routes=[
            *session_api.routes,
            *portal_api.routes,
            *portal_settings.routes,
            *approvals_api.routes,
            *portal_pages.routes,
            *schedules_api.routes,
            *passes_api.routes,
            *directory_api.routes,
            *admin_api.routes,
            *tokens_api.routes,
            *stream_api.routes,
            *audit_api.routes,
            *reports_api.routes,
            *live.routes,
            *openapi.routes,
            *health.routes,
            *school_day_pages.routes,
            *kiosk_api.routes,
            *lines_api.routes,
            *kiosk_pages.routes,
            *rules_pages.routes,
            *kiosk_setup.routes,
            *lines_pages.routes,
            *pages.routes,
            *setup_pages.routes,
            *admin_pages.routes,
            *token_pages.routes,
            *audit_pages.routes,
            *reports_pages.routes,
            *roster_pages.routes,
            Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static"),
        ],
        middleware=[
            Middleware(BodyLimit, larger={roster_pages.UPLOAD_PATH: roster_pages.MAX_UPLOAD_BYTES}),
            Middleware(
                SessionMiddleware,
                secret_key=settings.secret_key,
                session_cookie="hallpass",
                same_site="lax",
                max_age=12 * 3600,
                https_only=settings.https_only,
            ),
            Middleware(SessionLookup),
            Middleware(kiosk_pages.KioskLock),
        ],
        exception_handlers=handlers,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.clock = clock or utc_now
    app.state.templates = templates()
    app.state.openapi = openapi.document(app.routes)
    return app
