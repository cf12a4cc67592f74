"""Everything the bot says, rendered from plain values. Pure: no Slack client here.

Channel messages carry the ``wso_custody`` metadata contract. Booking numbers
are validated before they get here; free text (a release reason) is shown as a
quotation attributed to whoever typed it (``bot.chat.slack.quoted``), so nothing a
user typed can ping ``@channel`` or pass for the bot's own words. Config text
(a facility name) is escaped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.chat.slack import METADATA_EVENT_TYPE, ActionId, BlockId, code, escape_mrkdwn, quoted
from bot.core.durations import format_duration, format_time_left
from bot.core.facility import Facility
from bot.core.model import Custody, CustodyState, Notice, NoticeKind
from bot.core.notice_plan import is_late
from bot.core.oncall import Schedule, Shift
from bot.core.retry import SendFailure


@dataclass(frozen=True)
class SlackMessage:
    """A channel or DM message: fallback text, blocks and metadata."""

    text: str
    blocks: list[dict[str, Any]] = field(default_factory=list)
    metadata: dict[str, Any] | None = None


@dataclass(frozen=True)
class Reply:
    """An ephemeral answer to the person who typed a command."""

    text: str
    blocks: list[dict[str, Any]] = field(default_factory=list)


# Slack refuses a section block whose text is longer (Block Kit reference).
SECTION_TEXT_LIMIT = 3_000
# A coverage warning lists every gap of every on-call level; a few say enough.
COVERAGE_GAPS_SHOWN = 3
COVERAGE_WARNING_CHARS = 1_000
# Slack's error codes are short words; anything longer is a broken proxy's page.
ERROR_CODE_CHARS = 100


# --- bounded text ------------------------------------------------------------------


def clip(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, ending in "…" when cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def coverage_warning_text(warning: str) -> str:
    """The first few gaps of a coverage warning and how many more there are.

    The desk joins one clause per gap with "; ", and an iCalendar schedule can
    have a gap every hour of the window; the officer needs to know that there
    are gaps and where the first ones are, not every one.
    """
    gaps = warning.split("; ")
    shown = gaps[:COVERAGE_GAPS_SHOWN]
    text = clip("; ".join(shown), COVERAGE_WARNING_CHARS)
    if len(gaps) > len(shown):
        text += f"; …and {len(gaps) - len(shown)} more"
    return text


def sections(text: str) -> list[dict[str, Any]]:
    """Section blocks holding ``text``, split between lines to keep each within Slack's limit.

    Every line the bot writes is bounded well under the limit (the longest, a
    release reason, is 2,500 characters escaped), so only whole lines move.
    """
    chunks: list[str] = []
    for line in text.split("\n"):
        if chunks and len(chunks[-1]) + 1 + len(line) <= SECTION_TEXT_LIMIT:
            chunks[-1] += "\n" + line
        else:
            chunks.append(line)
    return [{"type": "section", "text": {"type": "mrkdwn", "text": chunk}} for chunk in chunks]


# --- time ------------------------------------------------------------------------


def format_local(instant: datetime, zone: ZoneInfo) -> str:
    """``Mon Nov 30, 14:05 CST`` in the facility's zone."""
    local = instant.astimezone(zone)
    return f"{local:%a %b} {local.day}, {local:%H:%M} {local.tzname()}"


def format_utc(instant: datetime) -> str:
    """The metadata form: ``YYYY-MM-DDTHH:MM:SSZ``."""
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def viewer_time(instant: datetime, fallback: str) -> str:
    """Slack's date token: each reader sees the instant in their own zone."""
    epoch = int(instant.timestamp())
    return f"<!date^{epoch}^{{date_short_pretty}} {{time}}|{fallback}>"


# --- channel notices -------------------------------------------------------------


