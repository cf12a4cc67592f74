"""How long to wait before trying a failed Slack post again. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

MAX_TRANSIENT_BACKOFF = timedelta(seconds=60)
# Errors a person must fix (bot removed from channel, token revoked): keep trying, slowly.
PERMANENT_RETRY_INTERVAL = timedelta(minutes=5)
PERMANENT_ERRORS = frozenset(
    {
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "invalid_auth",
        "not_authed",
        "account_inactive",
        "token_revoked",
        "missing_scope",
        "users_not_found",
        "pagerduty_invalid_event",
        "pagerduty_not_configured",
        "webhook_not_configured",
        "facility_not_configured",
    }
)


# Error codes with these prefixes are permanent too (the code carries the HTTP status).
PERMANENT_ERROR_PREFIXES = ("webhook_http_4xx_",)


@dataclass(frozen=True)
class SendFailure:
    """Why one Slack call failed, as the dispatcher needs to know it."""

    code: str
    retry_after: float | None = None
    # True when Slack may have posted the message despite the error (timeout, 5xx).
    may_have_posted: bool = False

    @property
    def is_permanent(self) -> bool:
        """A person must fix this (config, scopes, membership); retrying fast won't help."""
        return self.code in PERMANENT_ERRORS or self.code.startswith(PERMANENT_ERROR_PREFIXES)


class DeliveryFailed(Exception):
    """An outbound call (Slack, PagerDuty, a webhook) failed; ``failure`` says how."""

    def __init__(self, failure: SendFailure) -> None:
        super().__init__(failure.code)
        self.failure = failure


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    """``Retry-After`` in seconds, or ``None`` when absent or not a number of seconds."""
    value = headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        return None


def retry_delay(failure: SendFailure, attempts: int) -> timedelta:
    """Delay before the next attempt, after ``attempts`` failed attempts (1-based).

    Slack's ``Retry-After`` is honoured exactly; transient errors back off
    1 s, 2 s, 4 s … up to 60 s; errors a person must fix retry every 5 minutes.
    """
    if failure.retry_after is not None:
        return timedelta(seconds=max(failure.retry_after, 1.0))
    if failure.is_permanent:
        return PERMANENT_RETRY_INTERVAL
    exponent = min(max(attempts, 1) - 1, 16)
    return min(timedelta(seconds=2**exponent), MAX_TRANSIENT_BACKOFF)
