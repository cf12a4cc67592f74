"""Every notice a custody event owes, across all targets. Pure.

A custody event (logged, acknowledged, closed, a page step) is told to the
facility's channels, and mirrored to PagerDuty and to each webhook where those
are configured. This module decides the full set; ``notice_plan`` and
``escalation`` plan the channel notices and the paging on their own.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.core.backup_plan import plan_backup
from bot.core.escalation import AckPlan, Chain, ChainLevel, plan_after_ack, plan_escalation
from bot.core.facility import Config, Facility
from bot.core.model import Custody, Notice, NoticeKind
from bot.core.notice_plan import copy_to, new_notice_id, plan_closing_notices, plan_notices
from bot.core.targets import PAGERDUTY_TARGET, backup_target, webhook_target

# What PagerDuty hears about: the expiry opens an incident, these move it on.
PAGERDUTY_KINDS = frozenset(
    {
        NoticeKind.EXPIRED,
        NoticeKind.ACKNOWLEDGED,
        NoticeKind.TRANSFERRED,
        NoticeKind.RELEASED,
        NoticeKind.IGSA,
        NoticeKind.VOIDED,
    }
)


# Failures nobody is told about in a channel: an alert about an alert, a step (never
# delivered itself), and the refresh of a message that is already out (it is retried).
_NO_ALERT_KINDS = frozenset(
    {
        NoticeKind.DELIVERY_PROBLEM,
        NoticeKind.PAGE_STEP,
        NoticeKind.CARD_UPDATE,
        NoticeKind.PAGE_UPDATE,
    }
)


def chain_for(facility: Facility) -> Chain:
    """The facility's escalation settings as the core's plain values."""
    return Chain(
        expiry_levels=tuple(ChainLevel(lvl.notify, lvl.after) for lvl in facility.escalation),
        ice_levels=tuple(
            ChainLevel(lvl.notify, lvl.after, lvl.before) for lvl in facility.ice_escalation
        ),
        repeat=facility.escalation_repeat,
        reack_after=facility.reack_after,
    )


def mirrors(events: Sequence[Notice], facility: Facility, config: Config) -> list[Notice]:
    """Copies of channel events for PagerDuty and each webhook (one per event, not per channel)."""
    unique = list({(n.kind, n.lead_seconds, n.level, n.round): n for n in events}.values())
    copies: list[Notice] = []
    for event in unique:
        targets = [webhook_target(index) for index in range(len(config.webhooks))]
        if facility.pagerduty_routing_key and event.kind in PAGERDUTY_KINDS:
            targets.append(PAGERDUTY_TARGET)
        copies.extend(copy_to(event, target) for target in targets)
    return copies


def plan_logged_custody(
    custody: Custody, facility: Facility, config: Config, now: datetime
) -> list[Notice]:
    """Channel notices, their mirrors, the Slack-side backup and the escalation steps."""
    channel_notices = plan_notices(custody, facility.channels(), config.reminders.before, now)
    steps = plan_escalation(custody, chain_for(facility), now)
    backup = plan_backup(custody, facility, config.reminders, now)
    return channel_notices + mirrors(channel_notices, facility, config) + backup + steps


def plan_closed_custody(
    custody: Custody, kind: NoticeKind, facility: Facility, config: Config, now: datetime
) -> list[Notice]:
    """The transfer or release notice for each channel, and its mirrors."""
    closing = plan_closing_notices(custody, kind, facility.channels(), now)
    return closing + mirrors(closing, facility, config)


def plan_delivery_alert(
    custody: Custody, facility: Facility, failed: Notice, error: str, now: datetime
) -> list[Notice]:
    """Tell people that a notice is stuck on an error a person must fix.

    The alert takes a path that does not depend on the failing one: the jail
    channel, or, when the jail channel itself is failing, each officer by DM.
    """
    if failed.kind in _NO_ALERT_KINDS:
        return []
    failing_jail = failed.channel in (facility.jail_channel, backup_target(facility.jail_channel))
    targets = sorted(facility.current_officers()) if failing_jail else [facility.jail_channel]
    detail = {"failed_target": failed.channel, "failed_kind": failed.kind.value, "error": error}
    return [
        Notice(new_notice_id(), custody.id, NoticeKind.DELIVERY_PROBLEM, target, now, detail=detail)
        for target in targets
    ]


def plan_acknowledged_custody(
    custody: Custody,
    facility: Facility,
    config: Config,
    pending_steps: Sequence[Notice],
    last_level: int,
    now: datetime,
) -> tuple[AckPlan, list[Notice]]:
    """What an acknowledgement changes, and the notices that tell everyone.

    The acknowledged notice goes to both channels: the jail and ICE both learn
    who is handling the page.
    """
    ack_plan = plan_after_ack(custody, chain_for(facility), pending_steps, now, last_level)
    notices = [
        Notice(
            id=new_notice_id(),
            custody_id=custody.id,
            kind=NoticeKind.ACKNOWLEDGED,
            channel=channel,
            due_at=now,
        )
        for channel in dict.fromkeys(facility.channels())
    ]
    return ack_plan, [*notices, *mirrors(notices, facility, config), *ack_plan.add]
