"""How long to wait before trying a failed Slack post again. Pure."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta

MAX_TRANSIENT_BACKOFF = timedelta(seconds=60)
# Errors a person must fix (bot removed from channel, token revoked): keep trying, slowly.
PERMANENT_RETRY_INTERVAL = timedelta(minutes=5)
# Slack's answers to a wrong or withdrawn bot token: nothing posts until a person fixes it.
AUTH_ERRORS = frozenset(
    {"invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired"}
)
PERMANENT_ERRORS = frozenset(
    {
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        *AUTH_ERRORS,
        "missing_scope",
        "users_not_found",
        # The message itself is refused: only a change of config or code can fix it.
        "invalid_blocks",
        "msg_too_long",
        "invalid_metadata_format",
        "metadata_too_large",
        "no_text",
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
    def is_rate_limit(self) -> bool:
        """The far end asked us to slow down: the whole target pauses, not just this call."""
        return self.code == "ratelimited" or self.code.endswith("_ratelimited")

    @property
    def is_auth_error(self) -> bool:
        return self.code in AUTH_ERRORS

    @property
    def is_permanent(self) -> bool:
        """A person must fix this (config, scopes, membership); retrying fast won't help."""
        return self.code in PERMANENT_ERRORS or self.code.startswith(PERMANENT_ERROR_PREFIXES)


class DeliveryFailed(Exception):
    """An outbound call (Slack, PagerDuty, a webhook) failed; ``failure`` says how."""

    def __init__(self, failure: SendFailure) -> None:
        super().__init__(failure.code)
        self.failure = failure


# Slack and PagerDuty usually ask for 1-30 s; nothing bounds it by contract. A longer pause
# would hold an expiry notice hostage to one answer: wait at most this long, then ask again.
MAX_RETRY_AFTER_SECONDS = 60.0


def retry_after_seconds(value: str | None) -> float | None:
    """A ``Retry-After`` header in seconds: finite, at least 0, at most 60.

    ``None`` when absent or not a number of seconds (``inf``, ``nan``, an HTTP
    date): the caller then backs off on its own.
    """
    if value is None:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    if not math.isfinite(seconds):
        return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_SECONDS)


def retry_delay(failure: SendFailure, attempts: int) -> timedelta:
    """Delay before the next attempt, after ``attempts`` failed attempts (1-based).

    Slack's ``Retry-After`` is honoured (at least 1 s, at most 60 s); transient errors back off
    1 s, 2 s, 4 s … up to 60 s; errors a person must fix retry every 5 minutes.
    """
    if failure.retry_after is not None:
        bounded = min(max(failure.retry_after, 1.0), MAX_RETRY_AFTER_SECONDS)
        return timedelta(seconds=bounded)
    if failure.is_permanent:
        return PERMANENT_RETRY_INTERVAL
    exponent = min(max(attempts, 1) - 1, 16)
    return min(timedelta(seconds=2**exponent), MAX_TRANSIENT_BACKOFF)
