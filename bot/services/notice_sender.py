"""Delivers one notice effectively once: claim, deliver, record, and settle a crash.

A notice is marked ``sending`` before the Slack call and ``sent`` after it. A
notice whose earlier attempt may have reached Slack (crash mid-send, timeout,
5xx) is first looked for in channel history by its ``notice_id`` metadata, and
only posted if it is not there. A notice a crash left ``sending`` goes back to
its target's queue marked "may have posted", so that lookup happens in its own
target's sender, beside every other target's, never in front of them.

A fault belongs to the smallest thing it touched. Whatever goes wrong while
one notice is sent (a Slack answer of any shape, a bug) is recorded on that
notice, with its attempt and next attempt, and the sender goes on with the
next; a 429 pauses its target only. Only a failing store can stop a tick or a
sender (``bot.services.dispatcher`` keeps those apart).

Each send takes ``now`` from its caller, the dispatcher's per-target loop. The
clock is read again here only after an awaited call to the far end, when the
time that matters is when that call came back.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from dataclasses import KW_ONLY, dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from bot.core import card_plan, notice_plan
from bot.core.model import Custody, Notice, NoticeKind
from bot.core.retry import DeliveryFailed, SendFailure, retry_delay
from bot.core.targets import Target, TargetKind, backup_target
from bot.ops.faults import FaultInjector
from bot.ops.metrics import Metrics
from bot.services.clock import Clock
from bot.services.history_search import ChannelHistory, PostedNotices, is_searchable
from bot.services.outbound import DeliveryReceipt
from storage.interface import CustodyStore

log = logging.getLogger("wso.dispatcher")

# This many failed ticks, or failed senders, in a row make the loop an alarm in /healthz.
FAILURES_BEFORE_DEGRADED = 3
# A target that keeps failing this long (5xx, timeouts) is reported to people, as a refusal
# that needs a person (channel_not_found, invalid_auth) is at once.
DELIVERY_ALERT_AFTER = timedelta(seconds=30)


class NoticeDelivery(Protocol):
    """Delivers a notice to its target (``bot.services.outbound.Outbound``)."""

    async def deliver(self, custody: Custody, notice: Notice, now: datetime) -> DeliveryReceipt: ...


# Plans the alert for a notice stuck on an error a person must fix (custody_plan).
DeliveryAlerts = Callable[[Custody, Notice, str, datetime], list[Notice]]


class SenderLoop(Protocol):
    """The loop that runs the sender (``bot.services.dispatcher.Dispatcher``)."""

    stats: DispatcherStats

    def wake(self) -> None: ...

    def attempt_failed(self, notice: Notice, failure: SendFailure, retry_at: datetime) -> None:
        """A send failed and is retried at ``retry_at``: the loop holds its target if it must."""


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


@dataclass(eq=False, repr=False)
class NoticeSender:
    """Sends one notice at a time for the dispatcher's per-target senders.

    It owns what outlives one notice: which places are failing and since when, and
    whether people were told. Which targets are held is the loop's: it is told of
    each failed attempt, and woken when the queue may have changed.
    """

    loop: SenderLoop
    store: CustodyStore
    clock: Clock
    delivery: NoticeDelivery
    history: ChannelHistory
    expansion: StepExpansion
    _: KW_ONLY
    metrics: Metrics | None = None
    alerts: DeliveryAlerts | None = None
    faults: FaultInjector = field(default_factory=lambda: FaultInjector(None))
    # Off only to measure what it is worth (benchmark B4): resend without looking.
    history_lookup: bool = True
    # Told of each notice recorded sent (App Home redraws when a reminder or expiry is out).
    on_sent: Callable[[Notice], None] | None = None
    # Places failing now (a channel, a DM, PagerDuty…: ``outage_place``): since when, and
    # whether people were told (one alert per outage).
    _failing_since: dict[str, datetime] = field(default_factory=dict, init=False)
    _alerted: set[str] = field(default_factory=set, init=False)
    # The last error of each failing target, latest last.
    _last_failure: dict[str, str] = field(default_factory=dict, init=False)

    # --- one notice ------------------------------------------------------------

    async def send(self, notice: Notice, now: datetime, *, superseded: bool = False) -> bool:
        """Send one notice; any failure is recorded on it. True if it needs nothing more.

        ``now`` is when its target's sender took it up. A ``superseded`` notice is never
        posted: it is recorded sent if an earlier attempt's post is in Slack, else skipped.
        Raises only if the store fails while recording what happened.
        """
        custody = await self.store.get_custody(notice.custody_id)
        if custody is None:
            await self.store.skip_notices([notice.id], "custody missing")
            return True
        try:
            if superseded:
                receipt, answered = None, await self._settle_superseded(custody, notice, now)
            else:
                receipt, answered = await self._attempt(custody, notice, now)
        except DeliveryFailed as error:
            await self._failed(custody, notice, error.failure)
            return False
        except Exception as error:  # a bug or a store error, met while sending this one
            log.exception("notice.send_raised", extra=notice_fields(notice))
            failure = SendFailure(_describe(error), may_have_posted=True)
            await self._failed(custody, notice, failure)
            return False
        if receipt is not None:
            await self._sent(custody, notice, receipt)
        if answered:
            self._target_recovered(notice.target)
        return True

    async def _attempt(
        self, custody: Custody, notice: Notice, now: datetime
    ) -> tuple[DeliveryReceipt | None, bool]:
        """Expand, find in history, or send.

        Returns the receipt to record (None when there is nothing to record) and
        whether the target answered this time (it is not failing any more).
        """
        if notice.target.kind is TargetKind.CHAIN_STEP:
            await self._expand(custody, notice, now)
            return None, False
        if notice.kind is NoticeKind.CARD_UPDATE:
            wait = card_plan.card_wait(notice, await self.store.notices_for(notice.custody_id), now)
            if wait is not None:  # the card is not out yet: the update waits for it
                await self.store.defer_notices([notice.id], wait)
                return None, False
        if self.history_lookup and notice.may_have_posted:
            if await self._found_in_history(notice, now):
                await self._refresh_card(custody, notice, now)
                return None, True
            # Read again: the lookup waited on Slack, and the claim and the message say
            # the time of the post.
            now = self.clock.now()
            if await self._superseded_meanwhile(notice, now):
                await self._skip_superseded(notice)
                return None, True
        if not await self.store.mark_sending(notice.id, now):
            # Skipped as superseded or cancelled by a closure since it was read.
            log.info("notice.no_longer_pending", extra=notice_fields(notice))
            return None, False
        self.faults.reached("after_claim")
        receipt = await self.delivery.deliver(custody, notice, now)
        self.faults.reached("after_post")
        return receipt, receipt.answered

    async def _settle_superseded(self, custody: Custody, notice: Notice, now: datetime) -> bool:
        """A later notice supersedes this one, which an earlier attempt may have posted:
        the record follows Slack. Returns whether Slack answered a lookup."""
        looked = self.history_lookup and notice.may_have_posted
        if looked and await self._found_in_history(notice, now):
            await self._refresh_card(custody, notice, now)
            return True
        await self._skip_superseded(notice)
        return looked

    async def _superseded_meanwhile(self, notice: Notice, now: datetime) -> bool:
        """A reminder not found in Slack is not posted late if a later one, or the expiry,
        is due: one waiting for its retry was not in the batch that judged this one."""
        if notice.kind is not NoticeKind.REMINDER:
            return False
        return notice_plan.is_superseded(
            notice, await self.store.notices_for(notice.custody_id), now
        )

    async def _skip_superseded(self, notice: Notice) -> None:
        await self.store.skip_notices([notice.id], "superseded")
        self.loop.stats.skipped += 1
        log.info("notice.skipped", extra=notice_fields(notice))

    async def _sent(self, custody: Custody, notice: Notice, receipt: DeliveryReceipt) -> None:
        # Read again: the delivery was awaited, and lateness counts to when it went through.
        sent_at = self.clock.now()
        await self._refresh_card(custody, notice, sent_at)
        await self.store.mark_sent(notice.id, sent_at, receipt.message_ts, receipt.message_channel)
        if notice.kind is NoticeKind.ESCALATION:
            await self._rewrite_if_answered_meanwhile(custody, notice, sent_at)
        if notice.kind is NoticeKind.EXPIRED and notice.target.kind is TargetKind.CHANNEL:
            # Our own expiry notice is out in this channel: Slack's backup copy of it there
            # (if this is the backup's channel) must not post too.
            await self.store.bring_forward(
                custody.id, NoticeKind.BACKUP_DELETE, sent_at, channel=backup_target(notice.channel)
            )
            self.loop.wake()
        self.loop.stats.sent += 1
        if self.metrics is not None:
            self.metrics.notice_sent(notice, sent_at - notice.due_at)
        if self.on_sent is not None:
            try:
                self.on_sent(notice)
            except Exception:  # a listener's fault is its own: the notice is recorded sent
                log.exception("notice.sent_listener_failed", extra=notice_fields(notice))
        lateness_ms = int((sent_at - notice.due_at).total_seconds() * 1000)
        log.info("notice.sent", extra={**notice_fields(notice), "lateness_ms": lateness_ms})

    async def _rewrite_if_answered_meanwhile(
        self, custody: Custody, page: Notice, at: datetime
    ) -> None:
        """A page that went out while someone acknowledged or closed the custody.

        The desk rewrites every page it can see sent; this one had no ``ts`` yet when it
        looked, so it would keep a live Acknowledge button. It is rewritten now.
        """
        current = await self.store.get_custody(custody.id)
        if current is None or (
            current.state is custody.state and current.acknowledged_at == custody.acknowledged_at
        ):
            return
        known = await self.store.notices_for(custody.id)
        updates = card_plan.plan_page_updates(current, known, at)
        mine = [u for u in updates if u.detail.get("page_notice_id") == page.id]
        if mine:
            await self.store.add_notices(mine)
            self.loop.wake()

    async def _refresh_card(self, custody: Custody, notice: Notice, at: datetime) -> None:
        """A reminder or expiry is out in a channel: its card owes an update (coalesced),
        stored before the notice is recorded sent and again when a resend finds it."""
        if (
            notice.kind in card_plan.CARD_REFRESHING_KINDS
            and notice.target.kind is TargetKind.CHANNEL
        ):
            known = await self.store.notices_for(custody.id)
            await self.store.add_notices(
                card_plan.plan_card_updates(custody, [notice.channel], known, at)
            )

    def _target_recovered(self, target: Target) -> None:
        """A delivery to ``target`` went through: its outage, if any, is over."""
        if target.is_slack_conversation:
            self.loop.stats.slack_auth_error = None  # Slack took the token
        place = target.outage_place
        if self._failing_since.pop(place, None) is not None:
            self._alerted.discard(place)
            self._last_failure.pop(place, None)
            # The error shown is that of a target still failing, if any is.
            self.loop.stats.last_slack_error = next(reversed(self._last_failure.values()), None)
            log.info("target.recovered", extra={"channel": target})

    async def _expand(self, custody: Custody, step: Notice, now: datetime) -> None:
        """A chain level fell due: resolve who to page now and store their pages."""
        pages = await self.expansion.pages_for(custody, step, now)
        if await self.store.expand_step(step.id, pages, now):
            log.info(
                "escalation.step_expanded",
                extra={
                    **notice_fields(step),
                    "level": step.level,
                    "round": step.round,
                    "pages": len(pages),
                },
            )
            self.loop.wake()

    async def _failed(self, custody: Custody, notice: Notice, failure: SendFailure) -> None:
        """Record the failure on the notice, pause its target on a 429, tell people if stuck."""
        # Read again: the failure came back from an awaited call (a timeout takes seconds),
        # and the retry and the outage count from when it did.
        failed_at = self.clock.now()
        retry_at = await self._record_failure(notice, failure, failed_at)
        self.loop.attempt_failed(notice, failure, retry_at)
        since = self._failing_since.setdefault(notice.target.outage_place, failed_at)
        if failure.is_permanent or failed_at - since >= DELIVERY_ALERT_AFTER:
            await self._alert_once(custody, notice, failure, failed_at)

    async def _alert_once(
        self, custody: Custody, notice: Notice, failure: SendFailure, now: datetime
    ) -> None:
        """Tell people a target is failing: once per outage, on a path that avoids it."""
        place = notice.target.outage_place
        if self.alerts is None or place in self._alerted:
            return
        alerts = self.alerts(custody, notice, failure.code, now)
        self._alerted.add(place)
        if alerts:
            await self.store.add_notices(alerts)
            log.error(
                "notice.undeliverable_alerted",
                extra={**notice_fields(notice), "error": failure.code, "alerts": len(alerts)},
            )
            self.loop.wake()

    async def _record_failure(
        self, notice: Notice, failure: SendFailure, failed_at: datetime
    ) -> datetime:
        attempts = notice.attempts + 1
        retry_at = failed_at + retry_delay(failure, attempts)
        await self.store.mark_failed(
            notice.id,
            error=failure.code,
            retry_at=retry_at,
            may_have_posted=failure.may_have_posted or notice.may_have_posted,
            attempts=attempts,
        )
        self.loop.stats.failed_attempts += 1
        if self.metrics is not None:
            self.metrics.delivery_failed(failure.code)
        place = notice.target.outage_place
        self._last_failure.pop(place, None)
        self._last_failure[place] = failure.code
        self.loop.stats.last_slack_error = failure.code
        if failure.is_auth_error:
            self.loop.stats.slack_auth_error = failure.code
        level = logging.ERROR if failure.is_permanent else logging.WARNING
        log.log(
            level,
            "notice.send_failed",
            extra={
                **notice_fields(notice),
                "error": failure.code,
                "attempts": attempts,
                "retry_at": retry_at.isoformat(),
            },
        )
        self.loop.wake()  # the retry time may be sooner than the sleep already computed
        return retry_at

    # --- what a crash or a failed attempt left in doubt ------------------------

    async def _found_in_history(self, notice: Notice, now: datetime) -> bool:
        """Like ``_already_there``, but a history we may not read means "post anyway".

        A failure that may pass (a rate limit, a 5xx, a timeout) is raised so the
        notice is retried; a refusal (say, a missing ``channels:history`` scope)
        must not block the notice forever: a possible duplicate beats a lost expiry.
        """
        try:
            return await self._already_there(notice, now)
        except DeliveryFailed as error:
            if not error.failure.is_permanent:
                raise
            log.warning(
                "notice.history_unreadable",
                extra={**notice_fields(notice), "error": error.failure.code},
            )
            return False

    async def _already_there(self, notice: Notice, now: datetime) -> bool:
        """Look for the notice where Slack shows it (``history_search``); mark it sent at
        ``now`` if it is there. A notice found was posted before the look began, so the
        time it is marked sent is the time its sender took it up.
        """
        found = await PostedNotices(self.store, self.history).find(notice)
        if found is None:
            return False
        message_ts, channel = found
        await self.store.mark_sent(notice.id, now, message_ts, channel)
        self.loop.stats.recovered += 1
        event = (
            "notice.found_scheduled"
            if notice.kind is NoticeKind.BACKUP
            else "notice.found_in_history"
        )
        log.info(event, extra=notice_fields(notice))
        return True

    async def recover_in_flight(self, busy_targets: Collection[str]) -> None:
        """Return notices a crash left ``sending`` to their targets' queues.

        One that may be in a Slack channel or DM is marked "may have posted": its
        target's sender looks for it in history before posting, beside every other
        target's sender. Elsewhere there is no history to search: it is sent again
        (PagerDuty de-duplicates by ``dedup_key``, webhook receivers by event id).
        ``busy_targets`` is a live view of the targets whose sender is at work.
        """
        for notice in await self.store.notices_in_flight():
            if notice.channel in busy_targets:
                continue  # its sender is still at work on it
            await self.store.mark_pending(
                notice.id, may_have_posted=is_searchable(notice) and self.history_lookup
            )
            log.info("notice.recovered_in_flight", extra=notice_fields(notice))


def _describe(error: BaseException) -> str:
    """An exception as a short code: a notice's last error, or the loop's in /healthz."""
    return f"unexpected:{type(error).__name__}"


def notice_fields(notice: Notice) -> dict[str, Any]:
    """A notice's log fields (never the custody's booking or A-number)."""
    return {
        "notice_id": notice.id,
        "custody_id": notice.custody_id,
        "kind": notice.kind.value,
        "channel": notice.channel,
        "due_at": notice.due_at.isoformat(),
    }
