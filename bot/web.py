"""The HTTP face: ``POST /slack/events`` (Bolt), ``GET /healthz`` and ``GET /metrics``.

Anyone on the internet can open a connection to ``/slack/events``, so nothing scarce is
given to a request before it proves it came from Slack. Its whole body is read first,
within ``body_seconds`` and at most ``max_body_bytes`` (Slack's bodies are a few KB); then
its signature is checked (``bot.chat.signature``). Only then does it take one of the
``concurrent`` slots and reach Bolt, which checks the signature again (it is cheap, and a
second lock in case this one is ever loosened). A client that sends headers and then
waits therefore holds a connection for ``body_seconds`` at most, and no slot at all.

Before the handler runs, aiohttp reads the request line and headers itself: at most 128
headers of 8,190 bytes each (its limits, answered with 400, logged quietly here), and a
connection that has not completed a request ``keepalive_seconds`` after it opened or after
its last answer is closed (aiohttp's own default is an hour).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp

from bot.chat.signature import SIGNATURE_HEADER, TIMESTAMP_HEADER, signature_refusal
from bot.ops.metrics import Metrics

log = logging.getLogger("wso.web")
# aiohttp's own log of connections it refuses or fails (``logger=`` of its server).
server_log = logging.getLogger("wso.web.server")

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
# A whole request body must arrive this soon after its headers; Slack sends it at once.
BODY_DEADLINE_SECONDS = 5.0
# Slack's request bodies are a few KB (a modal's state, a message's blocks at most ~200 KB).
MAX_BODY_BYTES = 1024 * 1024
# Verified Slack requests worked on at once; the rest wait, parked (see ``_slack_events``).
MAX_CONCURRENT_REQUESTS = 32
# Longer than the idle timeout of the usual proxies in front (nginx, AWS ALB: 60 s), so the
# bot never closes a kept-alive connection just as the proxy reuses it.
KEEPALIVE_SECONDS = 75.0
# After a 408 or 413 the rest of the body is read and discarded this long at most, so that
# the client can read the answer before the connection is closed.
LINGER_SECONDS = 2.0

HealthReport = Callable[[], Awaitable[dict[str, Any]]]
# A slash command's form fields -> the ack's JSON body, or None for Bolt to handle it.
CommandAnswerer = Callable[[Mapping[str, str]], Awaitable[dict[str, Any] | None]]


@dataclass(frozen=True)
class RequestLimits:
    """What a client may cost the server before (and after) it proves it is Slack."""

    body_seconds: float = BODY_DEADLINE_SECONDS
    max_body_bytes: int = MAX_BODY_BYTES
    concurrent: int = MAX_CONCURRENT_REQUESTS
    keepalive_seconds: float = KEEPALIVE_SECONDS
    linger_seconds: float = LINGER_SECONDS


_OBJECT_FIELDS = ("user", "team", "channel", "container", "message", "view", "enterprise", "event")


def is_well_formed(body: object) -> bool:
    """The shapes Bolt assumes without checking; anything else would make it answer 500."""
    if not isinstance(body, dict):
        return False
    if any(key in body and not isinstance(body[key], dict) for key in _OBJECT_FIELDS):
        return False
    kind = body.get("type")
    if kind == "url_verification":
        return isinstance(body.get("challenge"), str)
    if kind == "event_callback":
        event = body.get("event")
        return isinstance(event, dict) and isinstance(event.get("type"), str)
    if kind == "block_actions":
        actions = body.get("actions")
        return (
            isinstance(actions, list)
            and bool(actions)
            and all(isinstance(a, dict) and isinstance(a.get("action_id"), str) for a in actions)
        )
    return kind is None or isinstance(kind, str)


class QuietClientErrors(logging.Filter):
    """aiohttp logs every unparseable request (too many headers, a line over 8,190 bytes)
    as an error with a traceback: anyone could fill the log with them. Those become one
    info line naming the error; a failure of the bot's own code stays an error.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if not isinstance(error, HttpProcessingError) or record.levelno <= logging.INFO:
            return True
        record.msg, record.args = "request.unparseable", ()
        record.levelno, record.levelname = logging.INFO, logging.getLevelName(logging.INFO)
        record.exc_info = record.exc_text = None
        record.error = type(error).__name__
        record.status = error.code
        return server_log.isEnabledFor(logging.INFO)


server_log.addFilter(QuietClientErrors())


def _refused(status: int, error: str, *, close: bool = False) -> web.Response:
    response = web.json_response({"error": error}, status=status)
    if close:  # the body was not read to its end: the connection cannot carry another request
        response.force_close()
    return response


