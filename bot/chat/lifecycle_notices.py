"""Channel messages of the custody lifecycle: IGSA, void, correction, dispute, note. Pure.

``bot.chat.notices`` renders every notice; these are the texts and metadata fields
of the five lifecycle kinds. Free text (a void's reason, a dispute's note, a note) is
shown as a quotation attributed to whoever typed it (``bot.chat.slack.quoted``):
never as the bot's words, never able to ping a channel or reverse what is shown.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from bot.chat.phrases import facility_name, format_local
from bot.chat.slack import quoted
from bot.core.facility import Facility
from bot.core.model import Custody, Notice, NoticeKind

NoticeText = Callable[[Custody, Notice, Facility, datetime], tuple[str, str]]


def _who(custody: Custody, facility: Facility) -> str:
    return f"booking *{custody.booking}* at {facility_name(facility)}"


def _recorded(custody: Custody, facility: Facility, now: datetime) -> str:
    at = format_local(custody.closed_at or now, facility.zone)
    by = f" by <@{custody.closed_by}>" if custody.closed_by else ""
    return f"Recorded {at}{by}."


def _closed_text(
    custody: Custody, notice: Notice, facility: Facility, now: datetime
) -> tuple[str, str]:
    """IGSA housing, or a voided entry (with its reason, quoted)."""
    if notice.kind is NoticeKind.IGSA:
        headline = f":house: *Held under an IGSA* — {_who(custody, facility)}"
        why = (
            "The person is held under the facility's Intergovernmental Service Agreement: "
            "the 48-hour clock and all paging are stopped"
        )
    else:
        headline = f":no_entry_sign: *Entry voided* — {_who(custody, facility)}"
        reason = quoted(custody.close_reason or "", typed_by=custody.closed_by)
        why = f"{reason}. The custody clock and all paging are stopped"
    return headline, f"{_recorded(custody, facility, now)} {why}; no more notices."


def _corrected_text(
    custody: Custody, notice: Notice, facility: Facility, now: datetime
) -> tuple[str, str]:
    """A new arrest time, or the deadline counted again under the facility's current rule."""
    zone = facility.zone
    detail = notice.detail

    def shown(key: str) -> str:
        return format_local(datetime.fromisoformat(detail[key]), zone)

    by = f"<@{detail.get('by', custody.logged_by)}>"
    if detail["to_arrested_at"] != detail["from_arrested_at"]:
        headline = f":pencil2: *Arrest time corrected* — {_who(custody, facility)}"
        what = (
            f"Corrected by {by}: arrested {shown('to_arrested_at')} "
            f"(was {shown('from_arrested_at')})."
        )
    else:
        headline = f":pencil2: *Deadline counted again* — {_who(custody, facility)}"
        what = f"Counted again by {by} under the facility's current rule."
    rule = ""
    if detail.get("to_policy") and detail.get("to_policy") != detail.get("from_policy"):
        rule = f" Counting rule `{detail['to_policy']}` (was `{detail.get('from_policy')}`)."
    body = (
        f"{what} *New deadline {shown('to_deadline')}* (was {shown('from_deadline')}).{rule} "
        "Every reminder and page is planned again from the new deadline."
    )
    return headline, body


def _disputed_text(
    custody: Custody, notice: Notice, facility: Facility, now: datetime
) -> tuple[str, str]:
    by = notice.detail.get("by") or custody.disputed_by
    note = quoted(notice.detail.get("note", ""), typed_by=by, label="Note")
    headline = f":warning: *Disputed: citizenship or identity* — {_who(custody, facility)}"
    body = (
        f"{note}. The custody stays open and flagged as disputed until it is closed; the "
        "first escalation level is paged now. Check the claim before any transfer."
    )
    return headline, body


def _note_text(
    custody: Custody, notice: Notice, facility: Facility, now: datetime
) -> tuple[str, str]:
    note = quoted(notice.detail.get("text", ""), typed_by=notice.detail.get("by"), label="Note")
    return f":memo: *Note* — {_who(custody, facility)}", f"{note}."


def disputed_page_text(custody: Custody, facility: Facility, now: datetime) -> tuple[str, str]:
    """A page sent at once because someone disputed citizenship or identity."""
    by = f"<@{custody.disputed_by}>" if custody.disputed_by else "someone"
    note = quoted(custody.dispute_note or "", typed_by=custody.disputed_by, label="Note")
    headline = f":warning: *Disputed custody — check now* — {_who(custody, facility)}"
    body = (
        f"{by} recorded a citizenship or identity claim. {note}. The deadline is "
        f"{format_local(custody.deadline, facility.zone)}; jail channel: "
        f"<#{facility.jail_channel}>. Press *Acknowledge* if you are handling it."
    )
    return headline, body


LIFECYCLE_NOTICE_TEXT: dict[NoticeKind, NoticeText] = {
    NoticeKind.IGSA: _closed_text,
    NoticeKind.VOIDED: _closed_text,
    NoticeKind.CORRECTED: _corrected_text,
    NoticeKind.DISPUTED: _disputed_text,
    NoticeKind.NOTE: _note_text,
}


def lifecycle_metadata(custody: Custody, notice: Notice) -> dict[str, Any]:
    """The extra ``wso_custody`` fields of the lifecycle kinds (README: metadata contract).

    Machine-readable facts only: who acted, and a correction's previous times. Free
    text (reasons, notes) stays in the message, never in the metadata.
    """
    detail = notice.detail
    match notice.kind:
        case NoticeKind.IGSA | NoticeKind.VOIDED:
            return {"closed_by": custody.closed_by}
        case NoticeKind.CORRECTED:
            return {
                "corrected_by": detail.get("by"),
                "previous_arrested_at": detail.get("from_arrested_at"),
                "previous_deadline": detail.get("from_deadline"),
            }
        case NoticeKind.DISPUTED:
            return {"disputed_by": detail.get("by") or custody.disputed_by}
        case NoticeKind.NOTE:
            return {"note_by": detail.get("by")}
        case _:
            return {}
