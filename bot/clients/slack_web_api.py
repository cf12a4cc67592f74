"""The Slack Web API over HTTP, where every answer becomes a result or a ``SendFailure``.

The dispatcher's calls go through here rather than through slack_sdk's client,
because during an incident Slack's edge answers in shapes slack_sdk does not
classify safely: a ``text/plain`` 503, an HTML page, invalid JSON under
``application/json``, an empty body, a non-JSON 200 after a real post. Here the
status, the content and the ``Retry-After`` header are read once, defensively,
by one pure function (``classify_answer``), and a call that got no answer at
all is classified by ``bot.clients.http``. Nothing in this module raises
anything but ``DeliveryFailed`` (and ``CancelledError``).

No retries happen here: retrying is the dispatcher's job, because only it
stores attempts and knows whether a retry could double-post.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import re
from collections.abc import Mapping
from typing import Any

import aiohttp

from bot.clients.http import http_exception_failure, http_status_failure
from bot.core.retry import DeliveryFailed, SendFailure, retry_after_seconds

log = logging.getLogger("wso.slack")

# Don't let one hung Slack call hold up its channel for long.
SLACK_CALL_TIMEOUT_SECONDS = 10.0
# Connecting is quick or it is not happening: a connect that times out has sent nothing.
CONNECT_TIMEOUT_SECONDS = 3.0
# Requests to Slack in flight at once, across every channel.
MAX_CONNECTIONS = 32
# A history page of 200 messages with blocks and metadata is well under this.
MAX_ANSWER_BYTES = 16 * 1024 * 1024
# Error codes are shown to people and become metric labels: keep them to Slack's shape.
_ERROR_CODE = re.compile(r"[a-z][a-z0-9_]{0,63}")


def classify_answer(
    status: int, body: bytes, retry_after: str | None = None
) -> dict[str, Any] | SendFailure:
    """What one HTTP answer from the Web API means: the JSON document, or why not.

    ``may_have_posted`` is set wherever Slack could have carried out the call
    although the answer does not say so: a 5xx, and a 200 that is not a Slack
    JSON document. A clear refusal (``"ok": false``, a 4xx, a 429, a redirect
    that was not followed) cannot have posted.
    """
    document = _json_object(body)
    shared = http_status_failure("", status, retry_after)
    if shared is not None:
        return shared
    if 300 <= status < 400:
        return SendFailure(f"http_{status}")  # redirects are not followed: never processed
    if document is None or not isinstance(document.get("ok"), bool):
        if 200 <= status < 300:
            return SendFailure("unreadable_answer", may_have_posted=True)
        return SendFailure(f"http_{status}")
    if document["ok"] and 200 <= status < 300:
        return document
    code = _error_code(document.get("error"), status)
    if code == "ratelimited":
        return SendFailure(code, retry_after=retry_after_seconds(retry_after))
    return SendFailure(code)


def _json_object(body: bytes) -> dict[str, Any] | None:
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        return None
    return document if isinstance(document, dict) else None


def _error_code(error: object, status: int) -> str:
    if isinstance(error, str) and _ERROR_CODE.fullmatch(error):
        return error
    return f"http_{status}"


def _query_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class SlackWebApi:
    """Calls Web API methods with a bot token over one pool of connections.

    ``open()`` starts the pool (the service keeps it for its lifetime); without
    it, each call opens and closes a session of its own (one-off checks).
    """

    def __init__(
        self, token: str, base_url: str, *, timeout: float = SLACK_CALL_TIMEOUT_SECONDS
    ) -> None:
        self._token = token
        self._base_url = base_url if base_url.endswith("/") else base_url + "/"
        self._timeout = timeout
        self._session: aiohttp.ClientSession | None = None

    def __repr__(self) -> str:  # never the token
        return f"SlackWebApi(base_url={self._base_url!r})"

    async def open(self) -> None:
        if self._session is None or self._session.closed:
            self._session = self._new_session()

    async def close(self) -> None:
        session, self._session = self._session, None
        if session is not None and not session.closed:
            await session.close()

    async def call(
        self,
        method: str,
        *,
        body: Mapping[str, Any] | None = None,
        query: Mapping[str, Any] | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 - a per-call budget, passed to aiohttp
    ) -> dict[str, Any]:
        """Call ``method``: a JSON POST with ``body``, or a GET with ``query``.

        Returns Slack's document when it says ``"ok": true``; raises
        ``DeliveryFailed`` for everything else, ``timeout`` (seconds) included.
        """
        if self._session is not None and not self._session.closed:
            return await self._call(self._session, method, body, query, timeout)
        async with self._new_session() as session:
            return await self._call(session, method, body, query, timeout)

    def _new_session(self) -> aiohttp.ClientSession:
        return aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=MAX_CONNECTIONS),
            headers={"Authorization": f"Bearer {self._token}"},
        )

    async def _call(
        self,
        session: aiohttp.ClientSession,
        method: str,
        body: Mapping[str, Any] | None,
        query: Mapping[str, Any] | None,
        timeout: float | None,  # noqa: ASYNC109
    ) -> dict[str, Any]:
        seconds = self._timeout if timeout is None else timeout
        budget = aiohttp.ClientTimeout(
            total=seconds, sock_connect=min(seconds, CONNECT_TIMEOUT_SECONDS)
        )
        url = self._base_url + method
        try:
            if body is not None:
                request = session.post(url, json=body, timeout=budget, allow_redirects=False)
            else:
                params = {k: _query_value(v) for k, v in (query or {}).items() if v is not None}
                request = session.get(url, params=params, timeout=budget, allow_redirects=False)
            async with request as response:
                answer = await _read_capped(response)
                retry_after = response.headers.get("Retry-After")
                status = response.status
        except (DeliveryFailed, asyncio.CancelledError):
            raise
        except Exception as error:
            raise DeliveryFailed(http_exception_failure("", error)) from error
        outcome = classify_answer(status, answer, retry_after)
        if isinstance(outcome, SendFailure):
            _log_capped_retry_after(method, retry_after, outcome)
            raise DeliveryFailed(outcome)
        return outcome


async def _read_capped(response: aiohttp.ClientResponse) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.content.iter_chunked(64 * 1024):
        size += len(chunk)
        if size > MAX_ANSWER_BYTES:
            raise DeliveryFailed(SendFailure("answer_too_large", may_have_posted=True))
        chunks.append(chunk)
    return b"".join(chunks)


def _log_capped_retry_after(method: str, asked: str | None, failure: SendFailure) -> None:
    """Slack asked for a longer (or an unreadable) pause than the bot will take."""
    if asked is None or failure.retry_after is None:
        return
    try:
        wanted = float(asked)
    except ValueError:
        wanted = math.nan
    if wanted != failure.retry_after:
        log.warning(
            "slack.retry_after_capped",
            extra={"method": method, "asked": asked[:40], "waiting_seconds": failure.retry_after},
        )
