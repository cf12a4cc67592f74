"""The bot's outgoing Slack calls, with every failure turned into a ``SendFailure``.

Each method is one Web API call (or one paginated read) over ``SlackWebApi``,
which reads every answer defensively and raises only ``DeliveryFailed``. The
gateway has no retry of its own: retrying is the dispatcher's job, because only
the dispatcher persists attempts and can tell a retry that might double-post
from one that cannot.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from bot.chat.notices import SlackMessage
from bot.clients.slack_web_api import SLACK_CALL_TIMEOUT_SECONDS, SlackWebApi
from bot.core.retry import DeliveryFailed, SendFailure

__all__ = ["SLACK_CALL_TIMEOUT_SECONDS", "SlackGateway", "make_web_client"]

HISTORY_PAGE_LIMIT = 200
HISTORY_MAX_PAGES = 10
SCHEDULED_PAGE_LIMIT = 100
# chat.scheduledMessages.list pages of 100: this many is 100,000 scheduled messages, far past
# any jail's open custodies. Reaching it means the listing cannot be trusted as complete.
SCHEDULED_MAX_PAGES = 1_000


def make_web_client(token: str, api_url: str) -> SlackWebApi:
    """A Web API client that never retries on its own."""
    return SlackWebApi(token, api_url)


class SlackGateway:
    """Posts channel messages and looks for them in channel history."""

    def __init__(self, api: SlackWebApi) -> None:
        self._api = api

    async def open_session(self) -> None:
        """Keep one pool of connections for every call."""
        await self._api.open()

    async def close(self) -> None:
        await self._api.close()

    async def auth_test(self) -> dict[str, Any]:
        """Who the token belongs to; ``DeliveryFailed`` with ``invalid_auth`` if nobody."""
        return await self._api.call("auth.test", body={})

    async def post_message(
        self,
        channel: str,
        message: SlackMessage,
        *,
        timeout: float | None = None,  # noqa: ASYNC109 - a per-call budget
        thread_ts: str | None = None,
        reply_broadcast: bool = False,
    ) -> tuple[str, str]:
        """Post (in the thread of ``thread_ts``, if given); return Slack's (channel, ts).

        A user id as channel means a DM from the bot.
        """
        body: dict[str, Any] = {"channel": channel, "text": message.text, "unfurl_links": False}
        if thread_ts is not None:
            body["thread_ts"] = thread_ts
            if reply_broadcast:
                body["reply_broadcast"] = True
        if message.blocks:
            body["blocks"] = message.blocks
        if message.metadata:
            body["metadata"] = message.metadata
        response = await self._api.call("chat.postMessage", body=body, timeout=timeout)
        ts = response.get("ts")
        if not isinstance(ts, str) or not ts:
            # Slack said ok but not where: it posted, and history will tell us the ts.
            raise DeliveryFailed(SendFailure("unreadable_answer", may_have_posted=True))
        return str(response.get("channel") or channel), ts

    async def update_message(self, channel: str, ts: str, message: SlackMessage) -> None:
        """Rewrite a message the bot posted (``chat.update``): text, blocks and metadata."""
        body: dict[str, Any] = {
            "channel": channel,
            "ts": ts,
            "text": message.text,
            "blocks": message.blocks,
        }
        if message.metadata:
            body["metadata"] = message.metadata
        await self._api.call("chat.update", body=body)

    async def schedule_message(self, channel: str, post_at: int, text: str) -> str:
        """Have Slack post ``text`` at ``post_at`` (Unix seconds); returns its scheduled id.

        No metadata: one report says Slack drops scheduled messages that carry it.
        """
        response = await self._api.call(
            "chat.scheduleMessage", body={"channel": channel, "post_at": post_at, "text": text}
        )
        return str(response.get("scheduled_message_id"))

    async def delete_scheduled_message(self, channel: str, scheduled_message_id: str) -> None:
        """Delete a scheduled message; one that already fired or is gone counts as deleted."""
        try:
            await self._api.call(
                "chat.deleteScheduledMessage",
                body={"channel": channel, "scheduled_message_id": scheduled_message_id},
            )
        except DeliveryFailed as error:
            if error.failure.code != "invalid_scheduled_message_id":
                raise

    async def scheduled_messages(self, channel: str | None = None) -> list[dict[str, Any]]:
        """Every message the bot has scheduled (in ``channel``, if given) that Slack has not
        posted yet, every page.

        Raises ``DeliveryFailed`` if any page cannot be read: a partial list must
        never be taken for the whole one (what is missing from it would be
        scheduled again, twice).
        """
        found: list[dict[str, Any]] = []
        cursor: str | None = None
        for _ in range(SCHEDULED_MAX_PAGES):
            response = await self._api.call(
                "chat.scheduledMessages.list",
                query={"channel": channel, "limit": SCHEDULED_PAGE_LIMIT, "cursor": cursor},
            )
            found.extend(_dicts(response.get("scheduled_messages")))
            cursor = _next_cursor(response)
            if cursor is None:
                return found
        raise DeliveryFailed(SendFailure("scheduled_list_too_long"))

    async def direct_message_channel(self, user_id: str) -> str:
        """The bot's DM channel (``D…``) with a person, whose history holds their pages."""
        response = await self._api.call("conversations.open", body={"users": user_id})
        channel = response.get("channel")
        channel_id = channel.get("id") if isinstance(channel, dict) else None
        return str(channel_id or user_id)

    async def usergroup_members(self, usergroup_id: str) -> list[str]:
        response = await self._api.call("usergroups.users.list", query={"usergroup": usergroup_id})
        users = response.get("users")
        return [str(user) for user in users] if isinstance(users, list) else []

    async def user_id_for_email(self, email: str) -> str | None:
        try:
            response = await self._api.call("users.lookupByEmail", query={"email": email})
        except DeliveryFailed as error:
            if error.failure.code == "users_not_found":
                return None
            raise
        user = response.get("user")
        user_id = user.get("id") if isinstance(user, dict) else None
        return str(user_id) if user_id else None

    async def usergroup_ids(self) -> set[str]:
        """Every user group of the workspace (for checking the config at start-up)."""
        response = await self._api.call("usergroups.list", query={"include_disabled": False})
        return {str(group.get("id")) for group in _dicts(response.get("usergroups"))}

    async def find_posted(
        self,
        channel: str,
        since: datetime,
        matches: Callable[[dict[str, Any]], bool],
        *,
        timeout: float | None = None,  # noqa: ASYNC109 - a per-page budget
        thread_ts: str | None = None,
    ) -> str | None:
        """Look through channel history since ``since`` for a message; return its ts.

        With ``thread_ts``, the replies in that thread too: ``conversations.history``
        leaves out thread replies that were not broadcast to the channel.
        """
        found = await self._search("conversations.history", channel, since, matches, timeout)
        if found is None and thread_ts is not None:
            found = await self._search(
                "conversations.replies", channel, since, matches, timeout, thread_ts
            )
        return found

    async def _search(
        self,
        method: str,
        channel: str,
        since: datetime,
        matches: Callable[[dict[str, Any]], bool],
        timeout: float | None,  # noqa: ASYNC109 - a per-page budget
        thread_ts: str | None = None,
    ) -> str | None:
        cursor: str | None = None
        for _ in range(HISTORY_MAX_PAGES):
            response = await self._api.call(
                method,
                query={
                    "channel": channel,
                    "ts": thread_ts,
                    "oldest": f"{since.timestamp():.6f}",
                    "include_all_metadata": True,
                    "limit": HISTORY_PAGE_LIMIT,
                    "cursor": cursor,
                },
                timeout=timeout,
            )
            for message in _dicts(response.get("messages")):
                if matches(message):
                    return str(message.get("ts"))
            cursor = _next_cursor(response)
            if cursor is None:
                return None
        return None


def _dicts(value: object) -> list[dict[str, Any]]:
    """The objects of a list in an answer; anything else in it is ignored."""
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _next_cursor(response: dict[str, Any]) -> str | None:
    metadata = response.get("response_metadata")
    cursor = metadata.get("next_cursor") if isinstance(metadata, dict) else None
    return cursor if isinstance(cursor, str) and cursor else None
