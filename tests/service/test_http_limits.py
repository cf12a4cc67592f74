"""What a client that is not Slack can cost ``POST /slack/events``, through real sockets.

A client without the signing secret may send headers and then wait, send a body slowly or
never, send too much, send headers no parser expects, or leave mid-body. None of it may keep
a signed command or a button click from being answered, and none of it may answer 500.
Raw connections (``asyncio.open_connection``) send exactly the bytes a hostile client would;
signed requests go through ``SignedSlackClient`` as Slack's do.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from bot.app import WsoService
from bot.chat.slack import ActionId
from bot.config import Config
from bot.services.clock import FakeClock
from bot.web import RequestLimits
from tests.conftest import JAIL, OFFICER, SIGNING_SECRET, make_settings
from tests.fakes.signed_requests import SignedSlackClient, slack_signature, slash_command_body
from tests.fakes.slack import FakeSlack
from tests.fakes.waiting import wait_until

# Long enough for a signed command and a click under load; short enough for a test.
LIMITS = RequestLimits(body_seconds=3.0, linger_seconds=0.5)
IDLE_CONNECTIONS = 40  # more than the 32 slots
ANSWER_WITHIN = 2.0  # the signed requests must be answered well before the idle ones' deadline
LOGGED = ":white_check_mark: Logged WSO arrest"


@pytest.fixture
async def service(
    fake_slack: FakeSlack, db_path: Path, config: Config, clock: FakeClock
) -> AsyncIterator[WsoService]:
    """The usual running service, with a body deadline short enough to wait for."""
    running = WsoService(
        make_settings(fake_slack, db_path), config, clock=clock, request_limits=LIMITS
    )
    await running.start(host="127.0.0.1", port=0)
    yield running
    await running.stop()


# --- raw HTTP ------------------------------------------------------------------------


def http_post(
    body: bytes,
    headers: list[tuple[str, bytes]],
    *,
    content_length: int | None = None,
    keep_alive: bool = False,
) -> bytes:
    """A ``POST /slack/events`` exactly as written here: any header bytes, any length."""
    lines = [
        b"POST /slack/events HTTP/1.1",
        b"Host: 127.0.0.1",
        b"Content-Type: application/x-www-form-urlencoded",
        b"Content-Length: %d" % (len(body) if content_length is None else content_length),
    ]
    if not keep_alive:
        lines.append(b"Connection: close")
    lines += [name.encode() + b": " + value for name, value in headers]
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def signed_headers(body: bytes, stamp: str | None = None) -> list[tuple[str, bytes]]:
    stamp = stamp or str(int(time.time()))
    signature = slack_signature(SIGNING_SECRET, stamp, body.decode())
    return [
        ("X-Slack-Request-Timestamp", stamp.encode()),
        ("X-Slack-Signature", signature.encode()),
    ]


def status_of(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/1.") else 0


async def exchange(port: int, request: bytes) -> bytes:
    """Send one request on a fresh connection; read until the server closes it."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request)
        await writer.drain()
        async with asyncio.timeout(10):
            return await reader.read()
    finally:
        writer.close()


