"""Which notices a custody gets, and which due notices to send now.

Pure functions: they take plain values (and ``now``) and return plain values.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.core.ids import time_ordered_hex
from bot.core.model import Custody, Notice, NoticeKind, NoticeState

# A notice sent more than this after its due time says that it is late: the dispatcher
# promises 1 s, so anything later (a restart, a Slack outage, congestion) is reported.
LATE_AFTER = timedelta(seconds=1)
# Chain steps due within this of the newest due step all run (levels with "0s", rounds);
# older ones were left behind by downtime and are superseded.
STEP_CATCH_UP_WINDOW = timedelta(seconds=60)


def new_notice_id() -> str:
    return "n_" + time_ordered_hex()


def copy_to(notice: Notice, target: str, kind: NoticeKind | None = None) -> Notice:
    """A new pending notice like ``notice`` (same custody, time, lead, level and round) for
    ``target``, of ``kind`` when given, with its detail (a late page stays late); nothing
    of ``notice``'s delivery is carried over."""
    return Notice(
        id=new_notice_id(),
        custody_id=notice.custody_id,
        kind=notice.kind if kind is None else kind,
        channel=target,
        due_at=notice.due_at,
        lead_seconds=notice.lead_seconds,
        level=notice.level,
        round=notice.round,
        detail=dict(notice.detail),
    )


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
    # Superseded reminders an earlier attempt may have posted (a crash after the post, a
    # timeout): looked for in Slack first, recorded sent if there, skipped if not. Never
    # posted: a late copy of a superseded reminder would mislead.
    look_up: tuple[Notice, ...] = ()


def triage(ready: Sequence[Notice]) -> Triage:
    """Decide which ready notices to send and which are superseded.

    Per custody and target, only the most recent due reminder is worth
    sending, and none at all once the expiry notice is due: a "1h left" line
    after the window closed would mislead. Likewise only the most recent due
    escalation step runs (after downtime, page the level the chain has reached,
    not every level at once). Everything else is sent in plan order.

    A superseded reminder that may already be in Slack is not skipped blind: it is
    in ``look_up``, so that the record says what people saw.
    """
    by_thread: dict[tuple[str, str], list[Notice]] = defaultdict(list)
    for notice in ready:
        by_thread[(notice.custody_id, notice.channel)].append(notice)
    send: list[Notice] = []
    skip: list[Notice] = []
    look_up: list[Notice] = []
    for thread in by_thread.values():
        superseded = _superseded(thread)
        in_order = sorted(thread, key=_plan_order)
        send.extend(n for n in in_order if n.id not in superseded)
        look_up.extend(n for n in in_order if n.id in superseded and _may_be_out(n))
        skip.extend(n for n in thread if n.id in superseded and not _may_be_out(n))
    return Triage(send=tuple(send), skip=tuple(skip), look_up=tuple(look_up))


def is_superseded(reminder: Notice, known: Sequence[Notice], now: datetime) -> bool:
    """Whether a later reminder or the expiry of the reminder's custody and channel, due
    by ``now`` and not dropped (pending, in flight or sent), supersedes it (``triage``'s
    rule). For a reminder that may be in Slack and was not found there: a later notice
    that fell due while it waited to be retried is not in its batch."""
    live = (NoticeState.PENDING, NoticeState.SENDING, NoticeState.SENT)
    thread = [
        n
        for n in known
        if (n.custody_id, n.channel) == (reminder.custody_id, reminder.channel)
        and n.id != reminder.id
        and n.due_at <= now
        and n.state in live
    ]
    return reminder.id in _superseded([*thread, reminder])


def _may_be_out(notice: Notice) -> bool:
    """A reminder an earlier attempt may have posted: Slack decides whether it was sent."""
    return notice.kind is NoticeKind.REMINDER and notice.may_have_posted


def _plan_order(notice: Notice) -> tuple[int, datetime]:
    return (notice.seq if notice.seq is not None else 0, notice.due_at)


def _due_order(notice: Notice) -> tuple[datetime, int]:
    return (notice.due_at, notice.seq if notice.seq is not None else 0)


def _superseded(thread: list[Notice]) -> set[str]:
    # The newest reminder by due time (plan order breaks a tie), as the store's
    # skip_superseded_reminders sweep has it.
    reminders = sorted((n for n in thread if n.kind is NoticeKind.REMINDER), key=_due_order)
    if any(notice.kind is NoticeKind.EXPIRED for notice in thread):
        superseded = {n.id for n in reminders}
    else:
        superseded = {n.id for n in reminders[:-1]}
    # A card update renders the custody as it is when sent: the newest one says it all.
    updates = sorted((n for n in thread if n.kind is NoticeKind.CARD_UPDATE), key=_plan_order)
    superseded.update(n.id for n in updates[:-1])
    steps = [n for n in thread if n.kind is NoticeKind.PAGE_STEP]
    if steps:
        # Steps due together (a level with "0s") all run; only ones left behind by downtime go.
        newest = max(step.due_at for step in steps)
        superseded.update(n.id for n in steps if newest - n.due_at > STEP_CATCH_UP_WINDOW)
    return superseded


def is_late(notice: Notice, now: datetime) -> bool:
    """A notice is late when it goes out more than ``LATE_AFTER`` after its due time."""
    return now - notice.due_at > LATE_AFTER
