"""What the tests' fake HTTP services share: Slack's Web API, PagerDuty, a webhook receiver.

A fake is an aiohttp server on a random ``127.0.0.1`` port (``async with fake:``, or
``start()``/``stop()``) that records every call it gets (``calls``), lets a test wait
for what it expects (``wait_until``), and answers the way a service or the proxy in
front of it does when something is wrong. That is one mechanism, the ``Outage``: an
``Answer`` given instead of the service's own, for some methods or all, one channel
or any, for a number of calls (``times=``) or a while (``seconds=``, on the fake's
``wall_time``), until ``Outage.end()``. Each fake's own fault helpers (``fail_next``,
``fail_channel``, ``set_down``) are outages too, of a later rank (``Rank``).

A call goes through, in order: recorded; its body read; ``latency``; early outages
(``Rank.OUTAGE``, then ``Rank.DOWN``); the fake's own checks (say, Slack's token);
queued and standing faults; then the fake carries it out (``_carry_out``).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import socket
import time
from collections.abc import (
    AsyncIterator,
    Awaitable,
    Callable,
    Container,
    Iterable,
    MutableSequence,
)
from dataclasses import KW_ONLY, dataclass, field, replace
from enum import IntEnum
from typing import Any, Generic, Self, TypeVar

from aiohttp import web

from tests.fakes.waiting import PATIENCE, wait_until

__all__ = [
    "Answer",
    "HttpCall",
    "Outage",
    "Rank",
    "RecordedServer",
    "Reply",
    "Scope",
    "silent_server",
    "unused_port",
]

EDGE_RESET_TEXT = (
    "upstream connect error or disconnect/reset before headers. "
    "reset reason: connection termination"
)
_EDGE_HTML = (
    b"<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>"
)
# Outage answers longer than this are recorded by status only (one test sends 17 MiB).
_RECORDED_BODY_LIMIT = 64 * 1024


@dataclass(frozen=True)
class Answer:
    """One way a service, or the proxy in front of it, can answer a call.

    ``mode`` is ``respond`` (status, content type, body, after ``delay`` seconds),
    ``hang`` (no answer while the outage lasts) or ``reset`` (drop the connection).
    With ``process`` the call is carried out first (a post lands), then answered so.
    The JSON error shapes (``json_error``, ``not_ok``, ``ratelimited``) are Slack's.
    """

    mode: str = "respond"
    status: int = 200
    content_type: str | None = "application/json"
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()
    delay: float = 0.0
    process: bool = False

    @classmethod
    def json(cls, status: int, body: Any, retry_after: str | None = None) -> Answer:
        headers = (("Retry-After", retry_after),) if retry_after is not None else ()
        return cls(status=status, body=json.dumps(body).encode(), headers=headers)

    @classmethod
    def json_error(cls, status: int, error: str, retry_after: str | None = None) -> Answer:
        return cls.json(status, {"ok": False, "error": error}, retry_after)

    @classmethod
    def plain_text(cls, status: int = 503, text: str = EDGE_RESET_TEXT) -> Answer:
        return cls(status=status, content_type="text/plain", body=text.encode())

    @classmethod
    def html(cls, status: int = 502) -> Answer:
        return cls(status=status, content_type="text/html", body=_EDGE_HTML)

    @classmethod
    def empty(cls, status: int = 503, retry_after: str | None = None) -> Answer:
        headers = (("Retry-After", retry_after),) if retry_after is not None else ()
        return cls(status=status, content_type=None, body=b"", headers=headers)

    @classmethod
    def invalid_json(cls, status: int = 200) -> Answer:
        return cls(status=status, body=b'{"ok": true, "ts": ')

    @classmethod
    def not_ok(cls, error: str) -> Answer:
        return cls.json_error(200, error)

    @classmethod
    def redirect(cls, status: int = 302, location: str = "https://status.slack.com/") -> Answer:
        return cls(status=status, content_type=None, headers=(("Location", location),))

    @classmethod
    def ratelimited(cls, retry_after: str | None = "1") -> Answer:
        return cls.json_error(429, "ratelimited", retry_after)

    @classmethod
    def raw(cls, status: int, content_type: str | None, body: bytes, delay: float = 0.0) -> Answer:
        return cls(status=status, content_type=content_type, body=body, delay=delay)

    @classmethod
    def hang(cls) -> Answer:
        return cls(mode="hang")

    @classmethod
    def reset(cls) -> Answer:
        return cls(mode="reset")

    def after_posting(self) -> Answer:
        """The same answer, given after the call was carried out (a post lands)."""
        return replace(self, process=True)

    def recorded(self) -> dict[str, Any]:
        """What the fake records as this answer's response: its JSON object, if it is one."""
        if self.content_type == "application/json" and len(self.body) <= _RECORDED_BODY_LIMIT:
            try:
                parsed = json.loads(self.body)
            except ValueError:
                parsed = None
            if isinstance(parsed, dict):
                return parsed
        return {"ok": False, "error": f"outage:{self.status}"}