class IdleClient:
    """A connection that sent headers and a few body bytes, then waits without a signature."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.writer = writer
        self.answer: asyncio.Task[bytes] = asyncio.create_task(reader.read())  # until closed

    @classmethod
    async def open(cls, port: int) -> IdleClient:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(http_post(b"token=abc", [], content_length=1000, keep_alive=True))
        await writer.drain()
        return cls(reader, writer)

    def close(self) -> None:
        self.answer.cancel()
        self.writer.close()


async def wait_for_record(caplog: pytest.LogCaptureFixture, event: str) -> logging.LogRecord:
    def found() -> list[logging.LogRecord]:
        return [r for r in caplog.records if r.getMessage() == event]

    await wait_until(lambda: bool(found()), what=f"a {event} log record", timeout=10)
    return found()[0]


def loud_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno >= logging.WARNING or r.exc_info]


Serve = Callable[[RequestLimits], Awaitable[int]]


@pytest.fixture
async def serve(
    fake_slack: FakeSlack, tmp_path: Path, config: Config, clock: FakeClock
) -> AsyncIterator[Serve]:
    """Start a service with other limits; returns its port."""
    started: list[WsoService] = []

    async def start(limits: RequestLimits) -> int:
        running = WsoService(
            make_settings(fake_slack, tmp_path / f"wso-{len(started)}.db"),
            config,
            clock=clock,
            request_limits=limits,
        )
        await running.start(host="127.0.0.1", port=0)
        started.append(running)
        assert running.port is not None
        return running.port

    yield start
    for running in started:
        await running.stop()


# --- slow clients ----------------------------------------------------------------------


async def test_idle_connections_do_not_hold_up_signed_commands_and_clicks(
    service: WsoService,
    slack: SignedSlackClient,
    fake_slack: FakeSlack,
    caplog: pytest.LogCaptureFixture,
) -> None:
    assert service.port is not None
    idle = [await IdleClient.open(service.port) for _ in range(IDLE_CONNECTIONS)]
    try:
        # The server has taken in everything sent before this answer: the idle requests'
        # headers arrived, and their handlers are waiting for the rest of their bodies.
        assert (await slack.get_json("/healthz")).status == 200

        command = await asyncio.wait_for(slack.command("arrest B-1"), ANSWER_WITHIN)
        assert command.status == 200
        assert command.text.startswith(LOGGED) and "B-1" in command.text
        [custody] = await service.store.list_open_custodies()

        click = await asyncio.wait_for(
            slack.click(
                action_id=ActionId.ACKNOWLEDGE.value,
                value=custody.id,
                user_id=OFFICER,
                channel_id=JAIL,
                message_ts="1.000100",
            ),
            ANSWER_WITHIN,
        )
        assert click.status == 200 and click.body == ""
        assert not [c for c in idle if c.answer.done()], "answered after the idle ones let go"
        # The click was handled (its listener runs after the ack): an officer who holds
        # no page of this custody gets nothing edited, and the bot says so in its log.
        await fake_slack.wait_for(
            lambda: any(r.getMessage() == "page.click_without_page" for r in caplog.records),
            what="the click handled",
        )

        # ... and the idle ones are sent away once their body deadline has passed.
        async with asyncio.timeout(LIMITS.body_seconds + LIMITS.linger_seconds + 5):
            answers = await asyncio.gather(*(c.answer for c in idle))
        assert {status_of(answer) for answer in answers} == {408}
        assert all(b"Connection: close" in answer for answer in answers)
    finally:
        for client in idle:
            client.close()


async def test_a_body_that_stops_gets_408_and_a_closed_connection(
    serve: Serve, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    limits = RequestLimits(body_seconds=0.5, linger_seconds=0.5)
    port = await serve(limits)
    started = time.monotonic()
    client = await IdleClient.open(port)
    try:
        async with asyncio.timeout(limits.body_seconds + limits.linger_seconds + 5):
            answer = await client.answer  # read() returns only once the server has closed
    finally:
        client.close()

    assert status_of(answer) == 408
    assert time.monotonic() - started >= limits.body_seconds
    assert (await wait_for_record(caplog, "request.body_timeout")).levelno == logging.INFO
    assert loud_records(caplog) == []


async def test_a_client_that_leaves_mid_body_is_not_an_error(
    service: WsoService, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    assert service.port is not None
    client = await IdleClient.open(service.port)
    client.close()

    record = await wait_for_record(caplog, "request.body_unreadable")
    assert record.levelno == logging.INFO
    assert loud_records(caplog) == []


HEAD = b"POST /slack/events HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"


@pytest.mark.parametrize(
    ("request_bytes", "event"),
    [
        pytest.param(
            HEAD + b"".join(b"X-H%d: a\r\n" % i for i in range(200)) + b"\r\n",
            "request.unparseable",
            id="200 headers",
        ),
        pytest.param(
            HEAD + b"X-Long: " + b"a" * 9000 + b"\r\n\r\n", "request.unparseable", id="long header"
        ),
        pytest.param(
            b"POST /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
            "request.unparseable",
            id="long request line",
        ),
        pytest.param(
            HEAD + b"Transfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n",
            "request.unparseable",
            id="bad chunk size",
        ),
    ],
)
async def test_unparseable_requests_get_400_quietly(
    service: WsoService, caplog: pytest.LogCaptureFixture, request_bytes: bytes, event: str
) -> None:
    """aiohttp's own limits answer 400; the log says so in one line, without a traceback."""
    caplog.set_level(logging.DEBUG)
    assert service.port is not None

    answer = await exchange(service.port, request_bytes)

    assert status_of(answer) == 400
    assert (await wait_for_record(caplog, event)).levelno == logging.INFO
    assert loud_records(caplog) == []


