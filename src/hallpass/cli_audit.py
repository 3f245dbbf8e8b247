"""`hallpass audit ...`: verify the log's tamper evidence, sign a checkpoint."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from datetime import UTC, date, datetime
from uuid import UUID

from hallpass.audit.checkpoints import checkpoint_key, write_checkpoint
from hallpass.audit.verify import Verification, verify_log
from hallpass.bootstrap import Runtime


def add_arguments(
    parser: argparse.ArgumentParser, verify: Callable[..., int], checkpoint: Callable[..., int]
) -> None:
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    verifying = actions.add_parser(
        "verify",
        help="prove the event log intact, or name the first event that does not match (exit 1)",
    )
    verifying.add_argument("--school", type=UUID, metavar="ID", help="check only this school's streams")
    verifying.add_argument(
        "--since",
        type=date.fromisoformat,
        metavar="DATE",
        help="start at the last checkpoint signed before DATE",
    )
    verifying.set_defaults(handler=verify)
    signing = actions.add_parser(
        "checkpoint", help="sign the head of the log now (the projector does every 5 min)"
    )
    signing.set_defaults(handler=checkpoint)


async def run_verify(
    runtime: Runtime, secret_key: str, args: argparse.Namespace, progress: Callable[[int, int], None]
) -> Verification:
    return await verify_log(
        runtime.pool,
        runtime.store.events_table,
        checkpoint_key(secret_key),
        school_id=args.school,
        since=args.since,
        progress=progress,
    )


def describe(verification: Verification) -> int:
    if verification.migrated is not None:
        chained_at, up_to, events = verification.migrated
        print(
            f"{events} events up to #{up_to} were chained by the one-time migration on "
            f"{chained_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC: they are proven unchanged since then"
        )
    scope = f"{verification.checked} of {verification.scanned} events checked"
    if verification.started_after:
        scope += f" after event #{verification.started_after}"
    if verification.finding is not None:
        print(f"NOT INTACT: {verification.finding.describe()}")
        print(f"({scope} before it; {verification.checkpoints} signed checkpoints matched)", file=sys.stderr)
        return 1
    print(f"intact: {scope}; {verification.checkpoints} signed checkpoints match")
    if verification.unsigned_tail:
        print(f"{verification.unsigned_tail} newest events are chained but not yet under a signed checkpoint")
    return 0


async def run_checkpoint(runtime: Runtime, secret_key: str) -> str:
    checkpoint = await write_checkpoint(
        runtime.pool, runtime.store.events_table, checkpoint_key(secret_key), datetime.now(UTC)
    )
    if checkpoint is None:
        return "no events since the last checkpoint"
    return (
        f"checkpoint {checkpoint.number}: {checkpoint.events} events up to #{checkpoint.notification_id}, "
        f"digest {checkpoint.digest.hex()[:16]}…"
    )
