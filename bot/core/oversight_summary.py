"""A period's custodies summed up for oversight, one record at a time. Pure.

``SummaryBuilder.add`` takes the export's records (``bot.core.oversight``) as they
stream from the store and keeps only what the summary needs: counts, the pickup and
acknowledgement times (a float each, for exact medians), the latest custodies held
past the deadline (each named, the worst ``NAMED_LATE`` kept) and a count per day.

Definitions, written once here and repeated in the README:

* **transfer rate within the window**: transfers whose ICE pickup came by the deadline,
  of the custodies whose outcome is known (closed, or open with the deadline passed),
  voided ones left out (a cancelled warrant or an entry made in error is no custody);
* **pickup time**: hours from the arrest to ICE taking the person, for transfers;
* **releases at expiry**: releases at or after the deadline, or with the reason
  "Window expired";
* **held past the deadline**: closed after the deadline, or still open past it;
* **acknowledgement time**: minutes from the deadline to the acknowledgement recorded
  on the custody, for those acknowledged after their deadline (the expiry paging);
  an acknowledgement before the deadline (an ICE page) is counted apart.
"""

from __future__ import annotations

import heapq
import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from bot.core.facility import Facility
from bot.core.model import Custody, CustodyState
from bot.core.oversight import CustodyRecord, FacilityLabel, Period, records_in_period

# The custodies held past the deadline named one by one (the worst first); the export
# lists every one (``held_past_deadline``).
NAMED_LATE = 200
# The chart's pickup times: bins of 4 hours from 0 to 72, the last one "72 h or more".
PICKUP_BIN_HOURS = 4
PICKUP_BINS = 18


def percentile(sorted_values: Sequence[float], fraction: float) -> float | None:
    """Linear interpolation between closest ranks (numpy's default); None when empty."""
    if not sorted_values:
        return None
    position = (len(sorted_values) - 1) * fraction
    low, high = math.floor(position), math.ceil(position)
    weight = position - low
    return sorted_values[low] * (1 - weight) + sorted_values[high] * weight


@dataclass(frozen=True)
class LateCustody:
    """A custody held past its deadline, named: booking and facility, and by how much."""

    hours_past: float
    booking: str
    facility_id: str
    facility_name: str
    outcome: CustodyState
    deadline: datetime
    zone: ZoneInfo = field(compare=False)


@dataclass(frozen=True)
class Spread:
    """Median and 90th percentile of some durations, and how many there were."""

    count: int
    median: float | None
    p90: float | None

    @classmethod
    def of(cls, values: list[float]) -> Spread:
        values.sort()
        return cls(len(values), percentile(values, 0.5), percentile(values, 0.9))


@dataclass(frozen=True)
class Summary:
    period: Period
    now: datetime
    custodies: int
    outcomes: dict[CustodyState, int]
    transfers_in_window: int
    decided: int  # the transfer rate's denominator (see the module's definitions)
    pickup_hours: Spread
    releases_at_expiry: int
    held_past_deadline: int
    late: tuple[LateCustody, ...]  # the worst NAMED_LATE, worst first
    acknowledged_after_deadline_minutes: Spread
    acknowledged_before_deadline: int
    disputed: int
    per_day: dict[date, dict[CustodyState, int]]
    pickup_bins: tuple[int, ...]  # transfers per PICKUP_BIN_HOURS of pickup time

    @property
    def transfer_rate(self) -> float | None:
        return None if self.decided == 0 else self.transfers_in_window / self.decided

    @property
    def unnamed_late(self) -> int:
        return self.held_past_deadline - len(self.late)


