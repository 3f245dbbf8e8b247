"""The Hallpass application: every command, composed from one mixin per area."""

from __future__ import annotations

from hallpass.commands.base import Decision, Outcome, fingerprint, pass_summary
from hallpass.commands.directory import DirectoryCommands
from hallpass.commands.dismissal import DismissalCommands
from hallpass.commands.kiosk import KioskCommands
from hallpass.commands.portal import PortalCommands
from hallpass.commands.schedules import ScheduleCommands

__all__ = ["Decision", "Hallpass", "Outcome", "fingerprint", "pass_summary"]


class Hallpass(KioskCommands, PortalCommands, ScheduleCommands, DismissalCommands, DirectoryCommands):
    """Each command method loads the aggregates it needs, decides with `now`, and saves."""
