"""Open custodies grouped by urgency, as Block Kit: ``/wso list`` and the App Home. Pure.

A group is a header line and sections of one line a custody; each section stays
under Slack's 3,000 characters by construction (lines are bounded: a booking is
32 characters, a facility name 80), and the count of blocks is bounded by the
number of rows the caller passes (``/wso list`` at most 50).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from enum import Enum
from typing import Any

from bot.chat.phrases import facility_name, format_local
from bot.core.durations import format_time_left
from bot.core.facility import Facility
from bot.core.model import Custody

SECTION_LIMIT = 3000


class Urgency(Enum):
    """How soon the window ends; the order is the order shown."""

    EXPIRED = ":rotating_light: *Expired: release required*"
    UNDER_4H = ":red_circle: *Under 4 hours left*"
    UNDER_12H = ":large_orange_circle: *Under 12 hours left*"
    LATER = ":large_green_circle: *12 hours or more left*"


def urgency(custody: Custody, now: datetime) -> Urgency:
    left = custody.deadline - now
    if left <= timedelta(0):
        return Urgency.EXPIRED
    if left < timedelta(hours=4):
        return Urgency.UNDER_4H
    if left < timedelta(hours=12):
        return Urgency.UNDER_12H
    return Urgency.LATER


def custody_line(custody: Custody, facility: Facility, now: datetime) -> str:
    """``*B-1* — County Jail — deadline Mon Nov 30, 14:00 CST — 3h 10m left``."""
    left = custody.deadline - now
    flag = ":rotating_light: " if left <= timedelta(0) else ""
    return (
        f"{flag}*{custody.booking}* — {facility_name(facility)} — deadline "
        f"{format_local(custody.deadline, facility.zone)} — {format_time_left(left)}"
        + (" left" if left > timedelta(0) else "")
    )


def by_urgency(
    rows: Sequence[tuple[Custody, Facility]], now: datetime
) -> list[tuple[Urgency, list[tuple[Custody, Facility]]]]:
    """The rows (soonest deadline first) in their urgency groups; empty groups left out."""
    groups: dict[Urgency, list[tuple[Custody, Facility]]] = {u: [] for u in Urgency}
    for row in sorted(rows, key=lambda r: (r[0].deadline, r[0].booking)):
        groups[urgency(row[0], now)].append(row)
    return [(u, found) for u, found in groups.items() if found]


def mrkdwn_section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text[:SECTION_LIMIT]}}


def context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text[:SECTION_LIMIT]}]}


def chunked(lines: Sequence[str], limit: int = SECTION_LIMIT) -> Iterator[str]:
    """Lines joined into texts of at most ``limit`` characters, split between lines."""
    current: list[str] = []
    size = 0
    for line in lines:
        line = line[:limit]
        if current and size + 1 + len(line) > limit:
            yield "\n".join(current)
            current, size = [], 0
        current.append(line)
        size += len(line) + (1 if size else 0)
    if current:
        yield "\n".join(current)


def list_blocks(
    rows: Sequence[tuple[Custody, Facility]], now: datetime, total: int
) -> list[dict[str, Any]]:
    """``/wso list`` as blocks: a heading, each urgency group, and how many were left out."""
    if not rows:
        return [mrkdwn_section("No open WSO custodies.")]
    blocks = [mrkdwn_section(f"*Open WSO custodies* ({total}), most urgent first")]
    for group, members in by_urgency(rows, now):
        blocks.append(mrkdwn_section(f"{group.value} ({len(members)})"))
        lines = [f"• {custody_line(c, f, now)}" for c, f in members]
        blocks.extend(mrkdwn_section(text) for text in chunked(lines))
    if total > len(rows):
        blocks.append(
            context(
                f"…and {total - len(rows)} more not shown. Narrow with `/wso list facility ID`."
            )
        )
    return blocks
