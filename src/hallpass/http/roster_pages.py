"""The roster upload pages, /admin/roster: upload OneRoster files, see the dry run's report,
then import; a progress display follows each run (decision 078)."""

from __future__ import annotations

from uuid import UUID

from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from hallpass.acting import Actor
from hallpass.errors import Forbidden, Invalid, NotFound
from hallpass.http.admin_pages import _render, page
from hallpass.http.common import acting, now, path_uuid, runtime
from hallpass.messages import say
from hallpass.roster.source import MAX_FILE_BYTES, RosterFiles, UnreadableRoster, read_zip
from hallpass.roster.uploads import STEPS, Upload

UPLOAD_PATH = "/admin/roster"
MAX_UPLOAD_BYTES = 64 * 1024 * 1024
"""A roster upload may be this large (the body limit of every other request is 1 MiB)."""


def _district_admin(actor: Actor) -> None:
    if not actor.has_role("district_admin"):
        raise Forbidden(say("roster.only"))


async def _district(request: Request, actor: Actor) -> UUID:
    district_id = await runtime(request).directory.district_of(actor.school_id)
    if district_id is None:
        raise NotFound(say("roster.no_district"))
    return district_id


async def _files(form: FormData) -> RosterFiles:
    """The uploaded zip file, or the CSV files chosen together."""
    uploads = [f for f in form.getlist("files") if isinstance(f, UploadFile) and f.filename]
    if not uploads:
        raise Invalid(say("roster.choose_files"), field="files")
    texts: dict[str, str] = {}
    for upload in uploads:
        name = (upload.filename or "").rsplit("/", 1)[-1]
        data = await upload.read(MAX_FILE_BYTES + 1)
        if len(data) > MAX_FILE_BYTES:
            raise Invalid(say("roster.too_large", name=name, limit=MAX_FILE_BYTES // 2**20), field="files")
        try:
            if name.lower().endswith(".zip"):
                texts.update(read_zip(data, origin=name).texts)
            elif name.lower().endswith(".csv"):
                texts[name.lower()] = data.decode("utf-8-sig")
            else:
                raise Invalid(say("roster.not_zip_or_csv", name=name), field="files")
        except (UnreadableRoster, UnicodeDecodeError) as e:
            raise Invalid(say("roster.unreadable", name=name, reason=e), field="files") from e
    return RosterFiles(texts, ", ".join(u.filename or "" for u in uploads))


@page
async def upload_page(request: Request, actor: Actor, form: FormData | None) -> Response:
    _district_admin(actor)
    district_id = await _district(request, actor)
    error, status = "", 200
    if form is not None:
        try:
            files = await _files(form)
            rt = runtime(request)
            upload_id = await rt.roster_uploads.add(
                files,
                district_id=district_id,
                staff_id=actor.id or UUID(int=0),
                valid_rows=form.get("valid_rows") == "on",
                now=now(request),
            )
            upload = await rt.roster_uploads.get(upload_id)
            if upload is not None:
                rt.roster_uploads.run(rt.app, upload, by=acting(request, actor).by, now=now(request))
            return RedirectResponse(f"/admin/roster/{upload_id}", status_code=303)
        except Invalid as e:
            error, status = e.message, 422
    return _render(
        request,
        "admin/roster.html",
        actor,
        status,
        school=None,
        error=error,
        recent=await runtime(request).roster_uploads.recent(district_id),
    )


async def _upload(request: Request, actor: Actor) -> Upload:
    _district_admin(actor)
    upload_id = path_uuid(request, "upload_id", "roster upload")
    upload = await runtime(request).roster_uploads.get(upload_id)
    if upload is None or upload.district_id != await _district(request, actor):
        raise NotFound(say("roster.upload_not_found", id=upload_id))
    return upload


@page
async def status_page(request: Request, actor: Actor, form: FormData | None) -> Response:
    upload = await _upload(request, actor)
    result = upload.result or {}
    counts = result.get("counts", {})
    return _render(
        request,
        "admin/roster_status.html",
        actor,
        school=None,
        upload=upload,
        steps=STEPS,
        counts=counts,
        errors=result.get("errors", []),
        skipped=result.get("skipped", []),
        failure=result.get("failure"),
        applied=result.get("applied", False),
        events=result.get("events", 0),
        may_import=upload.state.value == "checked" and (not result.get("errors") or upload.valid_rows),
    )


@page
async def import_page(request: Request, actor: Actor, form: FormData | None) -> Response:
    upload = await _upload(request, actor)
    rt = runtime(request)
    if await rt.roster_uploads.begin_import(upload.upload_id):
        started = await rt.roster_uploads.get(upload.upload_id)
        if started is not None:
            rt.roster_uploads.run(rt.app, started, by=acting(request, actor).by, now=now(request))
    return RedirectResponse(f"/admin/roster/{upload.upload_id}", status_code=303)


routes = [
    Route(UPLOAD_PATH, upload_page, methods=["GET", "POST"]),
    Route("/admin/roster/{upload_id}", status_page, methods=["GET"]),
    Route("/admin/roster/{upload_id}/import", import_page, methods=["POST"]),
]
