"""The administration pages, /admin/...: the same operations as /api/v1/admin, with the same
checks (the commands' and the read models'), drawn by three generic templates from the forms
of `admin_forms` (docs/decisions/075)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import time
from typing import Any
from urllib.parse import urlencode
from uuid import UUID

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from hallpass.acting import Actor
from hallpass.bounds import MAX_STUDENTS
from hallpass.commands import Hallpass, Outcome
from hallpass.commands.keep_apart import KeepApartFields
from hallpass.commands.messages import Command
from hallpass.errors import DomainError, Forbidden, Invalid, NotFound
from hallpass.http import admin_forms
from hallpass.http.admin_api import named_emergency, password_link
from hallpass.http.admin_forms import Form
from hallpass.http.auth import csrf_token, current_actor
from hallpass.http.common import (
    acting,
    command_body,
    is_uuid,
    parse_form,
    path_uuid,
    query_text,
    runtime,
    visible_on_page,
)
from hallpass.http.errors import status_for
from hallpass.messages import say
from hallpass.projections.admin_lists import Page
from hallpass.text import is_number


@dataclass(frozen=True)
class Section:
    """A kind of record of a school, as the pages handle it."""

    form: Form
    path: str
    add: Callable[..., Awaitable[Outcome]]
    change: Callable[..., Awaitable[Outcome]]
    searchable: bool = True


def _form_body(run: Callable[..., Awaitable[Outcome]]) -> type[Command]:
    """The body `add` or `change` takes, which the section's form fills: read once, when the
    section's pages are made, not on every post."""
    body = command_body(run)
    assert body is not None, run
    return body


LOCATIONS = Section(
    admin_forms.LOCATION, "locations", Hallpass.add_location, Hallpass.change_location, searchable=False
)
STAFF = Section(admin_forms.STAFF, "staff", Hallpass.add_staff, Hallpass.change_staff)
STUDENTS = Section(admin_forms.STUDENT, "students", Hallpass.add_student, Hallpass.change_student)
SECTIONS = (LOCATIONS, STAFF, STUDENTS)
SCHOOLS = Section(
    admin_forms.SCHOOL, "schools", Hallpass.add_school, Hallpass.change_school, searchable=False
)
KEYS = {"school": "school_id", "location": "location_id", "staff": "staff_id", "student": "student_id"}


class SignInFirst(Exception):
    """The page needs a signed-in member of staff."""


async def _admin(request: Request) -> tuple[Actor, FormData | None]:
    form = await request.form() if request.method == "POST" else None
    actor = current_actor(request, form_csrf=str(form.get("csrf", "")) if form is not None else None)
    if actor is None or not actor.is_staff:
        raise SignInFirst
    if not actor.administers:
        raise Forbidden(say("admin.pages_only"))
    return actor, form


def page(
    handler: Callable[[Request, Actor, FormData | None], Awaitable[Response]],
) -> Callable[[Request], Awaitable[Response]]:
    """An administration page: signed-in staff only (else the sign-in page), administrators only."""

    async def endpoint(request: Request) -> Response:
        try:
            actor, form = await _admin(request)
        except SignInFirst:
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse("/sign-in?" + urlencode({"next": target}), status_code=303)
        return await handler(request, actor, form)

    return endpoint


async def _school(request: Request, actor: Actor, school_id: UUID) -> dict[str, Any]:
    rt = runtime(request)
    row = await rt.admin.school(school_id) if await rt.admin.may_administer(actor, school_id) else None
    if row is None:
        raise NotFound(say("http.school_not_found", id=school_id))
    return row


async def _school_in_path(request: Request, actor: Actor) -> tuple[UUID, dict[str, Any]]:
    """The school the page's path names, and its row, if the actor administers it."""
    school_id = path_uuid(request, "school_id", "school")
    return school_id, await _school(request, actor, school_id)


