"""On-call schedules: who is on call at an instant, from a rotation or an iCalendar file.

Pure: no Slack, HTTP or database imports, no clock and no file system. Every
``at``, ``start`` and ``end`` is an aware UTC datetime (checked with
:func:`bot.core.model.require_utc`) and every datetime returned is UTC. The
values asked about (``Schedule``, ``Rotation``, ``Override``, ``Shift``) are
defined in ``bot.core.oncall_schedule`` and importable from here.

Two kinds of schedule, both built once by the config loader:

* a **rotation**: ``users`` take turns, one shift each, changing at the local
  ``handoff`` time every day or every 7 local days counted from ``start``;
* an **iCalendar** file: each event is one person's shift; its SUMMARY is a Slack
  member ID or an email address. Recurrences are expanded by ``recurring_ical_events``.

Overrides (from the config, or stored by ``/wso oncall override``) replace the
schedule while they last; if several cover an instant, the one starting latest wins.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import icalendar
import recurring_ical_events  # type: ignore[import-untyped]

from bot.core.local_time import when_reached
from bot.core.model import require_utc
from bot.core.oncall_schedule import DEFAULT_ROTATION_START as DEFAULT_ROTATION_START
from bot.core.oncall_schedule import IcalCalendar as IcalCalendar
from bot.core.oncall_schedule import Override as Override
from bot.core.oncall_schedule import Rotation as Rotation
from bot.core.oncall_schedule import RotationPeriod as RotationPeriod
from bot.core.oncall_schedule import Schedule as Schedule
from bot.core.oncall_schedule import Shift as Shift

# How far current_and_next looks back and ahead for the edges of a run of shifts.
CURRENT_AND_NEXT_HORIZON = timedelta(days=366)
# The iCal query is widened by this much so that all-day and floating events (which the
# library compares as if they were in the query's zone) are found; exact filtering follows.
_ICAL_QUERY_MARGIN = timedelta(days=2)

_USER_ID = re.compile(r"[UW][A-Z0-9]{2,}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


# --- the public questions ----------------------------------------------------------------


def on_call(
    schedule: Schedule, at: datetime, extra_overrides: Sequence[Override] = ()
) -> tuple[str, ...]:
    """Who is on call at ``at``: an override's user, else the rotation's or the calendar's.

    For a calendar, everyone whose event covers ``at``, sorted and without repeats;
    emails are returned as written. ``()`` means nobody.
    """
    require_utc("at", at)
    override = _winning_override(_all_overrides(schedule, extra_overrides), at)
    if override is not None:
        return (override.user,)
    if schedule.rotation is not None:
        rotation = schedule.rotation
        return (_rotation_user(rotation, _shift_index(rotation, schedule.zone, at)),)
    return tuple(sorted({each.user for each in _ical_intervals(schedule, at, at)}))


def shifts_between(
    schedule: Schedule,
    start: datetime,
    end: datetime,
    extra_overrides: Sequence[Override] = (),
) -> list[Shift]:
    """Consecutive shifts covering [start, end) exactly, split at handoffs and override edges.

    The first and last are clipped to ``start`` and ``end``; a shift with no users is a gap.
    Consecutive shifts may have the same users (a handoff to the same person is still a
    handoff). Empty when ``start == end``; ``ValueError`` when ``end`` is before ``start``.
    """
    require_utc("start", start)
    require_utc("end", end)
    if end < start:
        raise ValueError(f"end {end} is before start {start}")
    if end == start:
        return []
    base = _base_shifts(schedule, start, end)
    overrides = [
        each
        for each in _all_overrides(schedule, extra_overrides)
        if each.start < end and start < each.end
    ]
    return _overlay(base, overrides) if overrides else base


def current_and_next(
    schedule: Schedule, at: datetime, extra_overrides: Sequence[Override] = ()
) -> tuple[Shift, Shift]:
    """Who is on call at ``at`` and who comes next, for ``/wso oncall``.

    ``current`` is the longest run of consecutive shifts with the same users around ``at``
    (a person on two back-to-back shifts is on call until the second ends); ``next`` is
    the run after it, whose users differ (it may be a gap). Runs are clipped to
    :data:`CURRENT_AND_NEXT_HORIZON` either side of ``at``; if nobody different comes within
    it, ``next`` has ``current``'s users and starts and ends where ``current`` ends.
    """
    require_utc("at", at)
    window = shifts_between(
        schedule, at - CURRENT_AND_NEXT_HORIZON, at + CURRENT_AND_NEXT_HORIZON, extra_overrides
    )
    runs = _merge_runs(window)
    index = next(i for i, run in enumerate(runs) if run.start <= at < run.end)
    current = runs[index]
    if index + 1 < len(runs):
        return current, runs[index + 1]
    return current, Shift(current.users, current.end, current.end)


def coverage_gaps(
    schedule: Schedule,
    start: datetime,
    end: datetime,
    extra_overrides: Sequence[Override] = (),
) -> list[tuple[datetime, datetime]]:
    """Maximal intervals within [start, end) when nobody is on call, in time order."""
    runs = _merge_runs(shifts_between(schedule, start, end, extra_overrides))
    return [(run.start, run.end) for run in runs if run.is_gap]


def schedule_people(schedule: Schedule) -> frozenset[str]:
    """Everyone the schedule itself names: rotation users, calendar SUMMARYs, config overrides.

    Calendar entries may be emails as written in the file; Slack member IDs are
    returned as they are.
    """
    named = {each.user for each in schedule.overrides}
    if schedule.rotation is not None:
        named.update(schedule.rotation.users)
    if schedule.ical is not None:
        named.update(schedule.ical.people)
    return frozenset(named)


# --- overrides ---------------------------------------------------------------------------


def _all_overrides(schedule: Schedule, extra: Sequence[Override]) -> list[Override]:
    return [*schedule.overrides, *extra]


def _winning_override(overrides: Sequence[Override], at: datetime) -> Override | None:
    """The covering override that starts latest; on a tie, the one listed last."""
    covering = [(each.start, index) for index, each in enumerate(overrides) if each.covers(at)]
    return overrides[max(covering)[1]] if covering else None


def _overlay(base: list[Shift], overrides: list[Override]) -> list[Shift]:
    """Split ``base`` at override edges and put the winning override's user where one covers."""
    start, end = base[0].start, base[-1].end
    edges = {shift.start for shift in base} | {end}
    for each in overrides:
        edges.update(edge for edge in (each.start, each.end) if start < edge < end)
    shifts: list[Shift] = []
    base_index = 0
    for left, right in pairwise(sorted(edges)):
        while base[base_index].end <= left:
            base_index += 1
        winner = _winning_override(overrides, left)
        users = (winner.user,) if winner is not None else base[base_index].users
        shifts.append(Shift(users, left, right))
    return shifts


