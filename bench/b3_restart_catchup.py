"""B3: kill -9, an hour of missed notices, restart: how fast and how complete is catch-up.

A real ``wso-bot serve`` logs a few arrests over HTTP and is killed with
SIGKILL. While it is dead, custodies are written through the store API
(``SqliteCustodyStore.add_custodies``, via ``dataset.add_custodies``) whose notices fell
due during the last hour — about 2,000 channel notices (jail and ICE of 20
facilities), some custodies with two reminders or a reminder and the expiry
in that hour, the expiries with a page (one escalation level, a sergeant per
facility); everything due before the hour is stored as sent. Then the bot is
started again over the same file.

Measured: time from spawning the new process to the first expiry notice or
page reaching the fake Slack (wall clock at the fake); notices dropped
(``accounting``: every due notice is posted once or skipped as superseded
by a later one that was posted); the drain rate (posts per second from the
first to the last catch-up post, in all and per channel, against the bot's
per-channel limiter). The fake answers every call after 50 ms.
"""

from __future__ import annotations

import asyncio
import math
import random
import statistics
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench import dataset
from bench.accounting import POSTED, account
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
    end_run,
    facilities_toml,
    load_config,
    read_notices,
    start_profile,
    summarize_profile,
    workdir,
)
from bot.core.model import CUSTODY_WINDOW
from tests.fakes.signed_requests import SignedSlackClient

NAME = "B3"
TITLE = "restart after 1 h down"
DEFAULT_RUNS = 3
SLACK_LATENCY = 0.05
OUTAGE = timedelta(hours=1)


def sizes(quick: bool) -> tuple[int, int, float]:
    """(due notices to leave, facilities, seconds allowed to drain them)."""
    return (500, 10, 120.0) if quick else (2000, 20, 600.0)


def limiter_rate() -> tuple[float, int] | None:
    """The bot's per-channel limit (messages/s, burst), if it has one."""
    try:
        from bot.core.rate_limit import DEFAULT_BURST, DEFAULT_RATE_PER_SECOND
    except ImportError:
        return None
    return float(DEFAULT_RATE_PER_SECOND), int(DEFAULT_BURST)


def missed_hour(config: object, back_at: datetime, target: int) -> tuple[list, int]:  # type: ignore[type-arg]
    """Custodies with about ``target`` posted-kind notices due in the hour before ``back_at``."""
    leads = [timedelta(0), *config.reminders.before]  # type: ignore[attr-defined]
    facilities = [f.id for f in config.facilities]  # type: ignore[attr-defined]
    down_since = back_at - OUTAGE
    out = []
    due = 0
    index = 0
    while due < target:
        when = down_since + timedelta(seconds=random.uniform(0, OUTAGE.total_seconds() - 1))
        arrested_at = when - CUSTODY_WINDOW + random.choice(leads)
        facility = random.choice(facilities)
        custody = dataset.new_custody(facility, f"M{index}", arrested_at)
        notices = dataset.planned(custody, config, sent_before=down_since)
        due += sum(
            1
            for n in notices
            if n.due_at <= back_at and n.state.value == "pending" and n.target.kind in POSTED
        )
        out.append((custody, notices))
        index += 1
    return out, due


