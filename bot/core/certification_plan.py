"""When the jail hears that an officer's WSO certification is about to end. Pure.

One reminder per officer and expiry date goes to the facility's jail channel, at
09:00 facility time 30 days before the expiry date (the last valid day). An officer
added to the roster, or a bot started, inside those 30 days is reminded at once; a
certification already over gets none (``/wso officers`` and every refused arrest say
so). A renewed certification is a new expiry date, and so a new reminder.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from bot.core.facility import Config, Facility
from bot.core.model import require_utc
from bot.core.roster import CertificationStatus, RosterEntry

REMINDER_DAYS_BEFORE = 30
# A working-hours moment: no DST change happens at 09:00, so it always exists once.
REMINDER_LOCAL_TIME = time(9, 0)

# What makes a reminder the same one: the officer and the expiry date.
ReminderKey = tuple[str, date]


@dataclass(frozen=True)
class CertificationReminder:
    """A reminder owed to ``channel``: officer ``user_id``'s certification ends ``expires_on``."""

    user_id: str
    expires_on: date
    facility_id: str
    channel: str
    due_at: datetime

    def __post_init__(self) -> None:
        require_utc("due_at", self.due_at)

    @property
    def id(self) -> str:
        """Stable across restarts and reloads: the message metadata's ``notice_id``."""
        return f"cert_{self.user_id}_{self.expires_on:%Y%m%d}"

    @property
    def key(self) -> ReminderKey:
        return (self.user_id, self.expires_on)


def reminder_due_at(entry: RosterEntry, facility: Facility) -> datetime:
    """09:00 facility time, 30 days before the expiry date, as a UTC instant."""
    day = entry.expires_on - timedelta(days=REMINDER_DAYS_BEFORE)
    return datetime.combine(day, REMINDER_LOCAL_TIME, tzinfo=facility.zone).astimezone(UTC)


def _reminder(entry: RosterEntry, facility: Facility) -> CertificationReminder:
    return CertificationReminder(
        user_id=entry.user_id,
        expires_on=entry.expires_on,
        facility_id=facility.id,
        channel=facility.jail_channel,
        due_at=reminder_due_at(entry, facility),
    )


def _rostered(config: Config) -> list[tuple[RosterEntry, Facility]]:
    """Each roster row with its facility (rows of a facility no longer configured: none)."""
    found = []
    for entry in config.roster.current.entries:
        facility = config.facility(entry.facility_id)
        if facility is not None:
            found.append((entry, facility))
    return found


def reminders_due(config: Config, now: datetime) -> list[CertificationReminder]:
    """Every reminder whose time has come at ``now`` and whose certification has not ended."""
    due = []
    for entry, facility in _rostered(config):
        today = now.astimezone(facility.zone).date()
        if entry.status_on(today) is CertificationStatus.EXPIRED:
            continue
        reminder = _reminder(entry, facility)
        if reminder.due_at <= now:
            due.append(reminder)
    return due


def next_reminder_at(
    config: Config, now: datetime, planned: Collection[ReminderKey]
) -> datetime | None:
    """When the next reminder not yet ``planned`` falls due after ``now``, if any does."""
    later = [
        reminder.due_at
        for reminder in (_reminder(entry, facility) for entry, facility in _rostered(config))
        if reminder.due_at > now and reminder.key not in planned
    ]
    return min(later, default=None)
