"""The Hallpass application: every command, composed from one mixin per area."""

from __future__ import annotations

from hallpass.commands.base import Decided, Outcome, OutcomeKind, fingerprint, pass_summary
from hallpass.commands.directory import DirectoryCommands
from hallpass.commands.dismissal import DismissalCommands
from hallpass.commands.kiosk import KioskCommands
from hallpass.commands.portal import PortalCommands
from hallpass.commands.schedules import ScheduleCommands
from hallpass.commands.sign_in import SignInCommands

__all__ = ["Decided", "Hallpass", "Outcome", "OutcomeKind", "fingerprint", "pass_summary"]


class Hallpass(
    SignInCommands, KioskCommands, PortalCommands, ScheduleCommands, DismissalCommands, DirectoryCommands
):
    """Each command method loads the aggregates it needs, decides with `now`, and saves."""
