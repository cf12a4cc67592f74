"""The bot's notices as the fake Slack received them, read by their ``wso_custody`` metadata."""

from __future__ import annotations

from collections import Counter
from typing import Any

from tests.fakes.signed_requests import wso_payload
from tests.fakes.slack import FakeSlack


def kinds(fake_slack: FakeSlack, channel: str) -> list[str]:
    """The kind of each notice posted to ``channel``, in order."""
    return [wso_payload(post)["kind"] for post in fake_slack.posts(channel)]


def copies(fake_slack: FakeSlack, channel: str) -> Counter[str]:
    """How many times each notice reached the channel's history (found or posted)."""
    return Counter(
        m["metadata"]["event_payload"]["notice_id"]
        for m in fake_slack.messages(channel)
        if isinstance(m.get("metadata"), dict)
    )


def notice_counts(fake_slack: FakeSlack) -> Counter[str]:
    """How many successful posts carried each notice, over every channel."""
    return Counter(wso_payload(post)["notice_id"] for post in fake_slack.posts())


def updates_of(fake_slack: FakeSlack, channel: str, ts: str) -> list[dict[str, Any]]:
    """Payloads of the successful ``chat.update`` calls that rewrote the message at ``ts``."""
    return [
        call.payload
        for call in fake_slack.calls_to("chat.update")
        if call.ok and (call.payload.get("channel"), call.payload.get("ts")) == (channel, ts)
    ]
