"""The Slack stand-in: an in-memory workspace that answers Slack's Web API methods.

``SlackWorkspace.call(method, payload)`` does what Slack would: posts, updates and threads
messages, keeps channel history with message metadata (so reconciliation finds what was
posted), schedules messages (30 per channel per 5 minutes) and fires them when their time
comes, opens DMs, and keeps views, users and user groups (``bot.sandbox.slack_people``).
A refusal raises ``SlackError``. Time comes from ``wall_time`` (seconds since the epoch):
the sandbox passes its travelling clock, tests their fake one.

The sandbox serves it to the bot in-process (``bot.sandbox.standin``); the test suite's
fake Slack serves the same workspace with faults on top (``tests/fakes/slack.py``).
"""

from __future__ import annotations

import bisect
import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.sandbox.slack_people import SlackPeople, WebApiMethod
from bot.sandbox.slack_wire import (
    APP_ID,
    BOT_ID,
    BOT_USER_ID,
    TEAM_ID,
    SlackError,
    decode_cursor,
    encode_cursor,
    format_ts,
    int_param,
    truthy,
    ts_micros,
)

# chat.scheduleMessage: at most this many per channel in any window of this many seconds.
SCHEDULED_PER_WINDOW = 30
SCHEDULE_WINDOW = 300.0

# Top-level message fields copied from a chat.postMessage / chat.update payload.
_MESSAGE_FIELDS = ("text", "blocks", "attachments", "metadata", "thread_ts", "reply_broadcast")


@dataclass
class ScheduledMessage:
    id: str
    channel: str
    post_at: int
    date_created: int
    payload: dict[str, Any]


@dataclass(frozen=True)
class Ephemeral:
    """A message only ``user`` sees, in ``channel`` (``chat.postEphemeral``)."""

    channel: str
    user: str
    ts: str
    payload: dict[str, Any]


