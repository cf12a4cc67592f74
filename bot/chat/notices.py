"""Channel and DM messages, rendered from plain values. Pure: no Slack client here.

Channel messages carry the ``wso_custody`` metadata contract. Booking numbers
are validated before they get here; free text (a release reason) is shown as a
quotation attributed to whoever typed it (``bot.chat.slack.quoted``), so nothing a
user typed can ping ``@channel`` or pass for the bot's own words. Config text
(a facility name) is escaped (``bot.chat.phrases``). Ephemeral answers to the
person who typed a command are in ``bot.chat.replies``; the App Home tab is in
``bot.chat.home``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.chat.cards import card_blocks, card_stage
from bot.chat.lifecycle_notices import (
    LIFECYCLE_NOTICE_TEXT,
    disputed_page_text,
    lifecycle_metadata,
)
from bot.chat.phrases import (
    clip,
    counting_rule_phrase,
    escalation_gap_line,
    facility_name,
    format_local,
    release_reason,
    viewer_time,
    warrant_phrase,
    window_name,
)
from bot.chat.slack import METADATA_EVENT_TYPE, ActionId, BlockId, escape_mrkdwn
from bot.core.durations import format_duration, format_time_left
from bot.core.facility import Facility
from bot.core.model import Custody, CustodyState, Notice, NoticeKind
from bot.core.notice_plan import is_late
from bot.core.retry import SendFailure


@dataclass(frozen=True)
class SlackMessage:
    """A channel or DM message: fallback text, blocks and metadata."""

    text: str
    blocks: list[dict[str, Any]] = field(default_factory=list)
    metadata: dict[str, Any] | None = None


# Slack refuses a section block whose text is longer (Block Kit reference).
SECTION_TEXT_LIMIT = 3_000
# Slack's error codes are short words; anything longer is a broken proxy's page.
ERROR_CODE_CHARS = 100


# --- blocks ----------------------------------------------------------------------


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


def format_utc(instant: datetime) -> str:
    """The metadata form: ``YYYY-MM-DDTHH:MM:SSZ``."""
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


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
        "late": is_late(notice, now) or notice.detail.get("late") == "true",
        "counting_rule": custody.counting_rule.value,
        "counting_rule_version": custody.counting_rule_version,
    }
    if notice.lead_seconds is not None:
        payload["lead_seconds"] = notice.lead_seconds
    if notice.level is not None:
        payload["level"] = notice.level
        payload["round"] = notice.round or 1
    if notice.kind is NoticeKind.ACKNOWLEDGED and custody.acknowledged_by:
        payload["acknowledged_by"] = custody.acknowledged_by
    payload.update(lifecycle_metadata(custody, notice))
    return {"event_type": METADATA_EVENT_TYPE, "event_payload": payload}


def render_notice(
    custody: Custody, notice: Notice, facility: Facility, now: datetime
) -> SlackMessage:
    """The channel message for one notice of one custody."""
    headline, body = _NOTICE_TEXT[notice.kind](custody, notice, facility, now)
    if notice.kind is NoticeKind.LOGGED:  # the message is the custody card
        return SlackMessage(
            text=f"{headline}\n{body}",
            blocks=card_blocks(custody, facility, now),
            metadata=custody_metadata(custody, notice, now),
        )
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


def render_card_update(
    custody: Custody, card: Notice, facility: Facility, now: datetime
) -> SlackMessage:
    """The card as it is at ``now``: same metadata as when posted (its ``logged`` notice),
    the custody's state as it is now, and a fallback text that says the stage."""
    headline, body = _logged_text(custody, card, facility, card.sent_at or now)
    stage = card_stage(custody, now)
    return SlackMessage(
        text=f"{headline} ({stage.label})\n{body}",
        blocks=card_blocks(custody, facility, now),
        metadata=custody_metadata(custody, card, card.sent_at or now),
    )


def _deadline_phrase(custody: Custody, facility: Facility) -> str:
    local = format_local(custody.deadline, facility.zone)
    utc = f"{custody.deadline:%a %b} {custody.deadline.day}, {custody.deadline:%H:%M} UTC"
    return f"*{local}* (your time: {viewer_time(custody.deadline, utc)})"


def _until_deadline(custody: Custody, facility: Facility, now: datetime, deadline: str) -> str:
    """``*4h 00m left* until the <deadline> …``, or, sent after it, how long ago it passed."""
    left = custody.deadline - now
    if left > timedelta(0):
        return f"*{format_time_left(left)} left* until the {deadline} " + _deadline_phrase(
            custody, facility
        )
    return (
        f"The {deadline} {_deadline_phrase(custody, facility)} passed "
        f"*{format_time_left(-left)} ago*"
    )


def format_lead(seconds: int) -> str:
    """A reminder's lead time as people say it: ``24h``, ``90m`` → ``1h30m``, never days."""
    hours, rest = divmod(seconds, 3600)
    return (f"{hours}h" if hours else "") + (
        format_duration(timedelta(seconds=rest)) if rest else ""
    )


