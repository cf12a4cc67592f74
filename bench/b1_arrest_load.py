"""B1: signed ``/wso arrest`` at 32 and at 64 concurrent connections, the bot against the floor.

At each concurrency, back to back with the same load generator: first the floor
(``bench.floor_app``: Slack Bolt and one SQLite insert, group commit,
``synchronous=FULL``), then a real ``wso-bot serve`` process; each a fresh process
with a fresh database on core 0, while this process (the load generator) and the
fake Slack run on core 1. Each connection is kept alive and sends a signed slash
command for a new booking, waits for the answer, and sends the next (closed loop).
The bot stores the custody and its notices in one SQLite transaction before it
answers, and posts the two ``logged`` notices to the fake Slack meanwhile: that load
is part of it. The goals are ratios to the floor measured in the same run, so that
they hold on a faster or slower machine alike.

Latency is measured at the client, from writing the request to reading the
whole answer, over loopback; it includes the server's queueing, not the network.
A warm-up (not counted) precedes the measured window.

Rows per arrest: when the bot's load stops, the load facility's custodies and the
notices and audit entries stored for them, per custody (``DatabaseReader``).

Probes: before the bot's load, a second facility (its own channels, its own
sergeant) gets a few backdated arrests whose 48-hour windows end during the
measured window. Their expiry notices and pages are timed at the fake Slack:
a burst of commands in one facility must not make another facility's expiry late.
"""

from __future__ import annotations

import asyncio
import math
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp

from bench.arrest_load import OK_PREFIX, LoadStats, closed_loop
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
    read_notices,
    start_profile,
    summarize_profile,
    workdir,
)
from bench.figures import (
    LatencySummary,
    percentile,
    ratio,
    rows_per_arrest,
    summarize_latencies,
)
from bench.floor_process import FloorProcess
from storage.sqlite import DatabaseReader
from tests.fakes.signed_requests import slack_signature, slash_command_body

NAME = "B1"
TITLE = "arrest load, the bot against the floor, 32 and 64 connections"
DEFAULT_RUNS = 3
CONCURRENCIES = (32, 64)
LOAD_FACILITY = "fac-000"  # facility fac-000 takes the load
LOAD_JAIL = f"{JAIL}000"
PROBE_FACILITY = "fac-001"  # ... and fac-001 the probes
PROBE_KINDS = ("expired", "escalation")
# The bot against the floor, in the same run (issue 13).
THROUGHPUT_RATIO_GOAL = 0.8
P99_RATIO_GOAL = 1.25
ROWS_PER_ARREST_GOAL = 3


def sizes(quick: bool) -> tuple[float, float]:
    """(warm-up seconds, measured seconds), for each server at each concurrency."""
    return (2.0, 10.0) if quick else (5.0, 60.0)


@dataclass
class ServerLoad:
    """One server under one concurrency: what the clients saw, and the CPU each core spent."""

    stats: LoadStats
    window: float
    wall: float
    server_cpu: float
    load_cpu: float  # this process + the fake Slack (none for the floor)

    @property
    def latency(self) -> LatencySummary:
        return summarize_latencies(self.stats.latencies, self.window)


@dataclass
class BotFacts:
    """What only the bot's runs show: probes, its dispatcher, the rows it wrote."""

    probe_lateness: list[float] = field(default_factory=list)  # ms
    custodies: int = 0
    notices: int = 0
    audit_entries: int = 0
    audit_personal: int = 0  # the entries' personal parts (none: the load types no notes)
    health: dict[str, Any] = field(default_factory=dict)  # at the end of the 64-connection load
    backlog: int = 0
    wall: float = math.nan


async def run(quick: bool, profile_dir: Path | None = None) -> RunResult:
    warmup, seconds = sizes(quick)
    result = RunResult()
    facts = BotFacts()
    for connections in CONCURRENCIES:
        floor = await _floor_load(connections, warmup, seconds)
        profile = profile_dir if connections == max(CONCURRENCIES) else None
        bot = await _bot_load(connections, warmup, seconds, quick, facts, profile, result)
        _report_pair(result, connections, floor, bot)
    _report_bot_facts(result, facts)
    return result


async def _floor_load(connections: int, warmup: float, seconds: float) -> ServerLoad:
    with workdir("b1-floor") as tmp:
        floor = FloorProcess(tmp, tmp / "floor.db")
        try:
            await floor.wait_healthy()
            return await _measure(floor.pid, None, floor.port, connections, warmup, seconds)
        finally:
            floor.stop()


async def _measure(
    server_pid: int,
    fake: FakeSlackProcess | None,
    port: int,
    connections: int,
    warmup: float,
    seconds: float,
) -> ServerLoad:
    cpu_server = cpu_seconds(server_pid)
    cpu_load = time.process_time() + (cpu_seconds(fake.pid) if fake else 0.0)
    wall = time.monotonic()
    stats = await closed_loop(
        port, connections=connections, channel=LOAD_JAIL, warmup=warmup, seconds=seconds
    )
    wall = time.monotonic() - wall
    cpu_server = cpu_seconds(server_pid) - cpu_server
    cpu_load = time.process_time() + (cpu_seconds(fake.pid) if fake else 0.0) - cpu_load
    return ServerLoad(stats, seconds, wall, cpu_server / wall, cpu_load / wall)


