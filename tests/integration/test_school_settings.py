"""The school settings read model shows what the School aggregate holds, and fills in from the
whole log when it first runs (a log that predates it included)."""

from __future__ import annotations

from datetime import UTC, datetime, time

from hallpass.acting import Acting, Actor
from hallpass.aggregates.schools import School
from hallpass.bootstrap import Runtime
from hallpass.commands.portal import ChangePortalSettings
from support.school import SchoolFixture, make_school


def admin(school: SchoolFixture) -> Actor:
    return Actor("staff", school.teachers["Cleo"], school.id, "admin", "Cleo")


async def test_the_read_model_holds_the_settings_the_school_holds(runtime: Runtime) -> None:
    made = await make_school(runtime, label="Settings", students=2)
    nurse = made.rooms["Nurse"]
    now = datetime.now(UTC)
    await runtime.app.set_dismissal_time(Acting(admin(made), now), time(15, 10))
    change = ChangePortalSettings(enabled=True, needs_approval=False, approval_destination_ids=[nurse])
    await runtime.app.change_portal_settings(Acting(admin(made), now), change)
    for runner in runtime.runners:
        await runner.catch_up()

    school = await runtime.app.repository.find(made.id, School)
    settings = await runtime.settings.get(made.id)

    assert school is not None and settings is not None
    same = ("id", "timezone", "portal_enabled", "portal_needs_approval", "portal_approval_destinations")
    assert [getattr(settings, f) for f in same] == [getattr(school, f) for f in same]
    assert (settings.dismissal_time, settings.portal_approval_destinations) == (time(15, 10), (nurse,))
    assert school.dismissal_time == time(15, 10)


async def test_a_log_written_before_the_read_model_existed_is_projected_in_full(runtime: Runtime) -> None:
    school = await make_school(runtime, label="Older", students=2)
    change = ChangePortalSettings(enabled=True, needs_approval=True)
    await runtime.app.change_portal_settings(Acting(admin(school), datetime.now(UTC)), change)
    (runner,) = [r for r in runtime.runners if "school_settings" in (p.name for p in r.projections)]
    async with runtime.pool.acquire() as conn, conn.transaction():
        await runtime.store.lock_trackings(conn, ["school_settings"])
        await conn.execute("TRUNCATE school_settings")
        await runtime.store.delete_tracking(conn, "school_settings")
    assert await runtime.settings.get(school.id) is None

    await runner.catch_up()

    settings = await runtime.settings.get(school.id)
    assert settings is not None and (settings.portal_enabled, settings.portal_needs_approval) == (True, True)