def custody_metadata(custody: Custody, notice: Notice, now: datetime) -> dict[str, Any]:
    """The ``wso_custody`` message metadata: a public contract (see README)."""
    payload: dict[str, Any] = {
        "custody_id": custody.id,
        "notice_id": notice.id,
        "booking": custody.booking,
        "facility": custody.facility_id,
        "kind": notice.kind.value,
        "deadline": format_utc(custody.deadline),
        "arrested_at": format_utc(custody.arrested_at),
        "state": custody.state.value,
        "late": is_late(notice, now),
    }
    if notice.lead_seconds is not None:
        payload["lead_seconds"] = notice.lead_seconds
    if notice.level is not None:
        payload["level"] = notice.level
        payload["round"] = notice.round or 1
    if notice.kind is NoticeKind.ACKNOWLEDGED and custody.acknowledged_by:
        payload["acknowledged_by"] = custody.acknowledged_by
    return {"event_type": METADATA_EVENT_TYPE, "event_payload": payload}


def render_notice(
    custody: Custody, notice: Notice, facility: Facility, now: datetime
) -> SlackMessage:
    """The channel message for one notice of one custody."""
    headline, body = _NOTICE_TEXT[notice.kind](custody, notice, facility, now)
    context = _context_line(custody, facility)
    blocks = sections(f"{headline}\n{body}")
    if notice.kind is NoticeKind.ESCALATION:
        blocks.append(acknowledge_button(custody))
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": context}]})
    return SlackMessage(
        text=f"{headline}\n{body}",
        blocks=blocks,
        metadata=custody_metadata(custody, notice, now),
    )


def _deadline_phrase(custody: Custody, facility: Facility) -> str:
    local = format_local(custody.deadline, facility.zone)
    utc = f"{custody.deadline:%a %b} {custody.deadline.day}, {custody.deadline:%H:%M} UTC"
    return f"*{local}* (your time: {viewer_time(custody.deadline, utc)})"


def format_lead(seconds: int) -> str:
    """A reminder's lead time as people say it: ``24h``, ``90m`` → ``1h30m``, never days."""
    hours, rest = divmod(seconds, 3600)
    return (f"{hours}h" if hours else "") + (
        format_duration(timedelta(seconds=rest)) if rest else ""
    )


def facility_name(facility: Facility) -> str:
    """The facility's configured name, escaped: config text is not trusted mrkdwn."""
    return escape_mrkdwn(facility.name)


def _who(custody: Custody, facility: Facility) -> str:
    return f"booking *{custody.booking}* at {facility_name(facility)}"


def _logged_text(
    custody: Custody, notice: Notice, facility: Facility, now: datetime
) -> tuple[str, str]:
    left = custody.deadline - now
    warrant = _warrant_phrase(custody)
    arrested = format_local(custody.arrested_at, facility.zone)
    if left <= timedelta(0):
        headline = ":rotating_light: *WSO arrest logged — window already expired* — " + _who(
            custody, facility
        )
        body = (
            f"Arrested {arrested}{warrant}; the 48-hour window ended "
            f"{_deadline_phrase(custody, facility)}. "
            "Release required unless ICE has taken custody."
        )
    else:
        headline = f":large_blue_circle: *WSO arrest logged* — {_who(custody, facility)}"
        body = (
            f"Arrested {arrested}{warrant}. ICE must take custody by "
            f"{_deadline_phrase(custody, facility)} — *{format_time_left(left)} left*."
        )
    body += f" Logged by <@{custody.logged_by}>."
    if custody.coverage_warning:
        body += f"\n:warning: *Escalation gap:* {coverage_warning_text(custody.coverage_warning)}."
    return headline, body


def _reminder_text(
    custody: Custody, notice: Notice, facility: Facility, now: datetime
) -> tuple[str, str]:
    lead = format_lead(notice.lead_seconds or 0)
    left = format_time_left(custody.deadline - now)
    if is_late(notice, now):
        due = format_local(notice.due_at, facility.zone)
        headline = f":hourglass: *Late reminder* (the {lead} reminder was due {due}) — " + _who(
            custody, facility
        )
    else:
        headline = f":hourglass: *{lead} reminder* — {_who(custody, facility)}"
    body = (
        f"*{left} left* until the ICE custody deadline {_deadline_phrase(custody, facility)}. "
        f"When ICE takes custody: `/wso transfer {custody.booking}`."
    )
    return headline, body


