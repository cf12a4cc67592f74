"""What people read about the officer roster: refusals, ``/wso officers``, the expiry reminder.

Pure. Names and badges come from the roster file, which people type: they are shown
through ``bot.chat.slack.neutralise``, so a row cannot ping a channel, format text or
pass for the bot's words. A facility's name is escaped by ``phrases.facility_name``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from bot.chat.notices import SlackMessage, sections
from bot.chat.phrases import facility_name, format_day
from bot.chat.replies import Reply, error_reply, may_not_log_arrest
from bot.chat.slack import CERTIFICATION_EVENT_TYPE, code, neutralise
from bot.core.certification_plan import CertificationReminder
from bot.core.facility import Facility
from bot.core.permissions import ArrestRefusal, ArrestRefusalReason
from bot.core.roster import CertificationStatus, RosterEntry

# A roster listed in one ephemeral answer: each line is bounded (name 80, badge 32, id 32
# characters), so this many stay far inside Slack's 40,000 characters a message.
OFFICERS_SHOWN = 100
# From this many days before the expiry, an officer's line is marked.
SOON_DAYS = 30
_STATUS_ORDER = {
    CertificationStatus.EXPIRED: 0,
    CertificationStatus.CERTIFIED: 1,
    CertificationStatus.NOT_YET: 2,
}


def officer_label(entry: RosterEntry) -> str:
    """``Dana Reyes, badge 4417 (<@U0AAA>)``: the row's name and badge, neutralised."""
    return f"{neutralise(entry.name)}, badge {neutralise(entry.badge)} (<@{entry.user_id}>)"


def _ask_a_colleague(facility: Facility) -> str:
    return f"Nothing was stored. A certified WSO officer of {facility_name(facility)} can log it."


# --- /wso arrest refused ------------------------------------------------------------


def arrest_refused(
    refusal: ArrestRefusal, facility: Facility, user_id: str, home: Facility | None
) -> Reply:
    """Why ``user_id`` may not log a WSO arrest at ``facility``; ``home``: their roster jail."""
    entry = refusal.entry
    roster_file = facility.roster.current.source
    if refusal.reason is ArrestRefusalReason.NOT_AN_OFFICER or entry is None:
        return may_not_log_arrest(facility, user_id, roster_file)
    where = f" (roster {code(roster_file)})" if roster_file else ""
    badge = f"badge {neutralise(entry.badge)}"
    match refusal.reason:
        case ArrestRefusalReason.OTHER_JAIL:
            jail = facility_name(home) if home is not None else code(entry.facility_id)
            message = (
                f"You are on the WSO roster at {jail} ({badge}){where}, not at "
                f"{facility_name(facility)}. WSO arrests happen only in the officer's own jail, "
                "so you may not log one here."
            )
        case ArrestRefusalReason.EXPIRED:
            message = (
                f"Your WSO certification ({badge}) has expired: it was valid through "
                f"{format_day(entry.expires_on)}{where}. An officer whose certification has "
                "expired may not log WSO arrests. Once you are recertified, an administrator "
                "updates the expiry date in your roster row."
            )
        case _:
            message = (
                f"Your WSO certification ({badge}) starts on "
                f"{format_day(entry.certified_on)}{where}; until then you may not log WSO "
                "arrests."
            )
    return error_reply(f"{message} {_ask_a_colleague(facility)}")


# --- /wso officers -----------------------------------------------------------------


def officer_line(entry: RosterEntry, today: date) -> str:
    """One officer and where their certification stands on ``today`` (facility calendar)."""
    label = officer_label(entry)
    status = entry.status_on(today)
    if status is CertificationStatus.EXPIRED:
        return (
            f":no_entry: {label}: *expired*, certified through {format_day(entry.expires_on)}; "
            "may not log WSO arrests"
        )
    if status is CertificationStatus.NOT_YET:
        return (
            f":hourglass: {label}: certified from {format_day(entry.certified_on)}; may not "
            "log WSO arrests before then"
        )
    days = entry.days_left(today)
    mark = ":warning:" if days <= SOON_DAYS else ":white_check_mark:"
    return f"{mark} {label}: certified through {format_day(entry.expires_on)}, {_expires_in(days)}"


def _expires_in(days: int) -> str:
    if days == 0:
        return "today is its last day"
    return "tomorrow is its last day" if days == 1 else f"expires in {days} days"


def _by_urgency(entries: Sequence[RosterEntry], today: date) -> list[RosterEntry]:
    return sorted(
        entries,
        key=lambda e: (_STATUS_ORDER[e.status_on(today)], e.expires_on, e.name.casefold()),
    )


def officers_list(facility: Facility, now: datetime) -> Reply:
    """``/wso officers``: the facility's roster, expired and soonest to expire first."""
    roster = facility.roster.current
    today = now.astimezone(facility.zone).date()
    entries = _by_urgency(roster.of_facility(facility.id), today)
    heading = f"*WSO officers of {facility_name(facility)}*"
    if roster.source:
        heading += f" (roster {code(roster.source)}, as of {format_day(today)}, facility time)"
    lines = [heading]
    lines += [f"• {officer_line(entry, today)}" for entry in entries[:OFFICERS_SHOWN]]
    if len(entries) > OFFICERS_SHOWN:
        lines.append(f"…and {len(entries) - OFFICERS_SHOWN} more")
    unrostered = sorted(facility.officers - roster.officer_ids(facility.id))
    if unrostered:
        shown = ", ".join(f"<@{user_id}>" for user_id in unrostered[:OFFICERS_SHOWN])
        more = len(unrostered) - OFFICERS_SHOWN
        why = "with no roster row" if roster.source else "(no officer roster is configured)"
        lines.append(
            f"Listed in `officers` {why}, so no certification on file: {shown}"
            + (f" …and {more} more" if more > 0 else "")
        )
    if len(lines) == 1:
        lines.append("No officers are listed here.")
    return Reply(text="\n".join(lines))


def roster_not_for_you(facility: Facility, user_id: str) -> Reply:
    return error_reply(
        f"Only the officers and staff of {facility_name(facility)} may see its officer roster, "
        f"and <@{user_id}> is not one of them. Nothing is shown.",
        "/wso officers facility ID",
    )


def which_roster(options: Sequence[Facility]) -> Reply:
    names = ", ".join(f"`{f.id}` ({facility_name(f)})" for f in options)
    return error_reply(
        f"Which facility's officers? Add `facility ID`, one of: {names}.",
        f"/wso officers facility {options[0].id}",
    )


# --- the expiry reminder in the jail channel ------------------------------------------


def certification_reminder(
    reminder: CertificationReminder, entry: RosterEntry, facility: Facility, now: datetime
) -> SlackMessage:
    """The jail channel's notice that an officer's WSO certification is about to end."""
    today = now.astimezone(facility.zone).date()
    text = (
        f":date: *WSO certification expiring* at {facility_name(facility)}: "
        f"{officer_label(entry)} is certified through {format_day(entry.expires_on)} "
        f"({_expires_in(entry.days_left(today))}). After that day they may not log WSO "
        "arrests until the officer roster shows a renewed certification."
    )
    payload = {
        "notice_id": reminder.id,
        "kind": "certification_expiring",
        "facility": facility.id,
        "user_id": entry.user_id,
        "expires_on": entry.expires_on.isoformat(),
    }
    return SlackMessage(
        text=text,
        blocks=sections(text),
        metadata={"event_type": CERTIFICATION_EVENT_TYPE, "event_payload": payload},
    )
