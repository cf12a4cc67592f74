"""Outgoing PagerDuty Events API v2 calls, with every failure turned into a ``SendFailure``.

Like the Slack gateway, the client never retries: the dispatcher owns retries. PagerDuty
de-duplicates on ``dedup_key``, so sending the same event twice is harmless, but the
failure still says truthfully whether the first one may have arrived.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from bot.clients.http import (
    AnswerRules,
    JsonPostClient,
    http_exception_failure,
    http_status_failure,
)
from bot.config.settings import DEFAULT_PAGERDUTY_EVENTS_URL
from bot.core.retry import SendFailure

ENQUEUE_PATH = "/v2/enqueue"
SEVERITIES = frozenset({"critical", "error", "warning", "info"})
# PagerDuty's documented limits; a longer summary would make the event invalid for good.
MAX_SUMMARY_CHARS = 1024
MAX_DEDUP_KEY_CHARS = 255

CustomDetail = str | int | bool | None


class PagerDutyAction(StrEnum):
    TRIGGER = "trigger"
    ACKNOWLEDGE = "acknowledge"
    RESOLVE = "resolve"


@dataclass(frozen=True)
class PagerDutyEvent:
    """One Events API v2 alert event. The routing key is a secret: it is kept out of repr."""

    routing_key: str = field(repr=False)
    action: PagerDutyAction
    dedup_key: str
    summary: str
    source: str
    severity: str = "critical"
    custom_details: Mapping[str, CustomDetail] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        if not self.routing_key:
            raise ValueError("routing_key is required")
        if not self.dedup_key or len(self.dedup_key) > MAX_DEDUP_KEY_CHARS:
            raise ValueError(f"dedup_key must be 1-{MAX_DEDUP_KEY_CHARS} characters")
        if self.severity not in SEVERITIES:
            raise ValueError(f"severity must be one of {sorted(SEVERITIES)}")
        # A read-only copy, so a frozen event cannot change under the caller's feet.
        object.__setattr__(self, "custom_details", MappingProxyType(dict(self.custom_details)))

    def body(self) -> dict[str, Any]:
        """The exact JSON document to POST; only a trigger carries a ``payload``."""
        document: dict[str, Any] = {
            "routing_key": self.routing_key,
            "event_action": str(self.action),
            "dedup_key": self.dedup_key,
        }
        if self.action is PagerDutyAction.TRIGGER:
            document["payload"] = {
                "summary": self.summary[:MAX_SUMMARY_CHARS],
                "source": self.source,
                "severity": self.severity,
                "custom_details": dict(self.custom_details),
            }
        return document


def failure_from_status(status: int, headers: Mapping[str, str]) -> SendFailure:
    """Classify a non-202 answer from the Events API."""
    # A 5xx may have enqueued the event before the error; dedup_key makes a repeat harmless.
    shared = http_status_failure("pagerduty", status, headers.get("Retry-After"))
    if shared is not None:
        return shared
    if status == 400:
        # Bad routing key or malformed event: sending it again cannot help.
        return SendFailure("pagerduty_invalid_event")
    return SendFailure(f"pagerduty_http_{status}")


def failure_from_exception(error: BaseException) -> SendFailure:
    """Classify a call that got no HTTP answer."""
    return http_exception_failure("pagerduty", error)


def _dedup_key_from(answer: bytes) -> str | None:
    # A 202 means PagerDuty took the event, even if its answer is not the JSON we expect.
    try:
        document = json.loads(answer)
    except ValueError:
        return None
    dedup_key = document.get("dedup_key") if isinstance(document, dict) else None
    return dedup_key if isinstance(dedup_key, str) and dedup_key else None


_ANSWER_RULES = AnswerRules(
    accepted=frozenset({202}),
    from_status=failure_from_status,
    from_exception=failure_from_exception,
    reads_answer=True,
)


class PagerDutyClient(JsonPostClient):
    """Sends events to ``{base_url}/v2/enqueue`` over one lazily opened aiohttp session.

    Use as ``async with PagerDutyClient() as client:`` or call ``close()`` when done.
    """

    def __init__(
        self, base_url: str = DEFAULT_PAGERDUTY_EVENTS_URL, *, timeout_seconds: float = 10
    ) -> None:
        super().__init__(timeout_seconds=timeout_seconds)
        self._url = base_url.rstrip("/") + ENQUEUE_PATH

    async def send(self, event: PagerDutyEvent) -> str:
        """Enqueue ``event`` and return its ``dedup_key``; raise ``DeliveryFailed`` otherwise."""
        answer = await self._post(self._url, _ANSWER_RULES, json=event.body())
        return _dedup_key_from(answer) or event.dedup_key
