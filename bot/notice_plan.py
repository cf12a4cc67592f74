"""Which notices a custody gets, and which due notices to send now.

Pure functions: they take plain values (and ``now``) and return plain values.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.model import Custody, Notice, NoticeKind

# A notice sent more than this after its due time says that it is late.
LATE_AFTER = timedelta(seconds=60)


def new_notice_id() -> str:
    return "n_" + uuid.uuid4().hex


def plan_notices(
    custody: Custody,
    channels: Sequence[str],
    reminder_leads: Iterable[timedelta],
    now: datetime,
) -> list[Notice]:
    """Plan every notice of a newly logged custody, in the order channels should see them.

    The logged notice is due now. Reminders whose time has already passed (a
    backdated arrest) are not planned: the logged notice shows the time left
    instead. An expiry already past is due now, after the logged notice.
    """
    leads = sorted(set(reminder_leads), reverse=True)
    planned: list[Notice] = []
    for channel in dict.fromkeys(channels):
        planned.append(_notice(custody, NoticeKind.LOGGED, channel, now))
        for lead in leads:
            due_at = custody.deadline - lead
            if due_at > now:
                planned.append(
                    _notice(
                        custody, NoticeKind.REMINDER, channel, due_at, int(lead.total_seconds())
                    )
                )
        planned.append(_notice(custody, NoticeKind.EXPIRED, channel, max(custody.deadline, now)))
    return planned


def plan_closing_notices(
    custody: Custody, kind: NoticeKind, channels: Sequence[str], now: datetime
) -> list[Notice]:
    """The transfer or release notice for each channel, due now."""
    return [_notice(custody, kind, channel, now) for channel in dict.fromkeys(channels)]


def _notice(
    custody: Custody,
    kind: NoticeKind,
    channel: str,
    due_at: datetime,
    lead_seconds: int | None = None,
) -> Notice:
    return Notice(
        id=new_notice_id(),
        custody_id=custody.id,
        kind=kind,
        channel=channel,
        due_at=due_at,
        lead_seconds=lead_seconds,
    )


@dataclass(frozen=True)
class Triage:
    """What the dispatcher does with one batch of ready notices."""

    send: tuple[Notice, ...]
    skip: tuple[Notice, ...]


def triage(ready: Sequence[Notice]) -> Triage:
    """Decide which ready notices to send and which are superseded.

    Per custody and channel, only the most recent due reminder is worth
    sending, and none at all once the expiry notice is due: a "1h left" line
    after the window closed would mislead. Everything else is sent in plan order.
    """
    by_thread: dict[tuple[str, str], list[Notice]] = defaultdict(list)
    for notice in ready:
        by_thread[(notice.custody_id, notice.channel)].append(notice)
    send: list[Notice] = []
    skip: list[Notice] = []
    for thread in by_thread.values():
        keep, superseded = _supersede_reminders(sorted(thread, key=_plan_order))
        send.extend(keep)
        skip.extend(superseded)
    return Triage(send=tuple(send), skip=tuple(skip))


def _plan_order(notice: Notice) -> tuple[int, datetime]:
    return (notice.seq if notice.seq is not None else 0, notice.due_at)


def _supersede_reminders(thread: list[Notice]) -> tuple[list[Notice], list[Notice]]:
    reminders = [notice for notice in thread if notice.kind is NoticeKind.REMINDER]
    expiry_due = any(notice.kind is NoticeKind.EXPIRED for notice in thread)
    survivor = None if expiry_due or not reminders else max(reminders, key=lambda n: n.due_at)
    superseded = [notice for notice in reminders if notice is not survivor]
    keep = [notice for notice in thread if notice not in superseded]
    return keep, superseded


def is_late(notice: Notice, now: datetime) -> bool:
    """A notice is late when it goes out more than ``LATE_AFTER`` after its due time."""
    return now - notice.due_at > LATE_AFTER
