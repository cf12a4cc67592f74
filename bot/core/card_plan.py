"""The custody card and its thread: which updates a change owes, and where replies go. Pure.

Each channel of a facility gets one card per custody (the ``logged`` notice's
message, ``bot.chat.cards``). Afterwards:

* **Card updates.** Every change of state (acknowledged, transferred, released,
  and any later closing kind) and every reminder or expiry sent in a channel owes
  that channel's card a ``CARD_UPDATE`` notice, addressed ``card:<channel>``, so a
  failing ``chat.update`` waits in its own queue and never holds the thread
  replies. The update renders the custody as it is when it is sent, so one
  pending update per custody and channel says everything: a further change while
  one is pending adds nothing (coalesced here, and in ``notice_plan.triage``).

  The update for a reminder is added *when the reminder is sent* (by the sender,
  just before it records the reminder sent), not planned beside the reminders at
  logging: a reminder skipped as superseded, or cancelled by a closure, then owes
  nothing, a corrected arrest time needs no re-planning of updates, and a custody
  never has more than one update pending per channel.
* **Page updates.** On acknowledgement and on closure every page the bot sent
  about the custody gets a ``PAGE_UPDATE`` (``update:<conversation>``): its button
  goes, a line says who acted and when. Its own address, so it never holds a page.
* **Thread replies.** Every other channel notice of the custody is posted in the
  card's thread when the card is out in that channel, unthreaded otherwise (a
  notice never waits for the card). The expiry, and reminders one hour or less
  before the deadline, are also broadcast to the channel.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from bot.core.model import Custody, Notice, NoticeKind, NoticeState
from bot.core.notice_plan import new_notice_id
from bot.core.targets import TargetKind, card_target, page_update_target

# An update whose card is not out yet tries again no sooner than this.
CARD_WAIT = timedelta(seconds=1)
# Reminders this close to the deadline (or closer) also show in the channel itself.
BROADCAST_LEAD = timedelta(hours=1)
# Channel notices that are not thread replies: the card itself, a page that fell back to
# the channel (nobody on call: it must be seen), and a delivery alarm (about the bot).
_NOT_IN_THREAD = frozenset({NoticeKind.LOGGED, NoticeKind.ESCALATION, NoticeKind.DELIVERY_PROBLEM})
# Sent notices after which the channel's card shows a new time left and stage.
CARD_REFRESHING_KINDS = frozenset({NoticeKind.REMINDER, NoticeKind.EXPIRED})


def in_thread(notice: Notice) -> bool:
    """Whether ``notice`` goes in its custody's card thread (when the card is out)."""
    return notice.target.kind is TargetKind.CHANNEL and notice.kind not in _NOT_IN_THREAD


def broadcast(notice: Notice) -> bool:
    """Whether a thread reply also shows in the channel (``reply_broadcast``)."""
    if notice.kind is NoticeKind.EXPIRED:
        return True
    lead = notice.lead_seconds
    return notice.kind is NoticeKind.REMINDER and lead is not None and lead <= 3600


def card_of(notices: Iterable[Notice], channel: str) -> Notice | None:
    """The custody's card in ``channel``: its ``logged`` notice, once Slack has it."""
    for notice in notices:
        if (
            notice.kind is NoticeKind.LOGGED
            and notice.channel == channel
            and notice.message_ts is not None
        ):
            return notice
    return None


def card_wait(update: Notice, notices: Iterable[Notice], now: datetime) -> datetime | None:
    """When a card update may try again, if its card is still to be posted; else None.

    Waiting is not failing: the update is put off until the card's next attempt (at
    least ``CARD_WAIT`` from ``now``), with no error recorded against it.
    """
    channel = update.target.slack_channel
    posting = [
        n
        for n in notices
        if n.kind is NoticeKind.LOGGED
        and n.channel == channel
        and n.state in (NoticeState.PENDING, NoticeState.SENDING)
    ]
    if not posting:
        return None
    return max(now + CARD_WAIT, *(n.ready_at() for n in posting))


def plan_card_updates(
    custody: Custody, channels: Sequence[str], notices: Iterable[Notice], now: datetime
) -> list[Notice]:
    """A card update due now for each of ``channels`` that has none pending yet."""
    pending = {
        n.channel
        for n in notices
        if n.kind is NoticeKind.CARD_UPDATE and n.state is NoticeState.PENDING
    }
    targets = [card_target(c) for c in dict.fromkeys(channels)]
    return [
        Notice(new_notice_id(), custody.id, NoticeKind.CARD_UPDATE, target, now)
        for target in targets
        if target not in pending
    ]


def plan_page_updates(custody: Custody, notices: Sequence[Notice], now: datetime) -> list[Notice]:
    """A page update due now for every page the bot sent about ``custody`` (none pending)."""
    pending = {
        n.detail.get("page_notice_id")
        for n in notices
        if n.kind is NoticeKind.PAGE_UPDATE and n.state is NoticeState.PENDING
    }
    return [
        Notice(
            new_notice_id(),
            custody.id,
            NoticeKind.PAGE_UPDATE,
            page_update_target(page.message_channel or page.channel),
            now,
            detail={"page_notice_id": page.id, "ts": page.message_ts},
        )
        for page in notices
        if page.kind is NoticeKind.ESCALATION and page.message_ts and page.id not in pending
    ]


def plan_refresh(
    custody: Custody, channels: Sequence[str], notices: Sequence[Notice], now: datetime
) -> list[Notice]:
    """What a change of state owes: each channel's card, and every page sent, updated."""
    return plan_card_updates(custody, channels, notices, now) + plan_page_updates(
        custody, notices, now
    )
