"""What an oversight export says about each custody, and which custodies a period holds. Pure.

One custody becomes one ``CustodyRecord`` (typed: instants, hours, flags) and one row
of ``EXPORT_COLUMNS`` (``export_fields``); the report's summary
(``bot.core.oversight_summary``) reads the same records, so the file and the page can
never disagree about what "held past the deadline" means.

A period is a range of dates, both included, read on each facility's own calendar: a
custody belongs to it when its arrest's local date does. The times of an open custody
("hours held", "held past the deadline") are as of ``now``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.core.model import Custody, CustodyState, require_utc
from bot.core.policy import PolicyStamp

UTC_ZONE = ZoneInfo("UTC")
# Every zone's offset lies within this of UTC (Kiribati +14, Baker Island -12).
_WIDEST_OFFSET = timedelta(hours=14)
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
EXAMPLE_PERIOD = "--from 2026-11-01 --to 2026-11-30"
# A release at or after the deadline, or with this reason (the card's list, or typed).
WINDOW_EXPIRED_REASON = "window expired"


class PeriodError(ValueError):
    """A date range that cannot be read; ``message`` says why, ``example`` what works."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
        self.example = EXAMPLE_PERIOD


@dataclass(frozen=True)
class Period:
    """``first`` to ``last``, both included, on each facility's local calendar."""

    first: date
    last: date

    def search_bounds(self) -> tuple[datetime, datetime]:
        """UTC instants that hold the period in every zone: the store's range, narrowed later."""
        start = datetime.combine(self.first, datetime.min.time(), UTC) - _WIDEST_OFFSET
        end = datetime.combine(self.last + timedelta(days=1), datetime.min.time(), UTC)
        return start, end + _WIDEST_OFFSET

    def holds(self, instant: datetime, zone: ZoneInfo) -> bool:
        return self.first <= instant.astimezone(zone).date() <= self.last

    def describe(self) -> str:
        return f"{self.first.isoformat()} to {self.last.isoformat()}"


def read_period(first_text: str | None, last_text: str | None) -> Period:
    """``--from`` and ``--to`` as a period; raises ``PeriodError`` naming the bad one."""
    first = _read_date("--from", first_text)
    last = _read_date("--to", last_text)
    if last < first:
        raise PeriodError(
            f"--to {last.isoformat()} is before --from {first.isoformat()}: the range is "
            "reversed. Give the earlier date first; both dates are included."
        )
    return Period(first, last)


def _read_date(option: str, text: str | None) -> date:
    if text is None or not text.strip():
        raise PeriodError(f"{option} is missing: give a date as YYYY-MM-DD.")
    if not _DATE.fullmatch(text.strip()):
        raise PeriodError(f"{option} {text.strip()[:40]!r} is not a date: use YYYY-MM-DD.")
    try:
        return date.fromisoformat(text.strip())
    except ValueError as error:
        raise PeriodError(
            f"{option} {text.strip()!r} is not a date of the calendar: {error}."
        ) from None


def policy_of(custody: Custody) -> str:
    """The counting policy that set the custody's deadline, as the export names it:
    ``elapsed-48h v1``, ``48h-excluding-weekends-holidays v1, holidays US-TX``, ``… 36 h``.

    The one place the column is read from the custody (the label is ``bot.core.policy``'s).
    """
    return PolicyStamp.of(custody).label


def outcome_time(custody: Custody) -> datetime | None:
    """When the custody ended: ICE took the person (a transfer's own time), or it closed."""
    if custody.state is CustodyState.TRANSFERRED and custody.custody_taken_at is not None:
        return custody.custody_taken_at
    return custody.closed_at


def _hours(span: timedelta) -> float:
    return round(span.total_seconds() / 3600, 2)


@dataclass(frozen=True)
class CustodyRecord:
    """One custody as the oversight export and report see it."""

    custody: Custody
    facility_name: str
    zone: ZoneInfo
    policy: str
    ended_at: datetime | None
    hours_held: float
    hours_to_pickup: float | None
    closed_after_deadline: bool | None  # None while open
    held_past_deadline: bool  # closed after the deadline, or open with it passed at ``now``
    released_at_expiry: bool

    @property
    def transferred_in_window(self) -> bool:
        return self.hours_to_pickup is not None and not self.closed_after_deadline