def _expired_text(
    custody: Custody, notice: Notice, facility: Facility, now: datetime
) -> tuple[str, str]:
    headline = (
        f":rotating_light: *WSO window expired — release required* — {_who(custody, facility)}"
    )
    overdue = now - custody.deadline
    ago = f", {format_time_left(overdue)} ago" if overdue >= timedelta(minutes=1) else ""
    body = (
        f"The 48-hour window for ICE to take custody ended {_deadline_phrase(custody, facility)}"
        f"{ago}. Unless an IGSA applies, the person must be released. "
        f"Record it: `/wso release {custody.booking} window expired`, "
        f"or `/wso transfer {custody.booking}` if ICE already took custody."
    )
    return headline, body


def _closed_text(
    custody: Custody, notice: Notice, facility: Facility, now: datetime
) -> tuple[str, str]:
    closed_at = format_local(custody.closed_at or now, facility.zone)
    by = f" by <@{custody.closed_by}>" if custody.closed_by else ""
    if custody.state is CustodyState.TRANSFERRED:
        headline = f":white_check_mark: *Custody transferred to ICE* — {_who(custody, facility)}"
    else:
        headline = f":white_check_mark: *Released* — {_who(custody, facility)}"
    reason = f" {_reason(custody)}." if custody.close_reason else ""
    body = f"Recorded {closed_at}{by}.{reason} The custody clock is stopped; no more notices."
    return headline, body


def _page_text(
    custody: Custody, notice: Notice, facility: Facility, now: datetime
) -> tuple[str, str]:
    where = f"Jail channel: <#{facility.jail_channel}>."
    answer = (
        "Press *Acknowledge* (or `/wso ack "
        f"{custody.booking}`) if you are handling it: paging stops, and starts again "
        f"{format_duration(facility.reack_after)} later if the custody is still open."
    )
    if notice.lead_seconds is not None:  # the ICE chain, before the deadline
        headline = f":hourglass: *ICE pickup needed* — {_who(custody, facility)}"
        body = (
            f"*{format_time_left(custody.deadline - now)} left* until the 48-hour deadline "
            f"{_deadline_phrase(custody, facility)} and ICE has not taken custody. "
            f"Record the pickup with `/wso transfer {custody.booking}`. {where}\n{answer}"
        )
        return headline, body
    overdue = format_time_left(now - custody.deadline).removeprefix("overdue by ")
    headline = (
        f":rotating_light: *WSO custody overdue — release or transfer now* — "
        f"{_who(custody, facility)}"
    )
    body = (
        f"The 48-hour window ended {_deadline_phrase(custody, facility)}, *{overdue} ago*, "
        f"and the custody is still open. Unless an IGSA applies, the person must be released. "
        f"{where} You are paged at level {notice.level} (round {notice.round}).\n{answer}"
    )
    return headline, body


def backup_expiry_text(custody: Custody, facility: Facility) -> str:
    """Slack's own copy of the expiry notice: plain text, no metadata, no bot needed."""
    deadline = format_local(custody.deadline, facility.zone)
    return (
        f":rotating_light: WSO window expired — release required: booking {custody.booking} at "
        f"{facility_name(facility)}. The 48-hour window ended {deadline}. "
        "This backup notice was scheduled with Slack in case the WSO bot could not post; "
        f"check the bot. (custody {custody.id})"
    )


_CUSTODY_IN_BACKUP = re.compile(r"\(custody (c_[0-9a-f]+)\)")


def custody_of_backup(text: str) -> str | None:
    """The custody id a scheduled backup's text names (``backup_expiry_text``), if any."""
    found = _CUSTODY_IN_BACKUP.search(text)
    return found.group(1) if found else None


def _acknowledged_text(
    custody: Custody, notice: Notice, facility: Facility, now: datetime
) -> tuple[str, str]:
    at = custody.acknowledged_at or now
    resumes = format_local(at + facility.reack_after, facility.zone)
    headline = f":bell: *Paging acknowledged* — {_who(custody, facility)}"
    body = (
        f"Acknowledged by <@{custody.acknowledged_by}> at {format_local(at, facility.zone)}. "
        f"The custody is still open: paging starts again at {resumes} unless it is "
        "transferred or released before then."
    )
    return headline, body


