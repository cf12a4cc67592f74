"""B4: 10k notices through 200 kill -9s; afterwards, none lost and none doubled.

Custodies are written through the store API before the storm, with a
compressed timetable (reminders 20s, 10s and 5s before the deadline, jail and
ICE channels, escalation levels at 0s and 5s after the deadline), deadlines
spread over the storm so about 10k channel notices and pages fall due while
the bot is killed with SIGKILL and started again, 200 times. After the storm
one last process runs until every notice due by then is settled, and is
stopped with SIGTERM.

Kills: half at random moments, uniform from early in start-up to 1.5 s after
it (some during start-up and recovery, most while catching up); the other
half at the bot's injected points (``WSO_FAULT_POINT`` = ``after_claim``,
``after_post`` or ``mid_commit``, at its 1st to 20th passage), where the bot
SIGKILLs itself. Without that hook in the bot, every kill is random.
40 facilities, so that Slack's one post per second per channel, which the
bot keeps to, is not what bounds the storm.

The storm runs twice: as shipped (the goals), and with ``WSO_HISTORY_LOOKUP=off``
(notices a crash left in doubt are resent without looking in Slack's history first;
reported without goals, to show what the lookup is worth).

Then, per notice id, Slack's copy (the fake's record of successful
``chat.postMessage`` calls) is compared with the database (``accounting``).
The fake answers every call after 20 ms, so a kill often lands between Slack
accepting a post and the bot recording it.
"""

from __future__ import annotations

import asyncio
import math
import random
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench import dataset
from bench.accounting import account
from bench.common import (
    SERGEANT,
    BotProcess,
    FakeSlackProcess,
    RunResult,
    at_most,
    bot_mentions,
    count_unsettled,
    end_run,
    facilities_toml,
    load_config,
    read_notices,
    workdir,
)
from bot.core.model import CUSTODY_WINDOW

NAME = "B4"
TITLE = "kill -9 storm"
DEFAULT_RUNS = 1
PROFILES = False
SLACK_LATENCY = 0.02
REMINDERS = ("20s", "10s", "5s")
ESCALATION = ((SERGEANT + "{n}", "0s"), ("U0LT{n}", "5s"))
# Enough channels that Slack's ~1 post/s per channel (which the bot keeps to) is not what
# limits the storm: each facility has 4 (jail, ICE, two DMs).
FACILITIES = 40
FAULT_POINTS = ("after_claim", "after_post", "mid_commit")
# Notices a custody owes in this config: 2 channels x (3 reminders + expiry) + 2 pages.
NOTICES_PER_CUSTODY = 10
LAST_DUE_AFTER_DEADLINE = 5.0  # the second page
FIRST_DUE_BEFORE_DEADLINE = 20.0  # the first reminder
FINAL_DRAIN_LIMIT = 300.0


def sizes(quick: bool) -> tuple[int, int]:
    """(notices, kills)."""
    return (1_000, 20) if quick else (10_000, 200)


async def _startup_seconds(tmp: Path, config: Path, api_url: str) -> float:
    bot = BotProcess(tmp, config, tmp / "probe.db", api_url)
    try:
        await bot.wait_healthy()
        return time.monotonic() - bot.started
    finally:
        bot.kill9()


async def run(quick: bool, profile_dir: Path | None = None) -> RunResult:
    """The storm with history lookup (the goals), then again without it (figures only)."""
    result = await _storm(quick, history_lookup=True)
    without = await _storm(quick, history_lookup=False)
    for measurement in without.measurements:
        if measurement.metric in ("lost", "duplicates (channel notices)", "duplicates (DM pages)"):
            result.add(f"{measurement.metric}, history lookup off", measurement.value)
    result.notes += [f"(history lookup off) {note}" for note in without.notes]
    return result


