"""The baseline for bench/passes.py: eventsourcing's stock `Application`, behind Starlette.

The same two aggregates per pass as Hallpass (the pass, and the student who may have one pass
open), create and complete, on eventsourcing's own Postgres persistence module
(`PERSISTENCE_MODULE=eventsourcing.postgres`, its default pool and settings) with the aggregate
cache on. eventsourcing is synchronous, so the endpoints run it in Starlette's thread pool.
No authentication, validation layer, idempotency or read models: a lower bound on the work.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


class StockStudent(Aggregate):
    @event("Registered")
    def __init__(self, name: str) -> None:
        self.name = name
        self.open_pass_id: UUID | None = None

    @event("PassOpened")
    def open_pass(self, pass_id: UUID) -> None:
        self.open_pass_id = pass_id

    @event("PassClosed")
    def close_pass(self, pass_id: UUID) -> None:
        self.open_pass_id = None


class StockPass(Aggregate):
    @event("Created")
    def __init__(self, student_id: UUID, destination: str) -> None:
        self.student_id = student_id
        self.destination = destination
        self.status = "active"

    @event("Completed")
    def complete(self) -> None:
        self.status = "completed"


class AlreadyOut(Exception):
    pass


class StockHallpass(Application[UUID]):
    def register_student(self, name: str) -> UUID:
        student = StockStudent(name)
        self.save(student)
        return student.id

    def create_pass(self, student_id: UUID, destination: str) -> UUID:
        student: StockStudent = self.repository.get(student_id)
        if student.open_pass_id is not None:
            raise AlreadyOut(str(student_id))
        hall_pass = StockPass(student_id, destination)
        student.open_pass(hall_pass.id)
        self.save(hall_pass, student)
        return hall_pass.id

    def complete_pass(self, pass_id: UUID) -> None:
        hall_pass: StockPass = self.repository.get(pass_id)
        student: StockStudent = self.repository.get(hall_pass.student_id)
        hall_pass.complete()
        student.close_pass(pass_id)
        self.save(hall_pass, student)


def environment(database_url: str) -> dict[str, str]:
    parts = urlsplit(database_url)
    return {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": parts.path.lstrip("/"),
        "POSTGRES_HOST": parts.hostname or "127.0.0.1",
        "POSTGRES_PORT": str(parts.port or 5432),
        "POSTGRES_USER": parts.username or "postgres",
        "POSTGRES_PASSWORD": parts.password or "",
        "AGGREGATE_CACHE_MAXSIZE": "100000",
        "CREATE_TABLE": "y",
    }


def create_stock_app(database_url: str) -> Starlette:
    application = StockHallpass(env=environment(database_url))

    async def register(request: Request) -> JSONResponse:
        body: dict[str, Any] = await request.json()
        names = [f"Student {i}" for i in range(int(body["count"]))]
        ids = [await run_in_threadpool(application.register_student, n) for n in names]
        return JSONResponse({"ids": [str(i) for i in ids]}, status_code=201)

    async def create(request: Request) -> JSONResponse:
        body: dict[str, Any] = await request.json()
        try:
            pass_id = await run_in_threadpool(
                application.create_pass, UUID(body["student_id"]), str(body["destination"])
            )
        except AlreadyOut:
            return JSONResponse({"error": {"code": "student_already_out"}}, status_code=409)
        return JSONResponse({"id": str(pass_id)}, status_code=201)

    async def complete(request: Request) -> JSONResponse:
        await run_in_threadpool(application.complete_pass, UUID(request.path_params["pass_id"]))
        return JSONResponse({"status": "completed"})

    async def ready(request: Request) -> JSONResponse:
        return JSONResponse({"ok": True})

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            application.close()

    return Starlette(
        lifespan=lifespan,
        routes=[
            Route("/students", register, methods=["POST"]),
            Route("/passes", create, methods=["POST"]),
            Route("/passes/{pass_id}/complete", complete, methods=["POST"]),
            Route("/ready", ready, methods=["GET"]),
        ],
    )
