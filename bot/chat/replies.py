"""Ephemeral answers to the person who typed a command or pressed a button. Pure.

Every reply the bot gives privately is worded here, one function per reply,
from plain values; ``bot.services.desk`` only picks which. A refusal says what
was wrong and, when useful, gives a command that would work
(:func:`error_reply`). Config text (a facility's name) is escaped by
``bot.chat.phrases.facility_name``; user text by ``bot.chat.slack``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.chat import phrases
from bot.chat.commands import help_text
from bot.chat.lists import custody_line, list_blocks
from bot.chat.phrases import facility_name, format_local
from bot.chat.slack import code, escape_mrkdwn
from bot.core.a_number import mask_a_number
from bot.core.acknowledgement import AckRefusal
from bot.core.custody import OLDEST_ARREST
from bot.core.durations import format_time_left
from bot.core.facility import Facility
from bot.core.model import Custody, CustodyState
from bot.core.oncall import Schedule, Shift
from bot.core.override_policy import OverrideRefusal, RefusalReason


@dataclass(frozen=True)
class Reply:
    """An ephemeral answer to the person who typed a command."""

    text: str
    blocks: list[dict[str, Any]] = field(default_factory=list)
    refused: bool = False  # nothing was changed: the text says why


def error_reply(message: str, example: str | None = None) -> Reply:
    """A refusal: what was wrong, and (when useful) a command that would work."""
    text = f":warning: {message}"
    if example:  # examples may carry what the user typed (an arrest time): escaped
        text += f"\nFor example: {code(example)}"
    return Reply(text=text, refused=True)


# --- any command -------------------------------------------------------------------


def internal_error() -> Reply:
    """The command failed inside the bot: it may or may not have been recorded."""
    return Reply(
        text=(
            ":warning: Something went wrong inside the WSO bot and your command may not have "
            "been recorded. Check with `/wso status BOOKING` before trying again; if this keeps "
            "happening, tell your system administrator."
        )
    )


def no_user() -> Reply:
    return error_reply("Slack did not say who sent this command, so nothing was done.")


def help_reply() -> Reply:
    return Reply(text=help_text())


def unknown_facility(facility_id: str, facilities: Sequence[Facility], example: str) -> Reply:
    """``facility ID`` names no configured facility; ``example`` is the command so far."""
    known = ", ".join(f"`{f.id}`" for f in facilities)
    return error_reply(
        f"Unknown facility `{facility_id}`. Known facilities: {known}.",
        f"{example} facility {facilities[0].id}",
    )


def facility_gone(custody: Custody) -> Reply:
    return error_reply(
        f"Custody `{custody.id}` belongs to facility `{custody.facility_id}`, which is no "
        "longer in the config. Put it back, or ask an administrator."
    )


# --- /wso arrest -------------------------------------------------------------------


def may_not_log_arrest(facility: Facility, user_id: str, roster_file: str = "") -> Reply:
    """Not an officer there; ``roster_file``: the roster that would list them, if any."""
    where = "to `officers` in the config"
    if roster_file:
        where = f"in a row of the officer roster ({code(roster_file)})"
    return error_reply(
        f"Only the WSO officers listed for {facility_name(facility)} may log arrests "
        f"there, and <@{user_id}> is not one of them. Nothing was stored. "
        f"An administrator can add your Slack user id `{user_id}` {where}."
    )


def arrest_too_old(arrested_at: datetime, booking: str, now: datetime, zone: ZoneInfo) -> Reply:
    # Shown in UTC: a far-off date cannot always be converted to a local zone.
    return error_reply(
        f"The arrest time {arrested_at.date().isoformat()} (UTC) is more than "
        f"{OLDEST_ARREST.days} days "
        "ago; a WSO custody window is 48 hours, so the date is probably mistyped. "
        "Nothing was stored.",
        f"/wso arrest {booking} at {now.astimezone(zone):%Y-%m-%d %H:%M}",
    )


def which_facility(example: str, options: Sequence[Facility], at_text: str | None) -> Reply:
    """The arrest could be at more than one facility: ask which, offering ``options``."""
    names = ", ".join(f"`{f.id}` ({facility_name(f)})" for f in options)
    at = f" at {at_text}" if at_text else ""
    return error_reply(
        f"Which facility? Nothing was stored. Add `facility ID`, one of: {names}.",
        f"{example}{at} facility {options[0].id}",
    )


def duplicate_custody(existing: Custody, facility: Facility) -> Reply:
    deadline = format_local(existing.deadline, facility.zone)
    return error_reply(
        f"Booking {existing.booking} already has an open custody at {facility_name(facility)} "
        f"(logged by <@{existing.logged_by}>, deadline {deadline}, custody `{existing.id}`). "
        "Nothing new was stored.",
        f"/wso status {existing.booking}",
    )


def arrest_receipt(
    custody: Custody, facility: Facility, now: datetime, *, repeated: bool = False
) -> Reply:
    """What the officer sees right after logging an arrest (or sending it twice)."""
    left = custody.deadline - now
    deadline = format_local(custody.deadline, facility.zone)
    arrested = format_local(custody.arrested_at, facility.zone)
    status = (
        f"*{format_time_left(left)} left*."
        if left > timedelta(0)
        else "*the window has already expired — release required.*"
    )
    opening = (
        f":white_check_mark: Booking *{custody.booking}* already has an open custody: this "
        "looks like the same arrest sent twice, so nothing new was stored. Already logged: "
        "WSO arrest of "
        if repeated
        else ":white_check_mark: Logged WSO arrest of "
    )
    return Reply(
        text=(
            f"{opening}booking *{custody.booking}* at "
            f"{facility_name(facility)}, arrested {arrested}{phrases.warrant_phrase(custody)}.\n"
            f"ICE custody deadline: *{deadline}* — {status}\n"
            f"Deadline counted as {phrases.counting_rule_phrase(custody)}.\n"
            f"Notices go to {_channel_list(facility)}. "
            f"Custody id `{custody.id}`."
            + (
                f"\nA-number {mask_a_number(custody.a_number)}: kept with the custody, "
                "never shown in a channel."
                if custody.a_number
                else ""
            )
            + (
                phrases.escalation_gap_line(custody.coverage_warning)
                if custody.coverage_warning
                else ""
            )
        )
    )


def _channel_list(facility: Facility) -> str:
    if facility.jail_channel == facility.ice_channel:
        return f"<#{facility.jail_channel}>"
    return f"<#{facility.jail_channel}> and <#{facility.ice_channel}>"


# --- finding a custody (transfer, release, status, ack) ----------------------------


def no_open_custody(booking: str, facility_id: str | None) -> Reply:
    return error_reply(
        f"There is no open custody for booking {booking}"
        + (f" at `{facility_id}`" if facility_id else "")
        + ". `/wso list` shows the open ones.",
        "/wso list",
    )


def open_at_several_facilities(found: Sequence[Custody], example: str) -> Reply:
    ids = ", ".join(f"`{c.facility_id}`" for c in found)
    return error_reply(
        f"Booking {found[0].booking} is open at more than one facility ({ids}); "
        "say which with `facility ID`.",
        f"{example} facility {found[0].facility_id}",
    )


def no_custody_logged(booking: str) -> Reply:
    return error_reply(
        f"No custody has been logged for booking {booking}. `/wso list` shows the open ones.",
        "/wso list",
    )


# --- /wso transfer, /wso release ---------------------------------------------------


def may_not_close(facility: Facility, verb: str, user_id: str) -> Reply:
    """``verb`` is the command: ``transfer`` or ``release``."""
    return error_reply(
        f"Only officers and staff listed for {facility_name(facility)} may record a "
        f"{verb}. Nothing was changed. An administrator can add "
        f"`{user_id}` to `officers` or `staff` in the config."
    )


def closed_meanwhile(booking: str) -> Reply:
    return error_reply(
        f"Booking {booking} was closed a moment ago by someone else; nothing was changed. "
        f"See `/wso status {booking}`."
    )


def custody_closed(booking: str, facility: Facility, state: CustodyState) -> Reply:
    """The transfer or release is recorded."""
    what = "transferred to ICE" if state is CustodyState.TRANSFERRED else "released"
    return Reply(
        text=(
            f":white_check_mark: Recorded: booking *{booking}* at "
            f"{facility_name(facility)} {what}. The custody clock is stopped and both "
            "channels are told."
        )
    )


# --- /wso status, /wso list --------------------------------------------------------


def custody_status(custody: Custody, facility: Facility, now: datetime) -> Reply:
    """``/wso status``: one custody, open or closed."""
    deadline = format_local(custody.deadline, facility.zone)
    arrested = format_local(custody.arrested_at, facility.zone)
    lines = [
        f"*Booking {custody.booking}* at {facility_name(facility)} — "
        f"*{_state_label(custody, now)}*",
        f"Arrested {arrested}{phrases.warrant_phrase(custody)}, logged by <@{custody.logged_by}>.",
        f"Deadline {deadline}" + _time_left_suffix(custody, now),
        f"Counted as {phrases.counting_rule_phrase(custody)}.",
        *phrases.lifecycle_lines(custody, facility.zone),
    ]
    if not custody.is_open and custody.closed_at is not None:
        reason = f" — {phrases.release_reason(custody)}" if custody.close_reason else ""
        by = f" by <@{custody.closed_by}>" if custody.closed_by else ""
        lines.append(f"Closed {format_local(custody.closed_at, facility.zone)}{by}{reason}.")
    lines.append(f"Custody id `{custody.id}`.")
    return Reply(text="\n".join(lines))


def _state_label(custody: Custody, now: datetime) -> str:
    if not custody.is_open:
        return phrases.CLOSED_STATE_WORDS[custody.state]
    return "open — WINDOW EXPIRED, release required" if now >= custody.deadline else "open"


def _time_left_suffix(custody: Custody, now: datetime) -> str:
    if not custody.is_open:
        return "."
    left = custody.deadline - now
    if left <= timedelta(0):
        return f" — *{format_time_left(left)}*."
    return f" — *{format_time_left(left)} left*."


def open_custody_list(
    custodies: Sequence[tuple[Custody, Facility]], now: datetime, total: int
) -> Reply:
    """``/wso list``: open custodies, soonest deadline first (the text), by urgency (blocks)."""
    if not custodies:
        return Reply(text="No open WSO custodies.")
    lines = [f"*Open WSO custodies* ({total}), soonest deadline first:"]
    lines.extend(f"• {custody_line(custody, facility, now)}" for custody, facility in custodies)
    if total > len(custodies):
        lines.append(f"…and {total - len(custodies)} more. Narrow with `/wso list facility ID`.")
    return Reply(text="\n".join(lines), blocks=list_blocks(custodies, now, total))


# --- acknowledging a page ----------------------------------------------------------


def nothing_to_acknowledge_closed() -> Reply:
    """The button of a custody that is closed, or gone."""
    return error_reply(
        "This custody is already closed (transferred or released); there is nothing to acknowledge."
    )


def acknowledgement_refused(reason: AckRefusal, custody: Custody, facility: Facility) -> Reply:
    """Why ``bot.core.acknowledgement`` refused, in words."""
    if reason is AckRefusal.NOT_PAGED:
        return error_reply(
            f"Booking {custody.booking} is not being paged right now, so there is nothing "
            "to acknowledge. Nothing was changed.",
            f"/wso status {custody.booking}",
        )
    if reason is AckRefusal.NOT_ALLOWED:
        return error_reply(
            f"Only the people paged about booking {custody.booking} and the officers of "
            f"{facility_name(facility)} may acknowledge it. Nothing was changed."
        )
    return already_acknowledged(custody, facility)


def already_acknowledged(custody: Custody, facility: Facility) -> Reply:
    """A second acknowledgement (a double click, a race): nothing changes; say who was first."""
    at = custody.acknowledged_at or custody.logged_at  # always set when this is said
    who = f"<@{custody.acknowledged_by}>" if custody.acknowledged_by else "someone"
    resumes = format_local(at + facility.reack_after, facility.zone)
    return Reply(
        text=(
            f":information_source: Booking *{custody.booking}* at {facility_name(facility)} was "
            f"already acknowledged by {who} at {format_local(at, facility.zone)}. "
            f"Nothing was changed. Paging starts again at {resumes} if the custody is still open."
        )
    )


def closed_before_acknowledgement(booking: str) -> Reply:
    return error_reply(f"Booking {booking} was just closed; nothing to acknowledge.")


def acknowledged(booking: str, facility: Facility, resumes_at: datetime) -> Reply:
    """Paging stopped; it starts again at ``resumes_at`` if the custody is still open."""
    return Reply(
        f":white_check_mark: Acknowledged: paging for booking *{booking}* at "
        f"{facility_name(facility)} has stopped. The custody is still open; paging "
        f"starts again at {format_local(resumes_at, facility.zone)} unless it is transferred "
        "or released."
    )


# --- /wso oncall -------------------------------------------------------------------


def no_schedules() -> Reply:
    return Reply(text="No on-call schedules are configured (`[[schedule]]` in the config).")


def oncall_now(rows: Sequence[tuple[Schedule, Shift, Shift]]) -> Reply:
    """``/wso oncall``: each schedule's current shift (until when) and the next one."""
    lines = [oncall_summary(schedule, current, following) for schedule, current, following in rows]
    return Reply(text="\n".join(["*On call now and next*", *lines]))


