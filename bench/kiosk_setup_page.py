"""Kiosk Mode set-up: the bytes a teacher's browser gets for the page and its hand-pick list.

Usage::

    .venv/bin/python bench/kiosk_setup_page.py [--database-url URL]

Creates a throwaway database ``bench_kiosk_setup_<hex>`` (dropped at the end), seeds the demo
school (1,200 students), serves it with uvicorn in this process, signs in as the demo teacher as
a browser does, and prints the size of ``GET /hall-pass/kiosk``, of the hand-pick list's first
page (``/hall-pass/kiosk/students``) and of one grade for Move all, beside the ceiling measured
in the same run: every student of the school in one answer (``?all=1``), which the set-up page
itself carried before the list was loaded a page at a time (decision 099). No test asserts
these figures.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from demo import demo_client, seed_demo  # noqa: E402
from scratch import arguments, scratch_database  # noqa: E402

from hallpass.bootstrap import build_runtime  # noqa: E402
from hallpass.seed import DEMO_PASSWORD, DEMO_TEACHER_EMAIL  # noqa: E402


async def run(admin_url: str) -> None:
    from support.api_client import sign_in_form

    async with scratch_database(admin_url, "bench_kiosk_setup") as url:
        runtime = await build_runtime(url)
        try:
            demo = await seed_demo(runtime)
        finally:
            await runtime.close()
        async with demo_client(url, timeout=120) as http:
            signed_in = await sign_in_form(http, DEMO_TEACHER_EMAIL, DEMO_PASSWORD)
            assert signed_in.status_code == 303, signed_in.text
            sizes: dict[str, tuple[int, int]] = {}
            for label, path in (
                ("set-up page", "/hall-pass/kiosk"),
                ("list, first page", "/hall-pass/kiosk/students"),
                ("list, next page", "/hall-pass/kiosk/students?offset=50"),
                ("Move all, grade 7", "/hall-pass/kiosk/students?grade=7&all=1"),
                ("ceiling: every student", "/hall-pass/kiosk/students?all=1"),
            ):
                answer = await http.get(path)
                answer.raise_for_status()
                sizes[label] = (len(answer.content), answer.text.count("<li"))
    print(f"Kiosk Mode set-up, demo school of {demo.students:,} students (bytes of the answer's body)")
    for label, (size, items) in sizes.items():
        print(f"  {label:<24} {size:>9,} bytes  {items:>5,} list items")


def main() -> None:
    args = arguments(__doc__).parse_args()
    asyncio.run(run(args.database_url))


if __name__ == "__main__":
    main()
