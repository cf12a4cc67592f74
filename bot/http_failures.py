"""How an outbound HTTP call without an answer failed (shared by PagerDuty and webhooks)."""

from __future__ import annotations

import aiohttp

from bot.retry import SendFailure


def http_exception_failure(prefix: str, error: BaseException) -> SendFailure:
    """Classify an HTTP call that got no answer, naming codes ``<prefix>_…``.

    Nothing can have arrived if the connection was never made; after that, a
    timeout or a dropped connection may have delivered the request.
    """
    if isinstance(error, aiohttp.ConnectionTimeoutError):
        return SendFailure(f"{prefix}_connect_timeout")
    if isinstance(error, TimeoutError):
        return SendFailure(f"{prefix}_timeout", may_have_posted=True)
    if isinstance(error, aiohttp.ClientConnectorError):
        return SendFailure(f"{prefix}_connect_failed")  # refused, DNS or TLS: nothing sent
    if isinstance(error, aiohttp.ClientError):
        return SendFailure(f"{prefix}_connection_error", may_have_posted=True)
    return SendFailure(f"{prefix}_unexpected:{type(error).__name__}", may_have_posted=True)
