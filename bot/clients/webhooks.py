"""Signed outgoing webhooks: every custody event is POSTed as JSON to each configured URL.

How a receiver checks a delivery:

* ``X-WSO-Timestamp`` is the Unix time of signing, in whole seconds;
* ``X-WSO-Signature`` is ``"v1=" + hex(HMAC-SHA256(secret, timestamp + "." + raw body))``;
  ``verify()`` checks it in constant time and rejects timestamps more than five minutes
  away from the receiver's clock, so a captured request cannot be replayed later;
* ``X-WSO-Event-Id`` is the same for every attempt at the same event. Delivery is
  at-least-once (a timeout or a 5xx is retried even though the first attempt may have
  arrived), so receivers de-duplicate on this header.

The client never retries: the dispatcher owns retries. The shared secret is never put in
a log, an exception or a ``repr``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

from bot.clients.http import (
    AnswerRules,
    JsonPostClient,
    http_exception_failure,
    http_status_failure,
)
from bot.core.retry import SendFailure

SIGNATURE_HEADER = "X-WSO-Signature"
TIMESTAMP_HEADER = "X-WSO-Timestamp"
EVENT_ID_HEADER = "X-WSO-Event-Id"
USER_AGENT = "wso-custody-clock"
SIGNATURE_VERSION = "v1"
DEFAULT_TOLERANCE_SECONDS = 300


def canonical_body(payload: Mapping[str, Any]) -> bytes:
    """The exact bytes sent (and signed): compact JSON with sorted keys."""
    return json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """``"v1=" + hex(HMAC_SHA256(secret, f"{timestamp}." + body))``."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"{SIGNATURE_VERSION}={mac.hexdigest()}"


def verify(
    secret: str,
    timestamp: str,
    body: bytes,
    signature: str,
    *,
    now: float,
    tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS,
) -> bool:
    """True when ``signature`` signs ``timestamp`` and ``body`` with ``secret`` and the
    timestamp is within ``tolerance_seconds`` of ``now`` (either side)."""
    try:
        signed_at = int(timestamp)
    except ValueError:
        return False
    if abs(now - signed_at) > tolerance_seconds:
        return False
    expected = sign(secret, timestamp, body)
    return hmac.compare_digest(expected.encode(), signature.encode())


def failure_from_status(status: int, headers: Mapping[str, str]) -> SendFailure:
    """Classify a non-2xx answer from a receiver."""
    shared = http_status_failure("webhook", status, headers.get("Retry-After"))
    if shared is not None:
        return shared
    if 400 <= status < 500:
        # The receiver refused (bad secret, gone, wrong URL): a person has to fix it.
        return SendFailure(f"webhook_http_4xx_{status}")
    # Redirects are not followed: a signed body goes only to the configured URL.
    return SendFailure(f"webhook_http_{status}")


def failure_from_exception(error: BaseException) -> SendFailure:
    """Classify a delivery that got no HTTP answer."""
    return http_exception_failure("webhook", error)


_ANSWER_RULES = AnswerRules(
    accepted=range(200, 300),
    from_status=failure_from_status,
    from_exception=failure_from_exception,
)


class WebhookClient(JsonPostClient):
    """Delivers signed webhooks over one lazily opened aiohttp session.

    Use as ``async with WebhookClient() as client:`` or call ``close()`` when done.
    """

    def __init__(self, *, timeout_seconds: float = 10) -> None:
        super().__init__(timeout_seconds=timeout_seconds)

    async def post(
        self,
        url: str,
        secret: str,
        event_id: str,
        payload: Mapping[str, Any],
        *,
        timestamp: int,
    ) -> None:
        """POST ``payload`` to ``url``, signed with ``secret`` at ``timestamp``.

        ``event_id`` goes in ``X-WSO-Event-Id`` and must be the same on every attempt
        at one event, so that receivers can drop repeats. Raises ``DeliveryFailed``
        unless the receiver answers 2xx.
        """
        body = canonical_body(payload)
        signed_at = str(timestamp)
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            TIMESTAMP_HEADER: signed_at,
            SIGNATURE_HEADER: sign(secret, signed_at, body),
            EVENT_ID_HEADER: event_id,
        }
        await self._post(url, _ANSWER_RULES, data=body, headers=headers)
