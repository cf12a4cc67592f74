"""B7: one channel fails every call for 60 s; does everyone else stay on time?

Twenty facilities, each with its own jail and ICE channel, two officers and one
escalation level (a sergeant per facility, paged at the deadline). A data set
written through the store's own API (``dataset``, as B2 does) holds custodies
whose next notice — a reminder, or the expiry and then its page — falls due at a
random moment of a 90 s window; one facility (``fac-007``) gets a larger share.

At the window's start one facility's jail channel fails every call that names it
(posts, history reads, scheduled messages) for 60 s. The fake Slack answers as
Slack's edge does during an incident, in turns of equal length: a ``text/plain``
503 (``upstream connect error or disconnect/reset before headers…``), an HTML
502, a hang (no answer until the turn ends), a reset connection, and a
``text/plain`` 503 given after the post was carried out (the message is in the
channel, the answer says it is not). Meanwhile officers log arrests into that
facility with signed ``/wso arrest`` commands: their ``logged`` notices go to the
failing channel, and their Slack-side backups are scheduled there.

Measured:

* lateness of every notice **not** in the failing channel that was due in the
  window (arrival of its ``chat.postMessage`` at the fake - ``due_at``, by
  ``notice_id``, as B2): p50 / p99 / max;
* once everything has settled, the copies of each notice of the failing channel
  in that channel's history (the fake's, metadata included): exactly one each;
  and how long after the outage's end each got there;
* the backups of the live arrests scheduled in Slack: exactly one each;
* a ``delivery_problem`` DM to each officer of the facility, once per outage,
  when the outage is longer than the bot's alert threshold (``DELIVERY_ALERT_AFTER``);
* ``/healthz`` every 0.5 s during the outage (dispatcher ``running``,
  ``last_slack_error`` set) and after it (cleared).

The bot runs as a real ``wso-bot serve`` (core 0); the fake Slack (50 ms per call)
and this process on core 1.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import random
import re
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp

from bench import dataset
from bench.accounting import POSTED, account
from bench.common import (
    SERGEANT,
    SIGNING_SECRET,
    BotProcess,
    FakeSlackProcess,
    RunResult,
    at_least,
    at_most,
    by_kind_summary,
    end_run,
    facilities_toml,
    load_config,
    percentile,
    read_notices,
    workdir,
)
from bot.core.model import CUSTODY_WINDOW, Notice
from tests.fakes.signed_requests import SignedSlackClient

NAME = "B7"
TITLE = "one channel fails every call for 60 s"
DEFAULT_RUNS = 3
PROFILES = False  # the figures are about scheduling and isolation, not CPU
SLACK_LATENCY = 0.05
FACILITIES = 20
FAILING_FACILITY = 7
OFFICERS = ("U0OFF{n}A", "U0OFF{n}B")
# Each in turn, for an equal share of the outage: every shape the edge answers in.
SHAPES = ("plain_503", "html_502", "hang", "reset", "plain_503_after_posting")
# Seconds from preparing the data to the window's start (the bot's start-up fits in it).
LEAD_IN = 6.0
# Slack-side backups that failed may wait for the bot's pacing of chat.scheduleMessage
# (30 per channel per 5 minutes, counted from the outage's start): allow that, and a minute.
BACKUPS_SETTLE = 360.0
HEALTH_EVERY = 0.5
OK_PREFIX = ":white_check_mark: Logged WSO arrest"
_CUSTODY_IN_TEXT = re.compile(r"\(custody (c_[0-9a-f]+)\)")


@dataclass(frozen=True)
class Sizes:
    outage: float  # seconds the channel fails
    window: float  # seconds over which the data set's notices fall due (from the outage's start)
    custodies: int  # custodies with a notice due in the window, in all
    failing_share: float  # of those, this share in the failing facility
    live_arrests: int  # logged into the failing facility during the outage
    settle: float  # seconds after the window allowed for channel notices and DMs to settle


def sizes(quick: bool) -> Sizes:
    if quick:
        return Sizes(
            outage=20.0, window=30.0, custodies=60, failing_share=0.15, live_arrests=3, settle=90.0
        )
    return Sizes(
        outage=60.0, window=90.0, custodies=240, failing_share=0.125, live_arrests=6, settle=150.0
    )


def alert_threshold() -> float:
    """The bot's own threshold for telling people (30 s if this bot has none named)."""
    try:
        from bot.services.dispatcher import DELIVERY_ALERT_AFTER
    except ImportError:
        return 30.0
    return float(DELIVERY_ALERT_AFTER.total_seconds())


