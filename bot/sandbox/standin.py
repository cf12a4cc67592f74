"""The Slack stand-in, served in-process: the bot reaches it over HTTP at ``api_url``.

The bot's Web API clients are pointed at it through the same setting as the test suite's
fake Slack (``SLACK_API_URL``), so nothing in the bot knows it is not Slack. It listens on
a free loopback port, answers from a ``SlackWorkspace``, posts scheduled messages when the
sandbox's clock passes their time (as Slack would, even with the bot dead), and tells
``on_change`` listeners whenever something a person would see has changed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aiohttp import web

from bot.sandbox.slack_wire import SlackError, read_payload
from bot.sandbox.workspace import SlackWorkspace
from bot.services.clock import Clock

log = logging.getLogger("wso.sandbox")

# Methods that change nothing a person sees: no redraw after them.
_READ_ONLY = frozenset(
    {
        "api.test",
        "auth.test",
        "users.info",
        "usergroups.list",
        "usergroups.users.list",
        "conversations.history",
        "conversations.replies",
        "conversations.open",
        "chat.scheduledMessages.list",
    }
)
# A scheduled message is posted once it has been due this long in real seconds: after a
# jump in time, the bot gets the moment Slack would give it to delete its own backup.
SCHEDULED_GRACE_SECONDS = 2.0
FIRING_INTERVAL_SECONDS = 0.5


class SlackStandIn:
    """An in-memory Slack workspace behind a loopback HTTP server, on the sandbox's clock."""

    def __init__(self, clock: Clock, token: str, saved_file: Path | None = None) -> None:
        self.clock = clock
        # The workspace is written here after each change and read back at start, so the
        # bot's messages are still there when the sandbox (and its database) comes back.
        self._saved_file = saved_file
        self.workspace = SlackWorkspace(wall_time=lambda: clock.now().timestamp())
        self._token = token
        self._listeners: list[Callable[[], None]] = []
        self._runner: web.AppRunner | None = None
        self._firing: asyncio.Task[None] | None = None
        self._due_since: dict[str, float] = {}
        self.port = 0

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/"

    def on_change(self, listener: Callable[[], None]) -> None:
        self._listeners.append(listener)

    def changed(self) -> None:
        self._save()
        for listener in list(self._listeners):
            listener()

    def _save(self) -> None:
        if self._saved_file is None:
            return
        try:
            temporary = self._saved_file.with_suffix(".tmp")
            temporary.write_text(json.dumps(self.workspace.saved()))
            temporary.replace(self._saved_file)
        except OSError as error:  # the sandbox carries on; only a restart would lose it
            log.warning("sandbox.workspace_not_saved", extra={"error": str(error)})

    def _load(self) -> None:
        if self._saved_file is None or not self._saved_file.exists():
            return
        try:
            self.workspace.restore(json.loads(self._saved_file.read_text()))
        except (OSError, ValueError, TypeError, KeyError) as error:
            log.warning("sandbox.workspace_unreadable", extra={"error": str(error)})

    async def start(self) -> None:
        self._load()
        app = web.Application(client_max_size=16 * 1024 * 1024)
        app.router.add_route("*", "/api/{method}", self._api)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        sockets = getattr(site._server, "sockets", None) or []
        self.port = int(sockets[0].getsockname()[1])
        self._firing = asyncio.create_task(self._fire_scheduled_forever())

    async def stop(self) -> None:
        if self._firing is not None:
            self._firing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._firing
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        try:
            payload = await read_payload(request)
        except ValueError:
            return _answer({"ok": False, "error": "invalid_form_data"})
        if not self._authorized(request, payload, method):
            return _answer({"ok": False, "error": "invalid_auth"})
        try:
            result = self.workspace.call(method, payload)
        except SlackError as refusal:
            return _answer({"ok": False, "error": refusal.error}, refusal.status)
        if method not in _READ_ONLY:
            self.changed()
        return _answer(result)

    def _authorized(self, request: web.Request, payload: dict[str, Any], method: str) -> bool:
        header = request.headers.get("Authorization", "")
        given = header[7:].strip() if header.lower().startswith("bearer ") else ""
        given = given or str(payload.get("token") or "")
        return given == self._token

    async def _fire_scheduled_forever(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(FIRING_INTERVAL_SECONDS)
            try:
                now = self.clock.now().timestamp()
                due = [s for s in self.workspace.scheduled() if s["post_at"] <= now]
                for item in due:
                    self._due_since.setdefault(item["id"], loop.time())
                ripe = max(
                    (
                        s["post_at"]
                        for s in due
                        if loop.time() - self._due_since[s["id"]] >= SCHEDULED_GRACE_SECONDS
                    ),
                    default=None,
                )
                if ripe is not None and self.workspace.fire_scheduled(int(ripe)):
                    self.changed()
                pending = {s["id"] for s in self.workspace.scheduled()}
                self._due_since = {k: v for k, v in self._due_since.items() if k in pending}
            except Exception:  # a bug here must not stop Slack's side of the sandbox
                log.exception("sandbox.scheduled_firing_failed")


def _answer(body: dict[str, Any], status: int = 200) -> web.Response:
    return web.Response(
        text=json.dumps(body), status=status, content_type="application/json", charset="utf-8"
    )
