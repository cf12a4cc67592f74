"""The bot's outgoing Slack calls, with every failure turned into a ``SendFailure``.

The client has no retry handlers of its own: retrying is the dispatcher's job,
because only the dispatcher persists attempts and can tell a retry that might
double-post from one that cannot.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.messages import SlackMessage
from bot.retry import DeliveryFailed, SendFailure

# Don't let one hung Slack call hold up the dispatcher for long.
SLACK_CALL_TIMEOUT_SECONDS = 10
HISTORY_PAGE_LIMIT = 200
HISTORY_MAX_PAGES = 10


def make_web_client(token: str, api_url: str) -> AsyncWebClient:
    """A Web API client that never retries on its own."""
    return AsyncWebClient(
        token=token, base_url=api_url, timeout=SLACK_CALL_TIMEOUT_SECONDS, retry_handlers=[]
    )


def failure_from_exception(error: BaseException) -> SendFailure:
    """Classify a failed Slack call: rate limit, refusal, or an unknown outcome."""
    if isinstance(error, SlackApiError):
        status = error.response.status_code
        code = str(error.response.get("error") or f"http_{status}")
        if status == 429:
            return SendFailure(code="ratelimited", retry_after=_retry_after(error))
        if status >= 500:
            return SendFailure(code=f"http_{status}", may_have_posted=True)
        return SendFailure(code=code)
    if isinstance(error, asyncio.TimeoutError | TimeoutError):
        return SendFailure(code="timeout", may_have_posted=True)
    if isinstance(error, aiohttp.ClientConnectionError):
        # Refused before anything was sent cannot have posted; anything later might have.
        refused = isinstance(error, aiohttp.ClientConnectorError)
        return SendFailure(code="connection_error", may_have_posted=not refused)
    return SendFailure(code=f"unexpected:{type(error).__name__}", may_have_posted=True)


def _retry_after(error: SlackApiError) -> float:
    headers = error.response.headers or {}
    value = headers.get("Retry-After") or headers.get("retry-after")
    try:
        return max(float(value), 0.0) if value is not None else 1.0
    except (TypeError, ValueError):
        return 1.0


class SlackGateway:
    """Posts channel messages and looks for them in channel history."""

    def __init__(self, client: AsyncWebClient) -> None:
        self._client = client

    async def open_session(self) -> None:
        """Keep one pool of connections for every call.

        Without a session, slack_sdk opens a new one (and a new TCP connection) per
        call. With one, it applies no timeout of its own, so the session carries it.
        """
        if self._client.session is None or self._client.session.closed:
            self._client.session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=SLACK_CALL_TIMEOUT_SECONDS)
            )

    async def close(self) -> None:
        session = self._client.session
        self._client.session = None
        if session is not None and not session.closed:
            await session.close()

    async def post_message(self, channel: str, message: SlackMessage) -> tuple[str, str]:
        """Post; return Slack's (channel, ts). A user id as channel means a DM from the bot."""
        kwargs: dict[str, Any] = {"channel": channel, "text": message.text, "unfurl_links": False}
        if message.blocks:
            kwargs["blocks"] = message.blocks
        if message.metadata:
            kwargs["metadata"] = message.metadata
        response = await self._call(self._client.chat_postMessage, **kwargs)
        return str(response.get("channel") or channel), str(response.get("ts"))

    async def schedule_message(self, channel: str, post_at: int, text: str) -> str:
        """Have Slack post ``text`` at ``post_at`` (Unix seconds); returns its scheduled id.

        No metadata: one report says Slack drops scheduled messages that carry it.
        """
        response = await self._call(
            self._client.chat_scheduleMessage, channel=channel, post_at=post_at, text=text
        )
        return str(response.get("scheduled_message_id"))

    async def delete_scheduled_message(self, channel: str, scheduled_message_id: str) -> None:
        """Delete a scheduled message; one that already fired or is gone counts as deleted."""
        try:
            await self._call(
                self._client.chat_deleteScheduledMessage,
                channel=channel,
                scheduled_message_id=scheduled_message_id,
            )
        except DeliveryFailed as error:
            if error.failure.code != "invalid_scheduled_message_id":
                raise

    async def scheduled_messages(self) -> list[dict[str, Any]]:
        """Every message the bot has scheduled that Slack has not posted yet."""
        found: list[dict[str, Any]] = []
        cursor: str | None = None
        for _ in range(HISTORY_MAX_PAGES):
            response = await self._call(
                self._client.chat_scheduledMessages_list, limit=100, cursor=cursor
            )
            found.extend(response.get("scheduled_messages") or [])
            cursor = (response.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                break
        return found

    async def direct_message_channel(self, user_id: str) -> str:
        """The bot's DM channel (``D…``) with a person, whose history holds their pages."""
        response = await self._call(self._client.conversations_open, users=user_id)
        return str((response.get("channel") or {}).get("id") or user_id)

    async def usergroup_members(self, usergroup_id: str) -> list[str]:
        response = await self._call(self._client.usergroups_users_list, usergroup=usergroup_id)
        return [str(user) for user in response.get("users") or []]

    async def user_id_for_email(self, email: str) -> str | None:
        try:
            response = await self._call(self._client.users_lookupByEmail, email=email)
        except DeliveryFailed as error:
            if error.failure.code == "users_not_found":
                return None
            raise
        return str((response.get("user") or {}).get("id") or "") or None

    async def usergroup_ids(self) -> set[str]:
        """Every user group of the workspace (for checking the config at start-up)."""
        response = await self._call(self._client.usergroups_list, include_disabled=False)
        return {str(group.get("id")) for group in response.get("usergroups") or []}

    async def find_posted(
        self, channel: str, since: datetime, matches: Callable[[dict[str, Any]], bool]
    ) -> str | None:
        """Look through channel history since ``since`` for a message; return its ts."""
        cursor: str | None = None
        for _ in range(HISTORY_MAX_PAGES):
            response = await self._call(
                self._client.conversations_history,
                channel=channel,
                oldest=f"{since.timestamp():.6f}",
                include_all_metadata=True,
                limit=HISTORY_PAGE_LIMIT,
                cursor=cursor,
            )
            for message in response.get("messages") or []:
                if matches(message):
                    return str(message.get("ts"))
            cursor = (response.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                return None
        return None

    async def _call(self, method: Callable[..., Any], **kwargs: Any) -> Any:
        try:
            return await method(**kwargs)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            raise DeliveryFailed(failure_from_exception(error)) from error