async def _storm(quick: bool, *, history_lookup: bool) -> RunResult:
    notices_wanted, kills = sizes(quick)
    result = RunResult()
    rng = random.Random()
    lookup_env = {} if history_lookup else {"WSO_HISTORY_LOOKUP": "off"}
    injected = bot_mentions("WSO_FAULT_POINT")
    with workdir("b4") as tmp:
        config_path = tmp / "wso.toml"
        config_path.write_text(
            facilities_toml(FACILITIES, reminders=REMINDERS, escalation=ESCALATION)
        )
        config = load_config(config_path)
        db = tmp / "wso.db"
        fake = FakeSlackProcess(tmp, latency=SLACK_LATENCY)
        bot: BotProcess | None = None
        exited_early = 0
        error_events: Counter[str] = Counter()
        recovered = 0
        points_hit: Counter[str] = Counter()
        points_missed: Counter[str] = Counter()
        try:
            startup = await _startup_seconds(tmp, config_path, fake.api_url)
            low, high = 0.3 * startup, startup + 1.5
            storm = kills * (low + high) / 2
            begin = datetime.now(UTC) + timedelta(seconds=5)
            custodies = []
            for index in range(max(1, notices_wanted // NOTICES_PER_CUSTODY)):
                deadline = begin + timedelta(
                    seconds=FIRST_DUE_BEFORE_DEADLINE
                    + rng.uniform(0, max(1.0, storm - FIRST_DUE_BEFORE_DEADLINE))
                )
                facility = rng.choice(config.facilities).id
                custody = dataset.new_custody(facility, f"K{index}", deadline - CUSTODY_WINDOW)
                custodies.append((custody, dataset.planned(custody, config, sent_before=begin)))
            await dataset.add_custodies(db, custodies)
            last_due = max(c.deadline for c, _ in custodies) + timedelta(
                seconds=LAST_DUE_AFTER_DEADLINE
            )
            downs: list[tuple[float, float]] = []
            storm_started = time.monotonic()
            for number in range(kills):
                point = (
                    f"{rng.choice(FAULT_POINTS)}:{rng.randint(1, 20)}"
                    if injected and number % 2 == 1
                    else None
                )
                bot = BotProcess(
                    tmp,
                    config_path,
                    db,
                    fake.api_url,
                    extra_env={**lookup_env, **({"WSO_FAULT_POINT": point} if point else {})},
                )
                if downs:
                    downs[-1] = (downs[-1][0], bot.started_wall)
                if point is None:
                    await asyncio.sleep(rng.uniform(low, high))
                    if bot.process.poll() is not None:
                        exited_early += 1
                        result.note(f"B4 bot exited by itself: {bot.log_tail(600)!r}")
                else:
                    # It kills itself at the point; if it never gets there, we do.
                    waited = 0.0
                    while bot.process.poll() is None and waited < high + 3.0:
                        await asyncio.sleep(0.02)
                        waited += 0.02
                    if bot.process.poll() is None:
                        points_missed[point.split(":")[0]] += 1
                    else:
                        points_hit[point.split(":")[0]] += 1
                bot.kill9()
                downs.append((time.time(), math.inf))
                error_events.update(_errors(bot))
                recovered += bot.log_events().get("info:notice.found_in_history", 0)
            storm_seconds = time.monotonic() - storm_started
            # The last process: run until everything due by the last deadline is settled.
            bot = BotProcess(tmp, config_path, db, fake.api_url, extra_env=lookup_env)
            downs[-1] = (downs[-1][0], bot.started_wall)
            await bot.wait_healthy(60)
            wait_until = max(time.time(), last_due.timestamp()) + FINAL_DRAIN_LIMIT
            settled = False
            while time.time() < wait_until:
                await asyncio.sleep(1.0)
                if time.time() > last_due.timestamp() and count_unsettled(db, last_due) == 0:
                    settled = True
                    break
            await asyncio.sleep(1.0)
            bot.stop()
            error_events.update(_errors(bot))
            recovered += bot.log_events().get("info:notice.found_in_history", 0)
            while await fake.poll_posts():
                pass
        finally:
            await end_run(bot, fake)
        books = account(
            read_notices(db),
            fake.rows,
            last_due.timestamp(),
            since=begin.timestamp(),
            restart_groups=downs,
        )
    result.add("due notices (channel + pages)", books.due)
    result.add("kill -9s", kills)
    result.add("lost", books.lost, "", at_most(0, "0"))
    result.add("duplicates (channel notices)", books.duplicate_channel, "", at_most(0, "0"))
    result.add("duplicates (DM pages)", books.duplicate_dm, "", at_most(0, "0"))
    result.add("posted once", books.posted_once)
    result.add("skipped as superseded", books.legit_skipped)
    result.add("sent although superseded", books.sent_despite_rule)
    result.add("storm duration", storm_seconds, "s")
    result.add("in-flight notices found in history", recovered)
    if not settled:
        result.note(f"B4 not everything was settled {FINAL_DRAIN_LIMIT:.0f} s after the last due")
    if books.lost_examples:
        result.note(f"B4 lost by reason {dict(books.lost_by_reason)}; e.g. {books.lost_examples}")
    if error_events:
        result.note(f"B4 bot error log events over all processes: {dict(error_events)}")
    if exited_early:
        result.note(f"B4 the bot exited by itself {exited_early} times before its kill")
    if injected:
        result.add("kills at injected points", sum(points_hit.values()))
        result.note(
            f"B4 half the kills by WSO_FAULT_POINT=<point>:<1..20>: reached {dict(points_hit)}, "
            f"not reached in time (killed by us instead) {dict(points_missed)}"
        )
    else:
        result.note("B4 the bot has no WSO_FAULT_POINT hook: all kills at random moments")
    return result


def _errors(bot: BotProcess) -> dict[str, int]:
    return {k: v for k, v in bot.log_events().items() if k.startswith(("error:", "critical:"))}
