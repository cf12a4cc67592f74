"""The loop that posts due notices on time, and never loses or doubles one.

Each tick reads the clock once, asks the store for ready notices, lets the pure
``triage`` drop superseded reminders, and hands the rest to one sender task per
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

Delivery is effectively once: a notice is marked ``sending`` before the Slack
call and ``sent`` after it. A notice whose earlier attempt may have reached
Slack (crash mid-send, timeout, 5xx) is first looked for in channel history by
its ``notice_id`` metadata, and only posted if it is not there. A notice a
crash left ``sending`` goes back to its target's queue marked "may have
posted", so that lookup happens in its own target's sender, beside every other
target's, never in front of them.

A fault belongs to the smallest thing it touched. Whatever goes wrong while
one notice is sent (a Slack answer of any shape, a bug) is recorded on that
notice, with its attempt and next attempt, and the sender goes on with the
next; a 429 pauses its target only. Only a failing store can stop a tick or a
sender, and three of those in a row turn ``/healthz`` to ``degraded``.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from bot.chat.notices import custody_of_backup
from bot.core.model import URGENT_KINDS, Custody, Notice, NoticeKind
from bot.core.notice_plan import triage
from bot.core.rate_limit import (
    ChannelRateLimiter,
    SlidingWindowLimiter,
    TargetPauses,
    send_priority,
)
from bot.core.retry import DeliveryFailed, SendFailure, retry_delay
from bot.core.targets import TargetKind, backup_target, outage_place, target_kind
from bot.ops.faults import FaultInjector
from bot.ops.metrics import Metrics
from bot.services.clock import Clock
from bot.services.outbound import URGENT_CALL_TIMEOUT_SECONDS, DeliveryReceipt
from storage.interface import CustodyStore
from storage.lanes import delivery_lane

log = logging.getLogger("wso.dispatcher")

# A safety net, not a poll: re-read the store at least this often in case time jumped.
MAX_SLEEP = timedelta(seconds=30)
BATCH_SIZE = 500
# After a sender died of an unexpected error (not a Slack failure), wait this long.
SENDER_RETRY_SECONDS = 1.0
# History is searched from a little before the attempt, to allow for clock skew with Slack.
HISTORY_SKEW = timedelta(seconds=30)
# This many failed ticks, or failed senders, in a row make the loop an alarm in /healthz.
FAILURES_BEFORE_DEGRADED = 3
# A target that keeps failing this long (5xx, timeouts) is reported to people, as a refusal
# that needs a person (channel_not_found, invalid_auth) is at once.
DELIVERY_ALERT_AFTER = timedelta(seconds=30)


class NoticeDelivery(Protocol):
    """Delivers a notice to its target (``bot.services.outbound.Outbound``)."""

    async def deliver(self, custody: Custody, notice: Notice, now: datetime) -> DeliveryReceipt: ...


class ChannelHistory(Protocol):
    """Where Slack shows what it already has: channel history, and scheduled messages."""

    async def direct_message_channel(self, user_id: str) -> str: ...

    async def scheduled_messages(self, channel: str | None = None) -> list[dict[str, Any]]: ...

    async def find_posted(
        self,
        channel: str,
        since: datetime,
        matches: Callable[[dict[str, Any]], bool],
        *,
        timeout: float | None = None,  # noqa: ASYNC109 - a per-call budget
    ) -> str | None: ...


# Plans the alert for a notice stuck on an error a person must fix (custody_plan).
DeliveryAlerts = Callable[[Custody, Notice, str, datetime], list[Notice]]


class StepExpansion(Protocol):
    """Turns a due escalation step into pages (``bot.services.paging.StepExpander``)."""

    async def pages_for(self, custody: Custody, step: Notice, now: datetime) -> list[Notice]: ...


@dataclass
class DispatcherStats:
    """What the dispatcher has done since start; read by /healthz and /metrics."""

    sent: int = 0
    ticks: int = 0
    failed_attempts: int = 0
    skipped: int = 0
    recovered: int = 0
    last_tick_at: datetime | None = None
    # The last delivery failure (a Slack answer, PagerDuty, a webhook); cleared by a success.
    last_slack_error: str | None = None
    # A refusal of the bot's token (invalid_auth, …); cleared by a successful Slack call.
    slack_auth_error: str | None = None
    tick_failures: int = 0
    sender_failures: int = 0
    ticks_failed_in_a_row: int = 0
    senders_failed_in_a_row: int = 0
    # The last exception that stopped a tick or a sender (a store error or a bug).
    last_loop_error: str | None = None

    @property
    def degraded(self) -> bool:
        """The loop keeps failing: ticks or senders, three or more times in a row."""
        return (
            self.ticks_failed_in_a_row >= FAILURES_BEFORE_DEGRADED
            or self.senders_failed_in_a_row >= FAILURES_BEFORE_DEGRADED
        )


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
    ) -> None:
        self._faults = faults or FaultInjector(None)
        self._limiter = limiter or ChannelRateLimiter()
        self._backup_limiter = SlidingWindowLimiter()
        self._pauses = TargetPauses()
        # Off only to measure what it is worth (benchmark B4): resend without looking.
        self._history_lookup = history_lookup
        self._metrics = metrics
        self._alerts = alerts
        self._store = store
        self._delivery = delivery
        self._history = history
        self._expansion = expansion
        self._clock = clock
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        # One sender task per target while it has notices in hand.
        self._senders: dict[str, asyncio.Task[None]] = {}
        # Places failing now (a channel, a DM, PagerDuty…: ``outage_place``): since when, and
        # whether people were told (one alert per outage).
        self._failing_since: dict[str, datetime] = {}
        self._alerted: set[str] = set()
        # The last error of each failing target, latest last.
        self._last_failure: dict[str, str] = {}
        # When the loop will next read the store by itself (None: it is reading now).
        self._next_read_at: datetime | None = None
        # True while a tick runs: the read that follows it will see anything added now.
        self._read_follows = False
        # The earliest ready time of notices added while the loop read when to wake next.
        self._added_while_reading: datetime | None = None
        self._stopping = False
        self.stats = DispatcherStats()
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
                    wait = await self._time_to_next()
                    self._next_read_at = self._clock.now() + wait
                    await self._sleep(wait)
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
        return min(max(wait, timedelta(0)), MAX_SLEEP)

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
        await self.recover_in_flight()
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
                log.info("notice.skipped", extra=_notice_fields(notice))
        by_channel: dict[str, list[Notice]] = defaultdict(list)
        for notice in plan.send:
            by_channel[notice.channel].append(notice)
        for channel, notices in by_channel.items():
            sender = asyncio.create_task(self._send_channel(notices), name=f"wso-send-{channel}")
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
            await self._queue_backups(backups)
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

    async def _send_channel(self, notices: Sequence[Notice]) -> None:
        held_back: set[str] = set()
        backups_queued = False
        in_order = sorted(notices, key=send_priority)
        for position, notice in enumerate(in_order):
            if notice.custody_id in held_back:
                continue  # an earlier notice of this custody failed: keep the channel in order
            if notice.kind is NoticeKind.BACKUP and backups_queued:
                continue
            if self._is_backup_over_slack_limit(notice):
                await self._queue_backups(in_order[position:])
                backups_queued = True
                continue  # deleting backups is not limited: those go on
            if not self._may_post_now(notice):
                return  # congested or paused: the rest waits for the next turn
            if not await self._deliver(notice):
                held_back.add(notice.custody_id)

    def _is_backup_over_slack_limit(self, notice: Notice) -> bool:
        if notice.kind is not NoticeKind.BACKUP:
            return False
        return not self._backup_limiter.try_acquire(notice.channel, self._clock.now())

    async def _queue_backups(self, notices: Sequence[Notice]) -> None:
        """Slack takes 30 scheduled messages per channel per 5 minutes: the rest wait."""
        backups = [n for n in notices if n.kind is NoticeKind.BACKUP]
        if not backups:
            return
        free_at = self._backup_limiter.free_at(backups[0].channel, self._clock.now())
        await self._store.defer_notices([n.id for n in backups], free_at)
        log.info(
            "backup.queued",
            extra={
                "channel": backups[0].channel,
                "count": len(backups),
                "until": free_at.isoformat(),
            },
        )

    def _may_post_now(self, notice: Notice) -> bool:
        """Not paused by a 429, and under Slack's ~1 message/second per channel."""
        now = self._clock.now()
        if self._pauses.is_paused(notice.channel, now):
            return False
        if target_kind(notice.channel) not in (TargetKind.CHANNEL, TargetKind.DIRECT_MESSAGE):
            return True
        return self._limiter.try_acquire(notice.channel, now)

    # --- one notice ------------------------------------------------------------

    async def _deliver(self, notice: Notice) -> bool:
        """Send one notice; any failure is recorded on it. True if it needs nothing more.

        Raises only if the store fails while recording what happened.
        """
        custody = await self._store.get_custody(notice.custody_id)
        if custody is None:
            await self._store.skip_notices([notice.id], "custody missing")
            return True
        try:
            receipt, answered = await self._attempt(custody, notice)
        except DeliveryFailed as error:
            await self._failed(custody, notice, error.failure)
            return False
        except Exception as error:  # a bug or a store error, met while sending this one
            log.exception("notice.send_raised", extra=_notice_fields(notice))
            failure = SendFailure(_describe(error), may_have_posted=True)
            await self._failed(custody, notice, failure)
            return False
        if receipt is not None:
            await self._sent(custody, notice, receipt)
        if answered:
            self._target_recovered(notice.channel)
        return True

    async def _attempt(
        self, custody: Custody, notice: Notice
    ) -> tuple[DeliveryReceipt | None, bool]:
        """Expand, find in history, or send.

        Returns the receipt to record (None when there is nothing to record) and
        whether the target answered this time (it is not failing any more).
        """
        target = target_kind(notice.channel)
        if target is TargetKind.CHAIN_STEP:
            await self._expand(custody, notice)
            return None, False
        if self._history_lookup and notice.may_have_posted and await self._found_in_history(notice):
            return None, True
        now = self._clock.now()
        if not await self._store.mark_sending(notice.id, now):
            # Skipped as superseded or cancelled by a closure since it was read.
            log.info("notice.no_longer_pending", extra=_notice_fields(notice))
            return None, False
        self._faults.reached("after_claim")
        receipt = await self._delivery.deliver(custody, notice, now)
        self._faults.reached("after_post")
        return receipt, receipt.answered

    async def _sent(self, custody: Custody, notice: Notice, receipt: DeliveryReceipt) -> None:
        sent_at = self._clock.now()
        await self._store.mark_sent(notice.id, sent_at, receipt.message_ts, receipt.message_channel)
        if notice.kind is NoticeKind.EXPIRED and target_kind(notice.channel) is TargetKind.CHANNEL:
            # Our own expiry notice is out in this channel: Slack's backup copy of it there
            # (if this is the backup's channel) must not post too.
            await self._store.bring_forward(
                custody.id, NoticeKind.BACKUP_DELETE, sent_at, channel=backup_target(notice.channel)
            )
            self.wake()
        self.stats.sent += 1
        if self._metrics is not None:
            self._metrics.notice_sent(notice, sent_at - notice.due_at)
        lateness_ms = int((sent_at - notice.due_at).total_seconds() * 1000)
        log.info("notice.sent", extra={**_notice_fields(notice), "lateness_ms": lateness_ms})

    def _target_recovered(self, target: str) -> None:
        """A delivery to ``target`` went through: its outage, if any, is over."""
        if target_kind(target) in (TargetKind.CHANNEL, TargetKind.DIRECT_MESSAGE):
            self.stats.slack_auth_error = None  # Slack took the token
        place = outage_place(target)
        if self._failing_since.pop(place, None) is not None:
            self._alerted.discard(place)
            self._last_failure.pop(place, None)
            # The error shown is that of a target still failing, if any is.
            self.stats.last_slack_error = next(reversed(self._last_failure.values()), None)
            log.info("target.recovered", extra={"channel": target})

    async def _expand(self, custody: Custody, step: Notice) -> None:
        """A chain level fell due: resolve who to page now and store their pages."""
        now = self._clock.now()
        pages = await self._expansion.pages_for(custody, step, now)
        if await self._store.expand_step(step.id, pages, now):
            log.info(
                "escalation.step_expanded",
                extra={
                    **_notice_fields(step),
                    "level": step.level,
                    "round": step.round,
                    "pages": len(pages),
                },
            )
            self.wake()

    async def _failed(self, custody: Custody, notice: Notice, failure: SendFailure) -> None:
        """Record the failure on the notice, pause its target on a 429, tell people if stuck."""
        retry_at = await self._record_failure(notice, failure)
        if failure.is_rate_limit:
            self._pauses.pause(notice.channel, retry_at)
        if notice.kind is NoticeKind.BACKUP and not failure.may_have_posted:
            self._backup_limiter.give_back(notice.channel)  # Slack did not count it either
        now = self._clock.now()
        since = self._failing_since.setdefault(outage_place(notice.channel), now)
        if failure.is_permanent or now - since >= DELIVERY_ALERT_AFTER:
            await self._alert_once(custody, notice, failure)

    async def _alert_once(self, custody: Custody, notice: Notice, failure: SendFailure) -> None:
        """Tell people a target is failing: once per outage, on a path that avoids it."""
        place = outage_place(notice.channel)
        if self._alerts is None or place in self._alerted:
            return
        alerts = self._alerts(custody, notice, failure.code, self._clock.now())
        self._alerted.add(place)
        if alerts:
            await self._store.add_notices(alerts)
            log.error(
                "notice.undeliverable_alerted",
                extra={**_notice_fields(notice), "error": failure.code, "alerts": len(alerts)},
            )
            self.wake()

    async def _found_in_history(self, notice: Notice) -> bool:
        """Like ``_already_there``, but a history we may not read means "post anyway".

        A failure that may pass (a rate limit, a 5xx, a timeout) is raised so the
        notice is retried; a refusal (say, a missing ``channels:history`` scope)
        must not block the notice forever: a possible duplicate beats a lost expiry.
        """
        try:
            return await self._already_there(notice)
        except DeliveryFailed as error:
            if not error.failure.is_permanent:
                raise
            log.warning(
                "notice.history_unreadable",
                extra={**_notice_fields(notice), "error": error.failure.code},
            )
            return False

    async def _already_there(self, notice: Notice) -> bool:
        """Look for the notice where Slack shows it; mark it sent if it is there.

        A channel message or a page is looked for in history by its ``notice_id``
        metadata; a backup in the channel's scheduled messages by the custody its text
        names. Other targets have nothing to look in (PagerDuty and webhook receivers
        de-duplicate a repeat themselves).
        """
        if is_searchable(notice):
            if notice.kind is NoticeKind.BACKUP:
                return await self._already_scheduled(notice)
            return await self._already_posted(notice)
        return False

    async def _already_scheduled(self, notice: Notice) -> bool:
        channel = outage_place(notice.channel)
        for message in await self._history.scheduled_messages(channel):
            if custody_of_backup(str(message.get("text") or "")) == notice.custody_id:
                scheduled_id = str(message.get("id"))
                await self._store.mark_sent(notice.id, self._clock.now(), scheduled_id, channel)
                self.stats.recovered += 1
                log.info("notice.found_scheduled", extra=_notice_fields(notice))
                return True
        return False

    async def _already_posted(self, notice: Notice) -> bool:
        """Look for the notice in channel history; mark it sent if it is there."""
        since = (notice.attempted_at or notice.due_at) - HISTORY_SKEW
        channel = notice.channel
        if target_kind(channel) is TargetKind.DIRECT_MESSAGE:
            channel = await self._history.direct_message_channel(channel)  # U… → its D…
        ts = await self._history.find_posted(
            channel,
            since,
            lambda message: _carries_notice(message, notice.id),
            timeout=URGENT_CALL_TIMEOUT_SECONDS if notice.kind in URGENT_KINDS else None,
        )
        if ts is None:
            return False
        await self._store.mark_sent(notice.id, self._clock.now(), ts, channel)
        self.stats.recovered += 1
        log.info("notice.found_in_history", extra=_notice_fields(notice))
        return True

    async def _record_failure(self, notice: Notice, failure: SendFailure) -> datetime:
        attempts = notice.attempts + 1
        retry_at = self._clock.now() + retry_delay(failure, attempts)
        await self._store.mark_failed(
            notice.id,
            error=failure.code,
            retry_at=retry_at,
            may_have_posted=failure.may_have_posted or notice.may_have_posted,
            attempts=attempts,
        )
        self.stats.failed_attempts += 1
        if self._metrics is not None:
            self._metrics.delivery_failed(failure.code)
        place = outage_place(notice.channel)
        self._last_failure.pop(place, None)
        self._last_failure[place] = failure.code
        self.stats.last_slack_error = failure.code
        if failure.is_auth_error:
            self.stats.slack_auth_error = failure.code
        level = logging.ERROR if failure.is_permanent else logging.WARNING
        log.log(
            level,
            "notice.send_failed",
            extra={
                **_notice_fields(notice),
                "error": failure.code,
                "attempts": attempts,
                "retry_at": retry_at.isoformat(),
            },
        )
        self.wake()  # the retry time may be sooner than the sleep already computed
        return retry_at

    # --- restart ---------------------------------------------------------------

    async def recover_in_flight(self) -> None:
        """Return notices a crash left ``sending`` to their targets' queues.

        One that may be in a Slack channel or DM is marked "may have posted": its
        target's sender looks for it in history before posting, beside every other
        target's sender. Elsewhere there is no history to search: it is sent again
        (PagerDuty de-duplicates by ``dedup_key``, webhook receivers by event id).
        """
        for notice in await self._store.notices_in_flight():
            if notice.channel in self._senders:
                continue  # its sender is still at work on it
            await self._store.mark_pending(
                notice.id, may_have_posted=is_searchable(notice) and self._history_lookup
            )
            log.info("notice.recovered_in_flight", extra=_notice_fields(notice))


