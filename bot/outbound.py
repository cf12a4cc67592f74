"""Where a notice goes, and the one call that delivers it there.

A notice's ``channel`` names its target:

* ``C…``/``G…``/``D…`` — a Slack channel: a message with ``wso_custody`` metadata;
* ``U…``/``W…`` — a person: a direct message (escalation pages);
* ``pagerduty`` — the facility's PagerDuty service (Events API v2);
* ``webhook:<n>`` — the n-th ``[[webhook]]`` (0-based);
* ``escalation`` / ``ice_escalation`` — a chain step; never delivered itself,
  the dispatcher expands it into pages (see ``bot.escalation``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from bot.config import Config, Facility
from bot.escalation import CHAIN_TARGETS
from bot.messages import SlackMessage, custody_metadata, render_notice
from bot.model import Custody, Notice, NoticeKind
from bot.pagerduty import PagerDutyAction, PagerDutyEvent
from bot.retry import DeliveryFailed, SendFailure

PAGERDUTY_TARGET = "pagerduty"
WEBHOOK_PREFIX = "webhook:"


class TargetKind(StrEnum):
    CHANNEL = "channel"
    DIRECT_MESSAGE = "direct_message"
    PAGERDUTY = "pagerduty"
    WEBHOOK = "webhook"
    CHAIN_STEP = "chain_step"


def target_kind(target: str) -> TargetKind:
    if target in CHAIN_TARGETS:
        return TargetKind.CHAIN_STEP
    if target == PAGERDUTY_TARGET:
        return TargetKind.PAGERDUTY
    if target.startswith(WEBHOOK_PREFIX):
        return TargetKind.WEBHOOK
    if target[:1] in ("U", "W"):
        return TargetKind.DIRECT_MESSAGE
    return TargetKind.CHANNEL


def webhook_target(index: int) -> str:
    return f"{WEBHOOK_PREFIX}{index}"


@dataclass(frozen=True)
class DeliveryReceipt:
    """What the far end said: a Slack message's ts and channel, or nothing."""

    message_ts: str | None = None
    message_channel: str | None = None


class SlackPoster(Protocol):
    async def post_message(self, channel: str, message: SlackMessage) -> tuple[str, str]: ...


class PagerDutySender(Protocol):
    async def send(self, event: PagerDutyEvent) -> str: ...


class WebhookSender(Protocol):
    async def post(
        self,
        url: str,
        secret: str,
        event_id: str,
        payload: dict[str, Any],
        *,
        timestamp: int,
    ) -> None: ...


_PAGERDUTY_ACTIONS = {
    NoticeKind.EXPIRED: PagerDutyAction.TRIGGER,
    NoticeKind.ACKNOWLEDGED: PagerDutyAction.ACKNOWLEDGE,
    NoticeKind.TRANSFERRED: PagerDutyAction.RESOLVE,
    NoticeKind.RELEASED: PagerDutyAction.RESOLVE,
}


class Outbound:
    """Delivers one notice to its target; raises ``DeliveryFailed`` when it cannot."""

    def __init__(
        self,
        config: Config,
        slack: SlackPoster,
        pagerduty: PagerDutySender,
        webhooks: WebhookSender,
    ) -> None:
        self._config = config
        self._slack = slack
        self._pagerduty = pagerduty
        self._webhooks = webhooks

    def facility_of(self, custody: Custody) -> Facility:
        facility = self._config.facility(custody.facility_id)
        if facility is None:
            raise DeliveryFailed(SendFailure(code="facility_not_configured"))
        return facility

    async def deliver(self, custody: Custody, notice: Notice, now: datetime) -> DeliveryReceipt:
        facility = self.facility_of(custody)
        kind = target_kind(notice.channel)
        if kind in (TargetKind.CHANNEL, TargetKind.DIRECT_MESSAGE):
            message = render_notice(custody, notice, facility, now)
            channel, ts = await self._slack.post_message(notice.channel, message)
            return DeliveryReceipt(message_ts=ts, message_channel=channel)
        if kind is TargetKind.PAGERDUTY:
            await self._pagerduty.send(self._pagerduty_event(custody, notice, facility, now))
            return DeliveryReceipt()
        if kind is TargetKind.WEBHOOK:
            await self._post_webhook(custody, notice, now)
            return DeliveryReceipt()
        raise DeliveryFailed(SendFailure(code=f"not_deliverable:{notice.channel}"))

    def _pagerduty_event(
        self, custody: Custody, notice: Notice, facility: Facility, now: datetime
    ) -> PagerDutyEvent:
        if facility.pagerduty_routing_key is None:
            raise DeliveryFailed(SendFailure(code="pagerduty_not_configured"))
        action = _PAGERDUTY_ACTIONS.get(notice.kind)
        if action is None:
            raise DeliveryFailed(SendFailure(code=f"pagerduty_no_action_for_{notice.kind}"))
        return PagerDutyEvent(
            routing_key=facility.pagerduty_routing_key,
            action=action,
            dedup_key=custody.id,
            summary=(
                f"WSO custody window expired — release required: booking {custody.booking} "
                f"at {facility.name}"
            ),
            source=f"wso-custody-clock/{facility.id}",
            custom_details={
                "booking": custody.booking,
                "facility": facility.id,
                "deadline": custody.deadline.isoformat(),
                "custody_id": custody.id,
            },
        )

    async def _post_webhook(self, custody: Custody, notice: Notice, now: datetime) -> None:
        index = int(notice.channel.removeprefix(WEBHOOK_PREFIX))
        if index >= len(self._config.webhooks):
            raise DeliveryFailed(SendFailure(code="webhook_not_configured"))
        webhook = self._config.webhooks[index]
        await self._webhooks.post(
            webhook.url,
            webhook.secret,
            notice.id,
            webhook_payload(custody, notice, now),
            timestamp=int(now.timestamp()),
        )


def webhook_payload(custody: Custody, notice: Notice, now: datetime) -> dict[str, Any]:
    """The JSON body of a webhook event: the same facts as the message metadata."""
    event = custody_metadata(custody, notice, now)["event_payload"]
    return {"event_type": "wso_custody", "event": event, "sent_at": now.isoformat()}
