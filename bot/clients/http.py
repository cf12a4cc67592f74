"""Outbound HTTP shared by the clients: the answers every remote API means alike, how a call
without an answer failed (Slack, PagerDuty and webhooks), and the JSON-POST session of
PagerDuty and webhooks."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Container, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

import aiohttp

from bot.core.retry import DeliveryFailed, SendFailure, retry_after_seconds


def http_status_failure(prefix: str, status: int, retry_after: str | None) -> SendFailure | None:
    """Classify the answers every remote API means alike, naming codes ``<prefix>_…`` (or
    bare): a 429 waits as long as it says, and a 5xx may have been carried out before the
    error. None for any other status: each API reads those its own way.
    """
    if status == 429:
        return SendFailure(
            _named(prefix, "ratelimited"), retry_after=retry_after_seconds(retry_after)
        )
    if status >= 500:
        return SendFailure(_named(prefix, f"http_{status}"), may_have_posted=True)
    return None


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


@dataclass(frozen=True)
class AnswerRules:
    """How one remote API's answer is judged: the statuses that mean it took the request,
    the failure for any other status and for a call that got no answer, and whether the
    caller wants the answer's body."""

    accepted: Container[int]
    from_status: Callable[[int, Mapping[str, str]], SendFailure]
    from_exception: Callable[[BaseException], SendFailure]
    reads_answer: bool = False


class JsonPostClient:
    """One lazily opened aiohttp session that POSTs and classifies the answer.

    The PagerDuty and webhook clients are this and their own body and answer rules. Use as
    ``async with Client() as client:`` or call ``close()`` when done. Never retries: the
    dispatcher owns retries.
    """

    def __init__(self, *, timeout_seconds: float) -> None:
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        self._session: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    async def _post(self, url: str, rules: AnswerRules, **request: Any) -> bytes:
        """POST to ``url`` (never following a redirect) and return the answer's body.

        Raises ``DeliveryFailed`` with the failure ``rules`` name for a refused answer or
        for a call that got none; a cancellation passes through untouched.
        """
        try:
            async with self._open_session().post(url, allow_redirects=False, **request) as response:
                if response.status not in rules.accepted:
                    raise DeliveryFailed(rules.from_status(response.status, response.headers))
                return await response.read() if rules.reads_answer else b""
        except (DeliveryFailed, asyncio.CancelledError):
            raise
        except Exception as error:
            raise DeliveryFailed(rules.from_exception(error)) from error

    def _open_session(self) -> aiohttp.ClientSession:
        # Created on first use so the client can be built outside a running event loop.
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        return self._session
