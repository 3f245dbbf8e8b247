"""The reports equal a direct computation over the same events, for a generated month.

A seeded generator makes a month of passes from every source, ended every way, in two schools
of one district (one month crossing the start of daylight-saving time); they are saved to the
log, projected by the real runner (and rebuilt), and every report's figures are compared with
a plain-Python fold of the same events (`support.report_month`).
"""

from __future__ import annotations

import itertools
import random
from datetime import UTC, date, datetime, timedelta
from uuid import UUID, uuid4

import pytest

from hallpass.aggregates.encoding import TypedMapper
from hallpass.bootstrap import Runtime
from hallpass.projections.pass_facts import AGGREGATES, PassFactsProjection, copy_rows, insert_rows
from hallpass.projections.reports import PERCENTILES, Report, ReportsView, Scope, minutes, percentile_cont
from hallpass.projections.runner import ProjectionRunner
from support.report_month import (
    Trip,
    expected_destinations,
    expected_hours,
    expected_overdue,
    expected_sources,
    expected_students,
    expected_teachers,
    in_scope,
    replay,
    save_month,
)
from support.school import SchoolFixture, make_school

FIRST = date(2027, 3, 1)  # daylight-saving time starts on the 14th in Chicago


async def generated(runtime: Runtime) -> tuple[SchoolFixture, SchoolFixture, dict[UUID, Trip]]:
    north = await make_school(runtime, label="North", students=8)
    south = await make_school(runtime, label="South", students=5, district_id=north.district_id)
    rng = random.Random(20270301)
    events = []
    owners: dict[UUID, UUID] = {}
    for school, days in ((north, 31), (south, 10)):
        saved, owner = await save_month(runtime, rng, school, FIRST, days)
        events += saved
        owners |= owner
    for runner in runtime.runners:
        await runner.catch_up()
    return north, south, replay(events, owners)


def check(reports: dict[str, Report], trips: list[Trip]) -> None:
    """Each report's rows against the plain computation of the same trips."""
    hours = reports["hours"]
    grid = {
        (dow, int(key[1:])): n
        for dow, row in enumerate(hours.rows, start=1)
        for key, n in row.items()
        if key != "weekday" and n
    }
    assert grid == dict(expected_hours(trips))

    keep: tuple[str, ...] = ("passes", "days_out", "minutes_out", "minutes_per_school_day", "overdue")
    students = {UUID(r["student_id"]): {k: r[k] for k in keep} for r in reports["students"].rows}
    assert students == expected_students(trips)

    keep = ("passes", "median_minutes", "p90_minutes", "overdue", "overdue_percent")
    places = {UUID(r["destination_id"]): {k: r[k] for k in keep} for r in reports["destinations"].rows}
    assert places == expected_destinations(trips)

    keep = (
        "passes",
        "staff_passes",
        "kiosk_passes",
        "approved",
        "denied",
        "approval_percent",
        "denial_percent",
    )
    teachers = {
        (UUID(r["staff_id"]) if r["staff_id"] else None): {k: r[k] for k in keep}
        for r in reports["teachers"].rows
    }
    assert teachers == expected_teachers(trips)

    keep = ("passes", "started", "requested", "approved", "denied", "overdue")
    names = {"Staff": "staff", "Kiosk (K)": "kiosk", "Student Portal (S)": "portal"}
    sources = {names[r["source"]]: {k: r[k] for k in keep} for r in reports["sources"].rows}
    assert sources == expected_sources(trips)

    overdue = {UUID(r["pass_id"]): r["minutes_late"] for r in reports["overdue"].rows}
    assert overdue == expected_overdue(trips)


async def reports_of(view: ReportsView, scope: Scope) -> dict[str, Report]:
    return {r.name: r for r in await view.all(scope)}


async def test_reports_equal_a_direct_computation_over_a_generated_month(runtime: Runtime) -> None:
    north, south, trips = await generated(runtime)
    view = ReportsView(runtime.pool, direct_below=0)  # the minute histogram's path for every range
    assert len(trips) > 150 and any(t.overdue for t in trips.values())
    assert any(t.decision == "denied" for t in trips.values())
    scopes = [
        ({north.id}, FIRST, date(2027, 3, 31)),
        ({north.id}, date(2027, 3, 10), date(2027, 3, 16)),
        ({north.id, south.id}, FIRST, date(2027, 3, 31)),
        ({south.id}, date(2027, 3, 4), date(2027, 3, 4)),
    ]
    for schools, start, end in scopes:
        scope = Scope(tuple(schools), start, end)
        check(await reports_of(view, scope), in_scope(trips.values(), schools, start, end))
        # The destinations' percentiles from the rows themselves, as for a short range.
        direct = {r.name: r for r in await ReportsView(runtime.pool, 10**9).all(scope)}
        check(direct, in_scope(trips.values(), schools, start, end))

    await assert_counts_add_up(runtime)

    # The whole month again after `hallpass projections rebuild`'s path, in batches small enough
    # that most passes begin in one and end in another: the same figures.
    whole = Scope((north.id, south.id), FIRST, date(2027, 3, 31))
    before = [r.as_json() for r in await view.all(whole)]
    for runner in runtime.runners:
        await runner.rebuild(batch_size=37)
    assert [r.as_json() for r in await view.all(whole)] == before
    await assert_counts_add_up(runtime)


