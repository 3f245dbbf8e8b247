"""What the hallway rules cost a pass: create + complete with no rules, and with limits, a bell
schedule and many blackouts, beside one database round trip measured in the same run.

Usage::

    .venv/bin/python bench/rules.py [--samples 200] [--blackouts 40] [--database-url URL]

1. Creates a throwaway database ``bench_<hex>`` (dropped at the end) and two schools through the
   commands: one with no rules, one with limits (high enough never to refuse), a bell schedule of
   eight periods on every day and ``--blackouts`` windows on other dates (each checked, none
   refusing).
2. In each school one student is sent out and back ``--samples`` times (create then complete,
   on the command layer, one at a time, warm cache, no projections), so the student of the
   school with rules counts every earlier pass of the day.
3. Times the rules alone (``policies.evaluate`` for that student's last proposal) and one
   ``SELECT 1`` round trip on the same pool: the floor of any command.

Prints p50 / mean per command in milliseconds. No test asserts these figures.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "tests"))

from scratch import measure_and_print  # noqa: E402

EACH = 90  # passes per student, under the limit of 100 a day


def rules_body(blackouts: int) -> dict[str, Any]:
    later = datetime.now(UTC).date() + timedelta(days=30)
    periods = [
        {"name": f"Period {i + 1}", "start": f"{8 + i:02d}:00", "end": f"{8 + i:02d}:50"} for i in range(8)
    ]
    return {
        "limits": {"per_day": 100, "per_week": 100},
        "bells": {"day_types": [{"name": "Regular", "periods": periods}], "weekdays": ["Regular"] * 7},
        "blackouts": [
            {
                "kind": "window",
                "start": "00:00",
                "end": "23:59",
                "dates": [(later + timedelta(days=i)).isoformat()],
            }
            for i in range(blackouts)
        ],
    }


async def measure(url: str, args: argparse.Namespace) -> str:
    from hallpass.acting import Acting
    from hallpass.aggregates.students import Student
    from hallpass.bootstrap import build_runtime
    from hallpass.commands.messages import CreatePasses
    from hallpass.policies import Proposal, evaluate
    from support.rules import set_rules
    from support.school import SchoolFixture, make_school

    runtime = await build_runtime(url)
    try:
        # Each student takes at most EACH passes, under the ruled school's limit of 100 a day.
        students = args.samples // EACH + 1
        plain = await make_school(runtime, label="Plain", students=students)
        ruled = await make_school(runtime, label="Ruled", students=students)
        await set_rules(runtime, ruled.admin(), ruled.id, **rules_body(args.blackouts))
        app = runtime.app

        async def cycle(school: SchoolFixture, i: int) -> float:
            actor, student = school.teacher(), school.students[i // EACH]
            command = CreatePasses(
                origin_id=school.rooms["Room 101"],
                destination_id=school.rooms["Library"],
                student_ids=[student],
            )
            started = time.perf_counter()
            outcome = await app.create_passes(Acting(actor, datetime.now(UTC)), command)
            pass_id = UUID(outcome.body["passes"][0]["id"])
            await app.complete_pass(Acting(actor, datetime.now(UTC)), pass_id)
            return (time.perf_counter() - started) / 2 * 1000

        for school in (plain, ruled):
            await cycle(school, 0)  # fill the caches
        results: dict[str, list[float]] = {"no rules": [], "rules": []}
        for i in range(1, args.samples + 1):
            results["no rules"].append(await cycle(plain, i))
            results["rules"].append(await cycle(ruled, i))

        policy = await app.school_policy(ruled.id)
        student = await app.repository.find(ruled.students[min(args.samples, EACH - 1) // EACH], Student)
        assert student is not None
        proposal = Proposal(
            student.id,
            student.full_name,
            student.openings,
            ruled.rooms["Library"],
            "Library",
            "staff",
            datetime.now(UTC),
        )
        assert evaluate(policy, proposal) == []
        pure: list[float] = []
        for _ in range(args.samples):
            started = time.perf_counter()
            evaluate(policy, proposal)
            pure.append((time.perf_counter() - started) * 1000)
        trips: list[float] = []
        for _ in range(args.samples):
            started = time.perf_counter()
            await runtime.pool.fetchval("SELECT 1")
            trips.append((time.perf_counter() - started) * 1000)
        counted = len(student.openings)
    finally:
        await runtime.close()

    def cell(values: list[float]) -> str:
        return f"{statistics.median(values):.3f} / {statistics.fmean(values):.3f}"

    return "\n".join(
        [
            "| measured | ms (p50 / mean) |",
            "|---|---|",
            f"| create + complete per command, no rules | {cell(results['no rules'])} |",
            f"| create + complete per command, with rules | {cell(results['rules'])} |",
            f"| the rules alone (policies.evaluate) | {cell(pure)} |",
            f"| one database round trip (SELECT 1), the floor | {cell(trips)} |",
            "",
            f"rules: per-day and per-week limits over the student's {counted} passes kept, a bell schedule "
            f"of 8 periods on every day, {args.blackouts} blackout windows on other dates (none refusing); "
            f"{args.samples} samples each, the command layer called one at a time, warm cache, "
            "no projections",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    options = {
        "--samples": (200, "create+complete cycles per school"),
        "--blackouts": (40, "blackout windows of the ruled school"),
    }
    return measure_and_print(__doc__, "bench_rules", measure, options, argv)


if __name__ == "__main__":
    sys.exit(main())