class SlackWorkspace(SlackPeople):
    """Channels, their history and scheduled messages, plus the people (``SlackPeople``)."""

    def __init__(self, wall_time: Callable[[], float]) -> None:
        super().__init__()
        self.wall_time = wall_time
        self.ephemerals: list[Ephemeral] = []
        self._history: dict[str, list[dict[str, Any]]] = {}
        self._scheduled: dict[str, ScheduledMessage] = {}
        # chat.scheduleMessage calls per channel (wall time), for Slack's 30 per 5 minutes.
        self._schedule_times: dict[str, list[float]] = {}
        self._last_ts_micros = 0

    def call(self, method: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Carry out one Web API call; raises ``SlackError`` where Slack answers ok: false."""
        handler = self.methods().get(method)
        if handler is None:
            raise SlackError("unknown_method")
        return handler(payload)

    def methods(self) -> dict[str, WebApiMethod]:
        return {
            **super().methods(),
            "chat.postMessage": self._chat_post_message,
            "chat.update": self._chat_update,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "chat.scheduleMessage": self._chat_schedule_message,
            "chat.deleteScheduledMessage": self._chat_delete_scheduled_message,
            "chat.scheduledMessages.list": self._chat_scheduled_messages_list,
            "conversations.open": self._conversations_open,
            "conversations.history": self._conversations_history,
            "conversations.replies": self._conversations_replies,
        }

    # ------------------------------------------------------------------ inspection

    def channels(self) -> list[str]:
        """Every channel (and DM) with history, in the order they were first posted to."""
        return list(self._history)

    def messages(self, channel: str) -> list[dict[str, Any]]:
        """Stored history of ``channel`` oldest first (copies), including thread replies."""
        return copy.deepcopy(self._history.get(channel, []))

    def scheduled(self, channel: str | None = None) -> list[dict[str, Any]]:
        """Pending scheduled messages in the chat.scheduledMessages.list shape."""
        return [
            self._scheduled_view(s)
            for s in sorted(self._scheduled.values(), key=lambda s: (s.post_at, s.id))
            if channel is None or s.channel == channel
        ]

    def clear(self) -> None:
        """Forget history, scheduled messages, ephemerals and views."""
        self._history.clear()
        self._scheduled.clear()
        self._schedule_times.clear()
        self.ephemerals.clear()
        self.views.clear()

    def saved(self) -> dict[str, Any]:
        """Everything a person would see again after a restart, as JSON-ready data."""
        return {
            "history": self._history,
            "scheduled": [vars(s) for s in self._scheduled.values()],
            "views": self.views,
            "view_triggers": self.view_triggers,
            "ephemerals": [vars(e) for e in self.ephemerals],
            "last_ts_micros": self._last_ts_micros,
        }

    def restore(self, saved: dict[str, Any]) -> None:
        """Take back what ``saved`` returned (the sandbox keeps it in its folder)."""
        self._history = {str(k): list(v) for k, v in saved.get("history", {}).items()}
        self._scheduled = {s["id"]: ScheduledMessage(**s) for s in saved.get("scheduled", [])}
        self.views.update(saved.get("views", {}))
        self.view_triggers.update(saved.get("view_triggers", {}))
        self.ephemerals = [Ephemeral(**e) for e in saved.get("ephemerals", [])]
        self._last_ts_micros = int(saved.get("last_ts_micros", 0))

    def fire_scheduled(self, up_to_post_at: int) -> list[dict[str, Any]]:
        """Post every scheduled message with ``post_at <= up_to_post_at``, as Slack would
        even while the bot is dead. Returns the posted messages.

        Each fired message gets ``ts >= post_at`` (and later than any earlier ts), so
        this also moves the workspace's clock forward to ``post_at`` if it is in the future.
        """
        due = sorted(
            (s for s in self._scheduled.values() if s.post_at <= up_to_post_at),
            key=lambda s: (s.post_at, s.id),
        )
        posted: list[dict[str, Any]] = []
        for sched in due:
            del self._scheduled[sched.id]
            ts = self._next_ts(not_before_micros=sched.post_at * 1_000_000)
            posted.append(copy.deepcopy(self._store_message(sched.channel, ts, sched.payload)))
        return posted

    def _next_ts(self, *, not_before_micros: int = 0) -> str:
        micros = max(int(self.wall_time() * 1_000_000), not_before_micros, self._last_ts_micros + 1)
        self._last_ts_micros = micros
        return format_ts(micros)

    def inject_message(
        self, channel: str, *, text: str, metadata: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """Put a message in channel history as if it had been posted (say, by a call whose
        answer was lost), without recording a call. Returns the stored message."""
        payload: dict[str, Any] = {"text": text}
        if metadata is not None:
            payload["metadata"] = copy.deepcopy(metadata)
        return copy.deepcopy(self._store_message(channel, self._next_ts(), payload))

    def inject_scheduled(self, channel: str, *, post_at: int, text: str) -> str:
        """A scheduled message Slack holds that no recorded call made (say, a crash left it).

        Slack's 30-per-5-minutes limit does not apply: these were scheduled long ago.
        """
        payload = {"channel": channel, "post_at": post_at, "text": text}
        return str(self._schedule(payload, limited=False)["scheduled_message_id"])

    def forget_scheduled(self) -> None:
        """Slack loses every scheduled message (deleted by hand, say)."""
        self._scheduled.clear()

    @staticmethod
    def resolve_channel(channel: str) -> str:
        # Posting to a user id posts into the DM with that user (like conversations.open).
        if channel[:1] in ("U", "W"):
            return "D" + channel
        return channel

    def _store_message(self, channel: str, ts: str, payload: dict[str, Any]) -> dict[str, Any]:
        message: dict[str, Any] = {
            "type": "message",
            "ts": ts,
            "user": BOT_USER_ID,
            "bot_id": BOT_ID,
            "app_id": APP_ID,
            "team": TEAM_ID,
            "text": payload.get("text") or "",
        }
        for key in _MESSAGE_FIELDS:
            if key != "text" and payload.get(key) is not None:
                # Shared with the payload, which nothing changes in place: chat.update
                # replaces whole fields, and every reader gets a copy.
                message[key] = payload[key]
        if "reply_broadcast" in message:
            message["reply_broadcast"] = truthy(message["reply_broadcast"])
        history = self._history.setdefault(channel, [])
        if not history or ts_micros(history[-1]["ts"]) <= ts_micros(ts):
            history.append(message)  # ts only grows (``_next_ts``): no sort per post under load
        else:
            bisect.insort(history, message, key=lambda m: ts_micros(m["ts"]))
        parent_ts = message.get("thread_ts")
        if parent_ts is not None and parent_ts != ts:
            for parent in history:
                if parent["ts"] == parent_ts:
                    parent.setdefault("thread_ts", parent_ts)
                    parent["reply_count"] = int(parent.get("reply_count", 0)) + 1
                    parent["latest_reply"] = ts
        return message

    def _public_message(self, message: dict[str, Any], *, metadata: bool) -> dict[str, Any]:
        out = copy.deepcopy(message)
        if not metadata:
            out.pop("metadata", None)
        return out

    @staticmethod
    def _scheduled_view(s: ScheduledMessage) -> dict[str, Any]:
        return {
            "id": s.id,
            "channel_id": s.channel,
            "post_at": s.post_at,
            "date_created": s.date_created,
            "text": s.payload.get("text") or "",
        }

    @staticmethod
    def _require_channel(payload: dict[str, Any]) -> str:
        channel = payload.get("channel")
        if not isinstance(channel, str) or not channel.strip():
            raise SlackError("channel_not_found")
        return channel

    @staticmethod
    def _require_content(payload: dict[str, Any]) -> None:
        if not payload.get("text") and not payload.get("blocks") and not payload.get("attachments"):
            raise SlackError("no_text")

    def _chat_post_message(self, payload: dict[str, Any]) -> dict[str, Any]:
        channel = self.resolve_channel(self._require_channel(payload))
        self._require_content(payload)
        message = self._store_message(channel, self._next_ts(), payload)
        return {
            "ok": True,
            "channel": channel,
            "ts": message["ts"],
            "message": self._public_message(message, metadata=True),
        }

    def _chat_update(self, payload: dict[str, Any]) -> dict[str, Any]:
        channel = self.resolve_channel(self._require_channel(payload))
        ts = payload.get("ts")
        if not ts:
            raise SlackError("message_not_found")
        for message in self._history.get(channel, []):
            if message["ts"] == str(ts):
                break
        else:
            raise SlackError("message_not_found")
        for key in ("text", "blocks", "attachments", "metadata"):
            if key in payload and payload[key] is not None:
                message[key] = copy.deepcopy(payload[key])
        message["edited"] = {"user": BOT_USER_ID, "ts": self._next_ts()}
        return {
            "ok": True,
            "channel": channel,
            "ts": message["ts"],
            "text": message.get("text", ""),
            "message": self._public_message(message, metadata=True),
        }

    def _chat_post_ephemeral(self, payload: dict[str, Any]) -> dict[str, Any]:
        self._require_channel(payload)
        if not payload.get("user"):
            raise SlackError("user_not_in_channel")
        self._require_content(payload)
        channel = self.resolve_channel(self._require_channel(payload))
        ts = self._next_ts()
        self.ephemerals.append(Ephemeral(channel, str(payload["user"]), ts, copy.deepcopy(payload)))
        return {"ok": True, "message_ts": ts}

    def _chat_schedule_message(self, payload: dict[str, Any]) -> dict[str, Any]:
        return self._schedule(payload, limited=True)

    def _schedule(self, payload: dict[str, Any], *, limited: bool) -> dict[str, Any]:
        channel = self.resolve_channel(self._require_channel(payload))
        if payload.get("post_at") in (None, ""):
            raise SlackError("invalid_time")
        post_at = int_param(payload, "post_at", 0)
        self._require_content(payload)
        now = self.wall_time()
        recent = [t for t in self._schedule_times.get(channel, []) if t > now - SCHEDULE_WINDOW]
        if limited and len(recent) >= SCHEDULED_PER_WINDOW:
            raise SlackError("restricted_too_many")  # Slack: 30 per channel per 5 minutes
        if limited:
            self._schedule_times[channel] = [*recent, now]
        sched = ScheduledMessage(
            id=self._new_id("Q"),
            channel=channel,
            post_at=post_at,
            date_created=int(self.wall_time()),
            payload=copy.deepcopy(payload),
        )
        self._scheduled[sched.id] = sched
        message = {
            "type": "message",
            "text": payload.get("text") or "",
            "user": BOT_USER_ID,
            "bot_id": BOT_ID,
            "team": TEAM_ID,
        }
        if payload.get("blocks") is not None:
            message["blocks"] = copy.deepcopy(payload["blocks"])
        return {
            "ok": True,
            "channel": channel,
            "scheduled_message_id": sched.id,
            "post_at": post_at,
            "message": message,
        }

    def _chat_delete_scheduled_message(self, payload: dict[str, Any]) -> dict[str, Any]:
        channel = self.resolve_channel(self._require_channel(payload))
        sched = self._scheduled.get(str(payload.get("scheduled_message_id", "")))
        if sched is None or sched.channel != channel:
            raise SlackError("invalid_scheduled_message_id")
        del self._scheduled[sched.id]
        return {"ok": True}

    def _chat_scheduled_messages_list(self, payload: dict[str, Any]) -> dict[str, Any]:
        channel = payload.get("channel") or None
        items = self.scheduled(self.resolve_channel(channel) if channel else None)
        if payload.get("oldest"):
            oldest = int_param(payload, "oldest", 0)
            items = [i for i in items if i["post_at"] >= oldest]
        if payload.get("latest"):
            latest = int_param(payload, "latest", 0)
            items = [i for i in items if i["post_at"] <= latest]
        start = 0
        if payload.get("cursor"):
            start = int(decode_cursor(str(payload["cursor"]), "next_idx"))
        limit = max(1, int_param(payload, "limit", 100))
        page = items[start : start + limit]
        more = start + limit < len(items)
        return {
            "ok": True,
            "scheduled_messages": page,
            "response_metadata": {
                "next_cursor": encode_cursor("next_idx", start + limit) if more else ""
            },
        }

    def _conversations_open(self, payload: dict[str, Any]) -> dict[str, Any]:
        if payload.get("channel"):
            return {"ok": True, "channel": {"id": str(payload["channel"])}}
        users = payload.get("users")
        if isinstance(users, list):
            user_ids = [str(u) for u in users]
        else:
            user_ids = [u.strip() for u in str(users or "").split(",") if u.strip()]
        if not user_ids:
            raise SlackError("users_list_not_supplied")
        if len(user_ids) == 1:
            channel_id = "D" + user_ids[0]
            return {
                "ok": True,
                "no_op": channel_id in self._history,
                "already_open": channel_id in self._history,
                "channel": {"id": channel_id},
            }
        return {"ok": True, "channel": {"id": "G" + "".join(sorted(user_ids))}}

    def _conversations_history(self, payload: dict[str, Any]) -> dict[str, Any]:
        channel = self.resolve_channel(self._require_channel(payload))
        inclusive = truthy(payload.get("inclusive"))
        with_metadata = truthy(payload.get("include_all_metadata"))
        try:
            oldest = ts_micros(payload["oldest"]) if payload.get("oldest") else None
            latest = ts_micros(payload["latest"]) if payload.get("latest") else None
        except ValueError as exc:
            raise SlackError("invalid_ts_oldest") from exc
        limit = max(1, min(int_param(payload, "limit", 100), 999))
        cursor_max: int | None = None
        if payload.get("cursor"):
            cursor_max = ts_micros(decode_cursor(str(payload["cursor"]), "next_ts"))

        def visible(m: dict[str, Any]) -> bool:
            # Thread replies are not in history unless broadcast to the channel.
            thread_ts = m.get("thread_ts")
            if thread_ts is not None and thread_ts != m["ts"] and not m.get("reply_broadcast"):
                return False
            ts = ts_micros(m["ts"])
            if oldest is not None and (ts < oldest if inclusive else ts <= oldest):
                return False
            if latest is not None and (ts > latest if inclusive else ts >= latest):
                return False
            return cursor_max is None or ts <= cursor_max

        selected = [m for m in reversed(self._history.get(channel, [])) if visible(m)]
        page = selected[:limit]
        has_more = len(selected) > limit
        next_cursor = encode_cursor("next_ts", selected[limit]["ts"]) if has_more else ""
        return {
            "ok": True,
            "messages": [self._public_message(m, metadata=with_metadata) for m in page],
            "has_more": has_more,
            "pin_count": 0,
            "channel_actions_ts": None,
            "channel_actions_count": 0,
            "response_metadata": {"next_cursor": next_cursor},
        }

    def _conversations_replies(self, payload: dict[str, Any]) -> dict[str, Any]:
        channel = self.resolve_channel(self._require_channel(payload))
        ts = str(payload.get("ts") or "")
        with_metadata = truthy(payload.get("include_all_metadata"))
        history = self._history.get(channel, [])
        parent = next((m for m in history if m["ts"] == ts), None)
        if parent is None:
            raise SlackError("thread_not_found")
        thread = [parent] + [m for m in history if m.get("thread_ts") == ts and m["ts"] != ts]
        return {
            "ok": True,
            "messages": [self._public_message(m, metadata=with_metadata) for m in thread],
            "has_more": False,
            "response_metadata": {"next_cursor": ""},
        }
