"""B6: signed commands while 200 connections sit idle on ``/slack/events``.

A real ``wso-bot serve`` process on core 0; this process (the idle clients and the
signed commands) and the fake Slack on core 1. Each idle client opens a connection,
sends the headers of a ``POST /slack/events`` with ``Content-Length: 1000``, a few body
bytes and no signature, then waits for whatever the bot does; when the bot answers or
closes, it hangs up and opens a new one, so 200 are waiting throughout (as an attacker
would keep them).

Meanwhile a signed ``/wso arrest`` (a new booking each) is sent every 100 ms, open loop,
on keep-alive connections; its ack latency is measured at the client, from sending the
request to reading the whole answer. A command not answered within 5 s counts as
unanswered. The bot's body deadline is its default (5 s): nothing here is tuned.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import math
import statistics
import time
import uuid
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from bench.common import (
    JAIL,
    OFFICER,
    SIGNING_SECRET,
    BotProcess,
    FakeSlackProcess,
    RunResult,
    at_most,
    end_run,
    facilities_toml,
    percentile,
    workdir,
)
from tests.fakes.signed_requests import FORM, slack_signature, slash_command_body

NAME = "B6"
TITLE = "slow clients: 200 idle connections"
DEFAULT_RUNS = 3
PROFILES = False
IDLE_CONNECTIONS = 200
COMMAND_INTERVAL = 0.1
ANSWER_TIMEOUT = 5.0
OK_PREFIX = ":white_check_mark: Logged WSO arrest"
IDLE_REQUEST = (
    b"POST /slack/events HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\n"
    b"token=abc"
)


def sizes(quick: bool) -> float:
    """Seconds of signed commands while the idle connections are open."""
    return 8.0 if quick else 30.0


@dataclass
class IdleStats:
    open_now: int = 0
    opened: int = 0
    answers: dict[str, int] = field(default_factory=dict)  # status line (or "closed") -> count
    held_seconds: list[float] = field(default_factory=list)  # open until answered or closed


async def _idle_client(port: int, stop: asyncio.Event, stats: IdleStats) -> None:
    """One idle connection at a time, reopened as soon as the bot lets go of it."""
    while not stop.is_set():
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            stats.answers["connect failed"] = stats.answers.get("connect failed", 0) + 1
            await asyncio.sleep(0.1)
            continue
        stats.opened += 1
        stats.open_now += 1
        opened_at = time.monotonic()
        try:
            writer.write(IDLE_REQUEST)
            await writer.drain()
            first = await _until_stopped(reader.readline(), stop)
            if first is None:
                return
            status = " ".join(first.decode("latin-1").split()[1:2]) or "closed"
            stats.answers[status] = stats.answers.get(status, 0) + 1
            stats.held_seconds.append(time.monotonic() - opened_at)
        except OSError:
            stats.answers["reset"] = stats.answers.get("reset", 0) + 1
        finally:
            stats.open_now -= 1
            writer.close()


async def _until_stopped(read: Coroutine[Any, Any, bytes], stop: asyncio.Event) -> bytes | None:
    """The read's result, or None once ``stop`` is set first."""
    reading = asyncio.ensure_future(read)
    stopping = asyncio.ensure_future(stop.wait())
    done, _ = await asyncio.wait({reading, stopping}, return_when=asyncio.FIRST_COMPLETED)
    stopping.cancel()
    if reading in done:
        return reading.result()
    reading.cancel()
    with contextlib.suppress(asyncio.CancelledError, OSError):
        await reading
    return None


@dataclass
class CommandStats:
    latencies: list[float] = field(default_factory=list)  # seconds
    unanswered: int = 0
    refused: dict[str, int] = field(default_factory=dict)
    idle_open_when_sent: list[int] = field(default_factory=list)