class Stopped(Exception):
    pass


async def test_a_rebuild_stopped_part_way_and_finished_by_the_runner_gives_the_same_figures(
    runtime: Runtime,
) -> None:
    north, south, _ = await generated(runtime)
    view = ReportsView(runtime.pool)
    whole = Scope((north.id, south.id), FIRST, date(2027, 3, 31))
    before = [r.as_json() for r in await view.all(whole)]

    def stop_a_third_of_the_way(done: int, end: int) -> None:
        if done > end // 3:
            raise Stopped

    for runner in runtime.runners:
        with pytest.raises(Stopped):
            await runner.rebuild(stop_a_third_of_the_way, batch_size=37)
        await runner.catch_up()
    assert [r.as_json() for r in await view.all(whole)] == before
    await assert_counts_add_up(runtime)


async def assert_counts_add_up(runtime: Runtime) -> None:
    """The counts added up batch by batch or event by event are those of all the rows at once."""
    for aggregate in AGGREGATES:
        counted = {tuple(r) for r in await runtime.pool.fetch(aggregate.counted)}
        added = await runtime.pool.fetch(f"SELECT * FROM {aggregate.table}")
        assert {tuple(r[c] for c, _ in (*aggregate.keys, *aggregate.values)) for r in added} == counted
        assert len(added) == len(counted)


async def test_event_by_event_the_rows_and_counts_are_those_of_whole_batches(runtime: Runtime) -> None:
    """The way a batch goes when one of its events fails: each event on the connection at once,
    each change an UPDATE of a written row, where a whole batch applies the changes to the rows
    of the passes that began in it before writing them."""
    await generated(runtime)
    batched = await runtime.pool.fetch("SELECT * FROM report_passes ORDER BY pass_id")
    projection, mapper = PassFactsProjection(), TypedMapper()
    async with runtime.pool.acquire() as conn, conn.transaction():
        await conn.execute(f"TRUNCATE {', '.join(projection.tables)}")
        for notification in await runtime.store.select_notifications(1, 1_000_000, conn=conn):
            await projection.handle(conn, mapper.to_domain_event(notification), notification.id)
    assert len(batched) > 150
    assert await runtime.pool.fetch("SELECT * FROM report_passes ORDER BY pass_id") == batched
    await assert_counts_add_up(runtime)


async def test_live_batches_of_a_few_events_give_the_rows_and_counts_of_large_ones(runtime: Runtime) -> None:
    """Batches of 5 events: most passes begin in one batch and end in another, some begin and end
    in the same one, and each batch recounts every table in one statement each way."""
    await generated(runtime)  # batches of 500
    projection = PassFactsProjection()

    async def everything() -> dict[str, list[tuple[object, ...]]]:
        found = {t: await runtime.pool.fetch(f"SELECT * FROM {t}") for t in projection.tables}
        return {t: sorted(map(tuple, rows), key=repr) for t, rows in found.items()}

    large = await everything()
    async with runtime.pool.acquire() as conn, conn.transaction():
        await runtime.store.lock_trackings(conn, [projection.name])
        await conn.execute(f"TRUNCATE {', '.join(projection.tables)}")
        await runtime.store.delete_tracking(conn, projection.name)
    runner = ProjectionRunner(runtime.pool, runtime.store, projection, batch_size=5)
    await runner.catch_up()
    assert await everything() == large
    await assert_counts_add_up(runtime)


async def test_a_school_scope_never_counts_another_schools_passes(runtime: Runtime) -> None:
    north, south, trips = await generated(runtime)
    view = ReportsView(runtime.pool)
    only_south = await view.students(Scope((south.id,), FIRST, date(2027, 3, 31)))
    assert {UUID(r["student_id"]) for r in only_south.rows} <= set(south.students)
    assert sum(r["passes"] for r in only_south.rows) == sum(
        1 for t in trips.values() if t.school_id == south.id and t.started_at is not None
    )
    nothing = await view.all(Scope((north.id,), date(2026, 1, 1), date(2026, 1, 31)))
    assert all(not r.rows or r.name in ("hours", "sources") for r in nothing)
    assert all(sum(v for k, v in row.items() if k != "weekday") == 0 for row in nothing[0].rows)


