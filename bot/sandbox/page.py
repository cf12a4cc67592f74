"""The sandbox page's routes, on the bot's own aiohttp app (``/sandbox…``).

``GET /sandbox`` is the page, ``/sandbox/sandbox.js`` its one script, ``/sandbox/state`` the
screen as JSON and ``/sandbox/events`` the same as Server-Sent Events, sent again on each
change. The ``POST`` routes take JSON and answer JSON; a request that cannot be carried
out gets 400 and ``{"error": …}`` saying why, with an example of a right one.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from importlib import resources
from typing import Any

from aiohttp import web

from bot.chat.preview_style import STYLESHEET
from bot.sandbox.session import SandboxInputError, SandboxSession
from bot.sandbox.travel import TimeTravelRefused

log = logging.getLogger("wso.sandbox")

# Redraws are coalesced: a burst of changes (a card update and three posts) is one event.
EVENT_COALESCE_SECONDS = 0.05
EVENT_KEEPALIVE_SECONDS = 15.0

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _static(name: str) -> str:
    return resources.files("bot.sandbox").joinpath("static", name).read_text(encoding="utf-8")


class SandboxPage:
    """Adds the page's routes to ``app``; each action goes to the ``SandboxSession``."""

    def __init__(self, session: SandboxSession) -> None:
        self.session = session
        self._html = _static("sandbox.html").replace("/*SLACK_STYLE*/", STYLESHEET)
        self._script = _static("sandbox.js")

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get("/sandbox", self._page)
        app.router.add_get("/sandbox/", self._page)
        app.router.add_get("/sandbox/sandbox.js", self._js)
        app.router.add_get("/sandbox/state", self._state)
        app.router.add_get("/sandbox/events", self._events)
        for path, action in (
            ("/sandbox/command", self._command),
            ("/sandbox/click", self._click),
            ("/sandbox/submit", self._submit),
            ("/sandbox/close", self._close),
            ("/sandbox/home", self._home),
            ("/sandbox/clock", self._clock),
        ):
            app.router.add_post(path, _answering(action))

    async def _page(self, request: web.Request) -> web.Response:
        return web.Response(text=self._html, content_type="text/html", charset="utf-8")

    async def _js(self, request: web.Request) -> web.Response:
        return web.Response(
            text=self._script, content_type="application/javascript", charset="utf-8"
        )

    async def _state(self, request: web.Request) -> web.Response:
        return web.json_response(await self.session.snapshot())

    async def _events(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
        )
        await response.prepare(request)
        self.session.viewer_arrived.set()
        seen = -1
        while True:
            if seen >= self.session.version:
                try:
                    await asyncio.wait_for(
                        self.session.wait_for_change(seen), EVENT_KEEPALIVE_SECONDS
                    )
                except TimeoutError:
                    await response.write(b": keep-alive\n\n")
                    continue
                await asyncio.sleep(EVENT_COALESCE_SECONDS)
            seen = self.session.version
            data = json.dumps(await self.session.snapshot())
            try:
                await response.write(f"event: screen\ndata: {data}\n\n".encode())
            except ConnectionError:
                return response

    async def _command(self, body: dict[str, Any]) -> dict[str, Any]:
        return await self.session.command(
            _text(body, "user"), _text(body, "channel"), _text(body, "text")
        )

    async def _click(self, body: dict[str, Any]) -> dict[str, Any]:
        return await self.session.click(
            _text(body, "user"),
            action_id=_text(body, "action_id"),
            value=str(body.get("value") or ""),
            block_id=str(body.get("block_id") or ""),
            channel_id=str(body.get("channel") or ""),
            ts=str(body.get("ts") or ""),
            view_id=str(body.get("view_id") or ""),
        )

    async def _submit(self, body: dict[str, Any]) -> dict[str, Any]:
        inputs = body.get("inputs") or []
        if not isinstance(inputs, list) or not all(isinstance(i, dict) for i in inputs):
            raise SandboxInputError('"inputs" must be a list of {block_id, action_id, value}')
        return await self.session.submit(_text(body, "user"), _text(body, "view_id"), inputs)

    async def _close(self, body: dict[str, Any]) -> dict[str, Any]:
        await self.session.close_modal(_text(body, "user"), _text(body, "view_id"))
        return {"closed": True}

    async def _home(self, body: dict[str, Any]) -> dict[str, Any]:
        await self.session.open_home(_text(body, "user"))
        return {"opened": True}

    async def _clock(self, body: dict[str, Any]) -> dict[str, Any]:
        now = await self.session.travel(
            step=str(body.get("step") or ""), to=str(body.get("to") or "")
        )
        return {"now": now.isoformat()}


def _text(body: dict[str, Any], key: str) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value.strip():
        raise SandboxInputError(f'"{key}" is missing; e.g. {{"{key}": {_EXAMPLES[key]}}}')
    return value


_EXAMPLES = {
    "user": '"U0DEMOOFF1"',
    "channel": '"C0DEMOJAIL"',
    "text": '"/wso arrest B-1 I-200"',
    "action_id": '"wso_acknowledge"',
    "view_id": '"V00000001FAKE"',
}


def _answering(action: Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]) -> Handler:
    """A POST route: JSON in, JSON out, and a clear 400 for anything it cannot do."""

    async def route(request: web.Request) -> web.StreamResponse:
        try:
            body = await request.json()
        except ValueError:
            return web.json_response({"error": "send a JSON object"}, status=400)
        if not isinstance(body, dict):
            return web.json_response({"error": "send a JSON object"}, status=400)
        try:
            return web.json_response(await action(body))
        except (SandboxInputError, TimeTravelRefused) as refusal:
            return web.json_response({"error": str(refusal)}, status=400)

    return route
