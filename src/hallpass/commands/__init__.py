"""The write side: command methods load aggregates, decide with `now`, and append events."""

from hallpass.commands.app import Hallpass, Outcome, OutcomeKind

__all__ = ["Hallpass", "Outcome", "OutcomeKind"]
