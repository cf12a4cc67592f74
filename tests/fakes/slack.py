"""A fake Slack Web API for tests, benchmarks and trying the bot by hand.

The server is an aiohttp app bound to ``127.0.0.1`` on a random free port. Point a
``slack_sdk`` client at it with ``AsyncWebClient(token=..., base_url=fake.api_url)``.

Every request is recorded (method, merged payload, headers, status, response), and
faults can be injected per method (429 / 5xx / ``{"ok": false}``), per channel, or
globally (``set_down``). Channel history is kept in memory so that reconciliation
code using ``conversations.history`` sees what the bot posted. The server, the
recording, the waiting and the outages are the base every fake shares
(``tests.fakes.server``); this module adds what is Slack's.

Outages (``outage()``) answer the way Slack and its edge proxy do during an
incident, for every method or some, for one channel or all, for a number of
calls (``times=``) or a while (``seconds=``, on the fake's ``wall_time``), until
``Outage.end()``. The answer is an ``Answer``, in any shape: a JSON error with any
status, ``text/plain`` (``upstream connect error …``), an HTML page, an empty
body, invalid JSON under ``application/json``, a non-JSON 200, ``"ok": false``,
a redirect, a 429 with or without ``Retry-After``, a raw answer with any status,
content type, bytes and delay, a hang (no answer until the outage ends), or a
reset (the connection is dropped). ``answer.after_posting()`` carries the call
out first (a post lands in history) and then answers so: the "may have posted"
cases. ``ANSWER_SHAPES`` names one of each. Connections refused and names that
do not resolve are not the fake's to give: point a client at a closed port or a
``.invalid`` host for those.

The workspace itself (messages, history, scheduling, views, users, user groups) is the
sandbox's Slack stand-in, ``bot.sandbox.workspace.SlackWorkspace``; this fake serves it over
HTTP and adds what only tests need: recording and faults. How requests are read is in
``bot.sandbox.slack_wire``.

CLI: ``python -m tests.fakes.slack [--port N] [--token T] [--latency S]`` prints
``SLACK_API_URL=...`` and then one JSON line per call.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from bot.sandbox.slack_wire import (
    APP_ID,
    BOT_ID,
    BOT_USER_ID,
    TEAM_ID,
    SlackError,
    read_payload,
)
from bot.sandbox.workspace import SCHEDULE_WINDOW, SCHEDULED_PER_WINDOW, SlackWorkspace
from tests.fakes.server import (
    Answer,
    HttpCall,
    Outage,
    Rank,
    RecordedServer,
    Reply,
    Scope,
)

__all__ = [
    "ANSWER_SHAPES",
    "APP_ID",
    "BOT_ID",
    "BOT_USER_ID",
    "SCHEDULED_PER_WINDOW",
    "SCHEDULE_WINDOW",
    "TEAM_ID",
    "Answer",
    "FakeSlack",
    "Outage",
    "RecordedCall",
]


@dataclass(kw_only=True)
class RecordedCall(HttpCall):
    """One Web API call: the method and its payload, merged from query, body and form."""

    method: str
    payload: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == 200 and bool(self.response.get("ok"))

    def summary(self) -> str:
        bits = [f"{self.method} -> {self.status}"]
        if self.response.get("error"):
            bits.append(f"error={self.response['error']}")
        if "channel" in self.payload:
            bits.append(f"channel={self.payload['channel']}")
        text = self.payload.get("text")
        if isinstance(text, str) and text:
            bits.append(f"text={text[:60]!r}")
        return " ".join(bits)


# One of each shape the bot must classify, by name (tests run tables over these).
ANSWER_SHAPES: dict[str, Answer] = {
    "json_500": Answer.json_error(500, "internal_error"),
    "json_503_fatal": Answer.json_error(503, "fatal_error"),
    "json_400": Answer.json_error(400, "invalid_arguments"),
    "json_404_unknown_method": Answer.json_error(404, "unknown_method"),
    "plain_503": Answer.plain_text(503),
    "plain_502": Answer.plain_text(502, "Bad Gateway"),
    "plain_200": Answer.plain_text(200, "ok"),
    "html_502": Answer.html(502),
    "html_200": Answer.html(200),
    "empty_503": Answer.empty(503),
    "empty_200": Answer.empty(200),
    "invalid_json_200": Answer.invalid_json(200),
    "invalid_json_503": Answer.invalid_json(503),
    "json_list_200": Answer.raw(200, "application/json", b"[1, 2]"),
    "ok_false": Answer.not_ok("channel_not_found"),
    "ok_false_odd_error": Answer.not_ok("<!channel> " * 20),
    "redirect_302": Answer.redirect(302),
    "redirect_307": Answer.redirect(307),
    "ratelimited_retry_after": Answer.ratelimited("7"),
    "ratelimited_no_retry_after": Answer.ratelimited(None),
    "ratelimited_retry_after_inf": Answer.ratelimited("inf"),
    "ratelimited_retry_after_huge": Answer.ratelimited("3600"),
    "hang": Answer.hang(),
    "reset": Answer.reset(),
    "plain_503_after_posting": Answer.plain_text(503).after_posting(),
    "html_200_after_posting": Answer.html(200).after_posting(),
    "reset_after_posting": Answer.reset().after_posting(),
    "hang_after_posting": Answer.hang().after_posting(),
}


class FakeSlack(RecordedServer[RecordedCall]):
    """In-memory fake of the Slack Web API served over real HTTP.

    Use as ``async with FakeSlack() as fake:`` or call ``start()`` / ``stop()``.
    ``keep_calls`` keeps only the last that many calls (a fake under load for minutes);
    ``posts()`` and ``calls_to()`` then see only those.
    """

    client_max_size = 16 * 1024 * 1024

    def __init__(
        self,
        *,
        token: str | None = None,
        latency: float = 0.0,
        wall_time: Callable[[], float] = time.time,
        keep_calls: int | None = None,
    ) -> None:
        # Slack stamps messages (ts) by its own clock; tests on a fake clock share it here.
        super().__init__(wall_time=wall_time, latency=latency, keep_calls=keep_calls)
        self.token = token
        self.workspace = SlackWorkspace(wall_time)
        # Socket Mode: apps.connections.open answers ``workspace.socket_url`` (a
        # FakeSocketMode's) to a caller holding ``app_token`` (any xapp- token when None).
        self.app_token: str | None = None
        self._channel_faults: dict[str, Outage] = {}
        self._down: Outage | None = None

    @property
    def usergroups(self) -> dict[str, list[str]]:
        return self.workspace.usergroups

    @property
    def users(self) -> dict[str, dict[str, Any]]:
        """Per-user overrides merged into the users.info answer."""
        return self.workspace.users

    @property
    def views(self) -> dict[str, dict[str, Any]]:
        """Views by id, as stored by views.publish/open/update."""
        return self.workspace.views

    @property
    def socket_url(self) -> str | None:
        return self.workspace.socket_url

    @socket_url.setter
    def socket_url(self, url: str | None) -> None:
        self.workspace.socket_url = url

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api/"

    # ------------------------------------------------------------------ inspection

    def calls_to(self, method: str) -> list[RecordedCall]:
        return [c for c in self.calls if c.method == method]

    def posts(self, channel: str | None = None) -> list[dict[str, Any]]:
        """Payloads of successful chat.postMessage calls, optionally for one channel."""
        out: list[dict[str, Any]] = []
        for call in self.calls:
            if call.method != "chat.postMessage" or not call.ok:
                continue
            if channel is not None and channel not in (
                call.payload.get("channel"),
                call.response.get("channel"),
            ):
                continue
            out.append(call.payload)
        return out

    def messages(self, channel: str) -> list[dict[str, Any]]:
        """Stored history of ``channel`` oldest first (copies), including thread replies."""
        return self.workspace.messages(channel)

    def scheduled(self, channel: str | None = None) -> list[dict[str, Any]]:
        """Pending scheduled messages in the chat.scheduledMessages.list shape."""
        return self.workspace.scheduled(channel)

    # ------------------------------------------------------------------ faults

    def fail_next(
        self,
        method: str,
        *,
        status: int = 429,
        times: int = 1,
        retry_after: int | None = None,
        error: str | None = None,
    ) -> None:
        """Make the next ``times`` calls of ``method`` fail.

        429 -> ``ratelimited`` + ``Retry-After`` (default 1); 5xx -> ``error`` or
        ``internal_error``; 200 -> ``{"ok": false, "error": error}`` (error required).
        Faults queued for the same method are used in order.
        """
        if status == 429:
            err = error or "ratelimited"
            retry_after = 1 if retry_after is None else retry_after
        elif status >= 500:
            err = error or "internal_error"
        elif status == 200:
            if not error:
                raise ValueError("status 200 faults need an error, e.g. 'channel_not_found'")
            err = error
        else:
            err = error or "invalid_request"
        wait = str(retry_after) if retry_after is not None else None
        answer = Answer.json_error(status, err, wait)
        self.outage(answer, methods=[method], times=times, rank=Rank.QUEUED)

    def fail_channel(
        self,
        channel: str,
        error: str,
        *,
        methods: Iterable[str] = ("chat.postMessage",),
    ) -> None:
        """Every call of ``methods`` (default chat.postMessage) to ``channel`` answers
        200 ``{"ok": false, "error": error}`` until ``clear_faults()``."""
        if channel in self._channel_faults:
            self._channel_faults.pop(channel).end()
        self._channel_faults[channel] = self.outage(
            Answer.not_ok(error), methods=methods, channel=channel, rank=Rank.STANDING
        )

    def clear_faults(self) -> None:
        self.end_outages(ranks=tuple(Rank))
        self._channel_faults.clear()
        self._down = None

    def set_down(self, down: bool) -> None:
        """While down every request gets HTTP 503."""
        if self._down is not None:
            self._down.end()
            self._down = None
        if down:
            answer = Answer.json_error(503, "service_unavailable")
            self._down = self.outage(answer, rank=Rank.DOWN)

    def reset(self) -> None:
        """Forget calls, history, scheduled messages, views and faults."""
        self.calls.clear()
        self.workspace.clear()
        self.clear_faults()

    # ------------------------------------------------------------------ waiting

    async def wait_for(
        self,
        predicate: Callable[[], bool],
        *,
        timeout: float = 5.0,  # noqa: ASYNC109 - part of the requested test API
        what: str = "condition",
    ) -> None:
        """Wait until ``predicate()`` is true (checked on every call and every 20 ms)."""
        await self.wait_until(predicate, timeout=timeout, what=what)

    async def wait_for_posts(
        self,
        count: int,
        *,
        channel: str | None = None,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> list[dict[str, Any]]:
        """Wait for at least ``count`` successful posts (in ``channel``); return them all."""
        where = f" to {channel}" if channel is not None else ""
        await self.wait_until(
            lambda: len(self.posts(channel)) >= count,
            timeout=timeout,
            what=f">= {count} successful chat.postMessage{where} (have {len(self.posts(channel))})",
        )
        return self.posts(channel)

    def describe(self, last: int = 30) -> str:
        return f"successful posts: {len(self.posts())}; {super().describe(last)}"

    # ------------------------------------------------------------------ simulation

    def fire_scheduled(self, up_to_post_at: int) -> list[dict[str, Any]]:
        """Post every scheduled message with ``post_at <= up_to_post_at``, as Slack would
        even while the bot is dead (``SlackWorkspace.fire_scheduled``)."""
        posted = self.workspace.fire_scheduled(up_to_post_at)
        if posted:
            self._notify()
        return posted

    # ------------------------------------------------------------------ HTTP

    def _paths(self) -> list[tuple[str, str]]:
        return [("*", "/api/{method}")]

    def _new_call(self, request: web.Request) -> RecordedCall:
        return RecordedCall(method=request.match_info["method"], headers=dict(request.headers))

    async def _read(self, request: web.Request, call: RecordedCall) -> None:
        try:
            call.payload = await read_payload(request)
        except Exception as error:  # malformed body: still answer like Slack does
            raise Reply(200, {"ok": False, "error": "invalid_form_data"}) from error

    def _scope(self, call: RecordedCall) -> Scope:
        """A call's channels: its ``channel``, ``users`` or ``channel_id``, and the DM."""
        channels = tuple(
            str(value)
            for key in ("channel", "users", "channel_id")
            if isinstance(value := call.payload.get(key), str) and value
        )
        return Scope(
            call.method, channels + tuple(self.workspace.resolve_channel(c) for c in channels)
        )

    async def _respond(self, request: web.Request, call: RecordedCall) -> web.StreamResponse:
        if call.method == "apps.connections.open":  # the one method an app token calls
            auth_error = self._check_app_token(request)
        else:
            auth_error = self._check_auth(request, call.payload)
        if auth_error is not None:
            return self._finish(call, 200, {"ok": False, "error": auth_error})
        return await super()._respond(request, call)

    def _carry_out(self, call: RecordedCall) -> tuple[int, dict[str, Any] | None]:
        try:
            return 200, self.workspace.call(call.method, call.payload)
        except SlackError as refusal:
            return refusal.status, {"ok": False, "error": refusal.error}

    def _check_auth(self, request: web.Request, payload: dict[str, Any]) -> str | None:
        if self.token is None:
            return None
        header = request.headers.get("Authorization", "")
        given: str | None = None
        if header.lower().startswith("bearer "):
            given = header[7:].strip()
        elif isinstance(payload.get("token"), str):
            given = payload["token"]
        if not given:
            return "not_authed"
        if given != self.token:
            return "invalid_auth"
        return None

    def _check_app_token(self, request: web.Request) -> str | None:
        header = request.headers.get("Authorization", "")
        given = header[7:].strip() if header.lower().startswith("bearer ") else ""
        if not given:
            return "not_authed"
        if not given.startswith("xapp-"):
            return "not_allowed_token_type"
        if self.app_token is not None and given != self.app_token:
            return "invalid_auth"
        return None

    # ------------------------------------------------------------------ state helpers

    def inject_message(
        self, channel: str, *, text: str, metadata: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """Put a message in channel history as if it had been posted (say, by a call whose
        answer was lost), without recording a call. Returns the stored message."""
        return self.workspace.inject_message(channel, text=text, metadata=metadata)

    def inject_scheduled(self, channel: str, *, post_at: int, text: str) -> str:
        """A scheduled message Slack holds that no recorded call made (say, a crash left it)."""
        return self.workspace.inject_scheduled(channel, post_at=post_at, text=text)

    def forget_scheduled(self) -> None:
        """Slack loses every scheduled message (deleted by hand, say)."""
        self.workspace.forget_scheduled()


# ---------------------------------------------------------------------- CLI


async def _serve(
    port: int, token: str | None, latency: float, usergroups: dict[str, list[str]]
) -> None:
    fake = FakeSlack(token=token, latency=latency)
    fake.usergroups.update(usergroups)

    def echo(call: RecordedCall) -> None:
        line = {
            "method": call.method,
            "payload": call.payload,
            "status": call.status,
            "ok": bool(call.response.get("ok")),
        }
        if call.response.get("error"):
            line["error"] = call.response["error"]
        print(json.dumps(line, default=str), flush=True)

    fake.on_call = echo
    await fake.start(port=port)
    try:
        print(f"SLACK_API_URL={fake.api_url}", flush=True)
        await asyncio.Event().wait()  # until Ctrl-C cancels us
    finally:
        await fake.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.fakes.slack", description="Run the fake Slack Web API."
    )
    parser.add_argument("--port", type=int, default=0, help="port to bind (default: random)")
    parser.add_argument("--token", default=None, help="require this bot token")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added per call")
    parser.add_argument(
        "--usergroup",
        action="append",
        default=[],
        metavar="ID=U1,U2",
        help="a user group and its members (repeatable), e.g. S0SHIFTLEADS=U0LT1,U0LT2",
    )
    args = parser.parse_args(argv)
    usergroups = {
        group.split("=", 1)[0]: [u for u in group.partition("=")[2].split(",") if u]
        for group in args.usergroup
    }
    try:
        asyncio.run(_serve(args.port, args.token, args.latency, usergroups))
    except KeyboardInterrupt:
        print("stopped", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
