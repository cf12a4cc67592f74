"""A fake webhook receiver for tests, served over real HTTP.

``async with FakeWebhookReceiver(secret) as receiver:`` binds ``127.0.0.1`` on a random
port; POST to ``receiver.url`` (any path on the port is accepted and recorded). Each
request is checked with ``bot.clients.webhooks.verify`` against ``secret`` and the receiver's
clock (``wall_time``; pass the fake clock's time when the sender signs with it).

A request whose signature does not verify is answered 401, as a careful receiver would
(``reject_invalid=False`` accepts it anyway, still recording ``signature_valid=False``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from bot.clients.webhooks import EVENT_ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, verify

__all__ = ["FakeWebhookReceiver", "ReceivedWebhook"]

WEBHOOK_PATH = "/hooks/wso"


@dataclass
class ReceivedWebhook:
    """One request as received, and how the fake answered it."""

    path: str
    headers: dict[str, str]
    body: bytes
    json: Any
    signature_valid: bool
    status: int = 0

    @property
    def event_id(self) -> str | None:
        return self.headers.get(EVENT_ID_HEADER)

    @property
    def accepted(self) -> bool:
        return 200 <= self.status < 300


@dataclass
class _Fault:
    status: int
    retry_after: int | None
    remaining: int


class FakeWebhookReceiver:
    """Records signed webhook deliveries; fault injection with ``fail_next``."""

    def __init__(
        self,
        secret: str,
        *,
        wall_time: Callable[[], float] = time.time,
        reject_invalid: bool = True,
    ) -> None:
        self._secret = secret
        self.wall_time = wall_time
        self.reject_invalid = reject_invalid
        self.requests: list[ReceivedWebhook] = []
        self._faults: list[_Fault] = []
        self._changed = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._port: int | None = None

    # ------------------------------------------------------------------ lifecycle

    async def start(self, *, port: int = 0) -> None:
        if self._runner is not None:
            raise RuntimeError("FakeWebhookReceiver already started")
        self._changed = asyncio.Event()
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", port)
        try:
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self._port = int(runner.addresses[0][1])

    async def stop(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def __aenter__(self) -> FakeWebhookReceiver:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("FakeWebhookReceiver not started")
        return self._port

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{WEBHOOK_PATH}"

    # ------------------------------------------------------------------ inspection

    @property
    def accepted(self) -> list[ReceivedWebhook]:
        """Requests answered 2xx, in arrival order."""
        return [r for r in self.requests if r.accepted]

    def fail_next(self, status: int, times: int = 1, *, retry_after: int | None = None) -> None:
        """Answer the next ``times`` requests with ``status`` (recorded, but not accepted)."""
        if times < 1:
            raise ValueError("times must be >= 1")
        self._faults.append(_Fault(status, retry_after, times))

    async def wait_for(
        self,
        n: int,
        timeout: float = 5.0,  # noqa: ASYNC109 - part of the requested test API
    ) -> list[ReceivedWebhook]:
        """Wait until at least ``n`` requests were accepted; return all accepted ones."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while len(self.accepted) < n:
            remaining = deadline - loop.time()
            if remaining <= 0:
                statuses = [r.status for r in self.requests]
                raise AssertionError(
                    f"timed out after {timeout:.2f}s waiting for {n} accepted webhook(s); "
                    f"have {len(self.accepted)}; answers so far: {statuses}"
                )
            event = self._changed
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), min(remaining, 0.05))
        return self.accepted

    # ------------------------------------------------------------------ HTTP

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        try:
            parsed: Any = json.loads(body)
        except ValueError:
            parsed = None
        valid = verify(
            self._secret,
            request.headers.get(TIMESTAMP_HEADER, ""),
            body,
            request.headers.get(SIGNATURE_HEADER, ""),
            now=self.wall_time(),
        )
        received = ReceivedWebhook(
            path=request.path,
            headers=dict(request.headers),
            body=body,
            json=parsed,
            signature_valid=valid,
        )
        self.requests.append(received)
        status, headers = self._answer(valid)
        received.status = status
        self._changed.set()
        self._changed = asyncio.Event()
        return web.Response(status=status, headers=headers)

    def _answer(self, valid: bool) -> tuple[int, dict[str, str]]:
        if self._faults:
            fault = self._faults[0]
            fault.remaining -= 1
            if fault.remaining == 0:
                self._faults.pop(0)
            headers = (
                {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
            )
            return fault.status, headers
        if not valid and self.reject_invalid:
            return 401, {}
        return 204, {}
