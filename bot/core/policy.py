"""Counting policies: the one place a custody's deadline is computed. Pure.

A facility counts its custody window under one policy (``policy`` in its config):

* ``elapsed-48h`` (the default; ICE's statement for the WSO program): the deadline is
  48 elapsed hours after the arrest. The sum is done on UTC instants, so a DST change
  inside the window neither adds nor removes an hour.
* ``48h-excluding-weekends-holidays`` (8 CFR 287.7(d) style): only time on counted days
  runs. A day is a local calendar day in the facility's zone, from its local midnight to
  the next (23 elapsed hours on a spring-forward day, 25 on a fall-back day). Saturdays,
  Sundays and the holidays of the facility's calendar (observed dates included) are not
  counted. The clock stops at the local midnight that starts an excluded day and runs
  again at the next local midnight that starts a counted day; an arrest on an excluded
  day starts running at that midnight. Time on counted days is elapsed time (UTC), never
  wall-clock time. The deadline is the first instant at which the counted time reaches
  the window, so a window that runs out at the end of a Friday ends at Saturday 00:00,
  not on Monday.

``policy_hours`` shortens the window (never lengthens it). Each rule has a version,
raised whenever its counting changes, and a custody records the rule, version, hours
and holiday calendar that computed its deadline (:class:`PolicyStamp`), so a deadline
is never moved by a later config: only a correction (``/wso correct``) counts it again.

The holiday calendar comes from outside (``bot.config.holiday_calendars`` reads the
``holidays`` package): this module only asks it whether a date is a holiday.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol, TypedDict
from zoneinfo import ZoneInfo

from bot.core.model import CountingRule, Custody, require_utc

# ICE's window; a jurisdiction may set fewer hours (``policy_hours``), never more.
MAX_POLICY_HOURS = 48
# Each rule's version: raise it whenever the rule counts differently, so custodies
# counted before say so.
RULE_VERSIONS: dict[CountingRule, int] = {
    CountingRule.ELAPSED_48H: 1,
    CountingRule.EXCLUDING_WEEKENDS_HOLIDAYS: 1,
}
_SATURDAY, _SUNDAY = 5, 6  # date.weekday()
_ONE_DAY = timedelta(days=1)
# No calendar excludes this many days in a row: stop rather than loop on a broken one.
_MAX_DAYS_WALKED = 400


class HolidayCalendar(Protocol):
    """The holidays of one region (``US``, ``US-TX``), observed dates included."""

    @property
    def region(self) -> str:
        """The region's code, as the config names it."""

    @property
    def source(self) -> str:
        """Where the dates come from, with its version (``holidays 0.109``), for the record."""

    def is_holiday(self, day: date) -> bool:
        """Whether ``day`` is a holiday or the observed date of one."""


class StampFields(TypedDict):
    """A stamp as the custody's fields hold it."""

    counting_rule: CountingRule
    counting_rule_version: int
    counting_hours: int
    holiday_region: str | None


@dataclass(frozen=True)
class PolicyStamp:
    """What a custody records about the policy that computed its deadline."""

    rule: CountingRule = CountingRule.ELAPSED_48H
    version: int = 1
    hours: int = MAX_POLICY_HOURS
    holiday_region: str | None = None

    @classmethod
    def of(cls, custody: Custody) -> PolicyStamp:
        """The stamp a custody carries (old custodies: elapsed-48h v1, 48 hours)."""
        return cls(
            custody.counting_rule,
            custody.counting_rule_version,
            custody.counting_hours,
            custody.holiday_region,
        )

    def fields(self) -> StampFields:
        """The custody fields that record this stamp (``Custody(..., **stamp.fields())``)."""
        return {
            "counting_rule": self.rule,
            "counting_rule_version": self.version,
            "counting_hours": self.hours,
            "holiday_region": self.holiday_region,
        }

    @property
    def label(self) -> str:
        """``elapsed-48h v1``, with the hours when shortened and the holiday calendar."""
        parts = [f"{self.rule.value} v{self.version}"]
        if self.holiday_region:
            parts.append(f"holidays {self.holiday_region}")
        if self.hours != MAX_POLICY_HOURS:
            parts.append(f"{self.hours} h")
        return ", ".join(parts)


