"""Phrases that channel notices and ephemeral replies share. Pure.

The one home of how a facility's name, a local time, a warrant, a release
reason and an escalation gap are shown. Config text (a facility's name) is
escaped here, in :func:`facility_name`, and nowhere else; user text (a release
reason) is quoted with ``bot.chat.slack.quoted``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from zoneinfo import ZoneInfo

from bot.chat.slack import escape_mrkdwn, quoted
from bot.core.coverage import CoverageGap
from bot.core.facility import Facility
from bot.core.model import CountingRule, Custody, CustodyState
from bot.core.policy import PolicyStamp

# A coverage warning lists every gap of every on-call level; a few say enough.
COVERAGE_GAPS_SHOWN = 3
COVERAGE_WARNING_CHARS = 1_000
_GAP_SEPARATOR = "; "


def facility_name(facility: Facility) -> str:
    """The facility's configured name, escaped: config text is not trusted mrkdwn."""
    return escape_mrkdwn(facility.name)


def format_local(instant: datetime, zone: ZoneInfo) -> str:
    """``Mon Nov 30, 14:05 CST`` in the facility's zone."""
    local = instant.astimezone(zone)
    return f"{local:%a %b} {local.day}, {local:%H:%M} {local.tzname()}"


def format_day(day: date) -> str:
    """``Fri Jan 15, 2027``: a calendar date (a certification's), with its weekday."""
    return f"{day:%a %b} {day.day}, {day.year}"


def viewer_time(instant: datetime, fallback: str) -> str:
    """Slack's date token: each reader sees the instant in their own zone."""
    epoch = int(instant.timestamp())
    return f"<!date^{epoch}^{{date_short_pretty}} {{time}}|{fallback}>"


def warrant_phrase(custody: Custody) -> str:
    """`` on I-200 no. W-1`` after "Arrested …", or nothing when no warrant was given."""
    if custody.warrant_form is None and custody.warrant_number is None:
        return ""
    form = custody.warrant_form.value if custody.warrant_form else "warrant"
    number = f" no. {custody.warrant_number}" if custody.warrant_number else ""
    return f" on {form}{number}"


def counting_rule_phrase(custody: Custody) -> str:
    """How the custody's deadline was counted, in words and by its recorded name and version:
    ``48 elapsed hours (rule `elapsed-48h` v1)``."""
    stamp = PolicyStamp.of(custody)
    if stamp.rule is CountingRule.EXCLUDING_WEEKENDS_HOLIDAYS:
        words = (
            f"{stamp.hours} hours not counting Saturdays, Sundays or "
            f"{stamp.holiday_region} holidays"
        )
    else:
        words = f"{stamp.hours} elapsed hours"
    return f"{words} (rule `{stamp.rule.value}` v{stamp.version})"


def window_name(custody: Custody) -> str:
    """``48-hour window`` (or the shorter window the custody was counted with)."""
    return f"{custody.counting_hours}-hour window"


def release_reason(custody: Custody) -> str:
    """The release reason as a quotation of whoever recorded it, never as the bot's words."""
    return quoted(custody.close_reason or "", typed_by=custody.closed_by)


def clip(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, ending in "…" when cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def coverage_warning(gaps: Sequence[CoverageGap], zone: ZoneInfo) -> str | None:
    """The gaps as the custody stores them: one clause per gap, in the facility's time."""
    clauses = [
        f"{'ICE level' if gap.ice else 'level'} {gap.level} (`{gap.entry}`) has nobody on call "
        f"{format_local(gap.start, zone)} to {format_local(gap.end, zone)}"
        for gap in gaps
    ]
    return _GAP_SEPARATOR.join(clauses) or None


def coverage_warning_text(warning: str) -> str:
    """The first few gaps of a stored coverage warning and how many more there are.

    ``coverage_warning`` writes one clause per gap, and an iCalendar schedule can
    have a gap every hour of the window; the officer needs to know that there
    are gaps and where the first ones are, not every one.
    """
    gaps = warning.split(_GAP_SEPARATOR)
    shown = gaps[:COVERAGE_GAPS_SHOWN]
    text = clip(_GAP_SEPARATOR.join(shown), COVERAGE_WARNING_CHARS)
    if len(gaps) > len(shown):
        text += f"; …and {len(gaps) - len(shown)} more"
    return text


def escalation_gap_line(warning: str) -> str:
    """The receipt's and the logged notice's line about a stored coverage warning."""
    return f"\n:warning: *Escalation gap:* {coverage_warning_text(warning)}."


CLOSED_STATE_WORDS = {
    CustodyState.TRANSFERRED: "transferred to ICE",
    CustodyState.RELEASED: "released",
    CustodyState.IGSA: "held under an IGSA",
    CustodyState.VOIDED: "voided",
}


def lifecycle_lines(custody: Custody, zone: ZoneInfo) -> list[str]:
    """What ``/wso status`` adds for a corrected or disputed custody."""
    lines = []
    if custody.corrected_from is not None:
        lines.append(f"Arrest time corrected (was {format_local(custody.corrected_from, zone)}).")
    if custody.disputed_at is not None:
        note = quoted(custody.dispute_note or "", typed_by=custody.disputed_by, label="Note")
        lines.append(
            f":warning: *Disputed* (citizenship or identity) since "
            f"{format_local(custody.disputed_at, zone)}. {note}."
        )
    return lines