async def _finish_or_cancel(tasks: Sequence[asyncio.Task[None]], seconds_left: float) -> None:
    if not tasks:
        return
    _, unfinished = await asyncio.wait(tasks, timeout=max(seconds_left, 0.0))
    for task in unfinished:
        task.cancel()
    await asyncio.gather(*unfinished, return_exceptions=True)


def is_searchable(notice: Notice) -> bool:
    """Whether Slack shows this notice somewhere the bot can look (so a resend can check)."""
    kind = target_kind(notice.channel)
    if kind is TargetKind.SLACK_BACKUP:
        return notice.kind is NoticeKind.BACKUP
    return kind in (TargetKind.CHANNEL, TargetKind.DIRECT_MESSAGE)


def _carries_notice(message: dict[str, Any], notice_id: str) -> bool:
    metadata = message.get("metadata")
    payload = metadata.get("event_payload") if isinstance(metadata, dict) else None
    return isinstance(payload, dict) and payload.get("notice_id") == notice_id


def _describe(error: BaseException) -> str:
    """An exception as a short code: a notice's last error, or the loop's in /healthz."""
    return f"unexpected:{type(error).__name__}"


def _explain(error: BaseException) -> str:
    """An exception that stopped a tick or a sender, with its message, for /healthz."""
    return f"{type(error).__name__}: {str(error)[:200]}"


def _notice_fields(notice: Notice) -> dict[str, Any]:
    return {
        "notice_id": notice.id,
        "custody_id": notice.custody_id,
        "kind": notice.kind.value,
        "channel": notice.channel,
        "due_at": notice.due_at.isoformat(),
    }
