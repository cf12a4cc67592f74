"""The custody card: one Block Kit message per channel that shows a custody as it is now. Pure.

The card is the ``logged`` notice's message. The bot posts it once per channel
and then rewrites it in place (``chat.update``) on every change of state and at
each reminder, always rendered from the custody as stored at that moment, so a
reader at 3 a.m. sees the stage at a glance without scrolling: more than 12 h
left, under 12 h, under 4 h, expired, or closed (and how). Everything else the
custody says goes in the card's thread.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.chat import actions
from bot.chat.phrases import (
    counting_rule_phrase,
    facility_name,
    format_local,
    release_reason,
    viewer_time,
)
from bot.chat.slack import quoted
from bot.core.durations import format_time_left
from bot.core.facility import Facility
from bot.core.model import Custody, CustodyState

# Open custodies change stage at these amounts of time left (the 12 h and 4 h reminders).
UNDER_12H = timedelta(hours=12)
UNDER_4H = timedelta(hours=4)
# Slack's limit on a header block's text.
HEADER_TEXT_LIMIT = 150


@dataclass(frozen=True)
class Stage:
    """Where a custody stands, as the card shows it: a short key, an emoji and words."""

    key: str  # also the snapshot's name: tests/unit/snapshots/card-<key>.json
    emoji: str
    label: str

    @property
    def line(self) -> str:
        return f"{self.emoji} *{self.label}*"


MORE_THAN_12H = Stage("more-than-12h", ":large_green_circle:", "More than 12 h left")
LESS_THAN_12H = Stage("under-12h", ":large_yellow_circle:", "12 h or less left")
LESS_THAN_4H = Stage("under-4h", ":red_circle:", "4 h or less left: arrange the ICE pickup now")
EXPIRED = Stage("expired", ":rotating_light:", "Window expired: release required")

# A closed custody's stage is its state. A state missing here still shows, by its name.
_CLOSED: dict[CustodyState, Stage] = {
    CustodyState.TRANSFERRED: Stage("transferred", ":white_check_mark:", "ICE took custody"),
    CustodyState.RELEASED: Stage("released", ":white_check_mark:", "Released"),
    CustodyState.IGSA: Stage("igsa", ":house:", "Held under an IGSA"),
    CustodyState.VOIDED: Stage("voided", ":no_entry_sign:", "Voided"),
}


def card_stage(custody: Custody, now: datetime) -> Stage:
    """The stage of ``custody`` at ``now``: by time left while open, by its state once closed."""
    if not custody.is_open:
        state = custody.state
        return _CLOSED.get(state) or Stage(state.value, ":white_check_mark:", state.value.title())
    left = custody.deadline - now
    if left <= timedelta(0):
        return EXPIRED
    if left <= UNDER_4H:
        return LESS_THAN_4H
    if left <= UNDER_12H:
        return LESS_THAN_12H
    return MORE_THAN_12H


def card_blocks(
    custody: Custody, facility: Facility, now: datetime, *, igsa_button: bool | None = None
) -> list[dict[str, Any]]:
    """The card's blocks. ``igsa_button``: shown where the facility has an IGSA (its config)."""
    if igsa_button is None:
        igsa_button = facility.igsa
    stage = card_stage(custody, now)
    header = f"WSO custody: booking {custody.booking}"[:HEADER_TEXT_LIMIT]
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": header}},
        {"type": "section", "text": {"type": "mrkdwn", "text": _stage_line(custody, stage, now)}},
        {"type": "section", "fields": _fields(custody, facility, stage, now)},
    ]
    for flag in _flags(custody, facility):
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": flag}})
    closing = _closing_line(custody, facility)
    if closing:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": closing}})
    if custody.is_open:
        blocks.append(_buttons(custody, igsa_button=igsa_button))
    updated = viewer_time(now, _utc(now))
    context = (
        f"WSO custody `{custody.id}` · deadline counted as {counting_rule_phrase(custody)} · "
        f"updated {updated}"
    )
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": context}]})
    return blocks


def _stage_line(custody: Custody, stage: Stage, now: datetime) -> str:
    if not custody.is_open:
        return f"{stage.line}. The custody clock is stopped; no more reminders or pages."
    left = custody.deadline - now
    if left <= timedelta(0):
        return (
            f"{stage.line} — the window ended *{format_time_left(-left)} ago*. Unless an IGSA "
            "applies, the person must be released."
        )
    return f"{stage.line} — *{format_time_left(left)} left* for ICE to take custody."


