"""Where a notice goes, and the one call that delivers it there.

A notice's ``channel`` names its target:

* ``C…``/``G…``/``D…`` — a Slack channel: a message with ``wso_custody`` metadata;
* ``U…``/``W…`` — a person: a direct message (escalation pages);
* ``pagerduty`` — the facility's PagerDuty service (Events API v2);
* ``webhook:<n>`` — the n-th ``[[webhook]]`` (0-based);
* ``escalation`` / ``ice_escalation`` — a chain step; never delivered itself,
  the dispatcher expands it into pages (see ``bot.core.escalation``);
* ``backup:<channel>`` — Slack's own copy of the expiry notice, scheduled with
  ``chat.scheduleMessage`` for the deadline plus ``backup_grace`` (kind ``backup``) and
  deleted once the bot's own expiry notice is out or the custody is closed
  (kind ``backup_delete``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol

from bot.chat.notices import SlackMessage, backup_expiry_text, custody_metadata, render_notice
from bot.clients.pagerduty import PagerDutyAction, PagerDutyEvent
from bot.config import Config, Facility
from bot.core.escalation import CHAIN_TARGETS
from bot.core.model import URGENT_KINDS, Custody, Notice, NoticeKind
from bot.core.retry import DeliveryFailed, SendFailure

PAGERDUTY_TARGET = "pagerduty"
WEBHOOK_PREFIX = "webhook:"
BACKUP_PREFIX = "backup:"
# Slack refuses to schedule a message in the past; too close to now is not worth it either.
BACKUP_MIN_LEAD = timedelta(seconds=10)
# A post of an urgent notice that hangs longer than this is cut short and retried (after a
# look in history): one hung connection must not hold an expiry back for the full 10 s.
URGENT_CALL_TIMEOUT_SECONDS = 3.0


class TargetKind(StrEnum):
    CHANNEL = "channel"
    DIRECT_MESSAGE = "direct_message"
    PAGERDUTY = "pagerduty"
    WEBHOOK = "webhook"
    CHAIN_STEP = "chain_step"
    SLACK_BACKUP = "slack_backup"


def target_kind(target: str) -> TargetKind:
    if target in CHAIN_TARGETS:
        return TargetKind.CHAIN_STEP
    if target.startswith(BACKUP_PREFIX):
        return TargetKind.SLACK_BACKUP
    if target == PAGERDUTY_TARGET:
        return TargetKind.PAGERDUTY
    if target.startswith(WEBHOOK_PREFIX):
        return TargetKind.WEBHOOK
    if target[:1] in ("U", "W"):
        return TargetKind.DIRECT_MESSAGE
    return TargetKind.CHANNEL


def outage_place(target: str) -> str:
    """Where a target's failures happen: a backup's channel is that channel (one outage)."""
    return target.removeprefix(BACKUP_PREFIX)


def webhook_target(index: int) -> str:
    return f"{WEBHOOK_PREFIX}{index}"


def backup_target(channel: str) -> str:
    return f"{BACKUP_PREFIX}{channel}"


@dataclass(frozen=True)
class DeliveryReceipt:
    """What the far end said: a Slack message's ts and channel, or nothing."""

    message_ts: str | None = None
    message_channel: str | None = None
    # False when no call was made (nothing to delete, too late to schedule): the target
    # has said nothing, so an outage of it is not over.
    answered: bool = True


class SlackPoster(Protocol):
    async def post_message(
        self,
        channel: str,
        message: SlackMessage,
        *,
        timeout: float | None = None,  # noqa: ASYNC109 - a per-call budget
    ) -> tuple[str, str]: ...

    async def schedule_message(self, channel: str, post_at: int, text: str) -> str: ...

    async def delete_scheduled_message(self, channel: str, scheduled_message_id: str) -> None: ...


class BackupLookup(Protocol):
    async def notices_for(self, custody_id: str) -> list[Notice]: ...


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
        backups: BackupLookup,
    ) -> None:
        self._config = config
        self._backups = backups
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
            timeout = URGENT_CALL_TIMEOUT_SECONDS if notice.kind in URGENT_KINDS else None
            channel, ts = await self._slack.post_message(notice.channel, message, timeout=timeout)
            return DeliveryReceipt(message_ts=ts, message_channel=channel)
        if kind is TargetKind.PAGERDUTY:
            await self._pagerduty.send(self._pagerduty_event(custody, notice, facility, now))
            return DeliveryReceipt()
        if kind is TargetKind.WEBHOOK:
            await self._post_webhook(custody, notice, now)
            return DeliveryReceipt()
        if kind is TargetKind.SLACK_BACKUP:
            return await self._handle_backup(custody, notice, facility, now)
        raise DeliveryFailed(SendFailure(code=f"not_deliverable:{notice.channel}"))

    async def _handle_backup(
        self, custody: Custody, notice: Notice, facility: Facility, now: datetime
    ) -> DeliveryReceipt:
        channel = notice.channel.removeprefix(BACKUP_PREFIX)
        if notice.kind is NoticeKind.BACKUP:
            post_at = custody.deadline + self._config.reminders.backup_grace
            if post_at - now < BACKUP_MIN_LEAD:
                # The bot's own expiry notice is due now anyway; nothing asked of Slack.
                return DeliveryReceipt(answered=False)
            text = backup_expiry_text(custody, facility)
            scheduled_id = await self._slack.schedule_message(
                channel, int(post_at.timestamp()), text
            )
            return DeliveryReceipt(message_ts=scheduled_id, message_channel=channel)
        scheduled = [
            n
            for n in await self._backups.notices_for(custody.id)
            if n.kind is NoticeKind.BACKUP and n.message_ts
        ]
        for backup in scheduled:
            assert backup.message_ts is not None
            await self._slack.delete_scheduled_message(channel, backup.message_ts)
        return DeliveryReceipt(answered=bool(scheduled))

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
