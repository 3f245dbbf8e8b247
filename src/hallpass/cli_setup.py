"""What `hallpass setup` asks: the first run's set-up from the command line, as /setup asks it."""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Callable

QUESTIONS = (
    ("district_name", "--district", "District"),
    ("school_name", "--school", "First school"),
    ("timezone", "--timezone", "School time zone (e.g. America/Chicago)"),
    ("name", "--name", "Your name"),
    ("email", "--email", "Your email"),
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    for dest, flag, question in QUESTIONS:
        parser.add_argument(flag, dest=dest, metavar="TEXT", help=f"{question} (asked when left out)")
    parser.epilog = "The password is asked for without echo, or read from the first line of standard input."


def answers(args: argparse.Namespace, ask: Callable[[str], str] = input) -> dict[str, str]:
    """Every value the set-up needs: from the flags, else asked; the password never from a flag."""
    values = {dest: getattr(args, dest) or ask(f"{question}: ").strip() for dest, _, question in QUESTIONS}
    if sys.stdin.isatty():
        values["password"] = getpass.getpass("Choose a password: ")
    else:
        values["password"] = sys.stdin.readline().rstrip("\n")
    return values
