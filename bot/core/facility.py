"""The validated config as plain values: facilities, reminders, webhooks. Pure.

``bot.config`` reads and checks the TOML file and builds these; the core, the
rendering and the services use them without the loader (no TOML, no files, no
environment). Every value here is frozen, except the officer roster
(``bot.core.roster.LiveRoster``), which a SIGHUP replaces whole while the bot runs.
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass, field
from datetime import timedelta

from bot.core.oncall import Schedule
from bot.core.policy import ELAPSED_48H, CountingPolicy
from bot.core.report_schedule import ReportSchedule
from bot.core.roster import LiveRoster

DEFAULT_REMINDERS: tuple[timedelta, ...] = (
    timedelta(hours=24),
    timedelta(hours=12),
    timedelta(hours=4),
    timedelta(hours=1),
    timedelta(minutes=30),
)
DEFAULT_REACK_AFTER = timedelta(minutes=30)
DEFAULT_BACKUP_GRACE = timedelta(seconds=60)


@dataclass(frozen=True)
class EscalationLevel:
    """Who to notify, and how long after the escalation starts (parsed, not yet acted on)."""

    notify: tuple[str, ...]
    after: timedelta


@dataclass(frozen=True)
class IceEscalationLevel:
    """Who to page on the ICE side ``before`` the deadline while the custody is still open."""

    notify: tuple[str, ...]
    before: timedelta
    after: timedelta = timedelta(0)


@dataclass(frozen=True)
class Facility:
    """One jail: its clock's time zone, its two Slack channels, and who may act there."""

    id: str
    name: str
    timezone_name: str
    jail_channel: str
    ice_channel: str
    officers: frozenset[str]
    staff: frozenset[str] = frozenset()
    escalation: tuple[EscalationLevel, ...] = ()
    escalation_repeat: int = 0
    reack_after: timedelta = DEFAULT_REACK_AFTER
    pagerduty_routing_key: str | None = field(default=None, repr=False)
    ice_escalation: tuple[IceEscalationLevel, ...] = ()
    # The facility may hold people under an Intergovernmental Service Agreement.
    igsa: bool = False
    # ICE officers who may confirm a transfer (``/wso transfer``, the card's button).
    ice_staff: frozenset[str] = frozenset()
    # How the custody window is counted here (``policy``, ``holidays``, ``policy_hours``).
    policy: CountingPolicy = ELAPSED_48H
    # The officer roster in force (``roster = "officers.csv"``), shared by every facility of
    # the config: its officers of this facility count as ``officers`` (``is_officer``).
    roster: LiveRoster = field(default_factory=LiveRoster, compare=False, repr=False)

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        """The facility's time zone (ZoneInfo caches instances, so this is cheap)."""
        return zoneinfo.ZoneInfo(self.timezone_name)

    def channels(self) -> tuple[str, str]:
        """The jail and ICE channel ids, in that order (they may be the same channel)."""
        return (self.jail_channel, self.ice_channel)

    def current_officers(self) -> frozenset[str]:
        """The config's ``officers`` and the roster's officers of this facility, as of now.

        Whether one of them may log an arrest today (certified, in their own jail) is
        ``bot.core.permissions.arrest_refusal``'s to say.
        """
        return self.officers | self.roster.current.officer_ids(self.id)

    def is_officer(self, user_id: str) -> bool:
        """Listed in ``officers``, or on the roster at this facility."""
        return user_id in self.officers or user_id in self.roster.current.officer_ids(self.id)

    def may_close(self, user_id: str) -> bool:
        """Officers and staff may record a transfer or release (see ``bot.core.permissions``)."""
        return self.is_officer(user_id) or user_id in self.staff


@dataclass(frozen=True)
class Reminders:
    """Lead times before the deadline at which to remind; always sorted longest first."""

    before: tuple[timedelta, ...] = DEFAULT_REMINDERS
    # Slack posts a backup expiry notice this long after the deadline unless the bot's own
    # expiry notice went out first (and deleted it).
    backup_grace: timedelta = DEFAULT_BACKUP_GRACE

    def __post_init__(self) -> None:
        object.__setattr__(self, "before", tuple(sorted(self.before, reverse=True)))


@dataclass(frozen=True)
class Webhook:
    """A URL that receives every custody event, signed with HMAC-SHA256 using ``secret``."""

    url: str
    secret: str = field(repr=False)


@dataclass(frozen=True)
class Config:
    """The whole facility file, validated."""

    reminders: Reminders
    facilities: tuple[Facility, ...]
    schedules: tuple[Schedule, ...] = ()
    webhooks: tuple[Webhook, ...] = ()
    # A dead man's switch: pinged every minute while nothing is overdue.
    heartbeat_url: str | None = field(default=None, repr=False)
    # Personal data of custodies closed longer ago than this is purged daily (None: never).
    retention_days: int | None = None
    # The SHA-256 of the file it was read from (hex; None when not read from a file).
    sha256: str | None = field(default=None, compare=False)
    # The weekly oversight summary (``[report]``), if one is posted.
    report: ReportSchedule | None = None
    # The officer roster in force, the same one every facility holds, and the file it is
    # read from (``roster``, resolved against the config file's folder; None: no roster).
    roster: LiveRoster = field(default_factory=LiveRoster, compare=False, repr=False)
    roster_path: str | None = None

    def facility(self, facility_id: str) -> Facility | None:
        """The facility with this id, or None."""
        return next((each for each in self.facilities if each.id == facility_id), None)

    def schedule(self, schedule_id: str) -> Schedule | None:
        """The on-call schedule with this id (without the ``oncall:`` prefix), or None."""
        return next((each for each in self.schedules if each.id == schedule_id), None)

    def facilities_for_channel(self, channel_id: str) -> tuple[Facility, ...]:
        """Facilities whose jail or ICE channel this is."""
        return tuple(each for each in self.facilities if channel_id in each.channels())

    def facilities_for_officer(self, user_id: str) -> tuple[Facility, ...]:
        """Facilities where this user is an officer (listed, or on the roster there)."""
        return tuple(each for each in self.facilities if each.is_officer(user_id))