def _merge_runs(shifts: Iterable[Shift]) -> list[Shift]:
    runs: list[Shift] = []
    for shift in shifts:
        if runs and runs[-1].users == shift.users:
            runs[-1] = Shift(shift.users, runs[-1].start, shift.end)
        else:
            runs.append(shift)
    return runs


# --- rotations ---------------------------------------------------------------------------


def _base_shifts(schedule: Schedule, start: datetime, end: datetime) -> list[Shift]:
    if schedule.rotation is not None:
        return _rotation_shifts(schedule, schedule.rotation, start, end)
    return _ical_shifts(schedule, start, end)


def _rotation_shifts(
    schedule: Schedule, rotation: Rotation, start: datetime, end: datetime
) -> list[Shift]:
    shifts: list[Shift] = []
    index = _shift_index(rotation, schedule.zone, start)
    cursor = start
    while cursor < end:
        boundary = min(_shift_start(rotation, schedule.zone, index + 1), end)
        shifts.append(Shift((_rotation_user(rotation, index),), cursor, boundary))
        cursor, index = boundary, index + 1
    return shifts


def _rotation_user(rotation: Rotation, index: int) -> str:
    return rotation.users[index % len(rotation.users)]


def _shift_index(rotation: Rotation, zone: ZoneInfo, at: datetime) -> int:
    """The n whose shift covers ``at``; negative before ``start`` (floor division)."""
    local_day = at.astimezone(zone).date()
    index = (local_day - rotation.start).days // rotation.period.days
    while _shift_start(rotation, zone, index) > at:
        index -= 1
    while _shift_start(rotation, zone, index + 1) <= at:
        index += 1
    return index


def _shift_start(rotation: Rotation, zone: ZoneInfo, index: int) -> datetime:
    """When shift ``index`` begins: on a change night, when the clocks reach the handoff."""
    day = rotation.start + timedelta(days=index * rotation.period.days)
    return when_reached(datetime.combine(day, rotation.handoff), zone)


# --- iCalendar ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Interval:
    user: str
    start: datetime
    end: datetime


def parse_ical(data: bytes, source: str, zone: ZoneInfo) -> IcalCalendar:
    """Parse and check an on-call .ics file; ``ValueError`` says what is wrong with it.

    Every event needs a DTSTART, an end not before it, a known TZID, and a SUMMARY that is
    a Slack member ID (``U…``/``W…``) or an email address. ``zone`` places floating times.
    """
    try:
        calendar = icalendar.Calendar.from_ical(data)
    except ValueError as error:
        raise ValueError(f"not an iCalendar file: {_first_line(error)}") from None
    if calendar.name != "VCALENDAR":
        raise ValueError(f"not an iCalendar file: it holds a {calendar.name}, not a VCALENDAR")
    events = [each for each in calendar.walk("VEVENT") if isinstance(each, icalendar.Event)]
    if not events:
        raise ValueError("has no events (VEVENT); nobody would ever be on call")
    for number, event in enumerate(events, start=1):
        _check_event(event, number, zone)
    try:
        query = recurring_ical_events.of(calendar)
    except Exception as error:  # the library raises several unrelated types for bad rules
        raise ValueError(f"cannot expand its recurrences: {_first_line(error)}") from None
    people = frozenset(str(event.get("SUMMARY", "")).strip() for event in events)
    return IcalCalendar(
        source=source, sha256=hashlib.sha256(data).hexdigest(), query=query, people=people
    )


