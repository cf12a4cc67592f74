"""When the weekly oversight summary is posted, and which week it covers. Pure.

``[report]`` in the config names a channel, a weekday and a local time: each week at
that moment the summary of the seven local days before it (Monday to Sunday, for a
Monday post) goes to the channel.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.core.model import require_utc
from bot.core.oversight import Period

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
WEEK = timedelta(days=7)


@dataclass(frozen=True)
class ReportSchedule:
    """Post the week's summary to ``channel`` each ``weekday`` (0 = Monday) at ``at``."""

    channel: str
    weekday: int
    at: time
    timezone_name: str

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone_name)


def next_report_at(schedule: ReportSchedule, now: datetime) -> datetime:
    """The first posting moment after ``now`` (UTC).

    The local time is read with ``fold=0``: in the autumn repeat, the first of the two;
    a time the spring change skips comes out an hour later, as clocks show it.
    """
    require_utc("now", now)
    local_today = now.astimezone(schedule.zone).date()
    day = local_today + timedelta(days=(schedule.weekday - local_today.weekday()) % 7)
    while True:
        local = datetime.combine(day, schedule.at, tzinfo=schedule.zone)
        instant = local.astimezone(UTC)
        if instant > now:
            return instant
        day += WEEK


def week_before(schedule: ReportSchedule, posting_at: datetime) -> Period:
    """The seven local days before the day of ``posting_at``."""
    day = posting_at.astimezone(schedule.zone).date()
    return Period(day - WEEK, day - timedelta(days=1))