def window_custodies(
    config: Any, start: datetime, size: Sizes, failing_id: str
) -> list[tuple[Any, list[Any]]]:
    """Custodies whose next notice falls due at a random moment of the window.

    Three moments in eight are expiries (with a page at once), the rest reminders.
    """
    leads = [timedelta(0)] * 3 + list(config.reminders.before)
    others = [f.id for f in config.facilities if f.id != failing_id]
    in_failing = round(size.custodies * size.failing_share)
    out = []
    for index in range(size.custodies):
        facility = failing_id if index < in_failing else others[index % len(others)]
        due = start + timedelta(seconds=random.uniform(0.5, size.window))
        arrested_at = due - CUSTODY_WINDOW + random.choice(leads)
        custody = dataset.new_custody(facility, f"W{index}", arrested_at)
        out.append(
            (custody, dataset.planned(custody, config, sent_before=due - timedelta(seconds=1)))
        )
    return out


@dataclass
class HealthSample:
    at: float
    status: int  # HTTP status; 0 when /healthz did not answer within 5 s
    body: dict[str, Any]


@dataclass
class LiveArrests:
    sent: int = 0
    refused: list[str] = field(default_factory=list)
    ack_seconds: list[float] = field(default_factory=list)


async def _watch_health(url: str, stop: asyncio.Event, samples: list[HealthSample]) -> None:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session:
        while not stop.is_set():
            at = time.time()
            try:
                async with session.get(f"{url}/healthz") as response:
                    body = await response.json(content_type=None)
                    samples.append(HealthSample(at, response.status, body))
            except (aiohttp.ClientError, TimeoutError, ValueError):
                samples.append(HealthSample(at, 0, {}))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), HEALTH_EVERY)


async def _poll_posts(fake: FakeSlackProcess, stop: asyncio.Event) -> None:
    while not stop.is_set():
        await fake.poll_posts()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 0.5)


async def _sleep_until(wall: float) -> None:
    await asyncio.sleep(max(0.0, wall - time.time()))


async def _log_arrests(
    bot_url: str, channel: str, officer: str, start: float, seconds: float, count: int
) -> LiveArrests:
    """``count`` signed ``/wso arrest`` commands spread over the outage, into its channel."""
    live = LiveArrests()
    tag = uuid.uuid4().hex[:6].upper()
    async with SignedSlackClient(bot_url, SIGNING_SECRET) as slack:
        for index in range(count):
            await _sleep_until(start + seconds * (index + 0.5) / count)
            sent_at = time.monotonic()
            reply = await slack.command(
                f"arrest B7-{tag}-{index}", user_id=officer, channel_id=channel
            )
            live.sent += 1
            if reply.status != 200 or OK_PREFIX not in reply.body:
                live.refused.append(f"{reply.status}: {reply.body[:120]}")
            else:
                live.ack_seconds.append(time.monotonic() - sent_at)
    return live


def _unsettled(db: Path, cutoff: float, posted_only: bool) -> list[Any]:
    """Notices due by ``cutoff`` still pending or in flight (``posted_only``: channels, DMs)."""
    cutoff_at = datetime.fromtimestamp(cutoff, UTC)
    return [
        n
        for n in read_notices(db)
        if n.state in ("pending", "sending")
        and n.due_at <= cutoff_at
        and (not posted_only or n.target.kind in POSTED)
    ]


async def _settle(db: Path, cutoff: float, give_up_at: float, *, posted_only: bool) -> float:
    """Until nothing due by ``cutoff`` is pending or in flight; when (wall), or NaN."""
    while time.time() < give_up_at:
        if time.time() > cutoff and not _unsettled(db, cutoff, posted_only):
            return time.time()
        await asyncio.sleep(0.5)
    return math.nan


@dataclass
class Observed:
    """What one run saw, for the report."""

    size: Sizes
    window_start: float
    window_end: float
    outage_start: float
    outage_end: float
    failing_channel: str
    failing_ice: str
    officers: list[str]
    notices: list[Any]
    arrived: dict[str, float]
    rows: list[list[Any]]
    history: list[list[Any]]
    scheduled: list[dict[str, Any]]
    live: LiveArrests
    health: list[HealthSample]
    health_after: dict[str, Any]
    settled_at: float  # channel notices and DMs
    all_settled_at: float  # Slack-side backups too
    pending_backups: int  # not settled when the channel notices were
    fake_stats: dict[str, Any]
    events: Counter[str]