class Rank(IntEnum):
    """Which outages are checked first; within a rank, see ``RecordedServer.outage``."""

    OUTAGE = 0  # an incident a test describes (``outage()``): newest first
    DOWN = 1  # the whole service is down (``set_down``)
    QUEUED = 2  # the next calls fail (``fail_next``): in the order queued, after the token
    STANDING = 3  # every matching call fails until cleared (``fail_channel``)


EARLY_RANKS = frozenset({Rank.OUTAGE, Rank.DOWN})
LATE_RANKS = frozenset({Rank.QUEUED, Rank.STANDING})


@dataclass(frozen=True)
class Scope:
    """What a call asks for, for outages to match: a method, and the channels it names."""

    method: str
    channels: tuple[str, ...] = ()


@dataclass(eq=False)
class Outage:
    """An answer given instead of the service's for matching calls, until it ends."""

    answer: Answer
    _: KW_ONLY
    methods: frozenset[str] | None
    channel: str | None
    remaining: int | None
    until: float | None
    skip: int = 0
    rank: Rank = Rank.OUTAGE
    answered: int = field(default=0, init=False)
    # Answered ``times`` calls: no more, but hung ones stay hung.
    _used_up: bool = field(default=False, init=False)
    _ended: asyncio.Event = field(default_factory=asyncio.Event, init=False)

    @property
    def ended(self) -> bool:
        return self._ended.is_set()

    @property
    def used_up(self) -> bool:
        return self._used_up

    def end(self) -> None:
        """The service is well again for these calls; hung ones get their real answer now."""
        self._ended.set()

    async def wait_ended(self) -> None:
        await self._ended.wait()

    def matches(self, method: str, channels: tuple[str, ...], now: float) -> bool:
        if self.ended or self._used_up:
            return False
        if self.until is not None and now >= self.until:
            self.end()
            return False
        if self.methods is not None and method not in self.methods:
            return False
        if self.channel is not None and self.channel not in channels:
            return False
        if self.skip > 0:  # the service answers these itself; the outage starts after them
            self.skip -= 1
            return False
        return True

    def take(self) -> None:
        self.answered += 1
        if self.remaining is not None:
            self.remaining -= 1
            self._used_up = self.remaining <= 0


@dataclass(kw_only=True)
class HttpCall:
    """One request a fake received; ``status``/``response`` are filled in on reply."""

    headers: dict[str, str]
    status: int = 0  # -1: the connection was dropped (``Answer.reset``)
    response: dict[str, Any] = field(default_factory=dict)
    at: float = field(default_factory=time.monotonic)  # arrival, before any latency
    # The client's (host, port): calls over one kept-alive connection share it.
    peer: tuple[str, int] | None = None
    answered_by: Outage | None = None

    def summary(self) -> str:
        return f"-> {self.status}"


def unused_port() -> int:
    """A 127.0.0.1 port nothing listens on: free to bind, refused to connect to."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.asynccontextmanager
async def silent_server() -> AsyncIterator[str]:
    """A server that accepts connections and reads requests but never answers: its URL."""

    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.read()
        finally:
            writer.close()

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    finally:
        server.close()
        await server.wait_closed()


class Reply(Exception):
    """Raised while reading or carrying out a call: answer with this status and JSON body."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(status, body)
        self.status = status
        self.body = body


