"""What Slack sends the bot when a person acts, shaped and signed as Slack does.

The sandbox page's command box, buttons and modals become these requests, POSTed to the
bot's own ``/slack/events`` with a real ``v0`` signature: the same path, the same checks
and the same handlers as in production. Nothing here reaches into the bot.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import aiohttp

from bot.chat.signature import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign
from bot.sandbox.slack_wire import APP_ID, TEAM_ID

FORM = "application/x-www-form-urlencoded"
_serial = itertools.count(1)


def new_trigger_id() -> str:
    """A fresh trigger id; ``views.open`` names it, so the sandbox knows whose modal opens."""
    return f"{int(time.time())}.{next(_serial)}.sandbox"


def slash_command_form(
    text: str, *, user_id: str, user_name: str, channel_id: str, channel_name: str, trigger: str
) -> str:
    return urlencode(
        {
            "token": "sandbox",
            "team_id": TEAM_ID,
            "team_domain": "sandbox",
            "channel_id": channel_id,
            "channel_name": channel_name,
            "user_id": user_id,
            "user_name": user_name,
            "command": "/wso",
            "text": text,
            "api_app_id": APP_ID,
            "is_enterprise_install": "false",
            "response_url": "http://127.0.0.1/sandbox/no-response-url",
            "trigger_id": trigger,
        }
    )


def _interaction(kind: str, user_id: str, trigger: str) -> dict[str, Any]:
    return {
        "type": kind,
        "team": {"id": TEAM_ID, "domain": "sandbox"},
        "user": {"id": user_id, "username": user_id.lower(), "team_id": TEAM_ID},
        "api_app_id": APP_ID,
        "token": "sandbox",
        "trigger_id": trigger,
    }


def _action(element: Mapping[str, Any], block_id: str) -> dict[str, Any]:
    return {
        "type": element.get("type", "button"),
        "action_id": element.get("action_id", ""),
        "block_id": block_id,
        "value": element.get("value", ""),
        "action_ts": f"{time.time():.6f}",
    }


def message_click(
    *,
    user_id: str,
    channel_id: str,
    message: Mapping[str, Any],
    element: Mapping[str, Any],
    block_id: str,
    trigger: str,
) -> dict[str, Any]:
    """A ``block_actions`` payload: ``user_id`` pressed ``element`` on a message."""
    return {
        **_interaction("block_actions", user_id, trigger),
        "container": {
            "type": "message",
            "message_ts": message["ts"],
            "channel_id": channel_id,
            "is_ephemeral": False,
        },
        "channel": {"id": channel_id, "name": channel_id.lower()},
        "message": dict(message),
        "response_url": "http://127.0.0.1/sandbox/no-response-url",
        "actions": [_action(element, block_id)],
    }


def view_click(
    *,
    user_id: str,
    view: Mapping[str, Any],
    element: Mapping[str, Any],
    block_id: str,
    trigger: str,
) -> dict[str, Any]:
    """A ``block_actions`` payload from a button in a view (App Home or a modal)."""
    return {
        **_interaction("block_actions", user_id, trigger),
        "container": {"type": "view", "view_id": view["id"]},
        "view": dict(view),
        "actions": [_action(element, block_id)],
    }


def view_submission(
    *, user_id: str, view: Mapping[str, Any], state: Mapping[str, Any], trigger: str
) -> dict[str, Any]:
    """A ``view_submission``: ``view`` as stored, with its inputs' ``state.values``."""
    return {
        **_interaction("view_submission", user_id, trigger),
        "view": {**view, "state": {"values": dict(state)}},
        "response_urls": [],
    }


def view_closed(*, user_id: str, view: Mapping[str, Any], trigger: str) -> dict[str, Any]:
    return {
        **_interaction("view_closed", user_id, trigger),
        "view": dict(view),
        "is_cleared": False,
    }


def app_home_opened(user_id: str) -> dict[str, Any]:
    """The ``event_callback`` envelope Slack sends when someone opens the app's Home tab."""
    return {
        "token": "sandbox",
        "team_id": TEAM_ID,
        "api_app_id": APP_ID,
        "type": "event_callback",
        "event_id": f"Ev{next(_serial):08d}",
        "event_time": int(time.time()),
        "event": {
            "type": "app_home_opened",
            "user": user_id,
            "channel": f"D{user_id}",
            "tab": "home",
            "event_ts": f"{time.time():.6f}",
        },
    }


@dataclass(frozen=True)
class BotAnswer:
    """The bot's HTTP answer to a request: its status and body (JSON when it has one)."""

    status: int
    body: str

    def json(self) -> dict[str, Any]:
        try:
            parsed = json.loads(self.body) if self.body.strip() else {}
        except ValueError:
            return {}
        return parsed if isinstance(parsed, dict) else {}


class SignedSender:
    """POSTs requests to the bot's ``/slack/events``, signed with its signing secret."""

    def __init__(self, signing_secret: str, events_url: str = "") -> None:
        # Set once the bot listens (its port is known only then).
        self.events_url = events_url
        self._secret = signing_secret.encode()
        self._session: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def form(self, body: str) -> BotAnswer:
        return await self._post(body, FORM)

    async def interaction(self, payload: Mapping[str, Any]) -> BotAnswer:
        return await self._post(urlencode({"payload": json.dumps(payload)}), FORM)

    async def event(self, envelope: Mapping[str, Any]) -> BotAnswer:
        return await self._post(json.dumps(envelope), "application/json")

    async def _post(self, body: str, content_type: str) -> BotAnswer:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        stamp = str(int(time.time()))  # Slack signs with real time, whatever the bot's clock
        data = body.encode()
        headers = {
            "Content-Type": content_type,
            TIMESTAMP_HEADER: stamp,
            SIGNATURE_HEADER: sign(self._secret, stamp, data),
        }
        async with self._session.post(self.events_url, data=data, headers=headers) as response:
            return BotAnswer(response.status, await response.text())