def _who(custody: Custody, facility: Facility) -> str:
    return f"booking *{custody.booking}* at {facility_name(facility)}"


def _logged_text(
    custody: Custody, notice: Notice, facility: Facility, now: datetime
) -> tuple[str, str]:
    left = custody.deadline - now
    warrant = warrant_phrase(custody)
    arrested = format_local(custody.arrested_at, facility.zone)
    if left <= timedelta(0):
        headline = ":rotating_light: *WSO arrest logged — window already expired* — " + _who(
            custody, facility
        )
        body = (
            f"Arrested {arrested}{warrant}; the {window_name(custody)} ended "
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
        body += escalation_gap_line(custody.coverage_warning)
    return headline, body


def _reminder_text(
    custody: Custody, notice: Notice, facility: Facility, now: datetime
) -> tuple[str, str]:
    lead = format_lead(notice.lead_seconds or 0)
    if is_late(notice, now):
        due = format_local(notice.due_at, facility.zone)
        headline = f":hourglass: *Late reminder* (the {lead} reminder was due {due}) — " + _who(
            custody, facility
        )
    else:
        headline = f":hourglass: *{lead} reminder* — {_who(custody, facility)}"
    body = (
        f"{_until_deadline(custody, facility, now, 'ICE custody deadline')}. "
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
        f"The {window_name(custody)} for ICE to take custody ended "
        f"{_deadline_phrase(custody, facility)}"
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
    reason = f" {release_reason(custody)}." if custody.close_reason else ""
    body = f"Recorded {closed_at}{by}.{reason} The custody clock is stopped; no more notices."
    return headline, body


def _page_text(
    custody: Custody, notice: Notice, facility: Facility, now: datetime
) -> tuple[str, str]:
    if notice.detail.get("cause") == "disputed":
        return disputed_page_text(custody, facility, now)
    where = f"Jail channel: <#{facility.jail_channel}>."
    answer = (
        "Press *Acknowledge* (or `/wso ack "
        f"{custody.booking}`) if you are handling it: paging stops, and starts again "
        f"{format_duration(facility.reack_after)} later if the custody is still open."
    )
    if notice.lead_seconds is not None:  # the ICE chain, before the deadline
        headline = f":hourglass: *ICE pickup needed* — {_who(custody, facility)}"
        if notice.detail.get("late") == "true":
            headline = f":hourglass: *ICE pickup needed (late page)* — {_who(custody, facility)}"
            where += " This page was due before the arrest was logged, so it comes now, late."
        body = (
            f"{_until_deadline(custody, facility, now, f'{custody.counting_hours}-hour deadline')} "
            "and ICE has not taken custody. "
            f"Record the pickup with `/wso transfer {custody.booking}`. {where}\n{answer}"
        )
        return headline, body
    overdue = format_time_left(now - custody.deadline).removeprefix("overdue by ")
    headline = (
        f":rotating_light: *WSO custody overdue — release or transfer now* — "
        f"{_who(custody, facility)}"
    )
    body = (
        f"The {window_name(custody)} ended {_deadline_phrase(custody, facility)}, "
        f"*{overdue} ago*, "
        f"and the custody is still open. Unless an IGSA applies, the person must be released. "
        f"{where} You are paged at level {notice.level} (round {notice.round}).\n{answer}"
    )
    return headline, body


def backup_expiry_text(custody: Custody, facility: Facility) -> str:
    """Slack's own copy of the expiry notice: plain text, no metadata, no bot needed."""
    deadline = format_local(custody.deadline, facility.zone)
    return (
        f":rotating_light: WSO window expired — release required: booking {custody.booking} at "
        f"{facility_name(facility)}. The {window_name(custody)} ended {deadline}. "
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
    **LIFECYCLE_NOTICE_TEXT,
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


def updated_page(custody: Custody, facility: Facility) -> SlackMessage:
    """A page as it reads once someone acted: who and when, no button. From the custody
    as stored now: closed (how, by whom, when) or acknowledged (by whom, when)."""
    if not custody.is_open:
        at = format_local(custody.closed_at, facility.zone) if custody.closed_at else "?"
        by = f" by <@{custody.closed_by}>" if custody.closed_by else ""
        stage = card_stage(custody, custody.closed_at or custody.logged_at)
        text = (
            f":white_check_mark: *{stage.label}* — recorded {at}{by} — "
            f"{_who(custody, facility)}. The custody clock is stopped; nothing more to do."
        )
        return SlackMessage(text=text, blocks=sections(text))
    if custody.acknowledged_at is not None and custody.acknowledged_by:
        return answered_page(custody, facility, custody.acknowledged_by, custody.acknowledged_at)
    text = f"Paging about {_who(custody, facility)} was answered."
    return SlackMessage(text=text, blocks=sections(text))


def _context_line(custody: Custody, facility: Facility) -> str:
    return (
        f"WSO custody `{custody.id}` · {facility_name(facility)} · {counting_rule_phrase(custody)}"
    )
