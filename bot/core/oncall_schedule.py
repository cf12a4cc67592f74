"""What an on-call schedule is: a rotation or an iCalendar file, overrides, and shifts. Pure.

These are the values the config loader builds once and ``bot.core.oncall``
answers questions about (who is on call, when nobody is). Every datetime is an
aware UTC instant (checked with :func:`bot.core.model.require_utc`); a
rotation's ``handoff`` is the one local wall-clock time.

Escalation levels page a schedule by naming it ``oncall:<id>`` in ``notify``;
:func:`oncall_entry` and :func:`schedule_id_of` are the one home of that spelling.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from bot.core.model import require_utc

DEFAULT_ROTATION_START = date(2024, 1, 1)  # a Monday
ONCALL_PREFIX = "oncall:"


def oncall_entry(schedule_id: str) -> str:
    """The ``notify`` entry that pages the schedule ``schedule_id``."""
    return f"{ONCALL_PREFIX}{schedule_id}"


def schedule_id_of(entry: str) -> str | None:
    """The schedule a ``notify`` entry pages, or None if it names no schedule."""
    return entry.removeprefix(ONCALL_PREFIX) if entry.startswith(ONCALL_PREFIX) else None


class RotationPeriod(StrEnum):
    """How often a rotation hands over to the next person."""

    DAILY = "daily"
    WEEKLY = "weekly"

    @property
    def days(self) -> int:
        return 1 if self is RotationPeriod.DAILY else 7


@dataclass(frozen=True)
class Override:
    """``user`` covers the schedule in [start, end), replacing whoever else would be on call."""

    user: str
    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        require_utc("start", self.start)
        require_utc("end", self.end)
        if self.end <= self.start:
            raise ValueError(f"override end {self.end} must be after its start {self.start}")

    def covers(self, at: datetime) -> bool:
        return self.start <= at < self.end


@dataclass(frozen=True)
class Shift:
    """``users`` are on call in [start, end); ``users == ()`` is a gap (nobody on call)."""

    users: tuple[str, ...]
    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        require_utc("start", self.start)
        require_utc("end", self.end)
        if self.end < self.start:
            raise ValueError(f"shift end {self.end} is before its start {self.start}")

    @property
    def is_gap(self) -> bool:
        return not self.users


@dataclass(frozen=True)
class Rotation:
    """Users take turns; shift ``n`` (counted from ``start``'s handoff) is ``users[n % len]``."""

    period: RotationPeriod
    handoff: time  # local wall-clock time in the schedule's zone
    users: tuple[str, ...]
    start: date = DEFAULT_ROTATION_START

    def __post_init__(self) -> None:
        if not self.users:
            raise ValueError("a rotation needs at least one user")
        if self.handoff.tzinfo is not None:
            raise ValueError("handoff is a local wall-clock time and must be naive")


@dataclass(frozen=True)
class IcalCalendar:
    """An on-call iCalendar file, parsed once (by :func:`parse_ical`) and only read after.

    Equal calendars have the same bytes; ``source`` (the file's path) is for messages.
    """

    source: str = field(compare=False)
    sha256: str
    # A recurring_ical_events CalendarQuery over the parsed calendar: internal, read-only.
    query: Any = field(repr=False, compare=False)
    # Every SUMMARY in the file (member IDs and emails): who the calendar may ever put on call.
    people: frozenset[str] = field(default=frozenset(), compare=False)


@dataclass(frozen=True)
class Schedule:
    """An on-call schedule, referenced from escalation levels as ``oncall:<id>``.

    Exactly one of ``rotation`` and ``ical`` is set. ``overrides`` are the config's own.
    """

    id: str
    timezone_name: str
    rotation: Rotation | None = None
    ical: IcalCalendar | None = None
    overrides: tuple[Override, ...] = ()

    def __post_init__(self) -> None:
        if (self.rotation is None) == (self.ical is None):
            raise ValueError("a schedule needs exactly one of rotation and ical")

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone_name)