def oncall_summary(schedule: Schedule, current: Shift, following: Shift) -> str:
    """One line of ``/wso oncall``: who is on call now, until when, and who is next."""
    now_on = _people(current.users) or "*nobody* :warning:"
    next_on = _people(following.users) or "*nobody* :warning:"
    until = format_local(current.end, schedule.zone)
    return f"• *{schedule.id}*: now {now_on} until {until}; next {next_on}"


def _people(users: tuple[str, ...]) -> str:
    return ", ".join(
        f"<@{user}>" if user[:1] in ("U", "W") else escape_mrkdwn(user) for user in users
    )


def no_such_schedule(schedule_id: str, schedules: Sequence[Schedule]) -> Reply:
    known = ", ".join(f"`{s.id}`" for s in schedules) or "none configured"
    return error_reply(
        f"There is no on-call schedule `{schedule_id}`. Known: {known}.", "/wso oncall"
    )


def override_refused(refusal: OverrideRefusal) -> Reply:
    """Why ``/wso oncall override`` was refused, in words, and what would be accepted."""
    return error_reply(_override_refusal_text(refusal), refusal.example)


def _override_refusal_text(refusal: OverrideRefusal) -> str:
    schedule = refusal.schedule_id
    names = ", ".join(facility_name(f) for f in refusal.facilities)
    if refusal.reason is RefusalReason.NOT_PAGED:
        return (
            f"No facility's escalation pages `oncall:{schedule}`, so nobody may override it "
            "from Slack. Nothing was changed. An administrator can set overrides in the config."
        )
    if refusal.reason is RefusalReason.NOT_AN_OFFICER:
        return (
            f"Only the officers of {names}, whose escalation pages `oncall:{schedule}`, may "
            f"change who is on call for it, and <@{refusal.giver}> is not one of them. "
            "Nothing was changed."
        )
    return (
        f"<@{refusal.person}> cannot be put on call for `{schedule}`: they are not in its "
        f"rotation or calendar, and not an officer or staff member of {names}, which it "
        "pages for. Nothing was changed. An administrator can add them to the schedule "
        "or to the facility's `officers` or `staff`."
    )


def override_given(person: str, schedule: Schedule, ends_at: datetime) -> Reply:
    until = format_local(ends_at, schedule.zone)
    return Reply(
        text=(
            f":white_check_mark: <@{person}> is on call for `{schedule.id}` from now "
            f"until {until}, in place of the rotation."
        )
    )