def _first_line(error: Exception, limit: int = 160) -> str:
    text = str(error).strip()
    line = text.splitlines()[0] if text else type(error).__name__
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _check_event(event: icalendar.Event, number: int, zone: ZoneInfo) -> None:
    where = _event_name(event, number)
    errors = getattr(event, "errors", [])
    if errors:
        name, problem = errors[0]
        raise ValueError(f"{where}: bad {name}: {problem}")
    if "DTSTART" not in event:
        raise ValueError(f"{where}: has no DTSTART")
    summary = str(event.get("SUMMARY", "")).strip()
    if not (_USER_ID.fullmatch(summary) or _EMAIL.fullmatch(summary)):
        raise ValueError(
            f'{where}: SUMMARY "{summary}" must be a Slack member ID (like "U0LT1") '
            'or an email address (like "duty@example.org")'
        )
    for name in ("DTSTART", "DTEND", "RECURRENCE-ID"):
        _check_tzid(event, name, where)
    try:
        start, end = _event_start_and_end(event, zone)
    except ValueError as error:  # icalendar's InvalidCalendar, e.g. both DTEND and DURATION
        raise ValueError(f"{where}: {_first_line(error)}") from None
    if end < start:
        raise ValueError(f"{where}: ends before it starts")


def _event_name(event: icalendar.Component, number: int) -> str:
    uid = event.get("UID")
    return f"event {number} (UID {uid})" if uid else f"event {number}"


def _check_tzid(event: icalendar.Component, name: str, where: str) -> None:
    prop = event.get(name)
    if prop is None or "TZID" not in prop.params:
        return
    value = prop.dt
    if isinstance(value, datetime) and value.tzinfo is None:
        raise ValueError(f"{where}: {name} has an unknown time zone TZID={prop.params['TZID']}")


def _event_start_and_end(event: icalendar.Event, zone: ZoneInfo) -> tuple[datetime, datetime]:
    # icalendar's end follows RFC 5545: DTEND, else DTSTART + DURATION, else one day for a
    # date and no time for a date-time.
    return _ical_instant(event.start, zone), _ical_instant(event.end, zone)


def _ical_instant(value: date | datetime, zone: ZoneInfo) -> datetime:
    """A DTSTART/DTEND value as UTC: dates are local midnights, floating times local."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            return when_reached(value, zone)
        return value.astimezone(UTC)
    return when_reached(datetime.combine(value, time(0)), zone)


def _ical_intervals(schedule: Schedule, start: datetime, end: datetime) -> list[_Interval]:
    """Event occurrences overlapping [start, end) (or covering ``start`` if they are equal)."""
    calendar = schedule.ical
    assert calendar is not None
    zone = schedule.zone
    components = calendar.query.between(start - _ICAL_QUERY_MARGIN, end + _ICAL_QUERY_MARGIN)
    intervals: list[_Interval] = []
    for component in components:
        if str(component.get("STATUS", "")).upper() == "CANCELLED":
            continue
        interval = _Interval(
            user=str(component["SUMMARY"]).strip(),
            start=_ical_instant(component["DTSTART"].dt, zone),
            end=_ical_instant(component["DTEND"].dt, zone),
        )
        if _overlaps(interval, start, end):
            intervals.append(interval)
    return intervals


def _overlaps(interval: _Interval, start: datetime, end: datetime) -> bool:
    if interval.start >= interval.end:
        return False  # an instant event covers no time
    if start == end:
        return interval.start <= start < interval.end
    return interval.start < end and start < interval.end


def _ical_shifts(schedule: Schedule, start: datetime, end: datetime) -> list[Shift]:
    """Sweep the occurrences: a new shift wherever someone's event starts or ends."""
    starting: defaultdict[datetime, list[str]] = defaultdict(list)
    ending: defaultdict[datetime, list[str]] = defaultdict(list)
    for interval in _ical_intervals(schedule, start, end):
        starting[max(interval.start, start)].append(interval.user)
        ending[min(interval.end, end)].append(interval.user)
    active: Counter[str] = Counter()
    shifts: list[Shift] = []
    for left, right in pairwise(sorted({start, end, *starting, *ending})):
        active.subtract(ending.get(left, ()))
        active.update(starting.get(left, ()))
        users = tuple(sorted(user for user, count in active.items() if count > 0))
        shifts.append(Shift(users, left, right))
    return shifts
