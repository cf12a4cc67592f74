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

Probes: before the load, a second facility (its own channels, its own
sergeant) gets a few backdated arrests whose 48-hour windows end during the
measured window. Their expiry notices and pages are timed at the fake Slack:
a burst of commands in one facility must not make another facility's expiry late.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import math
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp

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
    end_run,
    facilities_toml,
    percentile,
    read_notices,
    start_profile,
    summarize_profile,
    workdir,
)
from storage.sqlite import DatabaseReader
from tests.fakes.signed_requests import slack_signature, slash_command_body

NAME = "B1"
TITLE = "arrest load, 64 connections"
DEFAULT_RUNS = 3
CONNECTIONS = 64
REQUEST_TIMEOUT = 10.0
OK_PREFIX = ":white_check_mark: Logged WSO arrest"
LOAD_JAIL = f"{JAIL}000"  # facility fac-000 takes the load
PROBE_FACILITY = "fac-001"  # ... and fac-001 the probes
PROBE_KINDS = ("expired", "escalation")


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
            body = slash_command_body(
                f"arrest {booking} I-200", user_id=OFFICER, channel_id=LOAD_JAIL
            )
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
        config.write_text(facilities_toml(2, escalation=[(SERGEANT + "{n}", "0s")]))
        db = tmp / "wso.db"
        fake = FakeSlackProcess(tmp)
        bot: BotProcess | None = None
        try:
            bot = BotProcess(tmp, config, db, fake.api_url)
            await bot.wait_healthy()
            probes = 5 if quick else 20
            # The probes' own "logged" notices go out first (a burst of 4, then a token
            # a second per channel) and the load starts after them, so that only the
            # load can delay the probes' expiries, which fall in the measured window.
            load_starts_at = time.time() + probes
            probe_window_start = load_starts_at + warmup
            await log_probe_arrests(bot.port, probe_window_start, seconds, probes)
            await _wait_for_logged_posts(fake, 2 * probes, within=probes)
            await asyncio.sleep(max(load_starts_at - time.time(), 0.0))
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
            backlog = count_unsettled(db, datetime.now(UTC))
            await asyncio.sleep(2.0)  # let the last probes' posts land
            await fake.poll_posts()
            probe_lateness = _probe_lateness(db, fake.first_arrivals(), probe_window_start)
            if profiler is not None:
                profiler.wait(timeout=warmup + seconds + 60)
                result.profile = summarize_profile(profile_dir / "b1.raw")
            bot.stop()
        finally:
            await end_run(bot, fake)
    lat_ms = [x * 1000 for x in stats.latencies]
    result.add("p50 latency (client-side)", percentile(lat_ms, 50), "ms")
    result.add("p99 latency (client-side)", percentile(lat_ms, 99), "ms", at_most(50))
    result.add("p99.9 latency (client-side)", percentile(lat_ms, 99.9), "ms", at_most(150))
    result.add("max latency (client-side)", max(lat_ms, default=math.nan), "ms")
    result.add("throughput", stats.completed / seconds, "req/s", at_least(1000))
    result.add("errors", stats.errors, "", at_most(0, "0"))
    result.add("bot CPU during load", cpu_bot / wall, "cores")
    result.add("load core CPU (generator + fake)", (cpu_load + cpu_fake) / wall, "cores")
    result.add(
        "other facility's expiries/pages during load: lateness p50",
        percentile(probe_lateness, 50),
        "ms",
    )
    result.add(
        "other facility's expiries/pages during load: lateness max",
        max(probe_lateness, default=math.nan),
        "ms",
        at_most(1000),
    )
    result.add("dispatcher lag at end of load", float(health.get("lag_seconds") or 0.0), "s")
    result.add("dispatcher ticks per second", float(health.get("dispatcher_ticks") or 0) / wall)
    result.add("notices due but unsent at end of load", backlog)
    if stats.error_kinds:
        result.note(f"B1 errors by kind: {stats.error_kinds}")
    if stats.warmup_errors:
        result.note(f"B1 errors during warm-up (not counted): {stats.warmup_errors}")
    if (cpu_load + cpu_fake) / wall > 0.9:
        result.note("B1 load core was saturated: figures may be bounded by the load generator")
    return result


async def _wait_for_logged_posts(fake: FakeSlackProcess, count: int, within: float) -> None:
    give_up_at = time.monotonic() + within
    while time.monotonic() < give_up_at:
        await fake.poll_posts()
        if sum(1 for row in fake.rows if row[1] == "logged") >= count:
            return
        await asyncio.sleep(0.2)
    raise RuntimeError("the probe arrests' logged notices did not go out")


async def log_probe_arrests(port: int, window_start: float, seconds: float, count: int) -> None:
    """Backdated arrests in the probe facility whose windows end inside the measured window."""
    url = f"http://127.0.0.1:{port}/slack/events"
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
        for number in range(count):
            ends_at = window_start + seconds * (number + 1) / (count + 1)
            arrested = datetime.fromtimestamp(ends_at, UTC) - timedelta(hours=48)
            at = f"{arrested:%Y-%m-%dT%H:%M:%SZ}"
            text = f"arrest P-{number} I-200 at {at} facility {PROBE_FACILITY}"
            body = slash_command_body(text, user_id=OFFICER, channel_id=LOAD_JAIL)
            stamp = str(int(time.time()))
            headers = {
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Slack-Request-Timestamp": stamp,
                "X-Slack-Signature": slack_signature(SIGNING_SECRET, stamp, body),
            }
            async with session.post(url, data=body.encode(), headers=headers) as response:
                answer = await response.text()
            if response.status != 200 or OK_PREFIX not in answer:
                raise RuntimeError(f"probe arrest refused: {response.status} {answer[:300]}")


def _probe_lateness(db: Path, arrived: dict[str, float], window_start: float) -> list[float]:
    """Lateness (ms) of the probe facility's expiry notices and pages, from arrival at the fake."""
    probe_custodies = _probe_custody_ids(db)
    lateness = []
    for notice in read_notices(db):
        if notice.custody_id not in probe_custodies or notice.kind not in PROBE_KINDS:
            continue
        due = notice.due_at.timestamp()
        if due < window_start:
            continue
        when = arrived.get(notice.id)
        lateness.append(math.inf if when is None else (when - due) * 1000)
    return lateness


def _probe_custody_ids(db: Path) -> set[str]:
    return {custody.id for custody in DatabaseReader(db).custodies_of_facility(PROBE_FACILITY)}


def _self_cpu() -> float:
    return time.process_time()