async def run(quick: bool) -> RunResult:
    size = sizes(quick)
    with workdir("b7") as tmp:
        config_path = tmp / "wso.toml"
        config_path.write_text(
            facilities_toml(FACILITIES, escalation=[(SERGEANT + "{n}", "0s")], officers=OFFICERS)
        )
        config = load_config(config_path)
        failing = config.facilities[FAILING_FACILITY]
        db = tmp / "wso.db"
        fake = FakeSlackProcess(tmp, latency=SLACK_LATENCY)
        bot: BotProcess | None = None
        try:
            window_start = time.time() + LEAD_IN
            start = datetime.fromtimestamp(window_start, UTC)
            await dataset.add_custodies(db, window_custodies(config, start, size, failing.id))
            window_end = window_start + size.window
            bot = BotProcess(tmp, config_path, db, fake.api_url)
            await bot.wait_healthy()
            if time.time() > window_start - 1.0:
                raise RuntimeError("the bot took too long to start: the window has begun")
            stop = asyncio.Event()
            samples: list[HealthSample] = []
            watchers = [
                asyncio.create_task(_watch_health(bot.url, stop, samples)),
                asyncio.create_task(_poll_posts(fake, stop)),
            ]
            try:
                await _sleep_until(window_start)
                outage = await fake.outage(failing.jail_channel, size.outage, SHAPES)
                outage_start = float(outage["started"])
                live = await _log_arrests(
                    bot.url,
                    failing.jail_channel,
                    sorted(failing.officers)[0],
                    outage_start,
                    size.outage,
                    size.live_arrests,
                )
                # Every channel notice and DM due by the window's end (the alerts and the
                # live arrests' notices too) is sent, found or skipped; then the backups.
                settled_at = await _settle(
                    db, window_end, window_end + size.settle, posted_only=True
                )
                pending_backups = len(_unsettled(db, window_end, posted_only=False))
                all_settled_at = await _settle(
                    db, window_end, outage_start + BACKUPS_SETTLE, posted_only=False
                )
                await asyncio.sleep(1.0)  # stragglers
            finally:
                stop.set()
                await asyncio.gather(*watchers, return_exceptions=True)
            await fake.poll_posts()
            health_after = await bot.health()
            observed = Observed(
                size=size,
                window_start=window_start,
                window_end=window_end,
                outage_start=outage_start,
                outage_end=outage_start + size.outage,
                failing_channel=failing.jail_channel,
                failing_ice=failing.ice_channel,
                officers=sorted(failing.officers),
                notices=[],
                arrived=fake.first_arrivals(),
                rows=list(fake.rows),
                history=await fake.history(failing.jail_channel),
                scheduled=await fake.scheduled(failing.jail_channel),
                live=live,
                health=samples,
                health_after=health_after,
                settled_at=settled_at,
                all_settled_at=all_settled_at,
                pending_backups=pending_backups,
                fake_stats=await fake.stats(),
                events=Counter(),
            )
            bot.stop()
            observed.events = bot.log_events()
        finally:
            await end_run(bot, fake)
        observed.notices = read_notices(db)
    return _report(observed, quick)


def _report(seen: Observed, quick: bool) -> RunResult:
    result = RunResult()
    _report_others(result, seen)
    _report_failing_channel(result, seen)
    _report_alerts(result, seen, quick)
    _report_health(result, seen)
    _report_fake_and_log(result, seen)
    return result


def _in_window(seen: Observed, notice: Notice) -> bool:
    if notice.target.kind not in POSTED:
        return False
    return seen.window_start <= notice.due_at.timestamp() <= seen.window_end


