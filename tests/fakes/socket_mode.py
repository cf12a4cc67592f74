"""A fake Slack Socket Mode server: an aiohttp WebSocket endpoint on a random port.

It speaks Slack's protocol as the bot's Socket Mode client meets it:

* on connect it says ``hello`` (``num_connections``, ``connection_info.app_id``);
* ``request(kind, payload)`` sends an envelope (``slash_commands``, ``interactive``,
  ``events_api``) with a fresh ``envelope_id`` and returns the client's ack
  (``{"envelope_id", "payload"?}``), which the bot must send within Slack's 3 s;
* it answers the client's pings with pongs, as Slack does, unless ``freeze()``: then
  the connection stays open and says nothing (the stale link of python-slack-sdk
  #1110/#1446/#1922) (those opened later behave);
* ``drop()`` closes the live connections mid-run, as Slack does when it moves a
  connection (the client must call ``apps.connections.open`` again);
* ``connections`` counts every WebSocket ever opened; ``open_connections`` the live ones.

Attach it to a :class:`tests.fakes.slack.FakeSlack` with ``fake_slack.socket_url =
socket.url``: ``apps.connections.open`` then answers that URL (outages apply to it like
to any method).
"""

from __future__ import annotations

import asyncio
import itertools
import json
from typing import Any, Self

from aiohttp import WSMsgType, web

from tests.fakes.slack import APP_ID, TEAM_ID
from tests.fakes.waiting import PATIENCE, wait_until

ENVELOPE_KINDS = ("slash_commands", "interactive", "events_api")


def slash_command_payload(text: str, *, user_id: str, channel_id: str) -> dict[str, Any]:
    """What a ``slash_commands`` envelope carries: the slash command's fields, as a dict."""
    return {
        "token": "legacy-verification-token",
        "team_id": TEAM_ID,
        "team_domain": "fake",
        "channel_id": channel_id,
        "channel_name": "jail-ops",
        "user_id": user_id,
        "user_name": "officer",
        "command": "/wso",
        "text": text,
        "api_app_id": APP_ID,
        "is_enterprise_install": "false",
        "response_url": "https://hooks.slack.com/commands/T0FAKE/1/abc",
        "trigger_id": "1.2.abc",
    }


class FakeSocketMode:
    """Slack's end of Socket Mode, for one app; ``async with FakeSocketMode() as socket:``."""

    def __init__(self) -> None:
        self.connections = 0
        self._frozen: set[int] = set()  # id() of the connections that say nothing
        self.received: list[dict[str, Any]] = []  # every text frame the client sent, parsed
        self._live: list[web.WebSocketResponse] = []
        self._acks: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._ids = itertools.count(1)
        self._changed = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._port = 0

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self._port}/link/?ticket=fake"

    @property
    def open_connections(self) -> int:
        return sum(1 for ws in self._live if not ws.closed)

    async def __aenter__(self) -> Self:
        app = web.Application()
        app.router.add_get("/link/", self._link)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self._port = int(self._runner.addresses[0][1])
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.drop()
        if self._runner is not None:
            await self._runner.cleanup()

    # ------------------------------------------------------------------ the test's side

    async def request(
        self,
        kind: str,
        payload: dict[str, Any],
        *,
        timeout: float = PATIENCE,  # noqa: ASYNC109 - a test's patience
    ) -> dict[str, Any]:
        """Send an envelope on the newest live connection; return the client's ack."""
        assert kind in ENVELOPE_KINDS, kind
        await self.wait_for_connections(self.connections or 1)
        live = [ws for ws in self._live if not ws.closed]
        assert live, "no live Socket Mode connection to send on"
        envelope_id = f"env-{next(self._ids)}"
        ack: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._acks[envelope_id] = ack
        envelope = {
            "envelope_id": envelope_id,
            "type": kind,
            "payload": payload,
            "accepts_response_payload": kind != "events_api",
            "retry_attempt": 0,
            "retry_reason": "",
        }
        await live[-1].send_str(json.dumps(envelope))
        return await asyncio.wait_for(ack, timeout)

    async def command(self, text: str, *, user_id: str, channel_id: str) -> dict[str, Any]:
        """``/wso <text>`` as a ``slash_commands`` envelope; returns the ack."""
        payload = slash_command_payload(text, user_id=user_id, channel_id=channel_id)
        return await self.request("slash_commands", payload)

    async def drop(self) -> None:
        """Close every live connection (a CLOSE frame, as Slack sends when it moves one)."""
        for ws in list(self._live):
            if not ws.closed:
                await ws.close(code=1001, message=b"going away")
        self._notify()

    def freeze(self) -> None:
        """Keep the live connections open but answer nothing on them: no pongs, no acks
        read. Connections opened later behave."""
        self._frozen.update(id(ws) for ws in self._live)

    async def wait_for_connections(self, count: int, *, timeout: float = PATIENCE) -> None:  # noqa: ASYNC109
        """Until at least ``count`` WebSockets were opened and one of them is live."""
        await wait_until(
            lambda: self.connections >= count and self.open_connections > 0,
            what=f">= {count} Socket Mode connections (have {self.connections})",
            timeout=timeout,
            changed=lambda: self._changed,
        )

    # ------------------------------------------------------------------ Slack's side

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def _link(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=False)
        await ws.prepare(request)
        self.connections += 1
        self._live.append(ws)
        hello = {
            "type": "hello",
            "num_connections": self.open_connections,
            "debug_info": {"host": "applink-fake", "approximate_connection_time": 18060},
            "connection_info": {"app_id": APP_ID},
        }
        await ws.send_str(json.dumps(hello))
        self._notify()
        try:
            async for message in ws:
                if id(ws) in self._frozen:
                    continue
                if message.type == WSMsgType.PING:
                    await ws.pong(message.data)
                elif message.type == WSMsgType.TEXT:
                    self._received(json.loads(message.data))
        finally:
            self._live.remove(ws)
            self._frozen.discard(id(ws))
            self._notify()
        return ws

    def _received(self, frame: dict[str, Any]) -> None:
        self.received.append(frame)
        ack = self._acks.pop(str(frame.get("envelope_id")), None)
        if ack is not None and not ack.done():
            ack.set_result(frame)
        self._notify()
