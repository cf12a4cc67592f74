"""The loop that posts due notices on time, and never loses or doubles one.

Each tick reads the clock once, asks the store for ready notices, lets the pure
``triage`` drop superseded reminders (one that may already be in Slack is looked
for there instead), and hands the rest to one sender task per
target (a channel, a person's DM, PagerDuty, a chain's steps), which posts
them in priority order as that channel's rate limit allows. The tick does not
wait for its senders: a page planned while the expiry is still in flight goes
out at once, and one slow or congested channel holds up nobody else. A channel
whose sender is busy, or whose rate limit is spent, is left out of the next
reads, so the oldest backlog cannot crowd other channels out of a batch.
Between ticks the loop sleeps until the next notice is ready, a congested
channel has a token again, a sender finishes, or it is woken (a custody logged
or closed, a fake clock moved). There is no polling interval.

All of it runs in the store's delivery lane (``storage.lanes``): a burst of
commands cannot hold back a due notice.

Each notice is delivered effectively once by ``bot.services.notice_sender``,
which records any fault of its send on the notice itself; a 429 pauses its
target only. Only a failing store can stop a tick or a sender, and three of
those in a row turn ``/healthz`` to ``degraded``.

The loop reads the clock once per tick and once when it works out how long to
sleep; a target's sender reads it once per notice it takes up, because the
notice before it may have waited seconds on Slack. Each send gets that ``now``.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections import defaultdict
from collections.abc import Callable, Collection, Sequence
from datetime import datetime, timedelta

from bot.core.model import Notice, NoticeKind
from bot.core.notice_plan import triage
from bot.core.rate_limit import (
    ChannelRateLimiter,
    SlidingWindowLimiter,
    TargetPauses,
    send_priority,
)
from bot.core.retry import SendFailure
from bot.ops.faults import FaultInjector
from bot.ops.metrics import Metrics
from bot.services.clock import Clock
from bot.services.history_search import ChannelHistory
from bot.services.notice_sender import (
    DeliveryAlerts,
    DispatcherStats,
    NoticeDelivery,
    NoticeSender,
    StepExpansion,
    notice_fields,
)
from storage.interface import CustodyStore
from storage.lanes import delivery_lane

log = logging.getLogger("wso.dispatcher")

# A safety net, not a poll: re-read the store at least this often in case time jumped.
MAX_SLEEP = timedelta(seconds=30)
BATCH_SIZE = 500
# After a sender died of an unexpected error (not a Slack failure), wait this long.
SENDER_RETRY_SECONDS = 1.0


class Dispatcher:
    def __init__(
        self,
        store: CustodyStore,
        delivery: NoticeDelivery,
        history: ChannelHistory,
        expansion: StepExpansion,
        clock: Clock,
        metrics: Metrics | None = None,
        alerts: DeliveryAlerts | None = None,
        faults: FaultInjector | None = None,
        limiter: ChannelRateLimiter | None = None,
        history_lookup: bool = True,
        on_sent: Callable[[Notice], None] | None = None,
    ) -> None:
        self._limiter = limiter or ChannelRateLimiter()
        self._backup_limiter = SlidingWindowLimiter()
        self._pauses = TargetPauses()
        self._metrics = metrics
        self._store = store
        self._clock = clock
        self.stats = DispatcherStats()
        self._sender = NoticeSender(
            self,
            store,
            clock,
            delivery,
            history,
            expansion,
            metrics=metrics,
            alerts=alerts,
            faults=faults or FaultInjector(None),
            history_lookup=history_lookup,
            on_sent=on_sent,
        )
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        # One sender task per target while it has notices in hand.
        self._senders: dict[str, asyncio.Task[None]] = {}
        # When the loop will next read the store by itself (None: it is reading now).
        self._next_read_at: datetime | None = None
        # True while a tick runs: the read that follows it will see anything added now.
        self._read_follows = False
        # The earliest ready time of notices added while the loop read when to wake next.
        self._added_while_reading: datetime | None = None
        self._stopping = False
        clock.subscribe(self.wake)

    # --- lifecycle -------------------------------------------------------------

    def start(self) -> None:
        with delivery_lane():
            self._task = asyncio.create_task(self._run(), name="wso-dispatcher")

    async def stop(self, grace_seconds: float = 5.0) -> None:
        """Let sends in progress finish (up to ``grace_seconds`` in all), then stop.

        A send cut short stays ``sending`` and is settled from history at the next start.
        """
        self._stopping = True
        self.wake()
        loop = asyncio.get_running_loop()
        give_up_at = loop.time() + grace_seconds
        if self._task is not None:
            await _finish_or_cancel([self._task], give_up_at - loop.time())
        await _finish_or_cancel(list(self._senders.values()), give_up_at - loop.time())

    @property
    def is_running(self) -> bool:
        return self._task is not None and not self._task.done()

    @property
    def busy_targets(self) -> frozenset[str]:
        """Targets whose sender is at work now (their ``sending`` notices are in its hands)."""
        return frozenset(self._senders)

    @property
    def status(self) -> str:
        """``running``, ``degraded`` (the loop keeps failing) or ``stopped``."""
        if not self.is_running:
            return "stopped"
        return "degraded" if self.stats.degraded else "running"

    def wake(self) -> None:
        """Re-read the store now: something was added, closed, or time moved."""
        self._wake.set()

    def notices_added(self, notices: Sequence[Notice]) -> None:
        """New notices were stored: wake only if one could go out before the next read.

        Under a burst of arrests into one facility, its channels are congested and
        their senders busy: re-reading the store for every arrest would only take
        turns on the database from the arrests themselves.
        """
        if self._read_follows:
            return  # the loop reads the queue again before it sleeps
        # Called by the desk, outside the loop: it has no ``now`` of the loop's to use.
        held = self._not_worth_reading(self._clock.now())
        # A held channel is read again when its sender finishes or its next token is free.
        ready_times = [n.ready_at() for n in notices if n.channel not in held]
        if not ready_times:
            return
        earliest = min(ready_times)
        if self._next_read_at is None:
            # The loop is reading when to wake next and may have missed these.
            if self._added_while_reading is None or earliest < self._added_while_reading:
                self._added_while_reading = earliest
        elif earliest < self._next_read_at:
            self.wake()

    async def _run(self) -> None:
        while not self._stopping:
            self._wake.clear()
            self._next_read_at = None
            self._read_follows = True
            try:
                more_ready = await self.tick()
                self.stats.ticks_failed_in_a_row = 0
                if not more_ready:
                    await self._sleep(await self._time_to_next())
            except Exception as error:  # keep the loop alive: a dead dispatcher loses notices
                self._tick_failed(error)
                await self._sleep(timedelta(seconds=1))

    def _tick_failed(self, error: Exception) -> None:
        log.exception(
            "dispatcher.tick_failed", extra={"in_a_row": self.stats.ticks_failed_in_a_row + 1}
        )
        self.stats.tick_failures += 1
        self.stats.ticks_failed_in_a_row += 1
        self.stats.last_loop_error = _explain(error)
        if self._metrics is not None:
            self._metrics.tick_failed()

    def _held_channels(self, now: datetime) -> dict[str, datetime | None]:
        """Targets not to read for now: busy senders (None), spent rate limits and pauses."""
        held: dict[str, datetime | None] = dict(self._limiter.congested(now))
        held.update(self._pauses.paused(now))
        held.update(dict.fromkeys(self._senders))
        return held

    def _not_worth_reading(self, now: datetime) -> dict[str, datetime | None]:
        """Held targets, plus backup targets at Slack's scheduling limit.

        Such backups are queued by the next read after the limit frees up, or by any
        read before (a backup deleted, a custody logged elsewhere); they are no reason
        to read again now.
        """
        return {**self._held_channels(now), **self._backup_limiter.congested(now)}

    async def _time_to_next(self) -> timedelta:
        """How long to sleep; from now on, notices added are compared with the wake time."""
        self._read_follows = False
        self._next_read_at = None
        self._added_while_reading = None
        now = self._clock.now()
        held = self._not_worth_reading(now)
        next_ready = await self._store.next_ready_at(exclude_channels=held.keys())
        wait = MAX_SLEEP if next_ready is None else next_ready - now
        token_times = [free_at for free_at in held.values() if free_at is not None]
        if token_times:
            # A congested or paused channel may have notices waiting for its next turn.
            wait = min(wait, min(token_times) - now)
        if self._added_while_reading is not None:
            wait = min(wait, self._added_while_reading - now)
        wait = min(max(wait, timedelta(0)), MAX_SLEEP)
        self._next_read_at = now + wait
        return wait

    async def _sleep(self, delay: timedelta) -> None:
        if self._stopping or delay <= timedelta(0):
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), delay.total_seconds())

    # --- one tick --------------------------------------------------------------

    async def tick(self) -> bool:
        """Hand what is ready now to senders. Returns True if more may be ready at once.

        Only store calls happen here: every call to Slack is made by a sender.
        """
        # A notice ``sending`` outside a live sender was cut short by a crash, a forced
        # stop or an error; returned to its queue, it goes out (or is found) at once.
        await self._sender.recover_in_flight(self._senders.keys())
        now = self._clock.now()
        self.stats.ticks += 1
        self.stats.last_tick_at = now
        self.stats.skipped += await self._store.skip_superseded_reminders(now)
        held = self._held_channels(now)
        ready = await self._store.ready_notices(now, BATCH_SIZE, exclude_channels=held.keys())
        if not ready or self._stopping:
            return False
        full_batch = len(ready) == BATCH_SIZE
        ready = await self._queue_backups_past_limit(ready, now)
        plan = triage(ready)
        if plan.skip:
            await self._store.skip_notices([n.id for n in plan.skip], "superseded")
            self.stats.skipped += len(plan.skip)
            for notice in plan.skip:
                log.info("notice.skipped", extra=notice_fields(notice))
        look_up = frozenset(n.id for n in plan.look_up)
        by_channel: dict[str, list[Notice]] = defaultdict(list)
        for notice in (*plan.look_up, *plan.send):
            by_channel[notice.channel].append(notice)
        for channel, notices in by_channel.items():
            sender = asyncio.create_task(
                self._send_channel(notices, look_up), name=f"wso-send-{channel}"
            )
            self._senders[channel] = sender
            sender.add_done_callback(functools.partial(self._sender_done, channel))
        return full_batch

    async def _queue_backups_past_limit(
        self, ready: Sequence[Notice], now: datetime
    ) -> list[Notice]:
        """Backups for a channel at Slack's scheduling limit wait until it frees up."""
        congested = self._backup_limiter.congested(now)
        if not congested:
            return list(ready)
        waiting: dict[str, list[Notice]] = defaultdict(list)
        for notice in ready:
            if notice.kind is NoticeKind.BACKUP and notice.channel in congested:
                waiting[notice.channel].append(notice)
        for backups in waiting.values():
            await self._queue_backups(backups, now)
        return [n for n in ready if not (n.kind is NoticeKind.BACKUP and n.channel in waiting)]

    def _sender_done(self, channel: str, sender: asyncio.Task[None]) -> None:
        if self._senders.get(channel) is sender:
            del self._senders[channel]
        if sender.cancelled():
            return
        error = sender.exception()
        if error is None:
            self.stats.senders_failed_in_a_row = 0
            self.wake()  # the channel may have more ready, or a token again
            return
        # Not a delivery failure (those are recorded per notice): the store failed while
        # recording one. Try again in a second, as a failed tick does, rather than at once.
        log.error("dispatcher.send_failed", exc_info=error, extra={"channel": channel})
        self.stats.sender_failures += 1
        self.stats.senders_failed_in_a_row += 1
        self.stats.last_loop_error = _explain(error)
        if self._metrics is not None:
            self._metrics.sender_failed()
        asyncio.get_running_loop().call_later(SENDER_RETRY_SECONDS, self.wake)

    async def _send_channel(
        self, notices: Sequence[Notice], look_up: Collection[str] = frozenset()
    ) -> None:
        """Send a target's notices in priority order; those in ``look_up`` are superseded
        and only looked for in Slack (recorded sent if there, skipped if not)."""
        held_back: set[str] = set()
        backups_queued = False
        in_order = sorted(notices, key=send_priority)
        for position, notice in enumerate(in_order):
            if notice.custody_id in held_back:
                continue  # an earlier notice of this custody failed: keep the channel in order
            if notice.kind is NoticeKind.BACKUP and backups_queued:
                continue
            # Read for each notice: the one before it may have waited seconds on Slack.
            now = self._clock.now()
            if self._is_backup_over_slack_limit(notice, now):
                await self._queue_backups(in_order[position:], now)
                backups_queued = True
                continue  # deleting backups is not limited: those go on
            if not self._may_post_now(notice, now):
                return  # congested or paused: the rest waits for the next turn
            if not await self._sender.send(notice, now, superseded=notice.id in look_up):
                held_back.add(notice.custody_id)

    def _is_backup_over_slack_limit(self, notice: Notice, now: datetime) -> bool:
        if notice.kind is not NoticeKind.BACKUP:
            return False
        return not self._backup_limiter.try_acquire(notice.channel, now)

    async def _queue_backups(self, notices: Sequence[Notice], now: datetime) -> None:
        """Slack takes 30 scheduled messages per channel per 5 minutes: the rest wait."""
        backups = [n for n in notices if n.kind is NoticeKind.BACKUP]
        if not backups:
            return
        free_at = self._backup_limiter.free_at(backups[0].channel, now)
        await self._store.defer_notices([n.id for n in backups], free_at)
        log.info(
            "backup.queued",
            extra={
                "channel": backups[0].channel,
                "count": len(backups),
                "until": free_at.isoformat(),
            },
        )

    def _may_post_now(self, notice: Notice, now: datetime) -> bool:
        """Not paused by a 429, and under Slack's ~1 message/second per channel."""
        if self._pauses.is_paused(notice.channel, now):
            return False
        if not notice.target.is_slack_conversation:
            return True
        return self._limiter.try_acquire(notice.channel, now)

    def attempt_failed(self, notice: Notice, failure: SendFailure, retry_at: datetime) -> None:
        """The sender failed to send ``notice``: a 429 pauses its target until the retry,
        and a backup Slack did not take does not count towards the scheduling limit."""
        if failure.is_rate_limit:
            self._pauses.pause(notice.channel, retry_at)
        if notice.kind is NoticeKind.BACKUP and not failure.may_have_posted:
            self._backup_limiter.give_back(notice.channel)  # Slack did not count it either


async def _finish_or_cancel(tasks: Sequence[asyncio.Task[None]], seconds_left: float) -> None:
    if not tasks:
        return
    _, unfinished = await asyncio.wait(tasks, timeout=max(seconds_left, 0.0))
    for task in unfinished:
        task.cancel()
    await asyncio.gather(*unfinished, return_exceptions=True)


def _explain(error: BaseException) -> str:
    """An exception that stopped a tick or a sender, with its message, for /healthz."""
    return f"{type(error).__name__}: {str(error)[:200]}"