def _report_others(result: RunResult, seen: Observed) -> None:
    """Lateness of everything not in the failing channel (the isolation figure)."""
    lateness: list[float] = []
    by_kind: dict[str, list[float]] = {}
    same_facility_ice: list[float] = []
    missing: list[str] = []
    for notice in seen.notices:
        if notice.channel == seen.failing_channel or not _in_window(seen, notice):
            continue
        due = notice.due_at.timestamp()
        if notice.id not in seen.arrived:
            missing.append(
                f"{notice.kind} to {notice.channel} due +{due - seen.window_start:.1f} s, "
                f"state {notice.state}, last_error {notice.last_error}"
            )
            continue
        late_ms = (seen.arrived[notice.id] - due) * 1000
        lateness.append(late_ms)
        by_kind.setdefault(notice.kind, []).append(late_ms)
        if notice.channel == seen.failing_ice:
            same_facility_ice.append(late_ms)
    result.add("other channels: notices due in the window", len(lateness) + len(missing))
    result.add("other channels: lateness p50", percentile(lateness, 50), "ms")
    result.add("other channels: lateness p99", percentile(lateness, 99), "ms", at_most(1000))
    result.add("other channels: lateness max", max(lateness, default=math.nan), "ms")
    result.add("other channels: due but not posted", len(missing), "", at_most(0, "0"))
    result.add(
        "failing facility's ICE channel: lateness max",
        max(same_facility_ice, default=math.nan),
        "ms",
    )
    result.note("B7 other channels' lateness by kind (n, p50, max ms): " + by_kind_summary(by_kind))
    if missing:
        result.note(f"B7 other channels, due but not posted, e.g.: {missing[:5]}")


def _report_failing_channel(result: RunResult, seen: Observed) -> None:
    """Copies in the failing channel's history, and how soon after the outage they came."""
    mine = [n for n in seen.notices if n.channel == seen.failing_channel]
    books = account(
        mine,
        ([row[0]] for row in seen.history if row[0]),
        cutoff=seen.window_end,
        since=seen.window_start,
    )
    landed: dict[str, float] = {}
    for notice_id, _kind, ts in seen.history:
        if notice_id:
            landed.setdefault(str(notice_id), float(ts))
    delays: list[float] = []
    during = 0
    for notice in mine:
        if not _in_window(seen, notice) or notice.id not in landed:
            continue
        due = notice.due_at.timestamp()
        if landed[notice.id] < seen.outage_end:
            during += 1  # carried out although its answer failed
        delays.append(max(0.0, landed[notice.id] - max(due, seen.outage_end)))
    kinds = Counter(n.kind for n in mine if _in_window(seen, n))
    result.add("failing channel: notices due", books.due)
    result.add("failing channel: lost", books.lost, "", at_most(0, "0"))
    result.add(
        "failing channel: posted more than once", books.duplicate_channel, "", at_most(0, "0")
    )
    result.add("failing channel: delay after the outage ended, p50", percentile(delays, 50), "s")
    result.add(
        "failing channel: delay after the outage ended, max", max(delays, default=math.nan), "s"
    )
    result.add("failing channel: landed during the outage (answer failed)", during)
    backups = Counter(
        match.group(1)
        for message in seen.scheduled
        if (match := _CUSTODY_IN_TEXT.search(str(message.get("text") or "")))
    )
    live_custodies = {n.custody_id for n in mine if n.kind == "logged" and _in_window(seen, n)}
    result.add(
        "live arrests' Slack backups: missing",
        sum(1 for c in live_custodies if backups[c] == 0),
        "",
        at_most(0, "0"),
    )
    result.add(
        "live arrests' Slack backups: scheduled more than once",
        sum(1 for c in live_custodies if backups[c] > 1),
        "",
        at_most(0, "0"),
    )
    result.note(f"B7 failing channel's notices by kind: {dict(sorted(kinds.items()))}")
    if books.lost_examples:
        result.note(
            f"B7 failing channel lost by reason {dict(books.lost_by_reason)}; "
            f"e.g. {books.lost_examples}"
        )
    if seen.live.refused:
        result.note(f"B7 live arrests refused: {seen.live.refused[:3]}")
    if seen.live.ack_seconds:
        result.note(
            f"B7 live arrests during the outage: {seen.live.sent} sent, ack max "
            f"{max(seen.live.ack_seconds) * 1000:.0f} ms; backups for them in Slack: "
            f"{[backups[c] for c in sorted(live_custodies)]}"
        )