async def _signed_command(
    session: aiohttp.ClientSession, url: str, booking: str, stats: CommandStats
) -> None:
    body = slash_command_body(f"arrest {booking} I-200", user_id=OFFICER, channel_id=JAIL)
    stamp = str(int(time.time()))
    headers = {
        "Content-Type": FORM,
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": slack_signature(SIGNING_SECRET, stamp, body),
    }
    started = time.monotonic()
    try:
        async with asyncio.timeout(ANSWER_TIMEOUT):
            async with session.post(url, data=body.encode(), headers=headers) as response:
                answer = await response.text()
    except (TimeoutError, aiohttp.ClientError):
        stats.unanswered += 1
        return
    if response.status != 200 or OK_PREFIX not in answer:
        key = f"http_{response.status}"
        stats.refused[key] = stats.refused.get(key, 0) + 1
        return
    stats.latencies.append(time.monotonic() - started)


async def _send_commands(port: int, seconds: float, idle: IdleStats) -> CommandStats:
    stats = CommandStats()
    prefix = "S" + uuid.uuid4().hex[:8].upper()
    url = f"http://127.0.0.1:{port}/slack/events"
    async with aiohttp.ClientSession() as session:
        tasks = []
        stop_at = time.monotonic() + seconds
        for number in itertools.count(1):
            if time.monotonic() >= stop_at:
                break
            stats.idle_open_when_sent.append(idle.open_now)
            tasks.append(
                asyncio.create_task(_signed_command(session, url, f"{prefix}-{number}", stats))
            )
            await asyncio.sleep(COMMAND_INTERVAL)
        await asyncio.gather(*tasks)
    return stats


async def _all_open(idle: IdleStats, port: int, within: float = 30.0) -> None:
    """Until every idle client is connected and the bot has read what they sent."""
    give_up_at = time.monotonic() + within
    while idle.open_now < IDLE_CONNECTIONS:
        if time.monotonic() > give_up_at:
            raise RuntimeError(f"only {idle.open_now} idle connections opened")
        await asyncio.sleep(0.01)
    # The bot answers this only after it has taken in what arrived before it.
    async with (
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session,
        session.get(f"http://127.0.0.1:{port}/healthz") as response,
    ):
        await response.read()


async def run(quick: bool) -> RunResult:
    seconds = sizes(quick)
    result = RunResult()
    with workdir("b6") as tmp:
        config = tmp / "wso.toml"
        config.write_text(facilities_toml(1))
        fake = FakeSlackProcess(tmp)
        bot: BotProcess | None = None
        try:
            bot = BotProcess(tmp, config, tmp / "wso.db", fake.api_url)
            await bot.wait_healthy()
            idle = IdleStats()
            stop = asyncio.Event()
            holders = [
                asyncio.create_task(_idle_client(bot.port, stop, idle))
                for _ in range(IDLE_CONNECTIONS)
            ]
            try:
                await _all_open(idle, bot.port)
                commands = await _send_commands(bot.port, seconds, idle)
            finally:
                stop.set()
                await asyncio.gather(*holders, return_exceptions=True)
            bot.stop()
        finally:
            await end_run(bot, fake)
    _report(result, commands, idle)
    return result


def _report(result: RunResult, commands: CommandStats, idle: IdleStats) -> None:
    lat_ms = [x * 1000 for x in commands.latencies]
    sent = len(commands.idle_open_when_sent)
    result.add("signed commands sent (one per 100 ms)", sent)
    result.add("ack latency p50", percentile(lat_ms, 50), "ms")
    result.add("ack latency p99", percentile(lat_ms, 99), "ms")
    result.add("ack latency max", max(lat_ms, default=math.nan), "ms", at_most(1000))
    result.add(
        f"commands unanswered within {ANSWER_TIMEOUT:g} s or refused",
        commands.unanswered + sum(commands.refused.values()),
        "",
        at_most(0, "0"),
    )
    result.add(
        "idle connections open when a command was sent (min)",
        min(commands.idle_open_when_sent, default=math.nan),
    )
    result.add(
        "idle connections open when a command was sent (mean)",
        statistics.fmean(commands.idle_open_when_sent) if sent else math.nan,
    )
    result.add(
        "idle connection held until answered, median",
        statistics.median(idle.held_seconds) if idle.held_seconds else math.nan,
        "s",
    )
    result.add("idle connections answered", len(idle.held_seconds))
    result.note(f"B6 idle connections: {idle.opened} opened; answers {idle.answers}")
    if commands.refused:
        result.note(f"B6 refused commands: {commands.refused}")