async def run(quick: bool, profile_dir: Path | None = None) -> RunResult:
    target, facility_count, drain_limit = sizes(quick)
    result = RunResult()
    with workdir("b3") as tmp:
        config_path = tmp / "wso.toml"
        config_path.write_text(
            facilities_toml(facility_count, escalation=[(SERGEANT + "{n}", "0s")])
        )
        config = load_config(config_path)
        db = tmp / "wso.db"
        fake = FakeSlackProcess(tmp, latency=SLACK_LATENCY)
        bot: BotProcess | None = None
        try:
            first = BotProcess(tmp, config_path, db, fake.api_url)
            bot = first
            await first.wait_healthy()
            async with SignedSlackClient(first.url, SIGNING_SECRET) as slack:
                for index in range(3):
                    await slack.command(
                        f"arrest LIVE-{index} facility {config.facilities[0].id}",
                        user_id=OFFICER,
                        channel_id=JAIL,
                    )
            await _wait_posts(fake, 6, 10.0)
            first.kill9()

            back_at = datetime.now(UTC)
            custodies, due_count = missed_hour(config, back_at, target)
            await dataset.add_custodies(db, custodies)

            bot = BotProcess(tmp, config_path, db, fake.api_url)
            profiler = None
            if profile_dir is not None:
                await asyncio.sleep(0.5)  # the profiler needs the interpreter up
                profiler = start_profile(bot.pid, 30, profile_dir / "b3.raw")
            spawned = bot.started_wall
            settled_at = math.nan
            deadline = time.monotonic() + drain_limit
            while time.monotonic() < deadline:
                await asyncio.sleep(0.5)
                await fake.poll_posts()
                if count_unsettled(db, back_at) == 0:
                    settled_at = time.time()
                    break
            await asyncio.sleep(1.0)  # anything still in flight
            await fake.poll_posts()
            if profiler is not None:
                profiler.wait(timeout=90)
                result.profile = summarize_profile(profile_dir / "b3.raw")
            bot.stop()
            events = bot.log_events()
        finally:
            await end_run(bot, fake)
        catch_up = [r for r in fake.rows if float(r[3]) >= spawned]
        first_alarm = min(
            (float(r[3]) for r in catch_up if r[1] in ("expired", "escalation")), default=math.nan
        )
        first_post = min((float(r[3]) for r in catch_up), default=math.nan)
        backlog_ids = {
            n.id for n in read_notices(db) if n.due_at <= back_at and n.target.kind in POSTED
        }
        backlog = [r for r in catch_up if r[0] in backlog_ids]
        times = sorted(float(r[3]) for r in backlog)
        drain_span = times[-1] - times[0] if len(times) > 1 else math.nan
        per_channel = _per_channel_rates(backlog)
        books = account(
            read_notices(db),
            fake.rows,
            back_at.timestamp(),
            since=(back_at - OUTAGE).timestamp(),
            restart_groups=[(back_at.timestamp() - OUTAGE.total_seconds(), back_at.timestamp())],
        )
    result.add("due notices left while down", books.due)
    result.add("start to first expiry/page", first_alarm - spawned, "s", at_most(2))
    result.add("start to first post", first_post - spawned, "s")
    result.add("dropped", books.lost, "", at_most(0, "0"))
    result.add("duplicates", books.duplicate_channel + books.duplicate_dm, "", at_most(0, "0"))
    result.add("posted", books.posted_once)
    result.add("skipped as superseded", books.legit_skipped)
    result.add("sent although superseded", books.sent_despite_rule)
    result.add("channels drained", len(per_channel))
    result.add("drain rate, all channels", len(backlog) / drain_span, "msgs/s")
    limit = limiter_rate()
    median_rate = statistics.median(per_channel) if per_channel else math.nan
    if limit is None:
        result.add("drain rate per channel (median)", median_rate, "msgs/s")
    else:
        goal = at_least(0.9 * limit[0], f">= {0.9 * limit[0]:g} (90% of limiter)")
        result.add("drain rate per channel (median)", median_rate, "msgs/s", goal)
        result.add("drain rate per channel (slowest)", min(per_channel, default=math.nan), "msgs/s")
    result.add("all settled after start", settled_at - spawned, "s")
    if books.lost_examples:
        result.note(
            f"B3 dropped by reason {dict(books.lost_by_reason)}; e.g. {books.lost_examples}"
        )
    errors = {k: v for k, v in events.items() if k.startswith(("error:", "critical:"))}
    if errors:
        result.note(f"B3 bot error log events after restart: {errors}")
    if limit is None:
        result.note(
            "B3 drain-rate goal (>= 90% of the per-channel limiter rate) not checked: the bot "
            "has no per-channel limiter (bot.core.rate_limit); the raw rate is bounded by the "
            "fake's 50 ms per call, one call at a time per channel"
        )
    else:
        result.note(
            f"B3 per-channel drain rate = (posts - burst {limit[1]}) / (last - first post), "
            f"over channels with more than {limit[1] + 4} catch-up posts; limiter "
            f"{limit[0]:g}/s per channel"
        )
    result.note(f"B3 planned due notices (posted kinds): {due_count}")
    return result


async def _wait_posts(fake: FakeSlackProcess, count: int, within: float) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        await fake.poll_posts()
        if len(fake.rows) >= count:
            return
        await asyncio.sleep(0.05)
    raise RuntimeError(f"the first bot posted {len(fake.rows)} of {count} logged notices")


def _per_channel_rates(posts: list[list[object]]) -> list[float]:
    """Steady drain rate of each channel that had a real backlog (burst excluded)."""
    limit = limiter_rate()
    burst = limit[1] if limit else 0
    by_channel: dict[str, list[float]] = {}
    for row in posts:
        by_channel.setdefault(str(row[2]), []).append(float(row[3]))  # type: ignore[arg-type]
    rates = []
    for times in by_channel.values():
        if len(times) > burst + 4:
            times.sort()
            rates.append((len(times) - burst) / (times[-1] - times[0]))
    return rates