def _render(request: Request, template: str, actor: Actor, status: int = 200, **context: Any) -> Response:
    flash = request.session.pop("admin_flash", "")
    return request.app.state.templates.TemplateResponse(  # type: ignore[no-any-return]
        request,
        template,
        {
            "actor": actor,
            "csrf": csrf_token(request),
            "flash": flash,
            "district": actor.has_role("district_admin"),
            **context,
        },
        status_code=status,
    )


async def _rooms(request: Request, school_id: UUID) -> list[tuple[str, str]]:
    rows = await runtime(request).admin.locations(school_id)
    return [(str(r["location_id"]), r["name"]) for r in rows if r["active"]]


# -- pages ------------------------------------------------------------------------------------


@page
async def index(request: Request, actor: Actor, form: FormData | None) -> Response:
    target = "/admin/schools" if actor.has_role("district_admin") else f"/admin/schools/{actor.school_id}"
    return RedirectResponse(target, status_code=303)


@page
async def schools(request: Request, actor: Actor, form: FormData | None) -> Response:
    rows = await runtime(request).admin.schools(actor)
    return _render(
        request,
        "admin/list.html",
        actor,
        section=SCHOOLS,
        school=None,
        rows=[(f"/admin/schools/{r['school_id']}", [c.value(r) for c in SCHOOLS.form.columns]) for r in rows],
        add_path="/admin/schools/new" if actor.has_role("district_admin") else None,
        q="",
        next_page=None,
    )


def list_page(section: Section) -> Callable[[Request], Awaitable[Response]]:
    @page
    async def endpoint(request: Request, actor: Actor, form: FormData | None) -> Response:
        school_id, school = await _school_in_path(request, actor)
        q = query_text(request, "q") if section.searchable else ""
        listed = await _listed(request, section, school_id, q, query_text(request, "after") or None)
        key = KEYS[section.form.kind]
        next_page = f"?{urlencode({'q': q, 'after': listed.next})}" if listed.next else None
        return _render(
            request,
            "admin/list.html",
            actor,
            section=section,
            school=school,
            rows=[
                (f"/admin/{section.path}/{r[key]}", [c.value(r) for c in section.form.columns])
                for r in listed.rows
            ],
            add_path=f"/admin/schools/{school_id}/{section.path}/new",
            q=q,
            next_page=next_page,
        )

    return endpoint


async def _listed(request: Request, section: Section, school_id: UUID, q: str, after: str | None) -> Page:
    view = runtime(request).admin
    if section.path == "staff":
        return await view.staff(school_id, q=q, after=after)
    if section.path == "students":
        return await view.students(school_id, q=q, after=after)
    return Page(await view.locations(school_id), None)


def new_page(section: Section) -> Callable[[Request], Awaitable[Response]]:
    add_body = _form_body(section.add)

    @page
    async def endpoint(request: Request, actor: Actor, form: FormData | None) -> Response:
        in_school = section is not SCHOOLS
        school_id = path_uuid(request, "school_id", "school") if in_school else actor.school_id
        school = await _school(request, actor, school_id) if in_school else None
        values = dict(section.form.defaults)
        error, status = "", 200
        if form is not None:
            values = section.form.read(form, editing=False)
            try:
                body = parse_form(request, values, add_body)
                args = (school_id, body) if in_school else (body,)
                outcome = await section.add(runtime(request).app, acting(request, actor), *args)
                return await _saved(
                    request, outcome, f"{section.form.title} added.", _back(section, school_id)
                )
            except DomainError as e:
                error, status = e.message, status_for(e)
        return await _form_page(request, actor, section, school, values, error, status, record_id=None)

    return endpoint


