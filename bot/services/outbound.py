"""The one call that delivers a notice to its target (``bot.core.targets`` says which).

A channel or a person gets a Slack message with ``wso_custody`` metadata (in the
custody card's thread when that is out, ``bot.core.card_plan``); a card or page
update rewrites a message already out (``chat.update``); PagerDuty
an Events API v2 event; a webhook a signed JSON event; a backup target Slack's own
scheduled copy of the expiry notice, or its deletion (``bot.core.backup_plan``).
Every failure is a ``DeliveryFailed``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from bot.chat.notices import (
    SlackMessage,
    backup_expiry_text,
    custody_metadata,
    render_card_update,
    render_notice,
    updated_page,
)
from bot.clients.pagerduty import PagerDutyAction, PagerDutyEvent
from bot.core.backup_plan import backup_post_at, worth_scheduling
from bot.core.card_plan import broadcast, card_of, in_thread
from bot.core.facility import Config, Facility
from bot.core.model import URGENT_KINDS, Custody, Notice, NoticeKind
from bot.core.retry import DeliveryFailed, SendFailure
from bot.core.targets import TargetKind

# A post of an urgent notice that hangs longer than this is cut short and retried (after a
# look in history): one hung connection must not hold an expiry back for the full 10 s.
URGENT_CALL_TIMEOUT_SECONDS = 3.0


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
        thread_ts: str | None = None,
        reply_broadcast: bool = False,
    ) -> tuple[str, str]: ...

    async def update_message(self, channel: str, ts: str, message: SlackMessage) -> None: ...

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
    NoticeKind.IGSA: PagerDutyAction.RESOLVE,
    NoticeKind.VOIDED: PagerDutyAction.RESOLVE,
}


@dataclass(eq=False, repr=False)
class Outbound:
    """Delivers one notice to its target; raises ``DeliveryFailed`` when it cannot."""

    _config: Config
    _slack: SlackPoster
    _pagerduty: PagerDutySender
    _webhooks: WebhookSender
    _backups: BackupLookup

    def facility_of(self, custody: Custody) -> Facility:
        facility = self._config.facility(custody.facility_id)
        if facility is None:
            raise DeliveryFailed(SendFailure(code="facility_not_configured"))
        return facility

    async def deliver(self, custody: Custody, notice: Notice, now: datetime) -> DeliveryReceipt:
        facility = self.facility_of(custody)
        target = notice.target
        kind = target.kind
        if target.is_slack_conversation:
            message = render_notice(custody, notice, facility, now)
            timeout = URGENT_CALL_TIMEOUT_SECONDS if notice.kind in URGENT_KINDS else None
            thread_ts = await self._thread_of(notice)
            channel, ts = await self._slack.post_message(
                notice.channel,
                message,
                timeout=timeout,
                thread_ts=thread_ts,
                reply_broadcast=thread_ts is not None and broadcast(notice),
            )
            return DeliveryReceipt(message_ts=ts, message_channel=channel)
        if kind is TargetKind.CARD:
            return await self._update_card(custody, target.slack_channel or "", facility, now)
        if kind is TargetKind.PAGE_UPDATE:
            ts = notice.detail.get("ts") or ""
            channel = target.slack_channel or ""
            await self._slack.update_message(channel, ts, updated_page(custody, facility))
            return DeliveryReceipt(message_ts=ts, message_channel=channel)
        if kind is TargetKind.PAGERDUTY:
            await self._pagerduty.send(self._pagerduty_event(custody, notice, facility, now))
            return DeliveryReceipt()
        if kind is TargetKind.WEBHOOK:
            await self._post_webhook(custody, notice, target.webhook_index or 0, now)
            return DeliveryReceipt()
        if kind is TargetKind.SLACK_BACKUP:
            channel = target.slack_channel or ""
            return await self._handle_backup(custody, notice, facility, channel, now)
        raise DeliveryFailed(SendFailure(code=f"not_deliverable:{notice.channel}"))

    async def _thread_of(self, notice: Notice) -> str | None:
        """The card's ts, if ``notice`` is a thread reply and the card is out; never waits."""
        if not in_thread(notice):
            return None
        card = card_of(await self._backups.notices_for(notice.custody_id), notice.channel)
        return card.message_ts if card is not None else None

    async def _update_card(
        self, custody: Custody, channel: str, facility: Facility, now: datetime
    ) -> DeliveryReceipt:
        """Rewrite the card in ``channel`` from the custody as it is now.

        An update waits for its card (``card_plan.card_wait``, before this is called); a
        card that will never be out (no logged notice there) leaves nothing to update.
        """
        card = card_of(await self._backups.notices_for(custody.id), channel)
        if card is None or card.message_ts is None:
            return DeliveryReceipt(answered=False)
        message = render_card_update(custody, card, facility, now)
        where = card.message_channel or channel
        await self._slack.update_message(where, card.message_ts, message)
        return DeliveryReceipt(message_ts=card.message_ts, message_channel=where)

    async def _handle_backup(
        self, custody: Custody, notice: Notice, facility: Facility, channel: str, now: datetime
    ) -> DeliveryReceipt:
        reminders = self._config.reminders
        if notice.kind is NoticeKind.BACKUP:
            if not worth_scheduling(custody, reminders, now):
                # The bot's own expiry notice is due now anyway; nothing asked of Slack.
                return DeliveryReceipt(answered=False)
            post_at = backup_post_at(custody, reminders)
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

    async def _post_webhook(
        self, custody: Custody, notice: Notice, index: int, now: datetime
    ) -> None:
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