# Times out (seconds) per destination, to put the histogram's percentiles to the test: ties on
# both sides of a minute's edge, one time, two far apart, all equal, many, and none ended.
TIMES: list[list[int | None]] = [
    [59, 60, 60, 61, 119, 120],
    [300],
    [0, 3599],
    [*[30] * 7, *[90] * 3],
    [random.Random(85).randrange(0, 2500) for _ in range(201)],
    [None, None],
    [45, None, 170, 171, 171],
]


async def test_percentiles_from_the_minute_histogram_equal_postgresqls_over_the_rows(
    runtime: Runtime,
) -> None:
    school = uuid4()
    await runtime.pool.execute("INSERT INTO report_schools VALUES ($1, 'UTC')", school)
    first = datetime(2027, 3, 1, 9, tzinfo=UTC)
    rows = []
    for times in TIMES:
        destination = uuid4()
        for i, seconds in enumerate(times):
            started = first + timedelta(days=i % 3, minutes=i)
            ended = None if seconds is None else started + timedelta(seconds=seconds)
            rows.append((uuid4(), school, uuid4(), uuid4(), destination, uuid4(), started, ended))
    await runtime.pool.executemany(
        "INSERT INTO report_passes (pass_id, school_id, timezone, student_id, origin_id, destination_id,"
        " source, creator_kind, creator_id, outcome, allotted_minutes, anchor_at, started_at, due_at,"
        " ended_at)"
        " VALUES ($1, $2, 'UTC', $3, $4, $5, 'staff', 'staff', $6, 'started', 5, $7::timestamptz, $7,"
        " $7::timestamptz + interval '5 minutes', $8)",
        rows,
    )
    for aggregate in AGGREGATES:  # what the projection adds up pass by pass
        await runtime.pool.execute(
            f"INSERT INTO {aggregate.table} SELECT * FROM ({aggregate.counted}) c WHERE c.school_id = $1",
            school,
        )
    ranges = ((date(2027, 3, 1), date(2027, 3, 3)), (date(2027, 3, 2), date(2027, 3, 2)))
    for (start, end), direct_below in itertools.product(ranges, (0, 10**9)):  # minute lookups, rows
        report = await ReportsView(runtime.pool, direct_below).destinations(Scope((school,), start, end))
        direct = await runtime.pool.fetch(
            "SELECT destination_id, count(*) AS passes,"
            " percentile_cont(0.5) WITHIN GROUP (ORDER BY seconds_out) AS median,"
            " percentile_cont(0.9) WITHIN GROUP (ORDER BY seconds_out) AS p90 FROM report_passes"
            " WHERE school_id = $1 AND day BETWEEN $2 AND $3 GROUP BY destination_id",
            school,
            start,
            end,
        )
        assert {
            UUID(r["destination_id"]): (r["passes"], r["median_minutes"], r["p90_minutes"])
            for r in report.rows
        } == {r["destination_id"]: (r["passes"], minutes(r["median"]), minutes(r["p90"])) for r in direct}
    # The interpolation itself, to the last bit of the float.
    for times in TIMES:
        known = sorted(t for t in times if t is not None)
        for p in PERCENTILES:
            exact = await runtime.pool.fetchval(
                "SELECT percentile_cont($1::float8) WITHIN GROUP (ORDER BY t) FROM unnest($2::int[]) t",
                p,
                known,
            )
            assert (percentile_cont(p, len(known), known.__getitem__) if known else None) == exact


async def pass_fact_tables(
    runtime: Runtime, projection: PassFactsProjection
) -> dict[str, list[tuple[object, ...]]]:
    found = {t: await runtime.pool.fetch(f"SELECT * FROM {t}") for t in projection.tables}
    return {t: sorted(map(tuple, rows), key=repr) for t, rows in found.items()}