CallT = TypeVar("CallT", bound=HttpCall)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class RecordedServer(Generic[CallT]):
    """The base of every fake: lifecycle, recorded calls, waiting, outages.

    A fake says which paths it serves (``_paths``), how to record a request
    (``_new_call``, ``_read``), which method and channels a call names (``_scope``)
    and how to carry it out (``_carry_out``); ``_respond`` may add checks.
    """

    client_max_size = 1024**2

    def __init__(
        self,
        *,
        wall_time: Callable[[], float] = time.time,
        latency: float = 0.0,
        keep_calls: int | None = None,
    ) -> None:
        # The service stamps and times things by its own clock; a test on a fake clock
        # shares it here (``seconds=`` outages end on it too).
        self.wall_time = wall_time
        self.latency = latency  # seconds added to every call
        # Every call, or the last ``keep_calls`` (a fake under load for minutes).
        self.calls: MutableSequence[CallT] = (
            collections.deque(maxlen=keep_calls) if keep_calls is not None else []
        )
        # Called with every finished call (a CLI printing calls, a benchmark counting).
        self.on_call: Callable[[CallT], None] | None = None
        self._outages: list[Outage] = []  # live ones, in the order they are checked
        self._started_outages: list[Outage] = []  # ended with the fake, hung calls included
        self._control: list[tuple[str, str, Handler]] = []
        self._changed = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._port: int | None = None

    # ------------------------------------------------------------------ lifecycle

    async def start(self, *, port: int = 0) -> None:
        if self._runner is not None:
            raise RuntimeError(f"{type(self).__name__} already started")
        self._changed = asyncio.Event()
        app = web.Application(client_max_size=self.client_max_size)
        for method, path, handler in self._control:  # before the fake's own catch-all paths
            app.router.add_route(method, path, handler)
        for method, path in self._paths():
            app.router.add_route(method, path, self._serve)
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
        self.end_outages()  # hung calls answer, so the server can shut down at once
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError(f"{type(self).__name__} not started")
        return self._port

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def add_control_route(self, method: str, path: str, handler: Handler) -> None:
        """Serve ``path`` for the harness itself: never recorded, delayed or failed.

        Add before ``start()``; these paths are matched before the fake's own.
        """
        if self._runner is not None:
            raise RuntimeError("add control routes before start()")
        self._control.append((method, path, handler))

    # ------------------------------------------------------------------ waiting

    async def wait_until(
        self,
        holds: Callable[[], bool],
        *,
        timeout: float = PATIENCE,  # noqa: ASYNC109 - a test's patience, not an I/O budget
        what: str = "condition",
    ) -> None:
        """Wait until ``holds()``, checked as each call finishes (and every 20 ms)."""
        await wait_until(
            holds,
            what=what,
            timeout=timeout,
            changed=lambda: self._changed,
            describe=self.describe,
        )

    async def wait_for_calls(
        self,
        count: int,
        counted: Callable[[CallT], bool],
        *,
        timeout: float = PATIENCE,  # noqa: ASYNC109 - a test's patience, not an I/O budget
        what: str = "call",
    ) -> list[CallT]:
        """Wait for at least ``count`` calls that are ``counted``; return them all."""

        def found() -> list[CallT]:
            return [call for call in self.calls if counted(call)]

        await self.wait_until(
            lambda: len(found()) >= count,
            timeout=timeout,
            what=f"{count} {what}(s) (have {len(found())})",
        )
        return found()

    def describe(self, last: int = 30) -> str:
        """The calls so far (the last ``last``), for a failed wait's message."""
        lines = [f"{len(self.calls)} call(s) recorded"]
        shown = list(self.calls)[-last:]
        if len(self.calls) > len(shown):
            lines.append(f"  ... {len(self.calls) - len(shown)} earlier call(s) omitted")
        lines.extend(f"  {call.summary()}" for call in shown)
        return "\n".join(lines)

    # ------------------------------------------------------------------ outages

    def outage(
        self,
        answer: Answer,
        *,
        methods: Iterable[str] | None = None,
        channel: str | None = None,
        times: int | None = None,
        seconds: float | None = None,
        after: int = 0,
        rank: Rank = Rank.OUTAGE,
    ) -> Outage:
        """Answer matching calls with ``answer`` until the outage ends.

        ``methods`` (default: all) and ``channel`` (default: any; what counts as a call's
        channel is the fake's to say) select the calls; ``times`` ends it after that many
        answers, ``seconds`` after that long on ``wall_time``; ``after`` lets that many
        matching calls through first (a failure mid-way through pages). Outages of
        ``Rank.OUTAGE`` added later are checked first; faults of a later rank are used
        in the order they were added.
        """
        if times is not None and times < 1:
            raise ValueError("times must be >= 1")
        outage = Outage(
            answer,
            methods=frozenset(methods) if methods is not None else None,
            channel=channel,
            remaining=times,
            until=self.wall_time() + seconds if seconds is not None else None,
            skip=after,
            rank=rank,
        )
        if rank is Rank.OUTAGE:
            position = 0  # the lowest rank, newest first
        else:
            position = next(
                (i for i, o in enumerate(self._outages) if o.rank > rank), len(self._outages)
            )
        self._outages.insert(position, outage)
        self._started_outages.append(outage)
        return outage

    def end_outages(self, ranks: Container[Rank] = (Rank.OUTAGE,)) -> None:
        """End the outages of these ranks (by default those ``outage()`` started)."""
        for outage in self._started_outages:
            if outage.rank in ranks:
                outage.end()
        self._outages = [o for o in self._outages if not o.ended]
        self._started_outages = [o for o in self._started_outages if not o.ended]

    def _take_outage(self, call: CallT, ranks: Container[Rank]) -> Outage | None:
        scope = self._scope(call)
        now = self.wall_time()
        self._outages = [o for o in self._outages if not (o.ended or o.used_up)]
        for outage in self._outages:
            if outage.rank in ranks and outage.matches(scope.method, scope.channels, now):
                outage.take()
                return outage
        return None

    # ------------------------------------------------------------------ HTTP

    async def _serve(self, request: web.Request) -> web.StreamResponse:
        call = self._new_call(request)
        if request.transport is not None:
            peer = request.transport.get_extra_info("peername")
            call.peer = (str(peer[0]), int(peer[1])) if peer else None
        self.calls.append(call)
        try:
            await self._read(request, call)
        except Reply as reply:  # a malformed request: answered as the service would
            return self._finish(call, reply.status, reply.body)
        if self.latency > 0:
            await asyncio.sleep(self.latency)
        outage = self._take_outage(call, EARLY_RANKS)
        if outage is not None:
            return await self._answer(outage, request, call)
        return await self._respond(request, call)

    async def _respond(self, request: web.Request, call: CallT) -> web.StreamResponse:
        """After the early outages: queued and standing faults, then the call itself."""
        outage = self._take_outage(call, LATE_RANKS)
        if outage is not None:
            return await self._answer(outage, request, call)
        return self._finish(call, *self._carry_out(call))

    async def _answer(
        self, outage: Outage, request: web.Request, call: CallT
    ) -> web.StreamResponse:
        answer = outage.answer
        call.answered_by = outage
        if answer.process:
            self._carry_out(call)  # it happened; the answer will say otherwise
        if answer.delay > 0:
            await asyncio.sleep(answer.delay)
        if answer.mode == "hang":
            await outage.wait_ended()
        if answer.mode == "reset" or (answer.mode == "hang" and request.transport is None):
            if request.transport is not None:
                request.transport.abort()
            self._record(call, -1, {})
            return web.Response(status=500)  # never sent: the connection is gone
        if answer.mode == "hang":
            # The outage ended while the call hung: answer it as the service would have.
            self._record(call, 504, {"ok": False, "error": "hung until the outage ended"})
            return web.Response(status=504, text="upstream request timeout")
        self._record(call, answer.status, answer.recorded())
        response = web.Response(status=answer.status, body=answer.body)
        if answer.content_type is not None:
            response.content_type = answer.content_type
        for name, value in answer.headers:
            response.headers[name] = value
        return response

    def _finish(
        self,
        call: CallT,
        status: int,
        body: dict[str, Any] | None,
        headers: dict[str, str] | None = None,
    ) -> web.Response:
        """Record the answer and give it: JSON, or no body at all for ``None``."""
        self._record(call, status, body or {})
        if body is None:
            return web.Response(status=status, headers=headers)
        return web.json_response(body, status=status, headers=headers)

    def _record(self, call: CallT, status: int, response: dict[str, Any]) -> None:
        call.status = status
        call.response = response
        self._notify()
        if self.on_call is not None:
            self.on_call(call)

    def _notify(self) -> None:
        """Something changed: wake every ``wait_until``."""
        event, self._changed = self._changed, asyncio.Event()
        event.set()

    # ------------------------------------------------------------------ the fake's part

    def _paths(self) -> list[tuple[str, str]]:
        raise NotImplementedError

    def _new_call(self, request: web.Request) -> CallT:
        raise NotImplementedError

    async def _read(self, request: web.Request, call: CallT) -> None:
        """Fill in the call from the request's body; raise ``Reply`` if it is malformed."""

    def _scope(self, call: CallT) -> Scope:
        raise NotImplementedError

    def _carry_out(self, call: CallT) -> tuple[int, dict[str, Any] | None]:
        """Do what the call asks; return the status and JSON body (``None``: no body)."""
        raise NotImplementedError
