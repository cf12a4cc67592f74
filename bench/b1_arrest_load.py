"""B1: signed ``/wso arrest`` requests at 64 concurrent connections.

A real ``wso-bot serve`` process on core 0; this process (the load generator)
and the fake Slack process on core 1. Each of 64 keep-alive connections sends
a signed slash command for a new booking, waits for the answer, and sends the
next (closed loop). The command stores the custody and its notices in one
SQLite transaction (``synchronous=FULL``) before it answers, and the bot posts
the two ``logged`` notices to the fake Slack meanwhile: that load is part of it.

Latency is measured at the client, from writing the request to reading the
whole answer, over loopback; it includes the bot's queueing, not the network.
A warm-up (not counted) precedes the measured window.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import math
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from bench.common import (
    JAIL,
    OFFICER,
    SERGEANT,
    SIGNING_SECRET,
    BotProcess,
    FakeSlackProcess,
    RunResult,
    at_least,
    at_most,
    count_unsettled,
    cpu_seconds,
    facility_toml,
    percentile,
    start_profile,
    summarize_profile,
    workdir,
)
from storage.sqlite_store import to_db_time
from tests.slack_requests import slack_signature, slash_command_body

NAME = "B1"
TITLE = "arrest load, 64 connections"
DEFAULT_RUNS = 3
CONNECTIONS = 64
REQUEST_TIMEOUT = 10.0
OK_PREFIX = ":white_check_mark: Logged WSO arrest"


def sizes(quick: bool) -> tuple[float, float]:
    """(warm-up seconds, measured seconds)."""
    return (2.0, 10.0) if quick else (5.0, 60.0)


@dataclass
class LoadStats:
    latencies: list[float] = field(default_factory=list)  # seconds, measured window only
    errors: int = 0
    error_kinds: dict[str, int] = field(default_factory=dict)
    warmup_errors: int = 0
    completed: int = 0
    sent: int = 0

    def error(self, kind: str, measured: bool) -> None:
        if measured:
            self.errors += 1
            self.error_kinds[kind] = self.error_kinds.get(kind, 0) + 1
        else:
            self.warmup_errors += 1


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
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


async def _connection(
    port: int,
    prefix: str,
    counter: itertools.count[int],
    measure_from: float,
    stop_at: float,
    stats: LoadStats,
) -> None:
    reader: asyncio.StreamReader | None = None
    writer: asyncio.StreamWriter | None = None
    try:
        while time.monotonic() < stop_at:
            if writer is None:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
            assert reader is not None
            booking = f"{prefix}-{next(counter)}"
            body = slash_command_body(f"arrest {booking} I-200", user_id=OFFICER, channel_id=JAIL)
            stamp = str(int(time.time()))
            request = (
                "POST /slack/events HTTP/1.1\r\n"
                f"Host: 127.0.0.1:{port}\r\n"
                "Content-Type: application/x-www-form-urlencoded\r\n"
                f"Content-Length: {len(body)}\r\n"
                f"X-Slack-Request-Timestamp: {stamp}\r\n"
                f"X-Slack-Signature: {slack_signature(SIGNING_SECRET, stamp, body)}\r\n"
                "\r\n" + body
            ).encode()
            started = time.monotonic()
            measured = started >= measure_from
            stats.sent += 1
            try:
                writer.write(request)
                async with asyncio.timeout(REQUEST_TIMEOUT):
                    status, answer = await _read_response(reader)
            except (OSError, asyncio.IncompleteReadError, TimeoutError, ValueError) as error:
                stats.error(type(error).__name__, measured)
                writer.close()
                reader = writer = None
                continue
            elapsed = time.monotonic() - started
            if status != 200 or OK_PREFIX.encode() not in answer:
                stats.error(f"http_{status}" if status != 200 else "refused", measured)
            elif measured and started + elapsed <= stop_at:
                stats.latencies.append(elapsed)
                stats.completed += 1
    finally:
        if writer is not None:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()


async def generate_load(port: int, warmup: float, seconds: float) -> LoadStats:
    stats = LoadStats()
    counter = itertools.count(1)
    prefix = "B" + uuid.uuid4().hex[:8].upper()
    now = time.monotonic()
    measure_from = now + warmup
    stop_at = measure_from + seconds
    await asyncio.gather(
        *(
            _connection(port, prefix, counter, measure_from, stop_at, stats)
            for _ in range(CONNECTIONS)
        )
    )
    return stats


async def run(quick: bool, profile_dir: Path | None = None) -> RunResult:
    warmup, seconds = sizes(quick)
    result = RunResult()
    with workdir("b1") as tmp:
        config = tmp / "wso.toml"
        config.write_text(facility_toml(escalation=[(SERGEANT, "0s")]))
        db = tmp / "wso.db"
        fake = FakeSlackProcess(tmp)
        bot: BotProcess | None = None
        try:
            bot = BotProcess(tmp, config, db, fake.api_url)
            await bot.wait_healthy()
            profiler = None
            if profile_dir is not None:
                profiler = start_profile(bot.pid, warmup + seconds, profile_dir / "b1.raw")
            cpu_bot = cpu_seconds(bot.pid)
            cpu_load = _self_cpu()
            cpu_fake = cpu_seconds(fake.pid)
            wall = time.monotonic()
            stats = await generate_load(bot.port, warmup, seconds)
            wall = time.monotonic() - wall
            cpu_bot = cpu_seconds(bot.pid) - cpu_bot
            cpu_load = _self_cpu() - cpu_load
            cpu_fake = cpu_seconds(fake.pid) - cpu_fake
            health = await bot.health()
            backlog = count_unsettled(db, to_db_time(datetime.now(UTC)))
            if profiler is not None:
                profiler.wait(timeout=warmup + seconds + 60)
                result.profile = summarize_profile(profile_dir / "b1.raw")
            bot.stop()
        finally:
            if bot is not None:
                bot.kill9()
            await fake.close()
            fake.stop()
    lat_ms = [x * 1000 for x in stats.latencies]
    result.add("p50 latency (client-side)", percentile(lat_ms, 50), "ms")
    result.add("p99 latency (client-side)", percentile(lat_ms, 99), "ms", at_most(50))
    result.add("p99.9 latency (client-side)", percentile(lat_ms, 99.9), "ms", at_most(150))
    result.add("max latency (client-side)", max(lat_ms, default=math.nan), "ms")
    result.add("throughput", stats.completed / seconds, "req/s", at_least(1000))
    result.add("errors", stats.errors, "", at_most(0, "0"))
    result.add("bot CPU during load", cpu_bot / wall, "cores")
    result.add("load core CPU (generator + fake)", (cpu_load + cpu_fake) / wall, "cores")
    result.add("dispatcher lag at end of load", float(health.get("lag_seconds") or 0.0), "s")
    result.add("notices due but unsent at end of load", backlog)
    if stats.error_kinds:
        result.note(f"B1 errors by kind: {stats.error_kinds}")
    if stats.warmup_errors:
        result.note(f"B1 errors during warm-up (not counted): {stats.warmup_errors}")
    if (cpu_load + cpu_fake) / wall > 0.9:
        result.note("B1 load core was saturated: figures may be bounded by the load generator")
    return result


def _self_cpu() -> float:
    return time.process_time()