class WebFace:
    """The aiohttp application and its listening socket."""

    def __init__(
        self,
        bolt_app: AsyncApp,
        signing_secret: str | None,
        health: HealthReport,
        metrics: Metrics,
        *,
        limits: RequestLimits | None = None,
        wall_clock: Callable[[], float] = time.time,
        commands: CommandAnswerer | None = None,
    ) -> None:
        self._bolt_app = bolt_app
        self._commands = commands
        self._signing_secret = (signing_secret or "").encode()
        self._health = health
        self._metrics = metrics
        self.limits = limits or RequestLimits()
        self._wall_clock = wall_clock
        self._slots = asyncio.Semaphore(self.limits.concurrent)
        self.app = web.Application(client_max_size=self.limits.max_body_bytes)
        if signing_secret is not None:  # None: Socket Mode, where Slack never calls in
            self.app.router.add_post("/slack/events", self._slack_events)
        self.app.router.add_get("/healthz", self._healthz)
        self.app.router.add_get("/metrics", self._metrics_page)
        self._runner: web.AppRunner | None = None

    async def start(self, host: str, port: int) -> int:
        """Listen on ``host:port``; returns the bound port (useful when ``port`` is 0)."""
        self._runner = web.AppRunner(
            self.app,
            access_log=None,
            logger=server_log,
            keepalive_timeout=self.limits.keepalive_seconds,
            lingering_time=self.limits.linger_seconds,
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        sockets = getattr(site._server, "sockets", None) or []
        return int(sockets[0].getsockname()[1]) if sockets else port

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _slack_events(self, request: web.Request) -> web.Response:
        body = await self._read_body(request)
        if isinstance(body, web.Response):
            return body
        refusal = signature_refusal(
            self._signing_secret,
            request.headers.get(TIMESTAMP_HEADER),
            request.headers.get(SIGNATURE_HEADER),
            body,
            self._wall_clock(),
        )
        if refusal is not None:
            # Quiet: anyone can send these. A wrong SLACK_SIGNING_SECRET shows up here too.
            log.info("request.unauthenticated", extra={"reason": refusal.value})
            return _refused(401, "invalid request")
        # Requests beyond the first few wait here, parked, instead of each taking a
        # share of every turn of the event loop: under a burst, the dispatcher's turns
        # come round quickly enough to post due notices on time.
        async with self._slots:
            return await self._dispatch(request)

    async def _read_body(self, request: web.Request) -> bytes | web.Response:
        """The whole body within the deadline and the size cap, or the answer refusing it."""
        limits = self.limits
        if request.content_length is not None and request.content_length > limits.max_body_bytes:
            log.info("request.too_large", extra={"content_length": request.content_length})
            return _refused(413, "request body too large", close=True)
        try:
            async with asyncio.timeout(limits.body_seconds):
                return await request.read()
        except TimeoutError:
            log.info("request.body_timeout", extra={"seconds": limits.body_seconds})
            return _refused(408, "request body not received in time", close=True)
        except web.HTTPRequestEntityTooLarge:  # no Content-Length (chunked), over the cap
            log.info("request.too_large", extra={"content_length": None})
            return _refused(413, "request body too large", close=True)
        except (HttpProcessingError, ConnectionError) as error:  # bad chunking; client gone
            log.info("request.body_unreadable", extra={"error": type(error).__name__})
            return _refused(400, "request body unreadable", close=True)

    async def _dispatch(self, request: web.Request) -> web.Response:
        fast = await self._answer_command(request)
        if fast is not None:
            self._metrics.slack_requests.labels(path="direct").inc()
            return fast
        self._metrics.slack_requests.labels(path="bolt").inc()
        try:
            bolt_request = await to_bolt_request(request)  # reads the body aiohttp kept
        except (ValueError, TypeError, AttributeError):  # Bolt parses the body up front and
            # assumes an object; malformed or non-object JSON is the sender's fault
            bolt_request = None
        if bolt_request is None or not is_well_formed(bolt_request.body):
            log.warning("request.malformed", extra={"path": request.path})
            return web.json_response({"error": "malformed request body"}, status=400)
        return await to_aiohttp_response(await self._bolt_app.async_dispatch(bolt_request))

    async def _answer_command(self, request: web.Request) -> web.Response | None:
        """A slash command answered without Bolt, or None to let Bolt dispatch the request.

        The signature was checked before the slot was taken (``_slack_events``); Bolt's
        dispatch (its middleware chain and the 10 ms poll for the ack) is the cost skipped.
        """
        if self._commands is None or request.content_type != FORM_CONTENT_TYPE:
            return None
        fields = parse_qs((await request.read()).decode("utf-8", "replace"))
        if "payload" in fields or "command" not in fields:
            return None
        command = {name: values[0] for name, values in fields.items()}
        body = await self._commands(command)
        return None if body is None else web.json_response(body)

    async def _healthz(self, request: web.Request) -> web.Response:
        report = await self._health()
        return web.json_response(report, status=200 if report["ok"] else 503)

    async def _metrics_page(self, request: web.Request) -> web.Response:
        report = await self._health()
        body = self._metrics.render(
            open_custodies=int(report.get("open_custodies", 0)),
            lag_seconds=float(report.get("lag_seconds", 0.0)),
            undeliverable=int(report.get("undeliverable_notices", 0)),
        )
        return web.Response(body=body, content_type="text/plain", charset="utf-8")
