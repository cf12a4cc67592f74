"""The load generator of B1 and B9: signed ``/wso arrest`` over raw HTTP/1.1, timed at the client.

Requests are written and answers read on plain asyncio streams (no HTTP client
library in the way), so the generator costs little of its core. Latency runs from
writing the request (B9: from opening the connection) to reading the whole answer.
An arrest counts as answered when the status is 200 and the answer says it was
logged (``OK_PREFIX``, the bot's and the floor's words alike).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

from bench.common import OFFICER, SIGNING_SECRET
from tests.fakes.signed_requests import slack_signature, slash_command_body

OK_PREFIX = ":white_check_mark: Logged WSO arrest"
REQUEST_TIMEOUT = 10.0
_ANSWER_ERRORS = (OSError, asyncio.IncompleteReadError, TimeoutError, ValueError)


@dataclass
class LoadStats:
    latencies: list[float] = field(default_factory=list)  # seconds, measured window only
    errors: int = 0
    error_kinds: dict[str, int] = field(default_factory=dict)
    warmup_errors: int = 0
    completed: int = 0
    sent: int = 0

    def error(self, kind: str, measured: bool = True) -> None:
        if measured:
            self.errors += 1
            self.error_kinds[kind] = self.error_kinds.get(kind, 0) + 1
        else:
            self.warmup_errors += 1


def new_booking_prefix(letter: str) -> str:
    """A prefix no earlier run used, so that every booking is new (no duplicate refusals)."""
    return letter + uuid.uuid4().hex[:8].upper()


def signed_arrest(port: int, booking: str, channel: str) -> bytes:
    """``/wso arrest <booking> I-200`` from ``OFFICER`` in ``channel``, signed, as HTTP bytes."""
    body = slash_command_body(f"arrest {booking} I-200", user_id=OFFICER, channel_id=channel)
    stamp = str(int(time.time()))
    return (
        "POST /slack/events HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{port}\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {len(body)}\r\n"
        f"X-Slack-Request-Timestamp: {stamp}\r\n"
        f"X-Slack-Signature: {slack_signature(SIGNING_SECRET, stamp, body)}\r\n"
        "\r\n" + body
    ).encode()


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    """(status, body) of one HTTP/1.1 answer: with Content-Length, or chunked."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            key, _, value = line.partition(":")
            headers[key.strip().lower()] = value.strip()
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = b""
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip().split(b";")[0], 16)
            if size == 0:
                await reader.readuntil(b"\r\n")
                break
            body += await reader.readexactly(size)
            await reader.readexactly(2)
        return status, body
    return status, await reader.readexactly(int(headers.get("content-length", "0")))


def refusal(status: int, answer: bytes) -> str | None:
    """Why an answer is not a logged arrest (``http_<status>``, ``refused``), or None."""
    if status != 200:
        return f"http_{status}"
    return None if OK_PREFIX.encode() in answer else "refused"


# --- closed loop (B1) ------------------------------------------------------------------


async def _keep_alive_client(
    port: int,
    channel: str,
    bookings: itertools.count[int],
    prefix: str,
    measure_from: float,
    stop_at: float,
    stats: LoadStats,
) -> None:
    """One connection: send an arrest, wait for its answer, send the next, until ``stop_at``."""
    reader: asyncio.StreamReader | None = None
    writer: asyncio.StreamWriter | None = None
    try:
        while time.monotonic() < stop_at:
            if writer is None:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
            assert reader is not None
            request = signed_arrest(port, f"{prefix}-{next(bookings)}", channel)
            started = time.monotonic()
            measured = started >= measure_from
            stats.sent += 1
            try:
                writer.write(request)
                async with asyncio.timeout(REQUEST_TIMEOUT):
                    status, answer = await read_response(reader)
            except _ANSWER_ERRORS as error:
                stats.error(type(error).__name__, measured)
                writer.close()
                reader = writer = None
                continue
            elapsed = time.monotonic() - started
            why_not = refusal(status, answer)
            if why_not is not None:
                stats.error(why_not, measured)
            elif measured and started + elapsed <= stop_at:
                stats.latencies.append(elapsed)
                stats.completed += 1
    finally:
        if writer is not None:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()


async def closed_loop(
    port: int, *, connections: int, channel: str, warmup: float, seconds: float
) -> LoadStats:
    """``connections`` keep-alive clients, each with one arrest in flight, for warm-up + window.

    Only answers to requests sent inside the measured window and answered before its
    end count, so throughput is answers in the window / ``seconds``.
    """
    stats = LoadStats()
    bookings = itertools.count(1)
    prefix = new_booking_prefix("B")
    measure_from = time.monotonic() + warmup
    stop_at = measure_from + seconds
    await asyncio.gather(
        *(
            _keep_alive_client(port, channel, bookings, prefix, measure_from, stop_at, stats)
            for _ in range(connections)
        )
    )
    return stats


# --- burst (B9) -----------------------------------------------------------------------


@dataclass(frozen=True)
class BurstAnswer:
    """One request of a burst: when its answer was complete, and how long it took, or why not."""

    seconds: float
    answered_at: float  # wall clock
    error: str | None = None


async def _one_connection(port: int, request: bytes, start: asyncio.Event) -> BurstAnswer:
    await start.wait()
    started = time.monotonic()
    writer: asyncio.StreamWriter | None = None
    try:
        async with asyncio.timeout(REQUEST_TIMEOUT):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(request)
            status, answer = await read_response(reader)
        error = refusal(status, answer)
    except _ANSWER_ERRORS as failure:
        error = type(failure).__name__
    finally:
        if writer is not None:
            writer.close()
    return BurstAnswer(time.monotonic() - started, time.time(), error)


async def burst(port: int, requests: Sequence[bytes]) -> list[BurstAnswer]:
    """Every request on its own new connection, all let go at once; their answers, in order.

    Latency includes opening the connection: Slack's 3 s start when it sends.
    """
    start = asyncio.Event()
    tasks = [asyncio.create_task(_one_connection(port, r, start)) for r in requests]
    await asyncio.sleep(0)  # every task is waiting on the event: none has a head start
    start.set()
    return list(await asyncio.gather(*tasks))