def _fields(
    custody: Custody, facility: Facility, stage: Stage, now: datetime
) -> list[dict[str, str]]:
    zone = facility.zone
    warrant = custody.warrant_form.value if custody.warrant_form else "not given"
    if custody.warrant_number:
        warrant += f" no. {custody.warrant_number}"
    deadline = (
        f"{format_local(custody.deadline, zone)}\n"
        f"your time: {viewer_time(custody.deadline, _utc(custody.deadline))}"
    )
    left = format_time_left(custody.deadline - now) if custody.is_open else "clock stopped"
    rows = [
        ("Booking", custody.booking),
        ("Warrant", warrant),
        ("Facility", facility_name(facility)),
        ("Logged by", f"<@{custody.logged_by}>"),
        ("Arrested", format_local(custody.arrested_at, zone)),
        ("Deadline", deadline),
        ("Time left", left),
        ("State", f"{stage.emoji} {stage.label}"),
    ]
    return [{"type": "mrkdwn", "text": f"*{name}*\n{value}"} for name, value in rows]


def _flags(custody: Custody, facility: Facility) -> list[str]:
    """What must stay visible on the card: who acknowledged the paging and a dispute (until
    closed), a corrected arrest time."""
    flags = []
    if custody.acknowledged_at is not None and custody.is_open:
        by = f" by <@{custody.acknowledged_by}>" if custody.acknowledged_by else ""
        flags.append(
            f":bell: *Paging acknowledged*{by} "
            f"{format_local(custody.acknowledged_at, facility.zone)}."
        )
    if custody.disputed_at is not None and custody.is_open:
        by = f" by <@{custody.disputed_by}>" if custody.disputed_by else ""
        note = f"\n{quoted(custody.dispute_note, label='Note')}" if custody.dispute_note else ""
        flags.append(
            f":warning: *Disputed* — a citizenship or identity claim was raised{by} "
            f"{format_local(custody.disputed_at, facility.zone)}.{note}"
        )
    if custody.corrected_from is not None:
        was, now = (
            format_local(t, facility.zone) for t in (custody.corrected_from, custody.arrested_at)
        )
        flags.append(
            f":pencil2: *Arrest time corrected* from {was} to {now}; the deadline moved with it."
        )
    return flags


def _closing_line(custody: Custody, facility: Facility) -> str | None:
    if custody.is_open:
        return None
    at = format_local(custody.closed_at, facility.zone) if custody.closed_at else "unknown time"
    by = f" by <@{custody.closed_by}>" if custody.closed_by else ""
    reason = f"\n{release_reason(custody)}" if custody.close_reason else ""
    return f"Recorded {at}{by}.{_handover(custody, facility)}{reason}"


def _handover(custody: Custody, facility: Facility) -> str:
    """A transfer's facts, when given (the button's form asks for both)."""
    facts = []
    if custody.custody_taken_at is not None:
        facts.append(f"ICE took custody {format_local(custody.custody_taken_at, facility.zone)}")
    if custody.received_by:
        facts.append(quoted(custody.received_by, label="received by"))
    return ("\n" + "; ".join(facts) + ".") if facts else ""


def _buttons(custody: Custody, *, igsa_button: bool) -> dict[str, Any]:
    labels = [(actions.TRANSFER, "ICE took custody", "primary"), (actions.RELEASE, "Released", "")]
    if igsa_button:
        labels.append((actions.IGSA, "IGSA housing", ""))
    labels.append((actions.ADD_NOTE, "Add note", ""))
    elements = []
    for action_id, text, style in labels:
        button: dict[str, Any] = {
            "type": "button",
            "action_id": action_id,
            "text": {"type": "plain_text", "text": text},
            "value": custody.id,
        }
        if style:
            button["style"] = style
        if action_id == actions.IGSA:
            button["confirm"] = _igsa_confirm(custody)
        elements.append(button)
    return {"type": "actions", "block_id": actions.CARD_ACTIONS_BLOCK, "elements": elements}


def _igsa_confirm(custody: Custody) -> dict[str, Any]:
    """IGSA closes the custody at one press (no form): Slack asks first."""
    return {
        "title": {"type": "plain_text", "text": "Held under an IGSA?"},
        "text": {
            "type": "mrkdwn",
            "text": f"Record booking *{custody.booking}* as held under the facility's IGSA? "
            "The custody clock and all paging stop, and both channels are told.",
        },
        "confirm": {"type": "plain_text", "text": "Record IGSA"},
        "deny": {"type": "plain_text", "text": "Cancel"},
    }


def _utc(instant: datetime) -> str:
    return f"{instant:%a %b} {instant.day}, {instant:%H:%M} UTC"