def _delivery_problem_text(
    custody: Custody, notice: Notice, facility: Facility, now: datetime
) -> tuple[str, str]:
    failed = notice.detail.get("failed_target", "?")
    shown = f"<#{failed}>" if failed[:1] in ("C", "G") else f"`{escape_mrkdwn(failed)}`"
    error = escape_mrkdwn(clip(notice.detail.get("error", "unknown error"), ERROR_CODE_CHARS))
    kind = escape_mrkdwn(notice.detail.get("failed_kind", "a"))
    headline = f":warning: *The WSO bot cannot deliver to {shown}* — {_who(custody, facility)}"
    if SendFailure(notice.detail.get("error", "")).is_permanent:
        body = (
            f"The {kind} notice is stuck: Slack answers `{error}`. It is retried every 5 "
            "minutes and is not lost, but nobody there sees it until this is fixed: invite the "
            "bot to the channel, or check the channel id in the config and the bot's token."
        )
    else:
        body = (
            f"The {kind} notice has not gone through for 30 seconds or more: Slack answers "
            f"`{error}`, a failure on Slack's side. The bot keeps trying (every minute at "
            "most) and the notice is not lost, but until Slack recovers nobody there sees it: "
            "pass it on by other means if it cannot wait."
        )
    return headline, body


_NOTICE_TEXT = {
    NoticeKind.LOGGED: _logged_text,
    NoticeKind.REMINDER: _reminder_text,
    NoticeKind.EXPIRED: _expired_text,
    NoticeKind.TRANSFERRED: _closed_text,
    NoticeKind.RELEASED: _closed_text,
    NoticeKind.ESCALATION: _page_text,
    NoticeKind.ACKNOWLEDGED: _acknowledged_text,
    NoticeKind.DELIVERY_PROBLEM: _delivery_problem_text,
}


def acknowledge_button(custody: Custody) -> dict[str, Any]:
    """The page's Acknowledge button; its value is the custody id."""
    return {
        "type": "actions",
        "block_id": BlockId.PAGE_ACTIONS.value,
        "elements": [
            {
                "type": "button",
                "action_id": ActionId.ACKNOWLEDGE.value,
                "text": {"type": "plain_text", "text": "Acknowledge"},
                "style": "danger",
                "value": custody.id,
            }
        ],
    }


def answered_page(custody: Custody, facility: Facility, by: str, at: datetime) -> SlackMessage:
    """What a page turns into once someone acknowledged it: the same facts, no button."""
    resumes = format_local(at + facility.reack_after, facility.zone)
    text = (
        f":white_check_mark: *Acknowledged* by <@{by}> at {format_local(at, facility.zone)} — "
        f"{_who(custody, facility)}. Paging stopped; it starts again at {resumes} "
        "if the custody is still open."
    )
    return SlackMessage(
        text=text, blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": text}}]
    )


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


def _warrant_phrase(custody: Custody) -> str:
    if custody.warrant_form is None and custody.warrant_number is None:
        return ""
    form = custody.warrant_form.value if custody.warrant_form else "warrant"
    number = f" no. {custody.warrant_number}" if custody.warrant_number else ""
    return f" on {form}{number}"


def _context_line(custody: Custody, facility: Facility) -> str:
    return f"WSO custody `{custody.id}` · {facility_name(facility)} · 48 elapsed hours"


# --- ephemeral replies -----------------------------------------------------------


def error_reply(message: str, example: str | None = None) -> Reply:
    """A refusal: what was wrong, and (when useful) a command that would work."""
    text = f":warning: {message}"
    if example:  # examples may carry what the user typed (an arrest time): escaped
        text += f"\nFor example: {code(example)}"
    return Reply(text=text)


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
            f"{facility_name(facility)}, arrested {arrested}{_warrant_phrase(custody)}.\n"
            f"ICE custody deadline: *{deadline}* — {status}\n"
            f"Notices go to {_channel_list(facility)}. "
            f"Custody id `{custody.id}`."
            + (
                f"\n:warning: *Escalation gap:* {coverage_warning_text(custody.coverage_warning)}."
                if custody.coverage_warning
                else ""
            )
        )
    )


