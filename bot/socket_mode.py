"""Socket Mode: Slack's requests over an outgoing WebSocket, for networks with no way in.

With ``SLACK_APP_TOKEN`` set, ``wso-bot serve`` opens a WebSocket to Slack
(``apps.connections.open``, then the URL it answers) through slack-bolt's aiohttp
adapter, and Bolt receives commands, clicks and events as envelopes on it; the ack
goes back on the same socket. ``/healthz`` and ``/metrics`` still listen on ``PORT``.

slack_sdk reconnects on its own, but its reconnects are known to go stale or stick
(python-slack-sdk #1110, #1446, #1922: a session that looks open and carries nothing,
a reconnect loop that never ends). So a watchdog of ours checks the link every
``check_seconds``: it sends its own ping, and a link that ``is_connected()`` denies, or
that has heard no pong for ``stale_seconds``, is replaced (a new
``apps.connections.open``), each attempt bounded by ``connect_seconds``. The state is
``/healthz``'s ``socket``: red when the link has been down longer than
``red_after_seconds`` or the watchdog failed ``ALARM_AFTER_FAILURES`` times in a row.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.clients.slack_web_api import SlackWebApi
from bot.core.retry import DeliveryFailed

log = logging.getLogger("wso.socket")
# slack_sdk's own log of the socket: quieter than ours, and it never sees the token.
sdk_log = logging.getLogger("wso.socket.sdk")

PING = "sdk-ping-pong:{}"  # the SDK records the pong of a ping spelled so (last_ping_pong_time)


# slack_sdk's own ping and reconnect check (it gives up on a link after four pings).
SDK_PING_SECONDS = 10.0
# This many failed reconnects in a row: /healthz is red even if a link comes and goes.
ALARM_AFTER_FAILURES = 3


@dataclass(frozen=True)
class SocketLimits:
    """How the Socket Mode link is watched; tests shrink these to fractions of a second.

    ``check_seconds`` is the watchdog's round (one ping of ours, one look at the link);
    a link with no pong for ``stale_seconds`` is stale whatever the socket says (slack_sdk's
    own check is the first line, this the backstop); one reconnect (apps.connections.open
    and the handshake) takes at most ``connect_seconds``; down (never up, or lost and not
    back) longer than ``red_after_seconds`` turns /healthz red.
    """

    check_seconds: float = 5.0
    stale_seconds: float = 45.0
    connect_seconds: float = 30.0
    red_after_seconds: float = 60.0


def _iso(moment: float | None) -> str | None:
    if moment is None:
        return None
    return datetime.fromtimestamp(moment, UTC).isoformat().replace("+00:00", "Z")


class SocketLink:
    """The Socket Mode connection, its watchdog, and what ``/healthz`` says about it."""

    def __init__(
        self,
        bolt_app: AsyncApp,
        app_token: str,
        api_url: str,
        limits: SocketLimits | None = None,
    ) -> None:
        self._bolt_app = bolt_app
        self._app_token = app_token
        self._api_url = api_url
        self.limits = limits or SocketLimits()
        self._now = time.time  # the SDK stamps its pongs by this clock too
        self._handler: AsyncSocketModeHandler | None = None
        # apps.connections.open through our own client: slack_sdk's chokes on Slack's
        # incident answers (a text/plain 503 becomes "'str' object has no attribute 'get'").
        self._api = SlackWebApi(app_token, api_url, timeout=self.limits.connect_seconds)
        self._watchdog: asyncio.Task[None] | None = None
        self._session: object | None = None
        self.connected = False
        self.connections = 0
        self.reconnects = 0
        self.watchdog_reconnects = 0
        self.failures_in_a_row = 0
        self.last_error: str | None = None
        self._since = self._now()
        self._last_pong: float | None = None

    async def start(self) -> None:
        """Start the watchdog, which makes the first connection: a Slack out of reach
        must not stop the clock, so ``serve`` starts anyway and ``/healthz`` says so."""
        timeout = max(1, int(self.limits.connect_seconds))
        web_client = AsyncWebClient(base_url=self._api_url, timeout=timeout)
        self._handler = AsyncSocketModeHandler(
            self._bolt_app,
            self._app_token,
            logger=sdk_log,
            web_client=web_client,
            ping_interval=SDK_PING_SECONDS,
        )
        self._watchdog = asyncio.create_task(self._watch())

    async def stop(self) -> None:
        if self._watchdog is not None:
            self._watchdog.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watchdog
        if self._handler is not None:
            with contextlib.suppress(Exception):
                await self._handler.client.close()  # type: ignore[no-untyped-call]
        await self._api.close()
        self.connected = False

    async def _watch(self) -> None:
        while True:
            try:
                await self.check()
            except Exception as error:  # the watchdog itself must never die
                self._failed(f"{type(error).__name__}: {error}")
            await asyncio.sleep(self.limits.check_seconds)

    async def check(self) -> None:
        """One round: note a new session, ping, and replace a link that is down or stale."""
        assert self._handler is not None
        client = self._handler.client
        session = client.current_session
        if session is not None and session is not self._session and not session.closed:
            self._new_session(session)
        if await client.is_connected() and not self._stale():
            self._up()
            await self._ping()
            return
        self._down()
        await self._reconnect()

    def _new_session(self, session: object) -> None:
        self._session = session
        self.connections += 1
        if self.connections > 1:
            self.reconnects += 1
        self._last_pong = self._now()
        self.connected = False  # _up() records the moment it is seen working

    def _stale(self) -> bool:
        assert self._handler is not None
        heard = max(self._handler.client.last_ping_pong_time or 0.0, self._last_pong or 0.0)
        return self._now() - heard > self.limits.stale_seconds

    def _up(self) -> None:
        if not self.connected:
            self.connected, self._since = True, self._now()
            log.info("socket.connected", extra={"reconnects": self.reconnects})
        self.failures_in_a_row = 0

    def _down(self) -> None:
        if self.connected:
            self.connected, self._since = False, self._now()
            log.warning("socket.lost")

    async def _ping(self) -> None:
        assert self._handler is not None
        session = self._handler.client.current_session
        if session is not None:
            with contextlib.suppress(Exception):  # a failed ping shows as a stale link
                await session.ping(PING.format(self._now()).encode())

    async def _reconnect(self) -> None:
        """A new URL and a new WebSocket, at most ``connect_seconds``; the old one is closed.

        slack_sdk's ``connect()`` retries one URL for ever, and its own reconnect may hold
        the lock and be stuck: the lock is waited for briefly, then passed by (as the SDK's
        own forced reconnect does), and the whole attempt is bounded.
        """
        assert self._handler is not None
        client = self._handler.client
        first = self.connections == 0
        try:
            response = await self._api.call("apps.connections.open", body={})
        except DeliveryFailed as error:
            self._failed(f"apps.connections.open: {error.failure.code}")
            return
        url = response.get("url")
        if not isinstance(url, str) or not url.startswith(("wss://", "ws://")):
            self._failed("apps.connections.open answered no WebSocket URL")
            return
        lock = client.connect_operation_lock
        try:
            async with asyncio.timeout(self.limits.connect_seconds):
                held = await self._acquire_briefly(lock)
                try:
                    client.wss_uri = url
                    await client.connect()  # type: ignore[no-untyped-call]
                finally:
                    if held:
                        lock.release()
        except TimeoutError:
            self._failed(f"no WebSocket connection within {self.limits.connect_seconds:g} s")
            return
        session = client.current_session
        if session is None or session.closed or session is self._session:
            self._failed("Slack gave no working connection")
            return
        if not first:
            self.watchdog_reconnects += 1
        self._new_session(session)
        self._up()

    async def _acquire_briefly(self, lock: asyncio.Lock) -> bool:
        try:
            async with asyncio.timeout(self.limits.connect_seconds / 4):
                await lock.acquire()
        except TimeoutError:
            return False
        return True

    def _failed(self, error: str) -> None:
        self.failures_in_a_row += 1
        self.last_error = error
        log.error(
            "socket.reconnect_failed",
            extra={"error": error, "failures_in_a_row": self.failures_in_a_row},
        )

    def healthy(self) -> bool:
        """Connected, or down only briefly; and the watchdog not failing again and again."""
        down_for = 0.0 if self.connected else self._now() - self._since
        return (
            down_for <= self.limits.red_after_seconds
            and self.failures_in_a_row < ALARM_AFTER_FAILURES
        )

    def report(self) -> dict[str, Any]:
        """``/healthz``'s ``socket``: the state, since when, and how the link has fared."""
        report: dict[str, Any] = {
            "state": "connected" if self.connected else "disconnected",
            "since": _iso(self._since),
            "connections": self.connections,
            "reconnects": self.reconnects,
            "watchdog_reconnects": self.watchdog_reconnects,
            "failures_in_a_row": self.failures_in_a_row,
            "ok": self.healthy(),
        }
        if self.last_error is not None:
            report["last_error"] = self.last_error
        if self.failures_in_a_row >= ALARM_AFTER_FAILURES:
            report["alarm"] = (
                f"the Socket Mode watchdog failed {self.failures_in_a_row} times in a row: "
                f"{self.last_error}"
            )
        return report