# --- size ------------------------------------------------------------------------------


async def test_a_body_over_the_cap_gets_413_without_being_read(service: WsoService) -> None:
    assert service.port is not None
    declared = LIMITS.max_body_bytes + 1
    answer = await exchange(
        service.port, http_post(b"token=abc", signed_headers(b""), content_length=declared)
    )

    assert status_of(answer) == 413


async def test_a_chunked_body_over_the_cap_gets_413(service: WsoService) -> None:
    assert service.port is not None
    chunk = b"x" * 65536
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(17)) + b"0\r\n\r\n"
    head = (
        b"POST /slack/events HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    answer = await exchange(service.port, head + chunks)

    assert status_of(answer) == 413


async def test_a_signed_body_just_under_the_cap_is_read_and_judged(
    slack: SignedSlackClient, service: WsoService
) -> None:
    """The cap refuses only what is over it: a large signed body still reaches the parser."""
    body = slash_command_body("help", user_id=OFFICER, channel_id=JAIL)
    padded = body + "&padding=" + "x" * (LIMITS.max_body_bytes - len(body) - 9)
    assert len(padded) == LIMITS.max_body_bytes

    reply = await slack.post(padded)

    assert reply.status == 200
    assert "/wso" in reply.text


# --- the signature, through the endpoint --------------------------------------------------

BODY = slash_command_body("arrest B-1", user_id=OFFICER, channel_id=JAIL).encode()


def _with(timestamp: bytes | None, signature: bytes | None) -> list[tuple[str, bytes]]:
    headers = []
    if timestamp is not None:
        headers.append(("X-Slack-Request-Timestamp", timestamp))
    if signature is not None:
        headers.append(("X-Slack-Signature", signature))
    return headers


def _now(offset: float = 0.0) -> bytes:
    return b"%d" % (time.time() + offset)


def _signed_at(stamp: bytes) -> bytes:
    return slack_signature(SIGNING_SECRET, stamp.decode(), BODY.decode()).encode()


Headers = Callable[[], list[tuple[str, bytes]]]

BAD_HEADERS: list[tuple[str, Headers]] = [
    ("no headers", lambda: []),
    ("no timestamp", lambda: _with(None, _signed_at(_now()))),
    ("no signature", lambda: _with(_now(), None)),
    ("empty timestamp", lambda: _with(b"", _signed_at(_now()))),
    ("empty signature", lambda: _with(_now(), b"")),
    ("negative timestamp", lambda: _with(b"-" + _now(), _signed_at(b"-" + _now()))),
    ("float timestamp", lambda: _with(_now() + b".5", _signed_at(_now() + b".5"))),
    ("5000-digit timestamp", lambda: _with(b"9" * 5000, _signed_at(b"9" * 5000))),
    ("non-numeric timestamp", lambda: _with(b"yesterday", _signed_at(_now()))),
    ("non-ascii timestamp", lambda: _with("١٧٩٦".encode(), _signed_at(_now()))),
    ("stale timestamp", lambda: _with(_now(-301), _signed_at(_now(-301)))),
    # 10 s past the 5 minutes: the stamp is cut to whole seconds, and every moment the
    # request takes to arrive brings a future stamp back towards the window.
    ("future timestamp", lambda: _with(_now(310), _signed_at(_now(310)))),
    ("non-ascii signature", lambda: _with(_now(), _signed_at(_now())[:-2] + "é".encode())),
    ("non-utf8 signature", lambda: _with(_now(), _signed_at(_now())[:-1] + b"\xff")),
    ("short signature", lambda: _with(_now(), _signed_at(_now())[:-1])),
    ("long signature", lambda: _with(_now(), _signed_at(_now()) + b"0")),
    ("version v1", lambda: _with(_now(), b"v1=" + _signed_at(_now())[3:])),
    ("no version", lambda: _with(_now(), _signed_at(_now())[3:])),
    ("forged", lambda: _with(_now(), b"v0=" + b"0" * 64)),
]


@pytest.mark.parametrize("headers", [h for _, h in BAD_HEADERS], ids=[n for n, _ in BAD_HEADERS])
async def test_bad_auth_headers_get_401_quietly(
    service: WsoService, caplog: pytest.LogCaptureFixture, headers: Headers
) -> None:
    caplog.set_level(logging.DEBUG)
    assert service.port is not None

    answer = await exchange(service.port, http_post(BODY, headers()))

    assert status_of(answer) == 401
    assert json.loads(answer.split(b"\r\n\r\n", 1)[1]) == {"error": "invalid request"}
    [record] = [r for r in caplog.records if r.getMessage() == "request.unauthenticated"]
    assert record.levelno == logging.INFO and not record.exc_info
    assert loud_records(caplog) == []
    assert await service.store.list_open_custodies() == []


async def test_good_signature_on_a_raw_connection_is_answered(service: WsoService) -> None:
    assert service.port is not None
    answer = await exchange(service.port, http_post(BODY, signed_headers(BODY)))

    assert status_of(answer) == 200
    assert json.loads(answer.split(b"\r\n\r\n", 1)[1])["text"].startswith(LOGGED)
    assert len(await service.store.list_open_custodies()) == 1


async def test_unsigned_garbage_is_refused_before_it_is_parsed(service: WsoService) -> None:
    """Signed garbage gets 400 (test_e2e_bad_input); unsigned, the body is never looked at."""
    assert service.port is not None
    answer = await exchange(service.port, http_post(b"payload=%7Bbroken", []))

    assert status_of(answer) == 401


async def test_url_verification_still_answers_the_challenge(slack: SignedSlackClient) -> None:
    body = json.dumps({"token": "legacy", "challenge": "c-123", "type": "url_verification"})

    reply = await slack.post(body, content_type="application/json")

    assert reply.status == 200
    assert reply.json == {"challenge": "c-123"}


# --- connections that never finish a request -------------------------------------------


@pytest.mark.parametrize(
    "sent",
    [
        pytest.param(b"", id="nothing"),
        pytest.param(b"POST /slack/events HTTP/1.1\r\nHost: 127.0.0.1\r\n", id="half the headers"),
    ],
)
async def test_a_connection_that_never_completes_its_headers_is_closed(
    serve: Serve, sent: bytes
) -> None:
    port = await serve(RequestLimits(keepalive_seconds=0.5))
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(sent)
        await writer.drain()
        async with asyncio.timeout(5):
            assert await reader.read() == b""  # closed by the server, without an answer
    finally:
        writer.close()


async def test_a_kept_alive_connection_is_closed_after_the_keepalive_time(serve: Serve) -> None:
    port = await serve(RequestLimits(keepalive_seconds=0.5))
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        await writer.drain()
        async with asyncio.timeout(5):
            head = await reader.readuntil(b"\r\n\r\n")
            assert status_of(head) == 200
            length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
            await reader.readexactly(length)
            assert await reader.read() == b""  # then closed, once idle for 0.5 s
    finally:
        writer.close()