@dataclass(frozen=True)
class CountingPolicy:
    """How a facility counts its custody window (its config, validated)."""

    rule: CountingRule = CountingRule.ELAPSED_48H
    hours: int = MAX_POLICY_HOURS
    # Only with EXCLUDING_WEEKENDS_HOLIDAYS. Compared by its region (the stamp's).
    calendar: HolidayCalendar | None = field(default=None, compare=False, repr=False)
    holiday_region: str | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        if not 0 < self.hours <= MAX_POLICY_HOURS:
            raise ValueError(f"policy hours must be 1 to {MAX_POLICY_HOURS} (got {self.hours})")
        excludes_days = self.rule is CountingRule.EXCLUDING_WEEKENDS_HOLIDAYS
        if excludes_days != (self.calendar is not None):
            needs = "needs a holiday calendar" if excludes_days else "takes no holiday calendar"
            raise ValueError(f"{self.rule.value} {needs}")
        region = self.calendar.region if self.calendar is not None else None
        object.__setattr__(self, "holiday_region", region)

    @property
    def stamp(self) -> PolicyStamp:
        """What a custody counted under this policy records."""
        return PolicyStamp(self.rule, RULE_VERSIONS[self.rule], self.hours, self.holiday_region)

    @property
    def holidays_source(self) -> str | None:
        """Where the holiday dates come from, for the record (None: no holidays)."""
        return self.calendar.source if self.calendar is not None else None

    def is_excluded_day(self, day: date) -> bool:
        """Whether ``day`` (a local calendar date) is not counted."""
        if self.calendar is None:
            return False
        return day.weekday() in (_SATURDAY, _SUNDAY) or self.calendar.is_holiday(day)


ELAPSED_48H = CountingPolicy()


def custody_deadline(
    arrested_at: datetime, policy: CountingPolicy = ELAPSED_48H, zone: ZoneInfo | None = None
) -> datetime:
    """The instant (UTC) by which ICE must take custody, counted under ``policy``.

    ``zone`` is the facility's: excluded days are read on its local calendar. It is
    required by a policy that excludes days.
    """
    require_utc("arrested_at", arrested_at)
    window = timedelta(hours=policy.hours)
    if policy.calendar is None:
        return arrested_at + window
    if zone is None:
        raise ValueError(f"{policy.rule.value} needs the facility's time zone")
    return _counted_deadline(arrested_at, window, policy, zone)


def recount(
    custody: Custody, policy: CountingPolicy, zone: ZoneInfo, arrested_at: datetime | None = None
) -> Custody:
    """``custody`` counted again under ``policy`` (from ``arrested_at``, when it moves).

    The deadline and the recorded policy change together: a custody never carries a
    deadline that its stamp did not compute.
    """
    arrested = custody.arrested_at if arrested_at is None else arrested_at
    deadline = custody_deadline(arrested, policy, zone)
    return replace(custody, arrested_at=arrested, deadline=deadline, **policy.stamp.fields())


def counted_time(
    start: datetime, end: datetime, policy: CountingPolicy, zone: ZoneInfo
) -> timedelta:
    """How much of the time from ``start`` to ``end`` runs on the custody clock under ``policy``."""
    require_utc("start", start)
    require_utc("end", end)
    counted = timedelta(0)
    moment, day = start, start.astimezone(zone).date()
    while moment < end:
        day_end = local_day_start(day + _ONE_DAY, zone)
        if not policy.is_excluded_day(day):
            counted += min(day_end, end) - moment
        moment, day = day_end, day + _ONE_DAY
    return counted


def local_day_start(day: date, zone: ZoneInfo) -> datetime:
    """The UTC instant at which ``day`` begins on the facility's clocks.

    Local midnight; in a zone whose clocks skip midnight, the first instant the clocks
    show ``day`` (a time in a gap is read with the offset before it: the transition).
    """
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def _counted_deadline(
    arrested_at: datetime, window: timedelta, policy: CountingPolicy, zone: ZoneInfo
) -> datetime:
    """Walk local days from the arrest, spending ``window`` on counted days only."""
    remaining = window
    moment, day = arrested_at, arrested_at.astimezone(zone).date()
    for _ in range(_MAX_DAYS_WALKED):
        day_end = local_day_start(day + _ONE_DAY, zone)
        if not policy.is_excluded_day(day):
            if day_end - moment >= remaining:
                return moment + remaining
            remaining -= day_end - moment
        moment, day = day_end, day + _ONE_DAY
    raise ValueError(f"no counted day within {_MAX_DAYS_WALKED} days of {arrested_at}")