def edit_page(section: Section) -> Callable[[Request], Awaitable[Response]]:
    key = KEYS[section.form.kind]
    change_body = _form_body(section.change)

    @page
    async def endpoint(request: Request, actor: Actor, form: FormData | None) -> Response:
        record_id = path_uuid(request, key, section.form.kind)
        row = await _record(request, actor, section, record_id)
        school = await _school(request, actor, row["school_id"])
        values = section.form.values(row)
        error, status = "", 200
        if form is not None:
            values = section.form.read(form, editing=True)
            try:
                body = parse_form(request, values, change_body)
                outcome = await section.change(runtime(request).app, acting(request, actor), record_id, body)
                return await _saved(request, outcome, "Saved.", _back(section, row["school_id"]))
            except DomainError as e:
                error, status = e.message, status_for(e)
        return await _form_page(request, actor, section, school, values, error, status, record_id=record_id)

    return endpoint


async def _record(request: Request, actor: Actor, section: Section, record_id: UUID) -> dict[str, Any]:
    view = runtime(request).admin
    if section is SCHOOLS:
        row = await _school(request, actor, record_id)
        at = row.get("dismissal_time")
        return {**row, "dismissal_time": at.strftime("%H:%M") if isinstance(at, time) else ""}
    found = await view.record(section.form.kind, record_id)
    if found is None or not await view.may_administer(actor, found["school_id"]):
        raise NotFound(say("http.record_not_found", what=section.form.kind, id=record_id))
    return found


def _back(section: Section, school_id: UUID) -> str:
    return (
        f"/admin/schools/{school_id}" if section is SCHOOLS else f"/admin/schools/{school_id}/{section.path}"
    )


async def _saved(request: Request, outcome: Outcome, note: str, target: str) -> Response:
    request.session["admin_flash"] = note
    headers = await visible_on_page(request, outcome.notification_id, "admin_flash")
    return RedirectResponse(target, status_code=303, headers=headers)


async def _form_page(
    request: Request,
    actor: Actor,
    section: Section,
    school: dict[str, Any] | None,
    values: dict[str, Any],
    error: str,
    status: int,
    *,
    record_id: UUID | None,
) -> Response:
    rooms = await _rooms(request, school["school_id"]) if school else []
    return _render(
        request,
        "admin/form.html",
        actor,
        status,
        section=section,
        school=school,
        fields=section.form.shown(editing=record_id is not None),
        values=values,
        rooms=rooms,
        error=error,
        record_id=record_id,
        action=request.url.path,
    )


@page
async def reset_staff_password(request: Request, actor: Actor, form: FormData | None) -> Response:
    staff_id = path_uuid(request, "staff_id", "staff")
    answer = await runtime(request).app.reset_staff_password(acting(request, actor), staff_id)
    row = await _record(request, actor, STAFF, staff_id)
    return _render(
        request,
        "admin/reset.html",
        actor,
        school=await _school(request, actor, row["school_id"]),
        person=row,
        link=password_link(request, answer["token"]),
        expires_at=answer["expires_at"],
    )


@page
async def reset_student_password(request: Request, actor: Actor, form: FormData | None) -> Response:
    student_id = path_uuid(request, "student_id", "student")
    await runtime(request).app.reset_student_password(acting(request, actor), student_id)
    request.session["admin_flash"] = (
        "Portal password reset: the student signs in with their ID and chooses a new one."
    )
    return RedirectResponse(f"/admin/students/{student_id}", status_code=303)


@page
async def emergency_page(request: Request, actor: Actor, form: FormData | None) -> Response:
    """The switch, and who was out, where and since when, each with a "confirmed safe" mark."""
    school_id, school = await _school_in_path(request, actor)
    app = runtime(request).app
    error, status = "", 200
    if form is not None:
        what = str(form.get("action", ""))
        try:
            if what == "declare":
                outcome = await app.declare_emergency(acting(request, actor), school_id)
                note = "Emergency declared: every open pass has ended."
            elif what == "end":
                outcome = await app.end_emergency(acting(request, actor), school_id)
                note = "The emergency is over: passes may be created again."
            elif what == "safe":
                student_id = str(form.get("student_id", ""))
                if not is_uuid(student_id):
                    raise NotFound(say("admin.student_not_found"), field="student_id")
                outcome = await app.mark_safe(acting(request, actor), UUID(student_id))
                note = "Confirmed safe."
            else:
                raise Invalid(say("admin.emergency_action"), field="action")
            return await _saved(request, outcome, note, request.url.path)
        except DomainError as e:
            error, status = e.message, status_for(e)
    emergency = await named_emergency(request, school_id, "")
    return _render(
        request,
        "admin/emergency.html",
        actor,
        status,
        school=school,
        emergency=emergency,
        error=error,
        action=request.url.path,
    )


