"""A fake webhook receiver for tests, served over real HTTP.

``async with FakeWebhookReceiver(secret) as receiver:`` binds ``127.0.0.1`` on a random
port; POST to ``receiver.url`` (any path on the port is accepted and recorded). Each
request is checked with ``bot.clients.webhooks.verify`` against ``secret`` and the receiver's
clock (``wall_time``; pass the fake clock's time when the sender signs with it).

A request whose signature does not verify is answered 401, as a careful receiver would
(``reject_invalid=False`` accepts it anyway, still recording ``signature_valid=False``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from bot.clients.webhooks import EVENT_ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, verify
from tests.fakes.server import Answer, HttpCall, Rank, RecordedServer, Scope

__all__ = ["FakeWebhookReceiver", "ReceivedWebhook"]

WEBHOOK_PATH = "/hooks/wso"


@dataclass(kw_only=True)
class ReceivedWebhook(HttpCall):
    """One request as received, and how the fake answered it."""

    path: str
    body: bytes = b""
    json: Any = None
    signature_valid: bool = False

    @property
    def event_id(self) -> str | None:
        return self.headers.get(EVENT_ID_HEADER)

    @property
    def accepted(self) -> bool:
        return 200 <= self.status < 300

    def summary(self) -> str:
        return f"{self.path} -> {self.status} (signature valid: {self.signature_valid})"


class FakeWebhookReceiver(RecordedServer[ReceivedWebhook]):
    """Records signed webhook deliveries; fault injection with ``fail_next``."""

    def __init__(
        self,
        secret: str,
        *,
        wall_time: Callable[[], float] = time.time,
        reject_invalid: bool = True,
    ) -> None:
        super().__init__(wall_time=wall_time)
        self._secret = secret
        self.reject_invalid = reject_invalid

    @property
    def requests(self) -> list[ReceivedWebhook]:
        """Every request, in arrival order."""
        return list(self.calls)

    @property
    def url(self) -> str:
        return f"{self.base_url}{WEBHOOK_PATH}"

    # ------------------------------------------------------------------ inspection

    @property
    def accepted(self) -> list[ReceivedWebhook]:
        """Requests answered 2xx, in arrival order."""
        return [r for r in self.calls if r.accepted]

    def fail_next(self, status: int, times: int = 1, *, retry_after: int | None = None) -> None:
        """Answer the next ``times`` requests with ``status`` (recorded, but not accepted)."""
        wait = str(retry_after) if retry_after is not None else None
        self.outage(Answer.empty(status, wait), times=times, rank=Rank.QUEUED)

    async def wait_for(
        self,
        n: int,
        timeout: float = 5.0,  # noqa: ASYNC109 - part of the requested test API
    ) -> list[ReceivedWebhook]:
        """Wait until at least ``n`` requests were accepted; return all accepted ones."""
        return await self.wait_for_calls(
            n, lambda request: request.accepted, timeout=timeout, what="accepted webhook"
        )

    # ------------------------------------------------------------------ HTTP

    def _paths(self) -> list[tuple[str, str]]:
        return [("*", "/{tail:.*}")]

    def _new_call(self, request: web.Request) -> ReceivedWebhook:
        return ReceivedWebhook(path=request.path, headers=dict(request.headers))

    async def _read(self, request: web.Request, call: ReceivedWebhook) -> None:
        call.body = await request.read()
        try:
            call.json = json.loads(call.body)
        except ValueError:
            call.json = None
        call.signature_valid = verify(
            self._secret,
            request.headers.get(TIMESTAMP_HEADER, ""),
            call.body,
            request.headers.get(SIGNATURE_HEADER, ""),
            now=self.wall_time(),
        )

    def _scope(self, call: ReceivedWebhook) -> Scope:
        return Scope(call.path)

    def _carry_out(self, call: ReceivedWebhook) -> tuple[int, dict[str, Any] | None]:
        if not call.signature_valid and self.reject_invalid:
            return 401, None
        return 204, None
