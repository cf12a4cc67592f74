"""The App Home tab: one user's dashboard. Pure.

What it shows: the open custodies of the user's facilities by urgency, each with
its time left and a button; the custodies closed today (each facility's local
day); who is on call now. It stays inside Slack's 100 blocks by construction:
at most ``OPEN_SHOWN`` custodies get a block each, closures and on-call lines are
packed into sections, and whatever is left out is counted ("…and N more").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.chat.actions import HOME_OPEN_ARREST_FORM, HOME_STATUS
from bot.chat.lists import by_urgency, chunked, context, custody_line, mrkdwn_section
from bot.chat.phrases import facility_name, format_local
from bot.core.facility import Facility
from bot.core.model import Custody

OPEN_SHOWN = 40  # a block each: with 4 group headings and the rest, well under 100
CLOSED_SHOWN = 30  # packed into sections of lines
MAX_BLOCKS = 100


@dataclass(frozen=True)
class HomeData:
    """What one user's Home shows, read for them by the service."""

    facilities: tuple[Facility, ...]  # where they are an officer or staff
    open_rows: Sequence[tuple[Custody, Facility]]  # the most urgent, at most OPEN_SHOWN
    open_total: int
    closed_rows: Sequence[tuple[Custody, Facility]]  # closed today, latest first
    oncall_lines: Sequence[str]
    may_log: bool  # an officer somewhere: offer the arrest form


def _header(text: str) -> dict[str, Any]:
    return {"type": "header", "text": {"type": "plain_text", "text": text[:150]}}


def _button(text: str, action_id: str, value: str) -> dict[str, Any]:
    return {
        "type": "button",
        "text": {"type": "plain_text", "text": text},
        "action_id": action_id,
        "value": value[:2000],
    }


def home_view(data: HomeData, now: datetime) -> dict[str, Any]:
    blocks: list[dict[str, Any]] = [_header("WSO Custody Clock")]
    if not data.facilities:
        blocks.append(mrkdwn_section(_no_facility_text()))
        return {"type": "home", "blocks": blocks}
    names = ", ".join(facility_name(f) for f in data.facilities)
    blocks.append(
        context(f"Your facilities: {names}. Updated {format_local(now, data.facilities[0].zone)}.")
    )
    if data.may_log:
        blocks.append(
            {
                "type": "actions",
                "block_id": "wso_home_actions",
                "elements": [_button("Log an arrest", HOME_OPEN_ARREST_FORM, "open")],
            }
        )
    blocks.extend(_open_blocks(data, now))
    blocks.append({"type": "divider"})
    blocks.extend(_closed_blocks(data))
    blocks.append({"type": "divider"})
    blocks.append(_header("On call now"))
    lines = data.oncall_lines or ["No on-call schedule pages these facilities."]
    blocks.extend(mrkdwn_section(text) for text in list(chunked(lines))[:3])
    return {"type": "home", "blocks": blocks}


def _open_blocks(data: HomeData, now: datetime) -> list[dict[str, Any]]:
    blocks = [_header(f"Open custodies ({data.open_total})")]
    if not data.open_rows:
        return [*blocks, mrkdwn_section("No open custodies. :white_check_mark:")]
    shown = data.open_rows[:OPEN_SHOWN]
    for group, members in by_urgency(shown, now):
        blocks.append(mrkdwn_section(f"{group.value} ({len(members)})"))
        for custody, facility in members:
            section = mrkdwn_section(custody_line(custody, facility, now))
            section["accessory"] = _button("Details", HOME_STATUS, custody.id)
            blocks.append(section)
    if data.open_total > len(shown):
        blocks.append(
            context(
                f"…and {data.open_total - len(shown)} more open custodies not shown here. "
                "`/wso list facility ID` lists them."
            )
        )
    return blocks


def _closed_blocks(data: HomeData) -> list[dict[str, Any]]:
    blocks = [_header(f"Closed today ({len(data.closed_rows)})")]
    if not data.closed_rows:
        return [*blocks, context("Nothing closed yet today (each facility's local day).")]
    shown = data.closed_rows[:CLOSED_SHOWN]
    lines = [
        f"• *{c.booking}* — {facility_name(f)} — {c.state.value} by <@{c.closed_by}> at "
        f"{format_local(c.closed_at, f.zone) if c.closed_at else '?'}"
        for c, f in shown
    ]
    blocks.extend(mrkdwn_section(text) for text in chunked(lines))
    if len(data.closed_rows) > len(shown):
        blocks.append(context(f"…and {len(data.closed_rows) - len(shown)} more closed today."))
    return blocks


def _no_facility_text() -> str:
    return (
        "You are not listed as an officer or staff member of any facility, so there is "
        "nothing to show you here yet. An administrator can add your Slack member id to a "
        "facility's `officers` or `staff` in the bot's config. Anyone may still use "
        "`/wso status B-2026-0412`, `/wso list` and `/wso help`."
    )