async def _by_hall_pass_ids(request: Request, school_id: UUID, raw: str) -> list[UUID]:
    """The students a form names by hall pass ID (separated by commas or spaces)."""
    found: list[UUID] = []
    for text in raw.replace(",", " ").split()[:MAX_STUDENTS]:
        rows = (await runtime(request).admin.students(school_id, q=text)).rows if is_number(text) else []
        if not rows:
            raise Invalid(say("keep_apart.no_such_id", id=text[:20]), field="students")
        found.append(rows[0]["student_id"])
    return found


@page
async def keep_apart_page(request: Request, actor: Actor, form: FormData | None) -> Response:
    """Keep-apart groups: who, why (private), a form for a new one, and the prevented encounters."""
    school_id, school = await _school_in_path(request, actor)
    app = runtime(request).app
    error, status = "", 200
    values = {"name": "", "students": "", "reason": ""}
    if form is not None:
        values = {k: str(form.get(k, "")) for k in values}
        try:
            if str(form.get("action", "")) == "remove":
                group_id = str(form.get("group_id", ""))
                if not is_uuid(group_id):
                    raise NotFound(say("http.record_not_found", what="keep-apart group", id=group_id[:40]))
                outcome = await app.remove_keep_apart(acting(request, actor), UUID(group_id))
                return await _saved(request, outcome, say("keep_apart.removed_note"), request.url.path)
            members = await _by_hall_pass_ids(request, school_id, values["students"])
            body = parse_form(
                request,
                {"name": values["name"], "student_ids": members, "reason": values["reason"]},
                KeepApartFields,
            )
            outcome = await app.form_keep_apart(acting(request, actor), school_id, body)
            return await _saved(request, outcome, say("keep_apart.formed"), request.url.path)
        except DomainError as e:
            error, status = e.message, status_for(e)
    listing = await app.keep_apart_listing(acting(request, actor), school_id)
    return _render(
        request,
        "admin/keep_apart.html",
        actor,
        status,
        school=school,
        groups=[g for g in listing["groups"] if not g["removed"]],
        encounters=listing["encounters"],
        values=values,
        error=error,
        action=request.url.path,
    )


routes = [
    Route("/admin", index, methods=["GET"]),
    Route("/admin/schools", schools, methods=["GET"]),
    Route("/admin/schools/new", new_page(SCHOOLS), methods=["GET", "POST"]),
    Route("/admin/schools/{school_id}", edit_page(SCHOOLS), methods=["GET", "POST"]),
    *(Route(f"/admin/schools/{{school_id}}/{s.path}", list_page(s), methods=["GET"]) for s in SECTIONS),
    *(
        Route(f"/admin/schools/{{school_id}}/{s.path}/new", new_page(s), methods=["GET", "POST"])
        for s in SECTIONS
    ),
    *(
        Route(f"/admin/{s.path}/{{{KEYS[s.form.kind]}}}", edit_page(s), methods=["GET", "POST"])
        for s in SECTIONS
    ),
    Route("/admin/schools/{school_id}/emergency", emergency_page, methods=["GET", "POST"]),
    Route("/admin/schools/{school_id}/keep-apart", keep_apart_page, methods=["GET", "POST"]),
    Route("/admin/staff/{staff_id}/password-reset", reset_staff_password, methods=["POST"]),
    Route("/admin/students/{student_id}/password-reset", reset_student_password, methods=["POST"]),
]
