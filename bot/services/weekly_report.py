"""The weekly oversight summary: at the ``[report]`` moment, the past week to its channel.

It waits on the service's clock (a fake clock's jumps wake it), reads the week's custodies
through ``summarise_week`` (the export's read-only pages, off the event loop) and posts
``bot.chat.report_summary``'s message with the Slack gateway every notice uses. A failed
post is tried again (1, 2, 4 … minutes, ``ATTEMPTS`` in all) and then logged as given up.
The summary is not a custody's notice: nothing is stored, and a week whose moment passed
while the bot was down is not posted late (``wso-bot report`` makes it at any time).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Protocol

from bot.chat.notices import SlackMessage
from bot.chat.report_summary import weekly_summary
from bot.core.oversight import Period
from bot.core.oversight_summary import Summary
from bot.core.report_schedule import ReportSchedule, next_report_at, week_before
from bot.core.retry import DeliveryFailed
from bot.services.clock import Clock

log = logging.getLogger("wso.report")

ATTEMPTS = 5
FIRST_RETRY = timedelta(minutes=1)
POST_TIMEOUT_SECONDS = 10.0
# The real clock is read again at least this often while waiting (it may be set, or drift).
LONGEST_NAP_SECONDS = 60.0

SummariseWeek = Callable[[Period, datetime], Awaitable[Summary]]


class SummaryPoster(Protocol):
    async def post_message(
        self,
        channel: str,
        message: SlackMessage,
        *,
        timeout: float | None = None,  # noqa: ASYNC109 - a per-call budget
    ) -> tuple[str, str]: ...


class WeeklyReport:
    def __init__(
        self,
        schedule: ReportSchedule,
        clock: Clock,
        poster: SummaryPoster,
        summarise_week: SummariseWeek,
    ) -> None:
        self._schedule = schedule
        self._clock = clock
        self._poster = poster
        self._summarise_week = summarise_week
        self._time_moved = asyncio.Event()
        clock.subscribe(self._time_moved.set)

    async def run(self) -> None:
        """Post every week, for as long as the service runs (cancel to stop)."""
        due = next_report_at(self._schedule, self._clock.now())
        log.info("report.scheduled", extra={"at": due.isoformat()})
        while True:
            await self._wait_until(due)
            await self._post(week_before(self._schedule, due))
            due = next_report_at(self._schedule, max(self._clock.now(), due))

    async def _wait_until(self, instant: datetime) -> None:
        while (now := self._clock.now()) < instant:
            self._time_moved.clear()
            nap = min((instant - now).total_seconds(), LONGEST_NAP_SECONDS)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._time_moved.wait(), nap)

    async def _post(self, period: Period) -> None:
        channel = self._schedule.channel
        for attempt in range(1, ATTEMPTS + 1):
            try:
                summary = await self._summarise_week(period, self._clock.now())
                await self._poster.post_message(
                    channel, weekly_summary(summary), timeout=POST_TIMEOUT_SECONDS
                )
            except DeliveryFailed as failed:
                log.warning(
                    "report.post_failed",
                    extra={"channel": channel, "error": failed.failure.code, "attempt": attempt},
                )
            else:
                extra = {"channel": channel, "period": period.describe()}
                log.info("report.posted", extra={**extra, "custodies": summary.custodies})
                return
            if attempt < ATTEMPTS:
                await self._wait_until(self._clock.now() + FIRST_RETRY * 2 ** (attempt - 1))
        log.error("report.given_up", extra={"channel": channel, "period": period.describe()})
