"""Escalation plans: when each level of a facility's chain is paged. Pure.

Two chains can page people about one custody:

* the **expiry chain** (``[[facility.escalation]]``) starts when the window
  expires with the custody open: level 1 after its ``after``, each next level
  after its own ``after``, and the whole chain again ``escalation_repeat`` times;
* the **ICE chain** (``[[facility.ice_escalation]]``) pages ICE duty officers
  ``before`` the deadline (plus any ``after``), while the custody is open.

Each planned page is a *step* notice (kind ``page_step``) aimed at a chain
target; when it falls due the dispatcher resolves the level's ``notify`` list
to people (user groups and on-call schedules at that moment) and sends each a
direct message. An acknowledgement cancels what is pending and re-plans.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from bot.core.model import Custody, Notice, NoticeKind
from bot.core.notice_plan import copy_to, new_notice_id
from bot.core.targets import EXPIRY_CHAIN as EXPIRY_CHAIN
from bot.core.targets import ICE_CHAIN as ICE_CHAIN


@dataclass(frozen=True)
class ChainLevel:
    """What the core needs of one configured level."""

    notify: tuple[str, ...]
    after: timedelta
    before: timedelta | None = None  # ICE chain only


@dataclass(frozen=True)
class Chain:
    """A facility's escalation settings, as plain values."""

    expiry_levels: tuple[ChainLevel, ...]
    ice_levels: tuple[ChainLevel, ...] = ()
    repeat: int = 0
    reack_after: timedelta = timedelta(minutes=30)

    def expiry_chain_length(self) -> timedelta:
        """How long the expiry chain runs, all rounds included."""
        one_round = sum((level.after for level in self.expiry_levels), timedelta(0))
        return one_round * (self.repeat + 1)


def _step(custody: Custody, target: str, due_at: datetime, level: int, round_: int) -> Notice:
    # ICE steps remember how long before the deadline they page (shown in the page).
    lead = int((custody.deadline - due_at).total_seconds()) if target == ICE_CHAIN else None
    return Notice(
        id=new_notice_id(),
        custody_id=custody.id,
        kind=NoticeKind.PAGE_STEP,
        channel=target,
        due_at=due_at,
        lead_seconds=lead,
        level=level,
        round=round_,
    )


def plan_expiry_chain(custody: Custody, chain: Chain, start: datetime) -> list[Notice]:
    """Every step of the expiry chain, starting from ``start`` (the deadline, or later)."""
    steps: list[Notice] = []
    due_at = start
    for round_ in range(1, chain.repeat + 2):
        for index, level in enumerate(chain.expiry_levels, start=1):
            due_at += level.after
            steps.append(_step(custody, EXPIRY_CHAIN, due_at, index, round_))
    return steps


def plan_ice_chain(custody: Custody, chain: Chain, now: datetime) -> list[Notice]:
    """ICE pages before the deadline.

    A level whose time had already passed when the arrest was logged (a late
    entry) is paged at once, marked late, instead of skipped: ICE needs to hear
    before the deadline, and every level that should have heard by now does. None is
    planned once the deadline has passed: the expiry notice and the expiry chain
    take over then.
    """
    steps: list[Notice] = []
    for index, level in enumerate(chain.ice_levels, start=1):
        assert level.before is not None
        due_at = custody.deadline - level.before + level.after
        if now < due_at < custody.deadline:
            steps.append(_step(custody, ICE_CHAIN, due_at, index, 1))
        elif due_at <= now < custody.deadline:
            late = _step(custody, ICE_CHAIN, due_at, index, 1)
            steps.append(replace(late, due_at=now, detail={"late": "true"}))
    return sorted(steps, key=lambda step: step.due_at)


def plan_escalation(custody: Custody, chain: Chain, now: datetime) -> list[Notice]:
    """All steps for a newly logged custody: the ICE chain, then the expiry chain."""
    expiry_start = max(custody.deadline, now)
    return plan_ice_chain(custody, chain, now) + plan_expiry_chain(custody, chain, expiry_start)


@dataclass(frozen=True)
class AckPlan:
    """What an acknowledgement changes: steps to cancel, steps to add."""

    cancel: tuple[Notice, ...]
    add: tuple[Notice, ...]
    resumes_at: datetime


def plan_after_ack(
    custody: Custody,
    chain: Chain,
    pending_steps: Sequence[Notice],
    acked_at: datetime,
    last_level: int,
) -> AckPlan:
    """Stop the paging now; resume it ``reack_after`` later if the custody is still open.

    After the deadline, the expiry chain is cancelled and planned again from
    ``acked_at + reack_after``. Before it, ICE steps due within ``reack_after``
    are cancelled, the acknowledged level is paged again then (if that is
    still before the deadline), and the expiry chain stands.
    """
    resumes_at = acked_at + chain.reack_after
    if acked_at >= custody.deadline:
        cancel = tuple(pending_steps)
        return AckPlan(cancel, tuple(plan_expiry_chain(custody, chain, resumes_at)), resumes_at)
    cancel = tuple(
        step for step in pending_steps if step.channel == ICE_CHAIN and step.due_at < resumes_at
    )
    add: tuple[Notice, ...] = ()
    if resumes_at < custody.deadline and chain.ice_levels:
        level = min(max(last_level, 1), len(chain.ice_levels))
        add = (_step(custody, ICE_CHAIN, resumes_at, level, 1),)
    return AckPlan(cancel, add, resumes_at)


def dedupe_recipients(user_ids: Sequence[str]) -> tuple[str, ...]:
    """Each person once, in the order their level lists them."""
    return tuple(dict.fromkeys(user for user in user_ids if user))


def plan_pages(step: Notice, recipients: Sequence[str], fallback_channel: str) -> list[Notice]:
    """One direct-message page per person; nobody to page → one page in ``fallback_channel``.

    A level that resolves to nobody (an on-call gap, an empty user group) must
    not go silent, so the page then goes to the jail channel instead.
    """
    targets = list(dedupe_recipients(recipients)) or [fallback_channel]
    # The step's detail (why it pages, e.g. a dispute) rides along to each page.
    return [
        replace(copy_to(step, target, NoticeKind.ESCALATION), detail=dict(step.detail))
        for target in targets
    ]
