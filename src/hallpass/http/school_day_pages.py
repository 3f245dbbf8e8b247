"""School day settings for administrators: when dismissal ends every open pass."""

from __future__ import annotations

from datetime import time

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from hallpass import bounds
from hallpass.errors import DomainError, Forbidden, Invalid
from hallpass.http.auth import csrf_token, current_actor
from hallpass.http.common import acting, runtime, school_settings, visible_on_page
from hallpass.http.errors import status_for
from hallpass.messages import say


async def school_day(request: Request) -> Response:
    form = await request.form() if request.method == "POST" else None
    actor = current_actor(request, form_csrf=str(form.get("csrf", "")) if form is not None else None)
    if actor is None or not actor.is_staff:
        return RedirectResponse("/sign-in?next=/hall-pass/school-day", status_code=303)
    if not actor.administers:
        raise Forbidden(say("schedule.dismissal_admin"))
    rt = runtime(request)
    error, status = "", 200
    if form is not None:
        try:
            try:
                typed = time.fromisoformat(str(form.get("dismissal_time", "")))
            except ValueError as e:
                raise Invalid(say("schedule.give_dismissal"), field="dismissal_time") from e
            at: time = bounds.value(typed, bounds.TimeOfDay, field="dismissal_time")
            outcome = await rt.app.set_dismissal_time(acting(request, actor), at)
            request.session["flash"] = f"Dismissal is now at {at.strftime('%-I:%M %p')} every school day."
            headers = await visible_on_page(request, outcome.notification_id)
            return RedirectResponse("/hall-pass", status_code=303, headers=headers)
        except DomainError as e:
            error, status = e.message, status_for(e)
    school = await school_settings(request, actor.school_id)
    return request.app.state.templates.TemplateResponse(  # type: ignore[no-any-return]
        request,
        "school_day.html",
        {
            "actor": actor,
            "school": await rt.directory.school(actor.school_id),
            "csrf": csrf_token(request),
            "dismissal_time": school.dismissal_time.strftime("%H:%M")
            if school is not None and school.dismissal_time
            else "",
            "timezone": school.timezone if school else "UTC",
            "error": error,
        },
        status_code=status,
    )


routes = [Route("/hall-pass/school-day", school_day, methods=["GET", "POST"])]
