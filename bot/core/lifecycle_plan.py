"""What a correction, a dispute and a note owe: the notices that tell everyone. Pure.

Closing a custody as IGSA or voided is ``custody_plan.plan_closed_custody`` with its
kind. A correction plans the custody again from its new deadline as a newly logged one
would be (what is already due is due now; reminders already past are not planned),
without the logged notice, which the ``corrected`` notice replaces. A dispute pages the
first level of the expiry chain at once, whatever the deadline.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from bot.core.custody import OLDEST_ARREST
from bot.core.custody_plan import chain_for, mirrors
from bot.core.escalation import plan_escalation
from bot.core.facility import Config, Facility
from bot.core.model import Custody, Notice, NoticeKind
from bot.core.notice_plan import new_notice_id, plan_notices
from bot.core.policy import PolicyStamp
from bot.core.targets import EXPIRY_CHAIN

# A correction may move the arrest time at most this far back from now.
MAX_CORRECTION_AGE = OLDEST_ARREST


class CorrectionRefusal(StrEnum):
    IN_THE_FUTURE = "in_the_future"
    TOO_OLD = "too_old"
    UNCHANGED = "unchanged"


def correction_refusal(
    custody: Custody, corrected: Custody, now: datetime
) -> CorrectionRefusal | None:
    """Why ``custody`` cannot become ``corrected`` (``policy.recount``) now, or None.

    A moved arrest time must be in the past and at most 30 days back; a correction
    must change something: the arrest time, the deadline or the counting rule.
    """
    moved = corrected.arrested_at != custody.arrested_at
    if moved and corrected.arrested_at > now:
        return CorrectionRefusal.IN_THE_FUTURE
    if moved and now - corrected.arrested_at > MAX_CORRECTION_AGE:
        return CorrectionRefusal.TOO_OLD
    same_count = PolicyStamp.of(corrected) == PolicyStamp.of(custody)
    if not moved and corrected.deadline == custody.deadline and same_count:
        return CorrectionRefusal.UNCHANGED
    return None


def _each_channel(
    custody: Custody,
    kind: NoticeKind,
    facility: Facility,
    now: datetime,
    detail: dict[str, str],
) -> list[Notice]:
    return [
        Notice(new_notice_id(), custody.id, kind, channel, now, detail=dict(detail))
        for channel in dict.fromkeys(facility.channels())
    ]


def plan_corrected_custody(
    old: Custody, corrected: Custody, by: str, facility: Facility, config: Config, now: datetime
) -> list[Notice]:
    """The ``corrected`` notice in both channels, then the custody's new plan."""
    detail = {
        "by": by,
        "from_arrested_at": old.arrested_at.isoformat(),
        "from_deadline": old.deadline.isoformat(),
        "to_arrested_at": corrected.arrested_at.isoformat(),
        "to_deadline": corrected.deadline.isoformat(),
        "from_policy": PolicyStamp.of(old).label,
        "to_policy": PolicyStamp.of(corrected).label,
    }
    told = _each_channel(corrected, NoticeKind.CORRECTED, facility, now, detail)
    channel_notices = [
        n
        for n in plan_notices(corrected, facility.channels(), config.reminders.before, now)
        if n.kind is not NoticeKind.LOGGED
    ]
    steps = plan_escalation(corrected, chain_for(facility), now)
    events = told + channel_notices
    return events + mirrors(events, facility, config) + steps


def plan_disputed_custody(
    custody: Custody, by: str, note: str, facility: Facility, config: Config, now: datetime
) -> list[Notice]:
    """The ``disputed`` notice in both channels and the first escalation level, paged now.

    No page where the facility has no escalation levels: the channels still hear it.
    """
    told = _each_channel(custody, NoticeKind.DISPUTED, facility, now, {"by": by, "note": note})
    page_now = [
        Notice(
            new_notice_id(),
            custody.id,
            NoticeKind.PAGE_STEP,
            EXPIRY_CHAIN,
            now,
            level=1,
            round=1,
            detail={"cause": "disputed"},
        )
        for _ in facility.escalation[:1]
    ]
    return told + mirrors(told, facility, config) + page_now


def plan_note(
    custody: Custody, by: str, text: str, facility: Facility, config: Config, now: datetime
) -> list[Notice]:
    """The ``note`` notice in both channels (and to each webhook)."""
    told = _each_channel(custody, NoticeKind.NOTE, facility, now, {"by": by, "text": text})
    return told + mirrors(told, facility, config)
