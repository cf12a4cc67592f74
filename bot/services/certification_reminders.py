"""Reminders that an officer's WSO certification is about to expire, each posted once.

When each falls due is ``bot.core.certification_plan``'s rule, its words are
``bot.chat.roster_messages``'. A pass reads the clock once, stores the reminders whose
time has come (the ledger refuses a second one for an officer and expiry date), and
posts those not yet sent to their jail channel: claimed before the post, recorded sent
after it. One an earlier attempt may have posted (a crash between the two, a timeout, a
5xx) is first looked for in the channel's history by its ``notice_id`` metadata, as the
custody notices are (``bot.services.history_search``), so a restart neither drops nor
doubles it. A failed post is retried with the dispatcher's back-off (``bot.core.retry``).

They go out here, beside the dispatcher rather than through its queue, because every
notice there belongs to a custody (and its sender, card and alert rules with it); a jail
gets a few of these a year.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime, timedelta
from typing import Protocol

from bot.chat.roster_messages import certification_reminder
from bot.core.certification_plan import next_reminder_at, reminders_due
from bot.core.facility import Config
from bot.core.retry import DeliveryFailed, SendFailure, retry_delay
from bot.core.roster import CertificationStatus
from bot.services.clock import Clock
from bot.services.history_search import HISTORY_SKEW, ChannelHistory, carries_notice
from bot.services.outbound import SlackPoster
from storage.certification_ledger import CertificationLedger, ReminderRecord, ReminderState

log = logging.getLogger("wso.certifications")

# A safety net, not a poll: the next reminder may be months away, and the wall clock may
# have been set since the last pass.
MAX_SLEEP = timedelta(hours=1)
# After a pass that failed (the store), wait this long before the next.
PASS_RETRY = timedelta(seconds=30)


class ReminderSlack(SlackPoster, ChannelHistory, Protocol):
    """Posting a reminder, and looking for one in history (``SlackGateway`` does both)."""


class CertificationReminders:
    """The loop that posts certification reminders when they fall due."""

    def __init__(
        self,
        config: Config,
        ledger: CertificationLedger,
        slack: ReminderSlack,
        clock: Clock,
        *,
        history_lookup: bool = True,
    ) -> None:
        self._config = config
        self._ledger = ledger
        self._slack = slack
        self._clock = clock
        self._history_lookup = history_lookup
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        # The ``now`` of the last pass that finished, and reminders sent since start.
        self.checked_at: datetime | None = None
        self.sent = 0
        clock.subscribe(self.wake)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="wso-certification-reminders")

    async def stop(self) -> None:
        self._stopping = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def wake(self) -> None:
        """Look again now: time moved, or the roster was reloaded."""
        self._wake.set()

    @property
    def idle(self) -> bool:
        """The last pass finished and nothing has asked for another since."""
        return self.checked_at is not None and not self._wake.is_set()

    async def _run(self) -> None:
        while not self._stopping:
            self._wake.clear()
            try:
                wait = await self.run_pass()
            except Exception:  # the store failed: the reminders are still owed
                if self._stopping:
                    return  # stopped mid-pass: whatever that cut short is not a failure
                log.exception("certification.pass_failed")
                wait = PASS_RETRY
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), wait.total_seconds())

    async def run_pass(self) -> timedelta:
        """Plan what has fallen due, send what is ready; how long until the next look."""
        now = self._clock.now()
        for reminder in await self._ledger.add(reminders_due(self._config, now)):
            log.info(
                "certification.reminder_planned",
                extra={"notice_id": reminder.id, "facility": reminder.facility_id},
            )
        wake_at: list[datetime] = []
        for record in await self._ledger.unsent():
            retry_at = record.ready_at() if record.ready_at() > now else await self._send(record)
            if retry_at is not None:
                wake_at.append(retry_at)
        upcoming = next_reminder_at(self._config, now, await self._ledger.planned())
        if upcoming is not None:
            wake_at.append(upcoming)
        self.checked_at = now
        wait = min(wake_at) - self._clock.now() if wake_at else MAX_SLEEP
        return min(max(wait, timedelta(0)), MAX_SLEEP)

    async def _send(self, record: ReminderRecord) -> datetime | None:
        """Post one reminder (after looking for an earlier attempt's); its retry time if failed."""
        reminder = record.reminder
        entry = self._config.roster.current.entry(record.user_id)
        facility = self._config.facility(record.facility_id)
        if facility is None or entry is None or entry.expires_on != record.expires_on:
            # Renewed, moved or removed since: this expiry date is no longer on file.
            await self._skip(record, "not on the roster any more")
            return None
        today = self._clock.now().astimezone(facility.zone).date()
        if entry.status_on(today) is CertificationStatus.EXPIRED:
            # Slack was down for the whole of the last days: "expires" would be untrue now.
            await self._skip(record, "expired before it could be sent")
            return None
        try:
            if await self._already_posted(record):
                return None
            now = self._clock.now()
            if not await self._ledger.mark_sending(reminder.id, now):
                return None
            message = certification_reminder(reminder, entry, facility, now)
            _, ts = await self._slack.post_message(record.channel, message)
        except DeliveryFailed as error:
            return await self._failed(record, error.failure)
        await self._ledger.mark_sent(reminder.id, self._clock.now(), ts)
        self.sent += 1
        log.info("certification.reminder_sent", extra={"notice_id": reminder.id})
        return None

    async def _skip(self, record: ReminderRecord, reason: str) -> None:
        await self._ledger.mark_skipped(record.reminder.id, reason)
        log.info(
            "certification.reminder_skipped",
            extra={"notice_id": record.reminder.id, "reason": reason},
        )

    async def _already_posted(self, record: ReminderRecord) -> bool:
        """Whether an earlier attempt's post is in the channel (then it is recorded sent).

        A history the bot may not read (a missing scope) means "post": a possible
        duplicate beats a reminder never sent. Anything that may pass is raised.
        """
        in_doubt = record.state is ReminderState.SENDING or record.may_have_posted
        if not (in_doubt and self._history_lookup):
            return False
        reminder_id = record.reminder.id
        since = (record.attempted_at or record.due_at) - HISTORY_SKEW
        try:
            ts = await self._slack.find_posted(
                record.channel, since, lambda message: carries_notice(message, reminder_id)
            )
        except DeliveryFailed as error:
            if not error.failure.is_permanent:
                raise
            log.warning(
                "certification.history_unreadable",
                extra={"notice_id": reminder_id, "error": error.failure.code},
            )
            return False
        if ts is None:
            return False
        await self._ledger.mark_sent(reminder_id, self._clock.now(), ts)
        log.info("certification.reminder_found_in_history", extra={"notice_id": reminder_id})
        return True

    async def _failed(self, record: ReminderRecord, failure: SendFailure) -> datetime:
        retry_at = self._clock.now() + retry_delay(failure, record.attempts + 1)
        # A doubt an earlier attempt left stands until the reminder is found or sent.
        in_doubt = record.state is ReminderState.SENDING or record.may_have_posted
        await self._ledger.mark_failed(
            record.reminder.id,
            error=failure.code,
            retry_at=retry_at,
            may_have_posted=failure.may_have_posted or in_doubt,
        )
        level = logging.ERROR if failure.is_permanent else logging.WARNING
        log.log(
            level,
            "certification.reminder_failed",
            extra={"notice_id": record.reminder.id, "error": failure.code},
        )
        return retry_at