async def test_counts_counted_at_the_end_of_a_rebuild_equal_those_projected_live_at_every_batch_size(
    runtime: Runtime,
) -> None:
    """A rebuild keeps no count up batch by batch; it counts every table once from the rows at the
    end (decision 118). Whatever size its batches (a pass begun in one and ended in another,
    or in the same one, a school's time zone in the batch or before it), the count tables and the
    rows are those the live runner left, which recounted batch by batch."""
    north = await make_school(runtime, label="North", students=3)
    await save_month(runtime, random.Random(118), north, FIRST, 2)
    for runner in runtime.runners:
        await runner.catch_up()
    projection = PassFactsProjection()
    live = await pass_fact_tables(runtime, projection)
    log = await runtime.store.max_notification_id() or 0
    assert len(live["report_passes"]) > 10 and all(live[a.table] for a in AGGREGATES)
    assert live["report_counts_pending"] == []
    runner = ProjectionRunner(runtime.pool, runtime.store, projection)
    for size in [*range(1, log + 2), 5_000]:
        assert await runner.rebuild(batch_size=size) == log
        assert await pass_fact_tables(runtime, projection) == live, f"batches of {size}"


async def test_a_rebuild_killed_before_its_counts_leaves_them_to_be_counted_at_the_next_start(
    runtime: Runtime,
) -> None:
    """A rebuild killed between batches leaves whole batches of rows, no counts, and its note that
    they are pending: the next process counts them when it creates the schema, before its runner
    goes on from the rows' position, and the reports come out as before."""
    north, south, _ = await generated(runtime)
    view = ReportsView(runtime.pool)
    whole = Scope((north.id, south.id), FIRST, date(2027, 3, 31))
    before = [r.as_json() for r in await view.all(whole)]
    projection = PassFactsProjection()

    def stop_a_third_of_the_way(done: int, end: int) -> None:
        if done > end // 3:
            raise Stopped

    runner = ProjectionRunner(runtime.pool, runtime.store, projection)
    with pytest.raises(Stopped):
        await runner.rebuild(stop_a_third_of_the_way, batch_size=37)
    # What the kill leaves where the rebuild did not get to its end (nor to its `finally`).
    async with runtime.pool.acquire() as conn, conn.transaction():
        await conn.execute(f"TRUNCATE {', '.join(a.table for a in AGGREGATES)}")
        await projection.totals_pending(conn)
    async with runtime.pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM report_hour_counts") == 0
        await projection.create_schema(conn)
        assert await conn.fetchval("SELECT count(*) FROM report_counts_pending") == 0
    await assert_counts_add_up(runtime)
    await runner.catch_up()
    assert [r.as_json() for r in await view.all(whole)] == before
    await assert_counts_add_up(runtime)


async def test_rows_copied_in_a_rebuild_are_those_its_one_insert_writes(runtime: Runtime) -> None:
    """`copy_rows` (a rebuild's many new rows, by COPY into the table) leaves the table as
    `insert_rows`: a pass the table has already keeps its row, a row without its time zone takes
    its school's as `report_schools` has it."""
    known = uuid4()
    at = datetime(2027, 3, 1, 9, tzinfo=UTC)

    def row(pass_id: UUID, school_id: UUID, timezone: str | None, minutes: int) -> dict[str, object]:
        return {
            "pass_id": pass_id,
            "school_id": school_id,
            "timezone": timezone,
            "student_id": uuid4(),
            "origin_id": uuid4(),
            "destination_id": uuid4(),
            "source": "staff",
            "creator_kind": "system",
            "outcome": "started",
            "allotted_minutes": minutes,
            "anchor_at": at,
            "started_at": at,
            "due_at": at + timedelta(minutes=minutes),
            "overdue": False,
        }

    earlier = [row(uuid4(), known, "UTC", 5) for _ in range(2)]
    rows = [
        {**earlier[0], "allotted_minutes": 9},  # the table has its pass: left as it was
        row(uuid4(), known, None, 3),  # its school's time zone
        row(uuid4(), known, "America/Chicago", 4),  # its own
    ]
    tables: list[list[tuple[object, ...]]] = []
    for write in (insert_rows, copy_rows):
        async with runtime.pool.acquire() as conn, conn.transaction():
            await conn.execute("TRUNCATE report_passes, report_schools")
            await conn.execute(
                "INSERT INTO report_schools (school_id, timezone) VALUES ($1, 'Europe/Paris')", known
            )
            await insert_rows(conn, earlier)
            await write(conn, rows)
            tables.append(sorted(map(tuple, await conn.fetch("SELECT * FROM report_passes")), key=repr))
    assert tables[0] == tables[1]
    zones = {r[0]: (r[2], r[12]) for r in tables[1]}  # pass_id: timezone, allotted_minutes
    assert zones[earlier[0]["pass_id"]] == ("UTC", 5)
    assert [zones[r["pass_id"]] for r in rows[1:]] == [("Europe/Paris", 3), ("America/Chicago", 4)]