def _channel_list(facility: Facility) -> str:
    if facility.jail_channel == facility.ice_channel:
        return f"<#{facility.jail_channel}>"
    return f"<#{facility.jail_channel}> and <#{facility.ice_channel}>"


def custody_status(custody: Custody, facility: Facility, now: datetime) -> Reply:
    """``/wso status``: one custody, open or closed."""
    deadline = format_local(custody.deadline, facility.zone)
    arrested = format_local(custody.arrested_at, facility.zone)
    lines = [
        f"*Booking {custody.booking}* at {facility_name(facility)} — "
        f"*{_state_label(custody, now)}*",
        f"Arrested {arrested}{_warrant_phrase(custody)}, logged by <@{custody.logged_by}>.",
        f"Deadline {deadline}" + _time_left_suffix(custody, now),
    ]
    if not custody.is_open and custody.closed_at is not None:
        reason = f" — {_reason(custody)}" if custody.close_reason else ""
        by = f" by <@{custody.closed_by}>" if custody.closed_by else ""
        lines.append(f"Closed {format_local(custody.closed_at, facility.zone)}{by}{reason}.")
    lines.append(f"Custody id `{custody.id}`.")
    return Reply(text="\n".join(lines))


def _reason(custody: Custody) -> str:
    """The release reason as a quotation of whoever recorded it, never as the bot's words."""
    return quoted(custody.close_reason or "", typed_by=custody.closed_by)


def _state_label(custody: Custody, now: datetime) -> str:
    if custody.state is CustodyState.TRANSFERRED:
        return "transferred to ICE"
    if custody.state is CustodyState.RELEASED:
        return "released"
    return "open — WINDOW EXPIRED, release required" if now >= custody.deadline else "open"


def _time_left_suffix(custody: Custody, now: datetime) -> str:
    if not custody.is_open:
        return "."
    left = custody.deadline - now
    if left <= timedelta(0):
        return f" — *{format_time_left(left)}*."
    return f" — *{format_time_left(left)} left*."


def open_custody_list(
    custodies: list[tuple[Custody, Facility]], now: datetime, total: int
) -> Reply:
    """``/wso list``: open custodies, soonest deadline first."""
    if not custodies:
        return Reply(text="No open WSO custodies.")
    lines = [f"*Open WSO custodies* ({total}), soonest deadline first:"]
    for custody, facility in custodies:
        left = custody.deadline - now
        flag = ":rotating_light: " if left <= timedelta(0) else ""
        lines.append(
            f"• {flag}*{custody.booking}* — {facility_name(facility)} — deadline "
            f"{format_local(custody.deadline, facility.zone)} — {format_time_left(left)}"
            + (" left" if left > timedelta(0) else "")
        )
    if total > len(custodies):
        lines.append(f"…and {total - len(custodies)} more. Narrow with `/wso list facility ID`.")
    return Reply(text="\n".join(lines))


def home_view(custodies: list[tuple[Custody, Facility]], now: datetime) -> dict[str, Any]:
    """The App Home tab: the same list as ``/wso list``, plus the grammar."""
    listing = open_custody_list(custodies, now, len(custodies)).text
    return {
        "type": "home",
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": "WSO Custody Clock"}},
            {"type": "section", "text": {"type": "mrkdwn", "text": listing[:2900]}},
            {"type": "divider"},
            {
                "type": "context",
                "elements": [
                    {
                        "type": "mrkdwn",
                        "text": "Log an arrest: `/wso arrest BOOKING I-200 at 14:05`. "
                        "`/wso help` shows every command.",
                    }
                ],
            },
        ],
    }


def _people(users: tuple[str, ...]) -> str:
    return ", ".join(
        f"<@{user}>" if user[:1] in ("U", "W") else escape_mrkdwn(user) for user in users
    )


def oncall_summary(schedule: Schedule, current: Shift, following: Shift) -> str:
    """One line of ``/wso oncall``: who is on call now, until when, and who is next."""
    now_on = _people(current.users) or "*nobody* :warning:"
    next_on = _people(following.users) or "*nobody* :warning:"
    until = format_local(current.end, schedule.zone)
    return f"• *{schedule.id}*: now {now_on} until {until}; next {next_on}"