@dataclass
class SummaryBuilder:
    period: Period
    now: datetime
    _count: int = 0
    _outcomes: Counter[CustodyState] = field(default_factory=Counter)
    _in_window: int = 0
    _decided: int = 0
    _pickups: list[float] = field(default_factory=list)
    _at_expiry: int = 0
    _late_count: int = 0
    _late: list[tuple[float, str, LateCustody]] = field(default_factory=list)
    _ack_minutes: list[float] = field(default_factory=list)
    _ack_before: int = 0
    _disputed: int = 0
    _per_day: dict[date, Counter[CustodyState]] = field(default_factory=dict)

    def add(self, record: CustodyRecord) -> None:
        custody = record.custody
        self._count += 1
        self._outcomes[custody.state] += 1
        day = custody.arrested_at.astimezone(record.zone).date()
        self._per_day.setdefault(day, Counter())[custody.state] += 1
        decided = custody.state is not CustodyState.OPEN or self.now > custody.deadline
        if decided and custody.state is not CustodyState.VOIDED:
            self._decided += 1
            self._in_window += record.transferred_in_window
        if record.hours_to_pickup is not None:
            self._pickups.append(record.hours_to_pickup)
        self._at_expiry += record.released_at_expiry
        self._disputed += custody.disputed_at is not None
        self._add_acknowledgement(record)
        if record.held_past_deadline:
            self._add_late(record)

    def _add_acknowledgement(self, record: CustodyRecord) -> None:
        acknowledged_at = record.custody.acknowledged_at
        if acknowledged_at is None:
            return
        if acknowledged_at < record.custody.deadline:
            self._ack_before += 1
        else:
            minutes = (acknowledged_at - record.custody.deadline).total_seconds() / 60
            self._ack_minutes.append(round(minutes, 1))

    def _add_late(self, record: CustodyRecord) -> None:
        custody = record.custody
        until = record.ended_at or self.now
        late = LateCustody(
            hours_past=round((until - custody.deadline).total_seconds() / 3600, 2),
            booking=custody.booking,
            facility_id=custody.facility_id,
            facility_name=record.facility_name,
            outcome=custody.state,
            deadline=custody.deadline,
            zone=record.zone,
        )
        self._late_count += 1
        entry = (late.hours_past, custody.id, late)  # the id breaks ties: never compare values
        if len(self._late) < NAMED_LATE:
            heapq.heappush(self._late, entry)
        elif entry[:2] > self._late[0][:2]:
            heapq.heapreplace(self._late, entry)

    def build(self) -> Summary:
        pickup_bins = _bins(self._pickups)
        return Summary(
            period=self.period,
            now=self.now,
            custodies=self._count,
            outcomes={state: self._outcomes[state] for state in CustodyState},
            transfers_in_window=self._in_window,
            decided=self._decided,
            pickup_hours=Spread.of(self._pickups),
            releases_at_expiry=self._at_expiry,
            held_past_deadline=self._late_count,
            late=tuple(late for *_, late in sorted(self._late, key=lambda e: e[:2], reverse=True)),
            acknowledged_after_deadline_minutes=Spread.of(self._ack_minutes),
            acknowledged_before_deadline=self._ack_before,
            disputed=self._disputed,
            per_day={day: dict(counts) for day, counts in sorted(self._per_day.items())},
            pickup_bins=pickup_bins,
        )


def _bins(hours: list[float]) -> tuple[int, ...]:
    counts = [0] * PICKUP_BINS
    for value in hours:
        counts[min(int(value // PICKUP_BIN_HOURS), PICKUP_BINS - 1)] += 1
    return tuple(counts)


def facility_labels(facilities: Iterable[Facility]) -> dict[str, FacilityLabel]:
    """Each configured facility's name and zone, by id, as the export and report show them."""
    return {f.id: FacilityLabel(f.name, f.zone) for f in facilities}


def summarise(
    custodies: Iterable[Custody],
    period: Period,
    labels: dict[str, FacilityLabel],
    now: datetime,
) -> Summary:
    """The summary of the custodies arrested in ``period``, read one at a time."""
    builder = SummaryBuilder(period, now)
    for record in records_in_period(custodies, period, labels, now):
        builder.add(record)
    return builder.build()
