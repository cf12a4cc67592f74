"""``/wso history BOOKING``: one custody's audit trail as an ephemeral timeline. Pure.

One line per event, oldest first: when (each reader's own zone, the facility's as the
fallback), who (a person, or the bot), what, and how (a command, a button, a form).
Free text people typed (notes, reasons, names) is shown as their quotation, never as
the bot's words (``bot.chat.slack.quoted``); after a purge it says it was erased.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from zoneinfo import ZoneInfo

from bot.chat.phrases import facility_name, format_local, viewer_time
from bot.chat.replies import Reply, error_reply
from bot.chat.slack import code, quoted
from bot.core.facility import Facility
from bot.core.model import AuditEntry, AuditValue, Custody

# The newest events shown; ``wso-bot audit export`` has every one.
MAX_EVENTS_SHOWN = 40
_HOW = {"slash_command": " (`/wso`)", "button": " (button)", "modal": " (form)", "cli": " (CLI)"}
# What people typed, shown as their words under these labels (the event's key: label).
_TYPED = {
    "close_reason": "Reason",
    "reason": "Reason",
    "dispute_note": "Note",
    "note": "Note",
    "notes": "Notes",
    "text": "Note",
    "received_by": "Received by",
}


def _time(value: AuditValue) -> str:
    return str(value).replace("T", " ")[:16] + " UTC" if value else "none"


def _target(target: AuditValue) -> str:
    text = str(target or "")
    if text[:1] in ("C", "G") and text.isalnum():
        return f"<#{text}>"
    if text[:1] in ("U", "W") and text.isalnum():
        return f"<@{text}> (direct message)"
    return code(text)


def _kind(event: AuditEntry) -> str:
    return str(event.detail.get("kind", "")).replace("_", " ")


_WHAT: dict[str, Callable[[AuditEntry], str]] = {
    "arrest_logged": lambda e: f"logged the arrest (deadline {_time(e.after.get('deadline'))})",
    "custody_transferred": lambda e: "recorded that ICE took custody",
    "custody_released": lambda e: "recorded a release",
    "custody_igsa": lambda e: "recorded IGSA housing",
    "custody_voided": lambda e: "voided the entry",
    "custody_corrected": lambda e: (
        f"corrected the arrest time from {_time(e.before.get('arrested_at'))} "
        f"to {_time(e.after.get('arrested_at'))}"
    ),
    "custody_disputed": lambda e: "recorded a dispute",
    "note_added": lambda e: "added a note",
    "paging_acknowledged": lambda e: f"acknowledged the paging (level {e.detail.get('level')})",
    "notice_sent": lambda e: f"sent the {_kind(e)} notice to {_target(e.detail.get('target'))}",
    "notice_skipped": lambda e: f"skipped the {_kind(e)} notice (a later one said it all)",
    "notice_undeliverable": lambda e: (
        f"could not deliver the {_kind(e)} notice to {_target(e.detail.get('target'))} "
        f"({code(str(e.detail.get('error')))}): a person must fix it"
    ),
    "paged": lambda e: f"paged level {e.detail.get('level')}: {_people(e.detail.get('paged'))}",
}


def _people(users: AuditValue) -> str:
    return ", ".join(f"<@{user}>" for user in str(users or "").split(",") if user) or "nobody"


def _line(event: AuditEntry, zone: ZoneInfo) -> str:
    when = viewer_time(event.at, format_local(event.at, zone))
    who = "the bot" if event.actor == "system" else f"<@{event.actor}>"
    describe = _WHAT.get(event.action)
    what = describe(event) if describe is not None else f"recorded {code(event.action)}"
    how = _HOW.get(event.source.value if event.source is not None else "", "")
    line = f"• {when}: {who} {what}{how}"
    typed_by = None if event.actor == "system" else event.actor
    typed = [
        quoted(str(value), typed_by=typed_by, label=label)
        for section in (event.before, event.after, event.detail)
        for key, label in _TYPED.items()
        if (value := section.get(key))
    ]
    if typed:
        line += "\n      " + "\n      ".join(typed)
    if event.erased:
        line += "\n      _(personal details erased by a retention purge)_"
    return line


def timeline(custody: Custody, facility: Facility, trail: Sequence[AuditEntry]) -> Reply:
    """The trail of ``custody``, oldest first (the newest ``MAX_EVENTS_SHOWN`` of it)."""
    shown = list(trail)[-MAX_EVENTS_SHOWN:]
    head = (
        f"*History of booking {custody.booking}* at {facility_name(facility)}: "
        f"{len(trail)} recorded event(s), oldest first."
    )
    if len(shown) < len(trail):
        head += (
            f" The first {len(trail) - len(shown)} are not shown here; "
            "`wso-bot audit export` has them all."
        )
    lines = [_line(event, facility.zone) for event in shown] or ["• nothing recorded yet"]
    return Reply(text="\n".join([head, *lines]))


def unknown_booking(booking: str) -> Reply:
    return error_reply(
        f"No custody has been logged for booking {booking}, so there is no history to show. "
        "Check the number (`/wso list` shows the open ones).",
        "/wso history B-2026-0412",
    )


def history_refused(facility: Facility, user_id: str) -> Reply:
    return error_reply(
        f"Only the officers and staff listed for {facility_name(facility)} may see the history "
        f"of its custodies. An administrator can add `{user_id}` to `officers` or `staff` "
        "in the config."
    )
