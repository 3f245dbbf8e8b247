"""What Hallpass says to the people reading its pages and its API's error bodies, in one place.

Every message is a plain, sentence-case sentence under a stable key (`section.name`); code says
`say("pass.already_out", name=...)` and never spells the words itself, so the words stay the same
on every screen and can be translated later (one catalogue per language, same keys). Templates
call the same `say`. `tests/unit/test_messages.py` checks that each key used exists, each key
is used, and each message is a sentence: a capital (or a value) first, a full stop (or ? or !)
last, and no capitalised word inside but the names of screens and fields listed there.

To add a message: add its key here, in its section, and call `say` with it. API error codes
(`error.code`) are not here: they are stable identifiers, not words for a reader.
"""

from __future__ import annotations

from collections.abc import Mapping
from string import Formatter
from typing import Final

CATALOGUE: Final[Mapping[str, str]] = {
    # Any page or API answer.
    "http.not_found": "This page does not exist, or it is not yours to see.",
    "http.method_not_allowed": "This address does not accept that kind of request.",
    "http.too_large": "The request is too large: the limit is {limit} bytes.",
    "http.failed": "The request could not be completed.",
    "http.unavailable": "Hallpass cannot reach its database just now. Try again in a few seconds.",
    "http.internal": "Something went wrong, and nothing was changed.",
    "http.body_not_utf8": "The request body is not valid UTF-8 text.",
    "http.body_invalid": "The request is not valid: {reason}.",
    "http.body_invalid_at": "The request is not valid: {reason} (at {field}).",
    "http.value_invalid": "The value of {field} is not valid: {reason}.",
    "http.whole_number": "{name} must be a whole number.",
    "http.number_between": "{name} must be a number from {low} to {high}.",
    "http.date": "{name} must be a date (YYYY-MM-DD) or a date and a time.",
    "http.id": "{name} must be an ID.",
    "http.key": "{field} must be 1 to {limit} printable characters.",
    "http.choices": "{name} must be one of {allowed}, not {unknown}.",
    "http.cursor": "The value of after must be the next value of a previous page.",
    "http.record_not_found": "There is no {what} with the ID {id}.",
    "http.school_not_found": "There is no school with the ID {id}.",
    "http.hall_pass_id": "{name} must be a hall pass ID, a number from 1 to {limit}.",
    "http.offset_example": "{field} needs a time zone offset, for example 2025-03-01T10:00:00-06:00.",
    "http.offset": "{field} needs a time zone offset.",
    "http.years": "{field} must be between 2000-01-01 and 2100-12-31.",
    "http.within": "{field} must be within {past} before and {future} after {centre}.",
    "http.local_time": "{field} must be a time of day without an offset, for example 10:00:00.",
    # Signing in and who may act.
    "auth.wrong_password": "The email or the password is wrong.",
    "auth.too_many": "Too many failed sign-ins. Try again later.",
    "auth.sign_in": "Sign in first.",
    "auth.staff_only": "This needs a staff account.",
    "auth.csrf": "This page is out of date (its CSRF token is missing or wrong). Reload it and try again.",
    "auth.bearer_missing": "Send the token to revoke in the Authorization header.",
    "auth.bearer_invalid": "The token is not valid, has expired or was revoked.",
    "auth.staff_may": "Only staff may {action}.",
    "auth.read_only": "Your role is read-only: it may not {action}.",
    # Hall passes.
    "pass.not_found": "There is no hall pass with the ID {id}.",
    "pass.cannot": "You cannot {action} a pass that is {state}.",
    "pass.already_out": "{name} is already out.",
    "pass.student_inactive": "{name} is deactivated and cannot get a new pass.",
    "pass.destination_full": "{name} is full: {capacity} of {capacity} students are there.",
    "pass.same_place": "Leaving From and Going To must be different places.",
    "pass.minutes_at_least_one": "The time allowed must be at least one minute.",
    "pass.minutes_at_most": "A pass to {destination} may last at most {minutes} minutes.",
    "pass.minutes_range": "The time allowed must be 1 to 999 minutes.",
    "pass.student_twice": "A student is selected more than once.",
    "pass.keep_apart": "This pass cannot start right now. Ask a member of staff.",
    # Wait lines.
    "line.already_in": "You are already in this line.",
    "line.not_waiting": "This student is not waiting in this line.",
    "line.not_in": "This student is not in this line.",
    "line.others_waiting": "{name} is full and others are waiting: join the line.",
    "line.own_only": "A student may only join or leave a line for themselves.",
    "line.choose_student": "Choose the student.",
    "line.no_capacity": "{name} has no capacity, so it has no line.",
    "line.jump_reason": "Say why this student may go first.",
    "line.jumped": "The student goes first in the line.",
    "line.removed": "The student is out of the line.",
    "portal.no_such_line": "There is no such line.",
    "portal.line_joined": "You are in the line. This page tells you when it is your turn.",
    "portal.line_left": "You left the line.",
    "portal.line_taken": "Your pass has started.",
    # Keep-apart groups (administrators).
    "keep_apart.too_few": "A keep-apart group needs at least two different students.",
    "keep_apart.removed": "This keep-apart group was removed.",
    "keep_apart.no_such_id": "There is no student with the hall pass ID {id}.",
    "keep_apart.formed": "Keep-apart group saved.",
    "keep_apart.removed_note": "Keep-apart group removed: its students may be out together again.",
    "pass.students_not_found": "These students were not found: {ids}.",
    "pass.location_not_found": "The {role} place {id} was not found.",
    "pass.location_archived": "{name} is archived and cannot be chosen.",
    "pass.busy": "Too many changes are happening at once. Try again.",
    "pass.idempotency_reused": "This Idempotency-Key was already used for a different request.",
    "pass.other_needs_note": "Say what happened when the reason is Other.",
    "pass.choose_reason": "Choose a reason.",
    "pass.no_such_pass": "This hall pass does not exist.",
    # Hallway rules: limits, bell schedule and blackout windows (decisions 088 and 089).
    "rules.daily_limit": "{name} has had {count} passes today, and the limit is {limit}.",
    "rules.daily_limit_one": "{name} has had 1 pass today, and the limit is {limit}.",
    "rules.weekly_limit": "{name} has had {count} passes this week, and the limit is {limit}.",
    "rules.weekly_limit_one": "{name} has had 1 pass this week, and the limit is {limit}.",
    "rules.daily_limit_plain": "You have reached today's limit of {count} passes. Ask your teacher.",
    "rules.daily_limit_plain_one": "You have reached today's limit of 1 pass. Ask your teacher.",
    "rules.weekly_limit_plain": "You have reached this week's limit of {count} passes. Ask your teacher.",
    "rules.weekly_limit_plain_one": "You have reached this week's limit of 1 pass. Ask your teacher.",
    "rules.blackout_window": "No passes to {place} between {start} and {end}.",
    "rules.blackout_window_any": "No passes between {start} and {end}.",
    "rules.blackout_window_plain": "Passes to {place} are not allowed between {start} and {end}.",
    "rules.blackout_first": "No passes to {place} in the first {minutes} minutes of {period}, until {until}.",
    "rules.blackout_first_any": "No passes in the first {minutes} minutes of {period}, until {until}.",
    "rules.blackout_first_plain": (
        "Passes are not allowed in the first {minutes} minutes of {period}. Try again at {until}."
    ),
    "rules.blackout_last": "No passes to {place} in the last {minutes} minutes of {period}.",
    "rules.blackout_last_any": "No passes in the last {minutes} minutes of {period}.",
    "rules.blackout_last_plain": "Passes are not allowed in the last {minutes} minutes of {period}.",
    "rules.override_hint": "Give an override reason to create it anyway.",
    "rules.saved": "Hallway rules saved.",
    "rules.choose_part": "Choose the limits, the bell schedule or the blackouts to save.",
    "rules.override_reason": "Say why the rule is overridden.",
    "rules.scheduled_ahead": "Scheduled ahead of time by staff; it starts at its time.",
    "rules.limit_range": "{name} must be from 1 to {most}, or empty for no limit.",
    "rules.sources": "The sources that count are among {among}, not {got}.",
    "rules.place_twice": "A destination is chosen more than once.",
    "rules.check_students": "Name at least one student_id.",
    "bells.too_many_day_types": "A bell schedule has at most {limit} day types.",
    "bells.day_type_name": "Every day type needs a name.",
    "bells.day_type_twice": "Two day types are called {name}.",
    "bells.too_many_periods": "A day type has at most {limit} periods.",
    "bells.period_name": "Every period of {day_type} needs a name.",
    "bells.period_order": "{period} of {day_type} must start before it ends.",
    "bells.overlap": "{first} and {second} of {day_type} overlap.",
    "bells.weekdays": "Give a day type, or none, for each of the seven weekdays.",
    "bells.unknown_day_type": "{day} uses {name}, which is not a day type.",
    "bells.too_many_dates": "A bell schedule lists at most {limit} dates.",
    "blackouts.kind": "A blackout is one of {kinds}.",
    "blackouts.weekdays": "Weekdays are numbers from 0 (the first day of the week) to 6.",
    "blackouts.edge_minutes": "{name} must be from 0 to {most} minutes.",
    "blackouts.edge_none": "Give the minutes at the start or the end of each period.",
    "blackouts.window_times": "A window needs a start and an end.",
    "blackouts.window_order": "A window must start before it ends.",
    # Create Hall Pass.
    "create.choose_students": "Select at least one student.",
    "create.choose_origin": "Choose where the student is Leaving From.",
    "create.choose_destination": "Choose where the student is Going To.",
    "create.choose_weekday": "Choose at least one day of the week.",
    "create.give_repeat_time": "Give the time of day the pass starts.",
    "create.give_dates": "Give the first and the last date.",
    "create.give_start": "Give the date and the time the pass starts.",
    "create.no_match": "No student matches {query}.",
    "create.no_students": "No student matches these filters.",
    "create.created": "Created {count} hall passes.",
    "create.created_one": "Created 1 hall pass.",
    "create.scheduled": "Scheduled {count} hall passes.",
    "create.scheduled_one": "Scheduled 1 hall pass.",
    "create.repeating": "Scheduled a repeating pass: {count} hall passes planned.",
    "create.repeating_one": "Scheduled a repeating pass: 1 hall pass planned.",
    # Scheduled and repeating passes.
    "schedule.future": "A scheduled pass must start in the future.",
    "schedule.last_before_first": "The last date is before the first date.",
    "schedule.none_ahead": "The schedule has no day left in the future.",
    "schedule.too_many": (
        "A schedule may plan at most {limit} passes at once. This one would plan {planned}"
        " ({days} days for {students} students)."
    ),
    "schedule.not_found": "There is no repeating schedule with the ID {id}.",
    "schedule.cancelled_already": "This repeating schedule is already cancelled.",
    "schedule.offset": "A start time needs a time zone offset.",
    "schedule.time_zone": "{name} is not a time zone Hallpass knows.",
    "schedule.busy": "Too many changes are happening at once. The next sweep ends these passes.",
    "schedule.dismissal_admin": "Only a school administrator may change the school day.",
    "schedule.give_dismissal": "Give the dismissal time, for example 15:30.",
    # The kiosk and the Student Portal, speaking to the student in front of them.
    "kiosk.already_out": "You're already out: in {place} since {since}. Come back and end that pass first.",
    "kiosk.already_out_somewhere": "You're already out, in {place}. Come back and end that pass first.",
    "kiosk.already_asked": (
        "You already asked to go to {place}. Wait for your teacher's answer, or ask them to cancel it."
    ),
    "kiosk.already_out_elsewhere": "You're already out. Come back and end that pass first.",
    "kiosk.no_open_pass": "You have no open pass, {name}. Nothing to complete.",
    "kiosk.no_student": "No student found. Check the spelling, or try your ID.",
    "kiosk.choose_student": "Choose who you are.",
    "kiosk.choose_destination": "Choose where you are going.",
    "kiosk.not_a_kiosk": "This device is not a kiosk. Staff can set one up from Hall Pass.",
    "kiosk.exit_passwords_differ": "The two exit passwords are not the same.",
    "kiosk.exit_password_digits": "The exit password must be 4 to 8 digits.",
    "kiosk.choose_destinations": "Choose at least one destination.",
    "kiosk.choose_room": "Choose the room this kiosk is in.",
    "kiosk.revoked": "Kiosk revoked; that device is no longer a kiosk.",
    "kiosk.choose_classroom": "Choose at least one classroom.",
    "kiosk.choose_grade": "Choose at least one grade.",
    "kiosk.choose_listed_student": "Choose at least one student.",
    "kiosk.token_invalid": "The kiosk token is not valid.",
    "kiosk.token_expired": "The kiosk token is not valid, or has expired.",
    "kiosk.screen_out_of_date": "This screen is out of date. Start again.",
    "kiosk.turned_off": "This kiosk was turned off by staff.",
    "kiosk.mode_ended": "Kiosk mode has ended on this device.",
    "kiosk.exit_locked": "Too many wrong passwords: kiosk mode stays on for {count} more minutes.",
    "kiosk.exit_locked_one": "Too many wrong passwords: kiosk mode stays on for 1 more minute.",
    "kiosk.cannot": "You cannot {action} a kiosk that is {state}.",
    "kiosk.token_needed": "This needs a kiosk token.",
    "kiosk.idempotency_key_needed": "Send an Idempotency-Key header with each kiosk command.",
    "kiosk.only_a_kiosk": "Only a kiosk may do this.",
    "kiosk.status": "This kiosk is {status}.",
    "kiosk.destination_not_offered": "Students cannot choose {place} at a kiosk in {room}.",
    "kiosk.revoke_own": (
        "Only the member of staff who set up this kiosk, an administrator or the office may revoke it."
    ),
    "kiosk.too_many_exits": "Too many wrong passwords. Try again later.",
    "kiosk.wrong_exit_password": "Wrong password. {count} tries left before kiosk mode locks.",
    "kiosk.wrong_exit_password_one": "Wrong password. 1 try left before kiosk mode locks.",
    "kiosk.wrong_exit_locked": "Wrong password, and too many: kiosk mode stays on for {count} more minutes.",
    "kiosk.wrong_exit_locked_one": "Wrong password, and too many: kiosk mode stays on for 1 more minute.",
    "kiosk.no_such_action": "There is no such action.",
    "kiosk.type_external_id": "Type an external ID after #.",
    "kiosk.type_more_letters": "Type at least {count} letters of your name.",
    "portal.already_out": "You're already out: in {place} since {since}. Complete that pass first.",
    "portal.already_out_somewhere": "You're already out, in {place}. Complete that pass first.",
    "portal.already_out_elsewhere": "You're already out. Complete that pass first.",
    "portal.session_idle": "Your session ended after {minutes} minutes without activity. Sign in again.",
    "portal.sign_in_first": "Sign in to the Student Portal first.",
    "portal.new_password_first": "Choose a new password before using the Student Portal.",
    "portal.form_expired": "This sign-in form had expired. Please sign in again.",
    "portal.locked": "Too many failed sign-ins. This account is locked for about {minutes} minutes.",
    "portal.passwords_differ": "The two passwords are not the same.",
    "portal.password_saved": "Your new password is saved. Use it with your ID next time.",
    "portal.choose_origin": "Choose the teacher or room you are Leaving From.",
    "portal.choose_destination": "Choose where you are Going To.",
    "portal.no_such_action": "There is no such pass or action.",
    "portal.completed": "Pass completed. Welcome back!",
    "portal.cancelled": "Request cancelled.",
    "portal.students_only": "Only a student signed in to the Student Portal may do this.",
    "portal.destination_not_offered": "{place} cannot be chosen in the Student Portal.",
    "portal.cancel_own_request": "Only the student who asked may cancel a request; staff deny it.",
    "portal.decide_teacher_only": "Only the teacher of {place} may approve or deny this request.",
    "portal.decide_origin_teacher_only": (
        "Only the teacher of the room the student is leaving may approve or deny this request."
    ),
    "portal.wrong_id_or_password": "Wrong ID or password.",
    "portal.sign_in_as_json": "Send the sign-in as application/json.",
    "portal.already_asked": (
        "You already asked to go to {place}. Wait for your teacher's answer, or cancel the request."
    ),
    # Administration, the audit, the roster and setting up.
    "admin.only": "Only a school or district administrator may do this.",
    "admin.pages_only": "Only a school or district administrator may open the administration pages.",
    "admin.district_role": (
        "Only a district administrator may give or take the district administrator's role."
    ),
    "admin.add_school": "Only a district administrator may add a school.",
    "admin.portal_settings": "Only an administrator may see or change the Student Portal settings.",
    "admin.student_not_found": "This student was not found.",
    "admin.emergency_action": "Choose to declare or end the emergency, or to confirm a student safe.",
    "admin.room_not_found": "There is no room with the ID {id} in this school.",
    "admin.taken": "The {what} {value} is already taken.",
    "admin.not_yourself": (
        "You cannot deactivate yourself or give up administering. Ask another administrator."
    ),
    "admin.staff_inactive": "{name} is deactivated. Reactivate them first.",
    "admin.district_name": "A district needs a name.",
    "admin.district_not_found": "There is no district with the ID {id}.",
    "admin.location_name": "A location needs a name.",
    "admin.capacity": "The capacity must be at least 1.",
    "admin.email": "{value} is not an email address.",
    "admin.roles": "A member of staff needs at least one role.",
    "admin.hall_pass_id": "A hall pass ID is a positive number.",
    "admin.listed_twice": "The same {what} is listed twice.",
    "admin.exists": "This {what} already exists.",
    "audit.only": "Only a compliance officer or an administrator may read the audit.",
    "audit.format": "The format must be json, csv or jsonl.",
    "audit.to_after_from": "The date To must be after the date From.",
    "audit.at": "The moment must be a date and a time, YYYY-MM-DDTHH:MM, in school time.",
    "audit.choose_moment": "Choose a date and a time, in school time.",
    "roster.only": "Only a district administrator may import a roster, because it may change every school.",
    "roster.no_district": "Your school's district is not known yet.",
    "roster.choose_files": "Choose a zip file or the roster's CSV files.",
    "roster.too_large": "{name} is larger than {limit} MiB.",
    "roster.not_zip_or_csv": "{name} is neither a zip file nor a CSV file.",
    "roster.unreadable": "{name} cannot be read: {reason}.",
    "roster.upload_not_found": "There is no roster upload with the ID {id}.",
    "roster.busy": "The district kept changing during the import. Try again.",
    "setup.done": "Hallpass is already set up. Sign in instead.",
    "password.short": "The new password must be at least {length} characters long.",
    "password.long": "The new password must be at most {length} characters long.",
    "password.not_id": "The new password must not be your ID.",
    "password.common": "The new password is too common. Choose one that is harder to guess.",
    "emergency.on": "The school is in emergency mode: no pass may be created until it ends.",
    # Reports, stream tokens and the event stream.
    "reports.readers_only": "Only administrators and district analysts may read the reports.",
    "reports.district_only": "Only district administrators and analysts may read the whole district.",
    "reports.school": "The school must be a school's ID or district.",
    "reports.day": "{name} must be a date, YYYY-MM-DD.",
    "reports.day_range": "{name} must be between {earliest} and {latest}.",
    "reports.range_order": "The first day must be on or before the last day.",
    "reports.range_too_long": "Choose at most {days} days.",
    "reports.format": "The format must be json or csv.",
    "tokens.district_admin_only": "Only a district administrator may {action}.",
    "tokens.action": "Choose issue, grant, withdraw or revoke.",
    "tokens.revoked": "You cannot {action} a revoked token.",
    "stream.token_missing": "Send a stream token in the Authorization header.",
    "stream.cursor_malformed": "The cursor is malformed. Use one this stream gave.",
    "stream.cursor_unknown": "This stream did not give that cursor. Use one it gave.",
    "stream.cursor_beyond": "The cursor is beyond the end of the log.",
    "stream.type_unknown": "There is no event type {name}.",
    # The dashboard's actions, said after each one (role=status).
    "dashboard.no_passes": "No hall passes match these filters.",
    "dashboard.completed": "{name} is back: the pass is completed.",
    "dashboard.terminated": "The pass for {name} was terminated.",
    "dashboard.cancelled": "The scheduled pass for {name} was cancelled.",
    "dashboard.rescheduled": "The scheduled pass for {name} was moved.",
    "dashboard.confirm_terminate": "End the pass for {name} now?",
    "dashboard.confirm_cancel": "Cancel the scheduled pass for {name}?",
    "dashboard.complete_failed": "The pass could not be completed.",
    "dashboard.unreachable": "Hallpass could not be reached. Try again.",
    # Labels of buttons: words, not sentences.
    "label.yes": "Yes",
    "label.no": "No, go back",
    "dashboard.series_cancelled": "Cancelled the series: {count} passes will not start.",
    "dashboard.series_cancelled_one": "Cancelled the series: 1 pass will not start.",
    "dashboard.confirm_series": "Cancel every pass of this series that has not started?",
}


def say(key: str, /, **values: object) -> str:
    """The message under `key` with its `{values}` filled in. A key that is not in the
    catalogue is a mistake in the code (KeyError), caught by the catalogue's tests."""
    return CATALOGUE[key].format(**values)


def count(key: str, number: int, /, **values: object) -> str:
    """`key` for `number` things: `key_one` when the catalogue has it and `number` is 1."""
    if number == 1 and f"{key}_one" in CATALOGUE:
        return say(f"{key}_one", **values)
    return say(key, count=number, **values)


def fields(key: str) -> set[str]:
    """The names a message fills in."""
    return {name for _, name, _, _ in Formatter().parse(CATALOGUE[key]) if name}
