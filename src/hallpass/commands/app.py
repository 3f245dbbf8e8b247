"""The Hallpass application: every command, composed from one mixin per area."""

from __future__ import annotations

from hallpass.commands.administration import AdministrationCommands
from hallpass.commands.api_tokens import ApiTokenCommands
from hallpass.commands.base import Decided, Outcome, OutcomeKind, fingerprint, pass_summary
from hallpass.commands.dismissal import DismissalCommands
from hallpass.commands.emergency import EmergencyCommands
from hallpass.commands.keep_apart import KeepApartCommands
from hallpass.commands.kiosk import KioskCommands
from hallpass.commands.kiosk_lines import KioskLineCommands
from hallpass.commands.portal import PortalCommands
from hallpass.commands.roster import RosterCommands
from hallpass.commands.rules import RulesCommands
from hallpass.commands.schedules import ScheduleCommands
from hallpass.commands.setup import SetUpCommands
from hallpass.commands.sign_in import SignInCommands

__all__ = ["Decided", "Hallpass", "Outcome", "OutcomeKind", "fingerprint", "pass_summary"]


class Hallpass(
    KioskLineCommands,
    ApiTokenCommands,
    EmergencyCommands,
    KeepApartCommands,
    RulesCommands,
    SetUpCommands,
    SignInCommands,
    KioskCommands,
    PortalCommands,
    ScheduleCommands,
    AdministrationCommands,
    DismissalCommands,
    RosterCommands,
):
    """Each command method loads the aggregates it needs, decides with `now`, and saves."""
