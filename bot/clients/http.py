"""How an outbound HTTP call without an answer failed (Slack, PagerDuty and webhooks)."""

from __future__ import annotations

import aiohttp

from bot.core.retry import SendFailure


def http_exception_failure(prefix: str, error: BaseException) -> SendFailure:
    """Classify an HTTP call that got no answer, naming codes ``<prefix>_…`` (or bare).

    Nothing can have arrived if the connection was never made; after that, a
    timeout or a dropped connection may have delivered the request. Never raises.
    """
    if isinstance(error, aiohttp.ConnectionTimeoutError):
        return SendFailure(_named(prefix, "connect_timeout"))
    if isinstance(error, TimeoutError):
        return SendFailure(_named(prefix, "timeout"), may_have_posted=True)
    if isinstance(error, aiohttp.ClientConnectorDNSError):
        return SendFailure(_named(prefix, "dns_failed"))  # nothing sent
    if isinstance(error, aiohttp.ClientConnectorError):
        return SendFailure(_named(prefix, "connect_failed"))  # refused or TLS: nothing sent
    if isinstance(error, aiohttp.ClientError):
        return SendFailure(_named(prefix, "connection_error"), may_have_posted=True)
    return SendFailure(_named(prefix, f"unexpected:{type(error).__name__}"), may_have_posted=True)


def _named(prefix: str, what: str) -> str:
    return f"{prefix}_{what}" if prefix else what
