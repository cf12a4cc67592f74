"""How Slack's Web API reads its requests and writes its ids: the stand-in's wire format.

Shared by the sandbox's Slack stand-in (``bot.sandbox.workspace``) and the test suite's
fake Slack, which serves the same workspace over HTTP with faults on top.

How ``slack_sdk`` 3.48 sends requests (every form is accepted, merged):

* ``json=`` methods (``chat.postMessage``, ``chat.update``, ``chat.postEphemeral``,
  ``chat.scheduleMessage``, ``views.*``) -> POST with a JSON body.
* ``params=`` methods (``auth.test``, ``conversations.open``,
  ``chat.deleteScheduledMessage``, ``chat.scheduledMessages.list``) -> POST with the
  arguments in the **URL query string** and an empty body, booleans as ``"1"``/``"0"``.
* ``http_verb="GET"`` methods (``conversations.history``, ``users.info``,
  ``usergroups.users.list``) -> GET with query parameters.
* ``data=`` methods and other clients -> form bodies, where ``blocks`` etc. may be
  JSON strings; those are decoded.
"""

from __future__ import annotations

import base64
import contextlib
import json
from typing import Any

from aiohttp import web

BOT_USER_ID = "U0BOT"
BOT_ID = "B0BOT"
APP_ID = "A0FAKE"
TEAM_ID = "T0FAKE"

# Keys whose values are JSON documents that form-encoding clients send as strings.
# (``private_metadata`` is deliberately absent: it is an opaque string by design.)
JSON_KEYS = frozenset({"blocks", "attachments", "metadata", "view", "unfurls", "user_auth_blocks"})


class SlackError(Exception):
    """A Web API method refuses: answered ``{"ok": false, "error": error}`` with ``status``."""

    def __init__(self, error: str, status: int = 200) -> None:
        super().__init__(error)
        self.error = error
        self.status = status


def truthy(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value != 0
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes", "on"}
    return False


def ts_micros(ts: Any) -> int:
    """Parse a Slack ts ("1764350000.000100") or epoch number into integer microseconds."""
    text = str(ts).strip()
    if not text:
        raise ValueError("empty ts")
    whole, _, frac = text.partition(".")
    frac = (frac + "000000")[:6]
    return int(whole or "0") * 1_000_000 + int(frac or "0")


def format_ts(micros: int) -> str:
    return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"


def encode_cursor(kind: str, value: str | int) -> str:
    return base64.urlsafe_b64encode(f"{kind}:{value}".encode()).decode()


def decode_cursor(cursor: str, kind: str) -> str:
    try:
        decoded = base64.urlsafe_b64decode(cursor.encode()).decode()
    except (ValueError, UnicodeDecodeError) as exc:
        raise SlackError("invalid_cursor") from exc
    prefix, _, value = decoded.partition(":")
    if prefix != kind or not value:
        raise SlackError("invalid_cursor")
    return value


def int_param(payload: dict[str, Any], key: str, default: int) -> int:
    raw = payload.get(key)
    if raw is None or raw == "":
        return default
    try:
        return int(float(raw))
    except (TypeError, ValueError) as exc:
        raise SlackError("invalid_arguments") from exc


async def read_payload(request: web.Request) -> dict[str, Any]:
    """A Web API call's arguments, merged from the query string and a JSON or form body.

    Raises ``ValueError`` (or a JSON decode error) for a body Slack would refuse.
    """
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
    for key in JSON_KEYS & payload.keys():
        value = payload[key]
        if isinstance(value, str) and value.strip()[:1] in ("{", "["):
            with contextlib.suppress(ValueError):
                payload[key] = json.loads(value)
    return payload
