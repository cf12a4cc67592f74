"""A fake Slack Web API for tests, benchmarks and trying the bot by hand.

The server is an aiohttp app bound to ``127.0.0.1`` on a random free port. Point a
``slack_sdk`` client at it with ``AsyncWebClient(token=..., base_url=fake.api_url)``.

Every request is recorded (method, merged payload, headers, status, response), and
faults can be injected per method (429 / 5xx / ``{"ok": false}``), per channel, or
globally (``set_down``). Channel history is kept in memory so that reconciliation
code using ``conversations.history`` sees what the bot posted. The server, the
recording, the waiting and the outages are the base every fake shares
(``tests.fakes.server``); this module adds what is Slack's.

Outages (``outage()``) answer the way Slack and its edge proxy do during an
incident, for every method or some, for one channel or all, for a number of
calls (``times=``) or a while (``seconds=``, on the fake's ``wall_time``), until
``Outage.end()``. The answer is an ``Answer``, in any shape: a JSON error with any
status, ``text/plain`` (``upstream connect error …``), an HTML page, an empty
body, invalid JSON under ``application/json``, a non-JSON 200, ``"ok": false``,
a redirect, a 429 with or without ``Retry-After``, a raw answer with any status,
content type, bytes and delay, a hang (no answer until the outage ends), or a
reset (the connection is dropped). ``answer.after_posting()`` carries the call
out first (a post lands in history) and then answers so: the "may have posted"
cases. ``ANSWER_SHAPES`` names one of each. Connections refused and names that
do not resolve are not the fake's to give: point a client at a closed port or a
``.invalid`` host for those.

How ``slack_sdk`` 3.48 sends requests (the fake accepts every form, merged):

* ``json=`` methods (``chat.postMessage``, ``chat.update``, ``chat.postEphemeral``,
  ``chat.scheduleMessage``, ``views.*``) -> POST with a JSON body.
* ``params=`` methods (``auth.test``, ``conversations.open``,
  ``chat.deleteScheduledMessage``, ``chat.scheduledMessages.list``) -> POST with the
  arguments in the **URL query string** and an empty body, booleans as ``"1"``/``"0"``.
* ``http_verb="GET"`` methods (``conversations.history``, ``users.info``,
  ``usergroups.users.list``) -> GET with query parameters.
* ``data=`` methods and other clients -> form bodies, where ``blocks`` etc. may be
  JSON strings; those are decoded.

CLI: ``python -m tests.fakes.slack [--port N] [--token T] [--latency S]`` prints
``SLACK_API_URL=...`` and then one JSON line per call.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import bisect
import contextlib
import copy
import itertools
import json
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.fakes.server import (
    Answer,
    HttpCall,
    Outage,
    Rank,
    RecordedServer,
    Reply,
    Scope,
)

__all__ = ["ANSWER_SHAPES", "Answer", "FakeSlack", "Outage", "RecordedCall"]

BOT_USER_ID = "U0BOT"
BOT_ID = "B0BOT"
APP_ID = "A0FAKE"
TEAM_ID = "T0FAKE"

# Keys whose values are JSON documents that form-encoding clients send as strings.
# (``private_metadata`` is deliberately absent: it is an opaque string by design.)
_JSON_KEYS = frozenset({"blocks", "attachments", "metadata", "view", "unfurls", "user_auth_blocks"})

# chat.scheduleMessage: at most this many per channel in any window of this many seconds.
SCHEDULED_PER_WINDOW = 30
SCHEDULE_WINDOW = 300.0

# Top-level message fields copied from a chat.postMessage / chat.update payload.
_MESSAGE_FIELDS = ("text", "blocks", "attachments", "metadata", "thread_ts", "reply_broadcast")


@dataclass(kw_only=True)
class RecordedCall(HttpCall):
    """One Web API call: the method and its payload, merged from query, body and form."""

    method: str
    payload: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == 200 and bool(self.response.get("ok"))

    def summary(self) -> str:
        bits = [f"{self.method} -> {self.status}"]
        if self.response.get("error"):
            bits.append(f"error={self.response['error']}")
        if "channel" in self.payload:
            bits.append(f"channel={self.payload['channel']}")
        text = self.payload.get("text")
        if isinstance(text, str) and text:
            bits.append(f"text={text[:60]!r}")
        return " ".join(bits)


@dataclass
class _Scheduled:
    id: str
    channel: str
    post_at: int
    date_created: int
    payload: dict[str, Any]


# One of each shape the bot must classify, by name (tests run tables over these).
ANSWER_SHAPES: dict[str, Answer] = {
    "json_500": Answer.json_error(500, "internal_error"),
    "json_503_fatal": Answer.json_error(503, "fatal_error"),
    "json_400": Answer.json_error(400, "invalid_arguments"),
    "json_404_unknown_method": Answer.json_error(404, "unknown_method"),
    "plain_503": Answer.plain_text(503),
    "plain_502": Answer.plain_text(502, "Bad Gateway"),
    "plain_200": Answer.plain_text(200, "ok"),
    "html_502": Answer.html(502),
    "html_200": Answer.html(200),
    "empty_503": Answer.empty(503),
    "empty_200": Answer.empty(200),
    "invalid_json_200": Answer.invalid_json(200),
    "invalid_json_503": Answer.invalid_json(503),
    "json_list_200": Answer.raw(200, "application/json", b"[1, 2]"),
    "ok_false": Answer.not_ok("channel_not_found"),
    "ok_false_odd_error": Answer.not_ok("<!channel> " * 20),
    "redirect_302": Answer.redirect(302),
    "redirect_307": Answer.redirect(307),
    "ratelimited_retry_after": Answer.ratelimited("7"),
    "ratelimited_no_retry_after": Answer.ratelimited(None),
    "ratelimited_retry_after_inf": Answer.ratelimited("inf"),
    "ratelimited_retry_after_huge": Answer.ratelimited("3600"),
    "hang": Answer.hang(),
    "reset": Answer.reset(),
    "plain_503_after_posting": Answer.plain_text(503).after_posting(),
    "html_200_after_posting": Answer.html(200).after_posting(),
    "reset_after_posting": Answer.reset().after_posting(),
    "hang_after_posting": Answer.hang().after_posting(),
}


class _Reply(Reply):
    """Raised inside handlers to answer with a Slack error."""

    def __init__(self, error: str, status: int = 200) -> None:
        super().__init__(status, {"ok": False, "error": error})
        self.error = error


def _truthy(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value != 0
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes", "on"}
    return False


def _ts_micros(ts: Any) -> int:
    """Parse a Slack ts ("1764350000.000100") or epoch number into integer microseconds."""
    text = str(ts).strip()
    if not text:
        raise ValueError("empty ts")
    whole, _, frac = text.partition(".")
    frac = (frac + "000000")[:6]
    return int(whole or "0") * 1_000_000 + int(frac or "0")


def _fmt_ts(micros: int) -> str:
    return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"


def _encode_cursor(kind: str, value: str | int) -> str:
    return base64.urlsafe_b64encode(f"{kind}:{value}".encode()).decode()


def _decode_cursor(cursor: str, kind: str) -> str:
    try:
        decoded = base64.urlsafe_b64decode(cursor.encode()).decode()
    except (ValueError, UnicodeDecodeError) as exc:
        raise _Reply("invalid_cursor") from exc
    prefix, _, value = decoded.partition(":")
    if prefix != kind or not value:
        raise _Reply("invalid_cursor")
    return value


def _int_param(payload: dict[str, Any], key: str, default: int) -> int:
    raw = payload.get(key)
    if raw is None or raw == "":
        return default
    try:
        return int(float(raw))
    except (TypeError, ValueError) as exc:
        raise _Reply("invalid_arguments") from exc


class FakeSlack(RecordedServer[RecordedCall]):
    """In-memory fake of the Slack Web API served over real HTTP.

    Use as ``async with FakeSlack() as fake:`` or call ``start()`` / ``stop()``.
    ``keep_calls`` keeps only the last that many calls (a fake under load for minutes);
    ``posts()`` and ``calls_to()`` then see only those.
    """

    client_max_size = 16 * 1024 * 1024

    def __init__(
        self,
        *,
        token: str | None = None,
        latency: float = 0.0,
        wall_time: Callable[[], float] = time.time,
        keep_calls: int | None = None,
    ) -> None:
        # Slack stamps messages (ts) by its own clock; tests on a fake clock share it here.
        super().__init__(wall_time=wall_time, latency=latency, keep_calls=keep_calls)
        self.token = token
        self.usergroups: dict[str, list[str]] = {}
        # Per-user overrides merged into the users.info answer.
        self.users: dict[str, dict[str, Any]] = {}
        # Views by id, as stored by views.publish/open/update.
        self.views: dict[str, dict[str, Any]] = {}
        # Socket Mode: apps.connections.open answers this WebSocket URL (a FakeSocketMode's)
        # to a caller holding ``app_token`` (any xapp- token when None).
        self.socket_url: str | None = None
        self.app_token: str | None = None

        self._history: dict[str, list[dict[str, Any]]] = {}
        self._scheduled: dict[str, _Scheduled] = {}
        # chat.scheduleMessage calls per channel (wall time), for Slack's 30 per 5 minutes.
        self._schedule_times: dict[str, list[float]] = {}
        self._channel_faults: dict[str, Outage] = {}
        self._down: Outage | None = None
        self._last_ts_micros = 0
        self._ids = itertools.count(1)

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api/"

    # ------------------------------------------------------------------ inspection

    def calls_to(self, method: str) -> list[RecordedCall]:
        return [c for c in self.calls if c.method == method]

    def posts(self, channel: str | None = None) -> list[dict[str, Any]]:
        """Payloads of successful chat.postMessage calls, optionally for one channel."""
        out: list[dict[str, Any]] = []
        for call in self.calls:
            if call.method != "chat.postMessage" or not call.ok:
                continue
            if channel is not None and channel not in (
                call.payload.get("channel"),
                call.response.get("channel"),
            ):
                continue
            out.append(call.payload)
        return out

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

    # ------------------------------------------------------------------ faults

    def fail_next(
        self,
        method: str,
        *,
        status: int = 429,
        times: int = 1,
        retry_after: int | None = None,
        error: str | None = None,
    ) -> None:
        """Make the next ``times`` calls of ``method`` fail.

        429 -> ``ratelimited`` + ``Retry-After`` (default 1); 5xx -> ``error`` or
        ``internal_error``; 200 -> ``{"ok": false, "error": error}`` (error required).
        Faults queued for the same method are used in order.
        """
        if status == 429:
            err = error or "ratelimited"
            retry_after = 1 if retry_after is None else retry_after
        elif status >= 500:
            err = error or "internal_error"
        elif status == 200:
            if not error:
                raise ValueError("status 200 faults need an error, e.g. 'channel_not_found'")
            err = error
        else:
            err = error or "invalid_request"
        wait = str(retry_after) if retry_after is not None else None
        answer = Answer.json_error(status, err, wait)
        self.outage(answer, methods=[method], times=times, rank=Rank.QUEUED)

    def fail_channel(
        self,
        channel: str,
        error: str,
        *,
        methods: Iterable[str] = ("chat.postMessage",),
    ) -> None:
        """Every call of ``methods`` (default chat.postMessage) to ``channel`` answers
        200 ``{"ok": false, "error": error}`` until ``clear_faults()``."""
        if channel in self._channel_faults:
            self._channel_faults.pop(channel).end()
        self._channel_faults[channel] = self.outage(
            Answer.not_ok(error), methods=methods, channel=channel, rank=Rank.STANDING
        )

    def clear_faults(self) -> None:
        self.end_outages(ranks=tuple(Rank))
        self._channel_faults.clear()
        self._down = None

    def set_down(self, down: bool) -> None:
        """While down every request gets HTTP 503."""
        if self._down is not None:
            self._down.end()
            self._down = None
        if down:
            answer = Answer.json_error(503, "service_unavailable")
            self._down = self.outage(answer, rank=Rank.DOWN)

    def reset(self) -> None:
        """Forget calls, history, scheduled messages, views and faults."""
        self.calls.clear()
        self._history.clear()
        self._scheduled.clear()
        self._schedule_times.clear()
        self.views.clear()
        self.clear_faults()

    # ------------------------------------------------------------------ waiting

    async def wait_for(
        self,
        predicate: Callable[[], bool],
        *,
        timeout: float = 5.0,  # noqa: ASYNC109 - part of the requested test API
        what: str = "condition",
    ) -> None:
        """Wait until ``predicate()`` is true (checked on every call and every 20 ms)."""
        await self.wait_until(predicate, timeout=timeout, what=what)

    async def wait_for_posts(
        self,
        count: int,
        *,
        channel: str | None = None,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> list[dict[str, Any]]:
        """Wait for at least ``count`` successful posts (in ``channel``); return them all."""
        where = f" to {channel}" if channel is not None else ""
        await self.wait_until(
            lambda: len(self.posts(channel)) >= count,
            timeout=timeout,
            what=f">= {count} successful chat.postMessage{where} (have {len(self.posts(channel))})",
        )
        return self.posts(channel)

    def describe(self, last: int = 30) -> str:
        return f"successful posts: {len(self.posts())}; {super().describe(last)}"

    # ------------------------------------------------------------------ simulation

    def fire_scheduled(self, up_to_post_at: int) -> list[dict[str, Any]]:
        """Post every scheduled message with ``post_at <= up_to_post_at``, as Slack would
        even while the bot is dead. Returns the posted messages.

        Each fired message gets ``ts >= post_at`` (and later than any earlier ts), so
        this also moves the fake's clock forward to ``post_at`` if it is in the future.
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
        if posted:
            self._notify()
        return posted

    # ------------------------------------------------------------------ HTTP

    def _paths(self) -> list[tuple[str, str]]:
        return [("*", "/api/{method}")]

    def _new_call(self, request: web.Request) -> RecordedCall:
        return RecordedCall(method=request.match_info["method"], headers=dict(request.headers))

    async def _read(self, request: web.Request, call: RecordedCall) -> None:
        try:
            call.payload = await self._read_payload(request)
        except Exception as error:  # malformed body: still answer like Slack does
            raise _Reply("invalid_form_data") from error

    def _scope(self, call: RecordedCall) -> Scope:
        """A call's channels: its ``channel``, ``users`` or ``channel_id``, and the DM."""
        channels = tuple(
            str(value)
            for key in ("channel", "users", "channel_id")
            if isinstance(value := call.payload.get(key), str) and value
        )
        return Scope(call.method, channels + tuple(self._resolve_channel(c) for c in channels))

    async def _respond(self, request: web.Request, call: RecordedCall) -> web.StreamResponse:
        if call.method == "apps.connections.open":  # the one method an app token calls
            auth_error = self._check_app_token(request)
        else:
            auth_error = self._check_auth(request, call.payload)
        if auth_error is not None:
            return self._finish(call, 200, {"ok": False, "error": auth_error})
        return await super()._respond(request, call)

    def _carry_out(self, call: RecordedCall) -> tuple[int, dict[str, Any] | None]:
        handler = self._handlers().get(call.method)
        if handler is None:
            return 200, {"ok": False, "error": "unknown_method"}
        try:
            return 200, handler(call.payload)
        except _Reply as reply:
            return reply.status, reply.body

    async def _read_payload(self, request: web.Request) -> dict[str, Any]:
        payload: dict[str, Any] = dict(request.query)
        if request.method in ("POST", "PUT", "PATCH") and request.can_read_body:
            ctype = request.content_type
            if ctype == "application/json":
                raw = await request.text()
                if raw.strip():
                    data = json.loads(raw)
                    if not isinstance(data, dict):
                        raise ValueError("JSON body must be an object")
                    payload.update(data)
            elif ctype in ("application/x-www-form-urlencoded", "multipart/form-data"):
                form = await request.post()
                for key, value in form.items():
                    if isinstance(value, str):
                        payload[key] = value
        for key in _JSON_KEYS & payload.keys():
            value = payload[key]
            if isinstance(value, str) and value.strip()[:1] in ("{", "["):
                with contextlib.suppress(ValueError):
                    payload[key] = json.loads(value)
        return payload

    def _check_auth(self, request: web.Request, payload: dict[str, Any]) -> str | None:
        if self.token is None:
            return None
        header = request.headers.get("Authorization", "")
        given: str | None = None
        if header.lower().startswith("bearer "):
            given = header[7:].strip()
        elif isinstance(payload.get("token"), str):
            given = payload["token"]
        if not given:
            return "not_authed"
        if given != self.token:
            return "invalid_auth"
        return None

    def _check_app_token(self, request: web.Request) -> str | None:
        header = request.headers.get("Authorization", "")
        given = header[7:].strip() if header.lower().startswith("bearer ") else ""
        if not given:
            return "not_authed"
        if not given.startswith("xapp-"):
            return "not_allowed_token_type"
        if self.app_token is not None and given != self.app_token:
            return "invalid_auth"
        return None

    # ------------------------------------------------------------------ state helpers

    def _next_ts(self, *, not_before_micros: int = 0) -> str:
        micros = max(int(self.wall_time() * 1_000_000), not_before_micros, self._last_ts_micros + 1)
        self._last_ts_micros = micros
        return _fmt_ts(micros)

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

    def _new_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):08d}FAKE"

    @staticmethod
    def _resolve_channel(channel: str) -> str:
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
            message["reply_broadcast"] = _truthy(message["reply_broadcast"])
        history = self._history.setdefault(channel, [])
        if not history or _ts_micros(history[-1]["ts"]) <= _ts_micros(ts):
            history.append(message)  # ts only grows (``_next_ts``): no sort per post under load
        else:
            bisect.insort(history, message, key=lambda m: _ts_micros(m["ts"]))
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
    def _scheduled_view(s: _Scheduled) -> dict[str, Any]:
        return {
            "id": s.id,
            "channel_id": s.channel,
            "post_at": s.post_at,
            "date_created": s.date_created,
            "text": s.payload.get("text") or "",
        }

    # ------------------------------------------------------------------ API methods

    def _handlers(self) -> dict[str, Callable[[dict[str, Any]], dict[str, Any]]]:
        return {
            "api.test": self._api_test,
            "auth.test": self._auth_test,
            "apps.connections.open": self._apps_connections_open,
            "chat.postMessage": self._chat_post_message,
            "chat.update": self._chat_update,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "chat.scheduleMessage": self._chat_schedule_message,
            "chat.deleteScheduledMessage": self._chat_delete_scheduled_message,
            "chat.scheduledMessages.list": self._chat_scheduled_messages_list,
            "conversations.open": self._conversations_open,
            "conversations.history": self._conversations_history,
            "conversations.replies": self._conversations_replies,
            "views.publish": self._views_publish,
            "views.open": self._views_open,
            "views.update": self._views_update,
            "usergroups.users.list": self._usergroups_users_list,
            "usergroups.list": self._usergroups_list,
            "users.info": self._users_info,
        }

    @staticmethod
    def _api_test(payload: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "args": payload}

    def _apps_connections_open(self, payload: dict[str, Any]) -> dict[str, Any]:
        if self.socket_url is None:
            raise _Reply("socket_mode_not_enabled")  # the fake's: no socket server attached
        return {"ok": True, "url": self.socket_url}

    @staticmethod
    def _auth_test(payload: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "url": "https://fake.slack.com/",
            "team": "Fake",
            "user": "wso-bot",
            "team_id": TEAM_ID,
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    @staticmethod
    def _require_channel(payload: dict[str, Any]) -> str:
        channel = payload.get("channel")
        if not isinstance(channel, str) or not channel.strip():
            raise _Reply("channel_not_found")
        return channel

    @staticmethod
    def _require_content(payload: dict[str, Any]) -> None:
        if not payload.get("text") and not payload.get("blocks") and not payload.get("attachments"):
            raise _Reply("no_text")

    def _chat_post_message(self, payload: dict[str, Any]) -> dict[str, Any]:
        channel = self._resolve_channel(self._require_channel(payload))
        self._require_content(payload)
        message = self._store_message(channel, self._next_ts(), payload)
        return {
            "ok": True,
            "channel": channel,
            "ts": message["ts"],
            "message": self._public_message(message, metadata=True),
        }

    def _chat_update(self, payload: dict[str, Any]) -> dict[str, Any]:
        channel = self._resolve_channel(self._require_channel(payload))
        ts = payload.get("ts")
        if not ts:
            raise _Reply("message_not_found")
        for message in self._history.get(channel, []):
            if message["ts"] == str(ts):
                break
        else:
            raise _Reply("message_not_found")
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
            raise _Reply("user_not_in_channel")
        self._require_content(payload)
        return {"ok": True, "message_ts": self._next_ts()}

    def _chat_schedule_message(self, payload: dict[str, Any]) -> dict[str, Any]:
        return self._schedule(payload, limited=True)

    def _schedule(self, payload: dict[str, Any], *, limited: bool) -> dict[str, Any]:
        channel = self._resolve_channel(self._require_channel(payload))
        if payload.get("post_at") in (None, ""):
            raise _Reply("invalid_time")
        post_at = _int_param(payload, "post_at", 0)
        self._require_content(payload)
        now = self.wall_time()
        recent = [t for t in self._schedule_times.get(channel, []) if t > now - SCHEDULE_WINDOW]
        if limited and len(recent) >= SCHEDULED_PER_WINDOW:
            raise _Reply("restricted_too_many")  # Slack: 30 per channel per 5 minutes
        if limited:
            self._schedule_times[channel] = [*recent, now]
        sched = _Scheduled(
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
        channel = self._resolve_channel(self._require_channel(payload))
        sched = self._scheduled.get(str(payload.get("scheduled_message_id", "")))
        if sched is None or sched.channel != channel:
            raise _Reply("invalid_scheduled_message_id")
        del self._scheduled[sched.id]
        return {"ok": True}

    def _chat_scheduled_messages_list(self, payload: dict[str, Any]) -> dict[str, Any]:
        channel = payload.get("channel") or None
        items = self.scheduled(self._resolve_channel(channel) if channel else None)
        if payload.get("oldest"):
            oldest = _int_param(payload, "oldest", 0)
            items = [i for i in items if i["post_at"] >= oldest]
        if payload.get("latest"):
            latest = _int_param(payload, "latest", 0)
            items = [i for i in items if i["post_at"] <= latest]
        start = 0
        if payload.get("cursor"):
            start = int(_decode_cursor(str(payload["cursor"]), "next_idx"))
        limit = max(1, _int_param(payload, "limit", 100))
        page = items[start : start + limit]
        more = start + limit < len(items)
        return {
            "ok": True,
            "scheduled_messages": page,
            "response_metadata": {
                "next_cursor": _encode_cursor("next_idx", start + limit) if more else ""
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
            raise _Reply("users_list_not_supplied")
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
        channel = self._resolve_channel(self._require_channel(payload))
        inclusive = _truthy(payload.get("inclusive"))
        with_metadata = _truthy(payload.get("include_all_metadata"))
        try:
            oldest = _ts_micros(payload["oldest"]) if payload.get("oldest") else None
            latest = _ts_micros(payload["latest"]) if payload.get("latest") else None
        except ValueError as exc:
            raise _Reply("invalid_ts_oldest") from exc
        limit = max(1, min(_int_param(payload, "limit", 100), 999))
        cursor_max: int | None = None
        if payload.get("cursor"):
            cursor_max = _ts_micros(_decode_cursor(str(payload["cursor"]), "next_ts"))

        def visible(m: dict[str, Any]) -> bool:
            # Thread replies are not in history unless broadcast to the channel.
            thread_ts = m.get("thread_ts")
            if thread_ts is not None and thread_ts != m["ts"] and not m.get("reply_broadcast"):
                return False
            ts = _ts_micros(m["ts"])
            if oldest is not None and (ts < oldest if inclusive else ts <= oldest):
                return False
            if latest is not None and (ts > latest if inclusive else ts >= latest):
                return False
            return cursor_max is None or ts <= cursor_max

        selected = [m for m in reversed(self._history.get(channel, [])) if visible(m)]
        page = selected[:limit]
        has_more = len(selected) > limit
        next_cursor = _encode_cursor("next_ts", selected[limit]["ts"]) if has_more else ""
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
        channel = self._resolve_channel(self._require_channel(payload))
        ts = str(payload.get("ts") or "")
        with_metadata = _truthy(payload.get("include_all_metadata"))
        history = self._history.get(channel, [])
        parent = next((m for m in history if m["ts"] == ts), None)
        if parent is None:
            raise _Reply("thread_not_found")
        thread = [parent] + [m for m in history if m.get("thread_ts") == ts and m["ts"] != ts]
        return {
            "ok": True,
            "messages": [self._public_message(m, metadata=with_metadata) for m in thread],
            "has_more": False,
            "response_metadata": {"next_cursor": ""},
        }

    def _store_view(
        self, view: Any, *, view_id: str | None = None, user_id: str | None = None
    ) -> dict[str, Any]:
        if not isinstance(view, dict) or "type" not in view:
            raise _Reply("invalid_arguments")
        view_id = view_id or self._new_id("V")
        stored = copy.deepcopy(view)
        stored.update(
            {
                "id": view_id,
                "team_id": TEAM_ID,
                "app_id": APP_ID,
                "bot_id": BOT_ID,
                "hash": f"{int(time.time())}.{next(self._ids):08d}",
                "private_metadata": view.get("private_metadata", ""),
                "callback_id": view.get("callback_id", ""),
                "external_id": view.get("external_id", ""),
            }
        )
        if user_id is not None:
            stored["user_id"] = user_id
        self.views[view_id] = stored
        return {"ok": True, "view": copy.deepcopy(stored)}

    def _views_publish(self, payload: dict[str, Any]) -> dict[str, Any]:
        user_id = payload.get("user_id")
        if not user_id:
            raise _Reply("invalid_arguments")
        existing = next(
            (
                vid
                for vid, v in self.views.items()
                if v.get("type") == "home" and v.get("user_id") == user_id
            ),
            None,
        )
        return self._store_view(payload.get("view"), view_id=existing, user_id=str(user_id))

    def _views_open(self, payload: dict[str, Any]) -> dict[str, Any]:
        if not payload.get("trigger_id") and not payload.get("interactivity_pointer"):
            raise _Reply("invalid_arguments")
        return self._store_view(payload.get("view"))

    def _views_update(self, payload: dict[str, Any]) -> dict[str, Any]:
        view_id = payload.get("view_id")
        external_id = payload.get("external_id")
        if view_id:
            if view_id not in self.views:
                raise _Reply("not_found")
            return self._store_view(payload.get("view"), view_id=str(view_id))
        if external_id:
            for vid, v in self.views.items():
                if v.get("external_id") == external_id:
                    return self._store_view(payload.get("view"), view_id=vid)
            raise _Reply("not_found")
        raise _Reply("invalid_arguments")

    def _usergroups_list(self, payload: dict[str, Any]) -> dict[str, Any]:
        groups = [
            {"id": group_id, "users": list(users)} for group_id, users in self.usergroups.items()
        ]
        return {"ok": True, "usergroups": groups}

    def _usergroups_users_list(self, payload: dict[str, Any]) -> dict[str, Any]:
        group = payload.get("usergroup")
        if not isinstance(group, str) or group not in self.usergroups:
            raise _Reply("no_such_subteam")
        return {"ok": True, "users": list(self.usergroups[group])}

    def _users_info(self, payload: dict[str, Any]) -> dict[str, Any]:
        user_id = payload.get("user")
        if not isinstance(user_id, str) or not user_id:
            raise _Reply("user_not_found")
        name = f"user-{user_id.lower()}"
        user: dict[str, Any] = {
            "id": user_id,
            "team_id": TEAM_ID,
            "name": name,
            "deleted": False,
            "real_name": f"User {user_id}",
            "tz": "America/Chicago",
            "tz_label": "Central Standard Time",
            "tz_offset": -21600,
            "is_admin": False,
            "is_owner": False,
            "is_bot": user_id == BOT_USER_ID,
            "is_app_user": False,
            "updated": 1_700_000_000,
            "profile": {
                "real_name": f"User {user_id}",
                "display_name": name,
                "real_name_normalized": f"User {user_id}",
                "display_name_normalized": name,
                "team": TEAM_ID,
            },
        }
        override = self.users.get(user_id)
        if override:
            profile = {**user["profile"], **override.get("profile", {})}
            user.update(override)
            user["profile"] = profile
        return {"ok": True, "user": user}


# ---------------------------------------------------------------------- CLI


async def _serve(
    port: int, token: str | None, latency: float, usergroups: dict[str, list[str]]
) -> None:
    fake = FakeSlack(token=token, latency=latency)
    fake.usergroups.update(usergroups)

    def echo(call: RecordedCall) -> None:
        line = {
            "method": call.method,
            "payload": call.payload,
            "status": call.status,
            "ok": bool(call.response.get("ok")),
        }
        if call.response.get("error"):
            line["error"] = call.response["error"]
        print(json.dumps(line, default=str), flush=True)

    fake.on_call = echo
    await fake.start(port=port)
    try:
        print(f"SLACK_API_URL={fake.api_url}", flush=True)
        await asyncio.Event().wait()  # until Ctrl-C cancels us
    finally:
        await fake.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.fakes.slack", description="Run the fake Slack Web API."
    )
    parser.add_argument("--port", type=int, default=0, help="port to bind (default: random)")
    parser.add_argument("--token", default=None, help="require this bot token")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added per call")
    parser.add_argument(
        "--usergroup",
        action="append",
        default=[],
        metavar="ID=U1,U2",
        help="a user group and its members (repeatable), e.g. S0SHIFTLEADS=U0LT1,U0LT2",
    )
    args = parser.parse_args(argv)
    usergroups = {
        group.split("=", 1)[0]: [u for u in group.partition("=")[2].split(",") if u]
        for group in args.usergroup
    }
    try:
        asyncio.run(_serve(args.port, args.token, args.latency, usergroups))
    except KeyboardInterrupt:
        print("stopped", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
