"""Where Slack already shows a notice an earlier attempt may have posted.

A crash between the claim (``sending``) and the record (``sent``), a timeout or a
5xx leaves a notice that may or may not be in Slack. A channel message or a DM is
looked for in history by its ``notice_id`` metadata (and, for a thread reply, in
the card's thread); a backup in the channel's scheduled messages by the custody its
text names. Other targets have nothing to look in (PagerDuty and webhook receivers
de-duplicate a repeat themselves).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from bot.chat.notices import custody_of_backup
from bot.core import card_plan
from bot.core.model import URGENT_KINDS, Notice, NoticeKind
from bot.core.targets import TargetKind
from bot.services.outbound import URGENT_CALL_TIMEOUT_SECONDS
from storage.interface import CustodyStore

# History is searched from a little before the attempt, to allow for clock skew with Slack.
HISTORY_SKEW = timedelta(seconds=30)


class ChannelHistory(Protocol):
    """Where Slack shows what it already has: channel history, and scheduled messages."""

    async def direct_message_channel(self, user_id: str) -> str: ...

    async def scheduled_messages(self, channel: str | None = None) -> list[dict[str, Any]]: ...

    async def find_posted(
        self,
        channel: str,
        since: datetime,
        matches: Callable[[dict[str, Any]], bool],
        *,
        timeout: float | None = None,  # noqa: ASYNC109 - a per-call budget
        thread_ts: str | None = None,
    ) -> str | None: ...


@dataclass(frozen=True)
class PostedNotices:
    """Finds a notice in Slack; raises ``DeliveryFailed`` if Slack cannot be read."""

    store: CustodyStore
    history: ChannelHistory

    async def find(self, notice: Notice) -> tuple[str, str] | None:
        """The notice's message ts (or scheduled message id) and channel, if Slack has it."""
        if not is_searchable(notice):
            return None
        if notice.kind is NoticeKind.BACKUP:
            return await self._scheduled(notice)
        return await self._posted(notice)

    async def _scheduled(self, notice: Notice) -> tuple[str, str] | None:
        """The backup's scheduled message id and channel, if Slack holds it."""
        channel = notice.target.outage_place
        for message in await self.history.scheduled_messages(channel):
            if custody_of_backup(str(message.get("text") or "")) == notice.custody_id:
                return str(message.get("id")), channel
        return None

    async def _posted(self, notice: Notice) -> tuple[str, str] | None:
        """The notice's ts and channel in channel history, if it is there."""
        since = (notice.attempted_at or notice.due_at) - HISTORY_SKEW
        channel = notice.channel
        if notice.target.kind is TargetKind.DIRECT_MESSAGE:
            channel = await self.history.direct_message_channel(channel)  # U… → its D…
        card = card_plan.card_of(await self.store.notices_for(notice.custody_id), notice.channel)
        ts = await self.history.find_posted(
            channel,
            since,
            lambda message: carries_notice(message, notice.id),
            timeout=URGENT_CALL_TIMEOUT_SECONDS if notice.kind in URGENT_KINDS else None,
            # A thread reply is not in channel history: look in the card's thread too.
            thread_ts=card.message_ts if card is not None and card_plan.in_thread(notice) else None,
        )
        return None if ts is None else (ts, channel)


def is_searchable(notice: Notice) -> bool:
    """Whether Slack shows this notice somewhere the bot can look (so a resend can check)."""
    kind = notice.target.kind
    if kind is TargetKind.SLACK_BACKUP:
        return notice.kind is NoticeKind.BACKUP
    return kind in (TargetKind.CHANNEL, TargetKind.DIRECT_MESSAGE)


def carries_notice(message: dict[str, Any], notice_id: str) -> bool:
    """Whether a message from channel history is this notice (its ``notice_id`` metadata)."""
    metadata = message.get("metadata")
    payload = metadata.get("event_payload") if isinstance(metadata, dict) else None
    return isinstance(payload, dict) and payload.get("notice_id") == notice_id