async def _bot_load(
    connections: int,
    warmup: float,
    seconds: float,
    quick: bool,
    facts: BotFacts,
    profile_dir: Path | None,
    result: RunResult,
) -> ServerLoad:
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
            load = await _measure(bot.pid, fake, bot.port, connections, warmup, seconds)
            _count_rows(db, facts)
            if connections == max(CONCURRENCIES):
                facts.health = await bot.health()
                facts.backlog = count_unsettled(db, datetime.now(UTC))
                facts.wall = load.wall
            await asyncio.sleep(2.0)  # let the last probes' posts land
            await fake.poll_posts()
            facts.probe_lateness += _probe_lateness(db, fake.first_arrivals(), probe_window_start)
            if profiler is not None and profile_dir is not None:
                profiler.wait(timeout=warmup + seconds + 60)
                result.profile = summarize_profile(profile_dir / "b1.raw")
            bot.stop()
        finally:
            await end_run(bot, fake)
    return load


def _count_rows(db: Path, facts: BotFacts) -> None:
    """The load facility's rows, read as the load stops (before its backlog drains)."""
    rows = DatabaseReader(db).count_rows_of_facility(LOAD_FACILITY)
    facts.custodies += rows.custodies
    facts.notices += rows.notices
    facts.audit_entries += rows.audit_entries
    facts.audit_personal += rows.audit_personal


def _report_pair(result: RunResult, connections: int, floor: ServerLoad, bot: ServerLoad) -> None:
    at = f"@{connections}"
    f, b = floor.latency, bot.latency
    result.add(f"{at} throughput: floor", f.per_second, "req/s")
    result.add(f"{at} throughput: bot", b.per_second, "req/s")
    result.add(
        f"{at} throughput: bot / floor",
        ratio(b.per_second, f.per_second),
        "x",
        at_least(THROUGHPUT_RATIO_GOAL),
    )
    for label, floor_value, bot_value in (("p50", f.p50, b.p50), ("p99", f.p99, b.p99)):
        result.add(f"{at} {label} latency: floor", floor_value, "ms")
        result.add(f"{at} {label} latency: bot", bot_value, "ms")
    result.add(f"{at} p99 latency: bot / floor", ratio(b.p99, f.p99), "x", at_most(P99_RATIO_GOAL))
    result.add(f"{at} p99.9 latency: floor", f.p999, "ms")
    result.add(f"{at} p99.9 latency: bot", b.p999, "ms")
    result.add(f"{at} max latency: bot", b.max, "ms")
    result.add(f"{at} errors: floor", floor.stats.errors, "", at_most(0, "0"))
    result.add(f"{at} errors: bot", bot.stats.errors, "", at_most(0, "0"))
    result.add(f"{at} server CPU: floor", floor.server_cpu, "cores")
    result.add(f"{at} server CPU: bot", bot.server_cpu, "cores")
    result.add(f"{at} load core CPU: floor run", floor.load_cpu, "cores")
    result.add(f"{at} load core CPU: bot run (generator + fake)", bot.load_cpu, "cores")
    for server, load in (("floor", floor), ("bot", bot)):
        if load.stats.error_kinds:
            result.note(f"B1 {at} {server} errors by kind: {load.stats.error_kinds}")
        if load.stats.warmup_errors:
            result.note(
                f"B1 {at} {server} errors in warm-up (not counted): {load.stats.warmup_errors}"
            )
        if load.load_cpu > 0.9:
            result.note(
                f"B1 {at} {server}: the load core was saturated; "
                "its figures may be the load generator's"
            )


def _report_bot_facts(result: RunResult, facts: BotFacts) -> None:
    result.add(
        "rows written per arrest (custody + notices + audit)",
        rows_per_arrest(facts.custodies, facts.notices, facts.audit_entries, facts.audit_personal),
        "",
        at_most(ROWS_PER_ARREST_GOAL),
    )
    if facts.custodies:
        result.note(
            f"B1 rows per arrest: {facts.custodies:,} custodies, "
            f"{facts.notices / facts.custodies:.2f} notices and "
            f"{facts.audit_entries / facts.custodies:.2f} audit entries and "
            f"{facts.audit_personal / facts.custodies:.2f} personal parts each"
        )
    lateness = facts.probe_lateness
    result.add(
        "other facility's expiries/pages during load: lateness p50",
        percentile(lateness, 50),
        "ms",
    )
    result.add(
        "other facility's expiries/pages during load: lateness max",
        max(lateness, default=math.nan),
        "ms",
        at_most(1000),
    )
    health, wall = facts.health, facts.wall
    result.add("@64 dispatcher lag at end of load", float(health.get("lag_seconds") or 0.0), "s")
    result.add("@64 dispatcher ticks per second", float(health.get("dispatcher_ticks") or 0) / wall)
    result.add("@64 notices due but unsent at end of load", facts.backlog)


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
