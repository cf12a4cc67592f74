"""B2: timer lateness with 100k open custodies (~500k pending notices).

The database holds 100k open custodies (``dataset.template``: 50 facilities,
default reminders, jail and ICE in one shared channel per facility, one
escalation level), planned
by the bot's own code as if each had been logged at its arrest time, arrests
spread over the last 46 h. None of those falls due during the benchmark. On top
of them, a few hundred custodies are added whose next notice (a reminder or the
expiry, and then its page) falls due at a uniformly random moment in the
measured window.

The bot runs as a real ``wso-bot serve`` process (core 0), the fake Slack as
another (core 1) answering every call after 50 ms. Lateness of a notice = the
moment its ``chat.postMessage`` reached the fake (wall clock, before the fake's
50 ms) - its ``due_at`` in the database, matched by the ``notice_id`` in the
message metadata. Before the window, nothing is due for 10 s: the bot's CPU time
over that stretch (``/proc/<pid>/stat``) is the idle cost.
"""

from __future__ import annotations

import asyncio
import math
import random
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench import dataset
from bench.common import (
    BotProcess,
    FakeSlackProcess,
    RunResult,
    at_most,
    by_kind_summary,
    cpu_seconds,
    end_run,
    facility_ids,
    load_config,
    percentile,
    read_notices,
    start_profile,
    summarize_profile,
    workdir,
)
from bot.core.model import CUSTODY_WINDOW
from bot.core.targets import TargetKind

NAME = "B2"
TITLE = "timer lateness, 100k open custodies"
DEFAULT_RUNS = 3
# The tail comes from how sends are scheduled (see the README), not from CPU: no profile.
PROFILES = False
SLACK_LATENCY = 0.05
POSTED = (TargetKind.CHANNEL, TargetKind.DIRECT_MESSAGE)


def sizes(quick: bool) -> dict[str, float]:
    if quick:
        return {"custodies": 10_000, "window": 15.0, "idle": 5.0, "due": 80, "startup": 4.0}
    # startup: seconds allowed from preparing the data to the end of start-up
    return {"custodies": 100_000, "window": 60.0, "idle": 10.0, "due": 300, "startup": 10.0}


def window_custodies(config: object, start: datetime, seconds: float, count: int) -> list:  # type: ignore[type-arg]
    """Custodies whose next notice falls due at a random moment in [start, start+seconds]."""
    leads = [timedelta(0), *config.reminders.before]  # type: ignore[attr-defined]
    out = []
    for index in range(count):
        due = start + timedelta(seconds=random.uniform(0, seconds))
        lead = random.choice(leads)
        arrested_at = due - CUSTODY_WINDOW + lead
        facility = random.choice(facility_ids(dataset.TEMPLATE_FACILITIES))
        custody = dataset.new_custody(facility, f"W{index}", arrested_at)
        out.append(
            (custody, dataset.planned(custody, config, sent_before=due - timedelta(seconds=1)))
        )
    return out


async def run(quick: bool, profile_dir: Path | None = None) -> RunResult:
    size = sizes(quick)
    result = RunResult()
    template, build_seconds = await dataset.template(int(size["custodies"]))
    with workdir("b2") as tmp:
        config_path = tmp / "wso.toml"
        config_path.write_text(dataset.TEMPLATE_TOML)
        config = load_config(config_path)
        db = tmp / "wso.db"
        dataset.copy_db(template, db)
        fake = FakeSlackProcess(tmp, latency=SLACK_LATENCY)
        bot: BotProcess | None = None
        try:
            prepared = time.time()
            window_start = datetime.fromtimestamp(
                prepared + size["startup"] + size["idle"] + 2, UTC
            )
            window_end = window_start + timedelta(seconds=size["window"])
            await dataset.add_custodies(
                db, window_custodies(config, window_start, size["window"], int(size["due"]))
            )
            bot = BotProcess(tmp, config_path, db, fake.api_url)
            await bot.wait_healthy(60)
            startup = time.time() - bot.started_wall
            # Idle: nothing is due until the window starts.
            await asyncio.sleep(1.0)
            idle_for = min(size["idle"], window_start.timestamp() - 1.0 - time.time())
            idle_cpu = math.nan
            if idle_for > 1.0:
                before = cpu_seconds(bot.pid)
                await asyncio.sleep(idle_for)
                idle_cpu = (cpu_seconds(bot.pid) - before) / idle_for
                if idle_for < size["idle"] - 0.5:
                    result.note(f"B2 idle window shortened to {idle_for:.1f} s by a slow start-up")
            profiler = None
            until_end = window_end.timestamp() - time.time()
            if profile_dir is not None:
                await asyncio.sleep(max(0.0, window_start.timestamp() - time.time()))
                profiler = start_profile(bot.pid, until_end, profile_dir / "b2.raw")
            # The window, and 5 s of grace for the last notices.
            while time.time() < window_end.timestamp() + 5:
                await fake.poll_posts()
                await asyncio.sleep(0.5)
            await fake.poll_posts()
            if profiler is not None:
                profiler.wait(timeout=until_end + 60)
                result.profile = summarize_profile(profile_dir / "b2.raw")
            bot.stop()
        finally:
            await end_run(bot, fake)
        arrived = fake.first_arrivals()
        lateness: list[float] = []
        missing = 0
        missing_examples: list[str] = []
        by_kind: dict[str, list[float]] = {}
        for notice in read_notices(db):
            if notice.target.kind not in POSTED:
                continue
            due = notice.due_at.timestamp()
            if not window_start.timestamp() <= due <= window_end.timestamp():
                continue
            if notice.id in arrived:
                late_ms = (arrived[notice.id] - due) * 1000
                lateness.append(late_ms)
                by_kind.setdefault(notice.kind, []).append(late_ms)
            else:
                missing += 1
                if len(missing_examples) < 5:
                    missing_examples.append(
                        f"{notice.kind} to {notice.channel} due "
                        f"+{due - window_start.timestamp():.1f} s into the window, "
                        f"state {notice.state}, attempts {notice.attempts}, "
                        f"last_error {notice.last_error}"
                    )
    result.note("B2 lateness by kind (n, p50, max ms): " + by_kind_summary(by_kind))
    if missing_examples:
        result.note(f"B2 due but not posted, e.g.: {missing_examples}")
    result.add("open custodies", size["custodies"])
    result.add("notices due in window", len(lateness) + missing)
    result.add("lateness p50", percentile(lateness, 50), "ms")
    result.add("lateness p99", percentile(lateness, 99), "ms", at_most(100))
    result.add("lateness max", max(lateness, default=math.nan), "ms", at_most(1000))
    result.add("due in window but not posted", missing, "", at_most(0, "0"))
    result.add("idle CPU (nothing due)", idle_cpu, "CPU-s/s", at_most(0.01, "<= 0.01 (near 0)"))
    result.add("start-up to healthy", startup, "s")
    result.add("data set build (once, cached)", build_seconds, "s")
    return result
