"""Who may acknowledge a custody's paging, and what an acknowledgement answers. Pure.

A page (an ``ESCALATION`` notice the dispatcher sent) asks someone to handle an
overdue custody, or an ICE pickup before the deadline. Acknowledging stops the
paging for ``reack_after``; ``bot.core.escalation.plan_after_ack`` plans what
follows. This module says whether an acknowledgement may happen at all:

* only once something was paged (else there is nothing to acknowledge);
* only by the facility's officers or someone who was paged about it;
* only for pages sent since the custody was last acknowledged (else it was
  acknowledged already, and the answer says by whom).

It also says where a refused click may be answered privately: a location from
the store, never from the click.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from bot.core.facility import Facility
from bot.core.model import Custody, Notice, NoticeKind, NoticeState
from bot.core.targets import TargetKind


class AckRefusal(StrEnum):
    """Why an acknowledgement changes nothing (``bot.chat.replies`` says it in words)."""

    NOT_PAGED = "not_paged"  # no page has gone out
    NOT_ALLOWED = "not_allowed"  # neither an officer of the facility nor paged about it
    ALREADY_ACKNOWLEDGED = "already_acknowledged"  # every page predates the latest one


@dataclass(frozen=True)
class Acknowledgeable:
    """An acknowledgement that may go ahead, and what its plan needs to know."""

    last_level: int  # the highest level paged since the last acknowledgement
    pending_steps: tuple[Notice, ...]  # chain steps still to come (some will be cancelled)


@dataclass(frozen=True)
class MessageLocation:
    """Where Slack put a message the bot sent: its channel (a DM's ``D…``) and ``ts``."""

    channel: str
    ts: str


def assess_acknowledgement(
    custody: Custody, facility: Facility, notices: Sequence[Notice], user_id: str
) -> Acknowledgeable | AckRefusal:
    """Whether ``user_id`` may acknowledge ``custody`` given its stored ``notices``, or why not."""
    paged = [n for n in notices if n.kind is NoticeKind.ESCALATION and n.sent_at]
    if not paged:
        return AckRefusal.NOT_PAGED
    if not (facility.is_officer(user_id) or user_id in {n.channel for n in paged}):
        return AckRefusal.NOT_ALLOWED
    active = active_pages(custody, paged)
    if not active:
        return AckRefusal.ALREADY_ACKNOWLEDGED
    pending = tuple(
        n for n in notices if n.kind is NoticeKind.PAGE_STEP and n.state is NoticeState.PENDING
    )
    return Acknowledgeable(last_level=max(n.level or 1 for n in active), pending_steps=pending)


def active_pages(custody: Custody, notices: Sequence[Notice]) -> list[Notice]:
    """Pages sent since the custody was last acknowledged: what an acknowledgement answers."""
    return [
        n
        for n in notices
        if n.kind is NoticeKind.ESCALATION
        and n.sent_at is not None
        and (custody.acknowledged_at is None or n.sent_at > custody.acknowledged_at)
    ]


def pages_seen_by(user_id: str, notices: Sequence[Notice]) -> list[MessageLocation]:
    """Where the bot put the pages ``user_id`` can see, oldest first.

    Their own direct-message pages; failing those, pages that went to a channel
    because a level resolved to nobody (anyone there may press the button).
    """
    sent = [n for n in notices if n.kind is NoticeKind.ESCALATION and n.message_ts]
    own = [n for n in sent if n.channel == user_id]
    shared = [n for n in sent if n.target.kind is TargetKind.CHANNEL]
    return [
        MessageLocation(n.message_channel or n.channel, n.message_ts or "") for n in (own or shared)
    ]


def private_reply_channel(user_id: str, notices: Sequence[Notice]) -> str | None:
    """Where the bot may answer a button click privately: the conversation of the
    clicker's latest page. None if the bot never paged them anywhere they can see."""
    seen = pages_seen_by(user_id, notices)
    return seen[-1].channel if seen else None
