"""Requests shaped and signed exactly as Slack sends them to ``POST /slack/events``."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import aiohttp

FORM = "application/x-www-form-urlencoded"


def slack_signature(secret: str, timestamp: str, body: str) -> str:
    base = f"v0:{timestamp}:{body}".encode()
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def slash_command_body(text: str, *, user_id: str, channel_id: str, command: str = "/wso") -> str:
    return urlencode(
        {
            "token": "legacy-verification-token",
            "team_id": "T0FAKE",
            "team_domain": "fake",
            "channel_id": channel_id,
            "channel_name": "jail-ops",
            "user_id": user_id,
            "user_name": "officer",
            "command": command,
            "text": text,
            "api_app_id": "A0WSO",
            "is_enterprise_install": "false",
            "response_url": "https://hooks.slack.com/commands/T0FAKE/1/abc",
            "trigger_id": "1.2.abc",
        }
    )


@dataclass(frozen=True)
class SlackReply:
    status: int
    body: str

    @property
    def json(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.body)
        return parsed

    @property
    def text(self) -> str:
        return str(self.json.get("text", ""))


class SignedSlackClient:
    def __init__(self, base_url: str, signing_secret: str) -> None:
        self.base_url = base_url
        self.signing_secret = signing_secret
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> SignedSlackClient:
        self._session = aiohttp.ClientSession()
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._session is not None:
            await self._session.close()

    async def command(
        self, text: str, *, user_id: str = "U0AAA", channel_id: str = "C0JAIL"
    ) -> SlackReply:
        """Send ``/wso <text>`` and return Slack's view of the HTTP answer."""
        return await self.post(slash_command_body(text, user_id=user_id, channel_id=channel_id))

    async def click(
        self, *, action_id: str, value: str, user_id: str, channel_id: str, message_ts: str
    ) -> SlackReply:
        """A ``block_actions`` interaction: someone pressed a button on a message."""
        interaction = click_payload(
            action_id=action_id,
            value=value,
            user_id=user_id,
            channel_id=channel_id,
            message_ts=message_ts,
        )
        return await self.post(urlencode({"payload": json.dumps(interaction)}))

    async def submit_view(
        self, view: dict[str, Any], values: dict[str, dict[str, Any]], *, user_id: str
    ) -> SlackReply:
        """A ``view_submission`` (see ``view_submission_payload``)."""
        interaction = view_submission_payload(view, values, user_id=user_id)
        return await self.post(urlencode({"payload": json.dumps(interaction)}))

    async def event(self, event: dict[str, Any]) -> SlackReply:
        envelope = {
            "token": "legacy",
            "team_id": "T0FAKE",
            "api_app_id": "A0WSO",
            "event": event,
            "type": "event_callback",
            "event_id": "Ev0001",
            "event_time": int(time.time()),
        }
        return await self.post(json.dumps(envelope), content_type="application/json")

    async def get_json(self, path: str) -> SlackReply:
        assert self._session is not None, "use 'async with SignedSlackClient(...)'"
        async with self._session.get(f"{self.base_url}{path}") as response:
            return SlackReply(status=response.status, body=await response.text())

    async def post(
        self,
        body: str,
        *,
        content_type: str = FORM,
        timestamp: str | None = None,
        signature: str | None = None,
    ) -> SlackReply:
        assert self._session is not None, "use 'async with SignedSlackClient(...)'"
        stamp = timestamp if timestamp is not None else str(int(time.time()))
        headers = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": signature or slack_signature(self.signing_secret, stamp, body),
        }
        async with self._session.post(
            f"{self.base_url}/slack/events", data=body.encode(), headers=headers
        ) as response:
            return SlackReply(status=response.status, body=await response.text())


def click_payload(
    *, action_id: str, value: str, user_id: str, channel_id: str, message_ts: str
) -> dict[str, Any]:
    """A ``block_actions`` payload, as over HTTP or in an ``interactive`` envelope."""
    return {
        **_interaction("block_actions", user_id),
        "container": {
            "type": "message",
            "message_ts": message_ts,
            "channel_id": channel_id,
            "is_ephemeral": False,
        },
        "trigger_id": "1.2.trigger",
        "channel": {"id": channel_id, "name": "directmessage"},
        "message": {"type": "message", "ts": message_ts, "text": "page"},
        "response_url": "https://hooks.slack.com/actions/T0FAKE/1/xyz",
        "actions": [
            {
                "type": "button",
                "action_id": action_id,
                "block_id": "wso_page_actions",
                "value": value,
                "action_ts": str(time.time()),
            }
        ],
    }


def view_submission_payload(
    view: dict[str, Any], values: dict[str, dict[str, Any]], *, user_id: str
) -> dict[str, Any]:
    """A ``view_submission``: ``view`` as Slack stored it, ``values`` by block id.

    Each value is the element's state (``{"value": …}``, ``{"selected_option": …}``,
    ``{"selected_date": …}``, ``{"selected_time": …}``), keyed here by block id only;
    the element's action id is taken from the view's block, as Slack does.
    """
    action_ids = {
        b["block_id"]: b["element"]["action_id"]
        for b in view.get("blocks", [])
        if b.get("type") == "input"
    }
    state = {block: {action_ids[block]: value} for block, value in values.items()}
    return {
        **_interaction("view_submission", user_id),
        "trigger_id": "1.2.submit",
        "view": {**view, "state": {"values": state}},
        "response_urls": [],
    }


def _interaction(kind: str, user_id: str) -> dict[str, Any]:
    """What every interaction payload starts with: its type, team, user and app."""
    return {
        "type": kind,
        "team": {"id": "T0FAKE", "domain": "fake"},
        "user": {"id": user_id, "username": "someone", "team_id": "T0FAKE"},
        "api_app_id": "A0WSO",
        "token": "legacy-verification-token",
    }


def wso_payload(post: dict[str, Any]) -> dict[str, Any]:
    """The ``wso_custody`` metadata payload of a posted message (asserting its event type)."""
    metadata = post["metadata"]
    assert metadata["event_type"] == "wso_custody"
    result: dict[str, Any] = metadata["event_payload"]
    return result