def custody_record(
    custody: Custody, facility_name: str, zone: ZoneInfo, now: datetime
) -> CustodyRecord:
    require_utc("now", now)
    ended_at = outcome_time(custody)
    held_until = ended_at if ended_at is not None else max(now, custody.arrested_at)
    closed_late = None if ended_at is None else ended_at > custody.deadline
    pickup = (
        _hours(ended_at - custody.arrested_at)
        if custody.state is CustodyState.TRANSFERRED and ended_at is not None
        else None
    )
    return CustodyRecord(
        custody=custody,
        facility_name=facility_name,
        zone=zone,
        policy=policy_of(custody),
        ended_at=ended_at,
        hours_held=_hours(held_until - custody.arrested_at),
        hours_to_pickup=pickup,
        closed_after_deadline=closed_late,
        held_past_deadline=bool(closed_late) or (ended_at is None and now > custody.deadline),
        released_at_expiry=custody.state is CustodyState.RELEASED
        and (
            bool(closed_late)
            or (ended_at == custody.deadline)
            or (custody.close_reason or "").lower().startswith(WINDOW_EXPIRED_REASON)
        ),
    )


# The export's columns, in order. Fields are only ever added (at the end), never renamed.
EXPORT_COLUMNS = (
    "custody_id",
    "facility",
    "facility_name",
    "booking",
    "warrant_form",
    "warrant_number",
    "timezone",
    "arrested_at_utc",
    "arrested_at_local",
    "deadline_utc",
    "deadline_local",
    "policy",
    "outcome",
    "outcome_at_utc",
    "outcome_at_local",
    "hours_held",
    "hours_to_ice_pickup",
    "closed_after_deadline",
    "held_past_deadline",
    "disputed",
    "logged_by",
    "logged_at_utc",
    "closed_by",
    "acknowledged_by",
    "acknowledged_at_utc",
)
ExportValue = str | float | bool | None
FLAG_COLUMNS = frozenset({"closed_after_deadline", "held_past_deadline", "disputed"})
# Text a person typed, or a config holds (the rest are ids and times the bot wrote).
TYPED_COLUMNS = frozenset(
    {
        "facility",
        "facility_name",
        "booking",
        "warrant_number",
        "logged_by",
        "closed_by",
        "acknowledged_by",
    }
)


def _utc_text(instant: datetime | None) -> str | None:
    # isoformat, not strftime: ~3x faster, and called ~5 times a row on 100k rows.
    return None if instant is None else instant.isoformat(timespec="seconds")[:19] + "Z"


def _local_text(instant: datetime | None, zone: ZoneInfo) -> str | None:
    return None if instant is None else instant.astimezone(zone).isoformat(timespec="seconds")


def export_values(record: CustodyRecord) -> tuple[ExportValue, ...]:
    """The record as one row, in the order of ``EXPORT_COLUMNS`` (None: no value)."""
    custody, zone = record.custody, record.zone
    return (
        custody.id,
        custody.facility_id,
        record.facility_name,
        custody.booking,
        custody.warrant_form.value if custody.warrant_form else None,
        custody.warrant_number,
        zone.key,
        _utc_text(custody.arrested_at),
        _local_text(custody.arrested_at, zone),
        _utc_text(custody.deadline),
        _local_text(custody.deadline, zone),
        record.policy,
        custody.state.value,
        _utc_text(record.ended_at),
        _local_text(record.ended_at, zone),
        record.hours_held,
        record.hours_to_pickup,
        record.closed_after_deadline,
        record.held_past_deadline,
        custody.disputed_at is not None,
        custody.logged_by,
        _utc_text(custody.logged_at),
        custody.closed_by,
        custody.acknowledged_by,
        _utc_text(custody.acknowledged_at),
    )


def export_fields(record: CustodyRecord) -> dict[str, ExportValue]:
    """The record as one row keyed by ``EXPORT_COLUMNS``."""
    return dict(zip(EXPORT_COLUMNS, export_values(record), strict=True))


@dataclass(frozen=True)
class FacilityLabel:
    """What the export needs of a facility: its name and zone (UTC for one no longer known)."""

    name: str
    zone: ZoneInfo


def records_in_period(
    custodies: Iterable[Custody],
    period: Period,
    facilities: dict[str, FacilityLabel],
    now: datetime,
) -> Iterator[CustodyRecord]:
    """The records of the custodies arrested within ``period`` on their facility's calendar.

    Lazy: one custody in, at most one record out, nothing kept. A facility the config
    no longer names is read in UTC, under its id.
    """
    for custody in custodies:
        label = facilities.get(custody.facility_id)
        if label is None:
            label = FacilityLabel(f"{custody.facility_id} (not in the config)", UTC_ZONE)
        if period.holds(custody.arrested_at, label.zone):
            yield custody_record(custody, label.name, label.zone, now)
