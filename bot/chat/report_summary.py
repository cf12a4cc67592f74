"""The weekly oversight summary as a Slack message. Pure.

The figures of ``wso-bot report`` in a few lines, and the custodies held past the
deadline named (booking and facility; the ``LATE_NAMED`` held longest). Facility names
come from the config and bookings from officers: both are escaped, so nothing in them
can ping a channel or pass for the bot's own words. No A-number, name or note is in it.
"""

from __future__ import annotations

from bot.chat.notices import SlackMessage, sections
from bot.chat.slack import escape_mrkdwn
from bot.core.model import CustodyState
from bot.core.oversight_summary import Spread, Summary

LATE_NAMED = 20


def _spread(spread: Spread, unit: str) -> str:
    if spread.median is None or spread.p90 is None:
        return "none"
    return f"median {spread.median:,.1f} {unit}, p90 {spread.p90:,.1f} {unit} ({spread.count:,})"


def _outcomes(summary: Summary) -> str:
    counts = [
        f"{summary.outcomes[state]:,} {state.value}"
        for state in CustodyState
        if summary.outcomes[state]
    ]
    return ", ".join(counts) or "none"


def _rate(summary: Summary) -> str:
    rate = summary.transfer_rate
    if rate is None:
        return "no outcome known yet"
    return f"{rate:.0%} ({summary.transfers_in_window:,} of {summary.decided:,})"


def _late_lines(summary: Summary) -> list[str]:
    if not summary.held_past_deadline:
        return ["• *Held past the deadline: 0.* :white_check_mark:"]
    lines = [f"• *Held past the deadline: {summary.held_past_deadline:,}* (drive this to zero):"]
    for late in summary.late[:LATE_NAMED]:
        lines.append(
            f"    ◦ {escape_mrkdwn(late.booking)} at {escape_mrkdwn(late.facility_name)}: "
            f"{late.outcome.value}, {late.hours_past:,.1f} h past"
        )
    more = summary.held_past_deadline - min(len(summary.late), LATE_NAMED)
    if more:
        lines.append(f"    …and {more:,} more: `wso-bot report` names them")
    return lines


def weekly_summary(summary: Summary) -> SlackMessage:
    """The summary of ``summary.period`` for the ``[report]`` channel."""
    period = summary.period.describe()
    ack = summary.acknowledged_after_deadline_minutes
    lines = [
        f":bar_chart: *WSO custody summary, {period}* (by arrest date)",
        f"• Custodies: {summary.custodies:,} ({_outcomes(summary)})",
        f"• Transferred to ICE within the window: {_rate(summary)}",
        f"• Pickup time: {_spread(summary.pickup_hours, 'h')}",
        f"• Released at expiry: {summary.releases_at_expiry:,}",
        *_late_lines(summary),
        f"• Acknowledged after the deadline: {_spread(ack, 'min')}; "
        f"before it: {summary.acknowledged_before_deadline:,}",
        f"• Identity or citizenship claims raised: {summary.disputed:,}",
        f"The full page: `wso-bot report --from {summary.period.first.isoformat()} "
        f"--to {summary.period.last.isoformat()}`",
    ]
    text = "\n".join(lines)
    return SlackMessage(text=text, blocks=sections(text))