def _report_alerts(result: RunResult, seen: Observed, quick: bool) -> None:
    """One ``delivery_problem`` DM per officer of the facility per outage; none elsewhere."""
    alerts = [row for row in seen.rows if row[1] == "delivery_problem"]
    per_target = Counter(str(row[2]) for row in alerts)
    officer_dms = ["D" + officer for officer in seen.officers]
    once = sum(1 for dm in officer_dms if per_target[dm] == 1)
    extra = sum(n for target, n in per_target.items() if target not in officer_dms) + sum(
        max(0, per_target[dm] - 1) for dm in officer_dms
    )
    threshold = alert_threshold()
    expected = seen.size.outage > threshold + 1.0
    wanted = len(officer_dms)
    result.add(
        "officers of the failing facility alerted by DM exactly once",
        once if expected else math.nan,
        "",
        at_least(wanted, f"{wanted} of {wanted}") if expected else None,
    )
    result.add("delivery alerts elsewhere, or repeated", extra, "", at_most(0, "0"))
    first = min((float(row[3]) for row in alerts), default=math.nan)
    first_failed = seen.fake_stats.get("first_outage_answer_at") or math.nan
    result.add(
        "first delivery alert after the channel's first failed call", first - first_failed, "s"
    )
    if not expected:
        result.note(
            f"B7 DM alert not checked{' (quick sizes)' if quick else ''}: the outage "
            f"({seen.size.outage:g} s) is not longer than the bot's alert threshold "
            f"({threshold:g} s)"
        )
    if alerts:
        result.note(f"B7 delivery alerts by target: {dict(per_target)}")


def _report_health(result: RunResult, seen: Observed) -> None:
    """``/healthz`` during the outage (running, error shown) and after it (cleared)."""
    during = [s for s in seen.health if seen.outage_start <= s.at <= seen.outage_end]
    not_running = [s for s in during if s.body.get("dispatcher") != "running"]
    first_set = next((s.at for s in during if s.body.get("last_slack_error")), math.nan)
    unset_after = [s for s in during if s.at > first_set and not s.body.get("last_slack_error")]
    errors = Counter(str(s.body.get("last_slack_error")) for s in during)
    statuses = Counter(s.status for s in during)
    lags = [float(s.body["lag_seconds"]) for s in seen.health if "lag_seconds" in s.body]
    result.add(
        "/healthz during the outage: dispatcher not 'running'",
        len(not_running),
        "samples",
        at_most(0, "0"),
    )
    result.add(
        "/healthz during the outage: last_slack_error unset after first set",
        len(unset_after) if not math.isnan(first_set) else math.nan,
        "samples",
        at_most(0, "0"),
    )
    result.add(
        "/healthz: last_slack_error first set after the outage began",
        first_set - seen.outage_start,
        "s",
    )
    result.add(
        "/healthz after settling: last_slack_error cleared (1 = yes)",
        1.0 if seen.health_after.get("last_slack_error") is None else 0.0,
        "",
        at_least(1, "yes"),
    )
    result.add("/healthz: lag_seconds max during the run", max(lags, default=math.nan), "s")
    red_after = [s.at for s in seen.health if s.at > seen.outage_end and s.status != 200]
    result.add(
        "/healthz not 200 after the outage ended, until",
        max(red_after) - seen.outage_end if red_after else 0.0,
        "s",
    )
    result.note(
        f"B7 /healthz during the outage: {len(during)} samples, HTTP {dict(statuses)}, "
        f"last_slack_error {dict(errors)}; after settling: "
        f"dispatcher {seen.health_after.get('dispatcher')}, "
        f"last_slack_error {seen.health_after.get('last_slack_error')!r}, "
        f"ok {seen.health_after.get('ok')}"
    )


def _report_fake_and_log(result: RunResult, seen: Observed) -> None:
    result.add(
        "channel notices and DMs all settled after the outage ended",
        seen.settled_at - seen.outage_end,
        "s",
    )
    result.add("Slack backups still waiting then", seen.pending_backups)
    result.add(
        "all settled after the outage ended, backups included",
        seen.all_settled_at - seen.outage_end,
        "s",
    )
    counts = seen.fake_stats["counts"]
    outage_answers = {
        k.removeprefix("outage:"): v for k, v in counts.items() if k.startswith("outage:")
    }
    result.note(f"B7 calls answered by the outage, by method: {outage_answers}")
    failed = {k: v for k, v in seen.events.items() if k.endswith(":notice.send_failed")}
    errors = {
        k: v
        for k, v in seen.events.items()
        if k.startswith(("error:", "critical:")) and not k.endswith(":notice.send_failed")
    }
    result.note(f"B7 bot log: send failures {failed}; error events {errors}")
