"""On-call schedules: rotations across DST, overrides, iCalendar files, gaps."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.config import load_config
from bot.core.oncall import (
    CURRENT_AND_NEXT_HORIZON,
    DEFAULT_ROTATION_START,
    Override,
    Rotation,
    RotationPeriod,
    Schedule,
    Shift,
    coverage_gaps,
    current_and_next,
    on_call,
    parse_ical,
    shifts_between,
)
from tests.conftest import COUNTY_JAIL_TOML

CHICAGO = ZoneInfo("America/Chicago")
PHOENIX = ZoneInfo("America/Phoenix")
A, B, C = "U0A", "U0B", "U0C"
X, Y = "U0X", "U0Y"


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def chicago(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, fold: int = 0
) -> datetime:
    """A Chicago wall time (which must exist) as UTC."""
    local = datetime(year, month, day, hour, minute, tzinfo=CHICAGO, fold=fold)
    return local.astimezone(UTC)


def rotation_schedule(
    period: RotationPeriod,
    users: tuple[str, ...] = (A, B, C),
    handoff: time = time(7, 0),
    start: date = date(2026, 3, 1),
    overrides: tuple[Override, ...] = (),
    zone: str = "America/Chicago",
) -> Schedule:
    rotation = Rotation(period=period, handoff=handoff, users=users, start=start)
    return Schedule(id="watch", timezone_name=zone, rotation=rotation, overrides=overrides)


DAILY = rotation_schedule(RotationPeriod.DAILY)  # shift 0: Sun 2026-03-01 07:00 CST
WEEKLY = rotation_schedule(RotationPeriod.WEEKLY, start=date(2026, 1, 5))  # Mondays 07:00


def shift_at(schedule: Schedule, at: datetime, extra: Sequence[Override] = ()) -> Shift:
    """The (unclipped) shift of shifts_between that covers ``at``."""
    window = shifts_between(schedule, at - timedelta(days=9), at + timedelta(days=9), extra)
    return next(shift for shift in window if shift.start <= at < shift.end)


# --- rotations: who is on call, just before and just after each handoff ----------------

ROTATION_CASES = [
    # daily, users A B C from 2026-03-01 07:00: day n after the start belongs to users[n % 3]
    ("daily: first shift starts at its handoff", DAILY, chicago(2026, 3, 1, 7), A),
    ("daily: before the first handoff", DAILY, chicago(2026, 3, 1, 6, 59), C),
    ("daily: before the spring change", DAILY, chicago(2026, 3, 7, 6, 59), C),
    ("daily: handoff before the spring change", DAILY, chicago(2026, 3, 7, 7), A),
    ("daily: in the missing hour's day, early", DAILY, utc(2026, 3, 8, 7, 59), A),
    ("daily: second before the CDT handoff", DAILY, utc(2026, 3, 8, 11, 59, 59), A),
    ("daily: handoff on the spring-change day", DAILY, utc(2026, 3, 8, 12), B),
    ("daily: CST 07:00 on that day is not a handoff", DAILY, utc(2026, 3, 8, 13), B),
    ("daily: before the autumn change", DAILY, chicago(2026, 10, 31, 6, 59), A),
    ("daily: handoff before the autumn change", DAILY, chicago(2026, 10, 31, 7), B),
    ("daily: first 01:30 of the autumn night", DAILY, chicago(2026, 11, 1, 1, 30, fold=0), B),
    ("daily: second 01:30 of the autumn night", DAILY, chicago(2026, 11, 1, 1, 30, fold=1), B),
    ("daily: CDT 07:00 on the autumn day is not a handoff", DAILY, utc(2026, 11, 1, 12), B),
    ("daily: second before the CST handoff", DAILY, utc(2026, 11, 1, 12, 59, 59), B),
    ("daily: handoff on the autumn-change day", DAILY, utc(2026, 11, 1, 13), C),
    ("daily: the day after", DAILY, chicago(2026, 11, 2, 7), A),
    # weekly, users A B C from Monday 2026-01-05 07:00: week n belongs to users[n % 3]
    ("weekly: first shift", WEEKLY, chicago(2026, 1, 5, 7), A),
    ("weekly: last minute of week 0", WEEKLY, chicago(2026, 1, 12, 6, 59), A),
    ("weekly: week 1", WEEKLY, chicago(2026, 1, 12, 7), B),
    ("weekly: week 8, across the spring change", WEEKLY, chicago(2026, 3, 8, 12), C),
    ("weekly: before the first CDT handoff", WEEKLY, chicago(2026, 3, 9, 6, 59), C),
    ("weekly: first CDT handoff (week 9)", WEEKLY, chicago(2026, 3, 9, 7), A),
    ("weekly: week 42, across the autumn change", WEEKLY, chicago(2026, 11, 1, 1, 30, 1), A),
    ("weekly: before the first CST handoff", WEEKLY, chicago(2026, 11, 2, 6, 59), A),
    ("weekly: first CST handoff (week 43)", WEEKLY, chicago(2026, 11, 2, 7), B),
    # before the start: indices count backwards (floor division)
    ("daily: day -1", DAILY, chicago(2026, 2, 28, 7), C),
    ("daily: day -2", DAILY, chicago(2026, 2, 28, 6, 59), B),
    ("daily: day -3", DAILY, chicago(2026, 2, 26, 12), A),
    ("daily: day -4", DAILY, chicago(2026, 2, 25, 7), C),
    ("weekly: week -1", WEEKLY, chicago(2026, 1, 4, 23), C),
    ("weekly: week -1 starts at its handoff", WEEKLY, chicago(2025, 12, 29, 7), C),
    ("weekly: week -2", WEEKLY, chicago(2025, 12, 29, 6, 59), B),
    (
        "weekly: start in the future",
        rotation_schedule(RotationPeriod.WEEKLY, start=date(2027, 1, 4)),
        chicago(2026, 12, 31, 12),
        C,
    ),
    (
        "weekly: start in the future, week -2",
        rotation_schedule(RotationPeriod.WEEKLY, start=date(2027, 1, 4)),
        chicago(2026, 12, 28, 6, 59),
        B,
    ),
    # a single user is always on call
    ("one user", rotation_schedule(RotationPeriod.DAILY, users=(X,)), utc(2030, 6, 1), X),
    # default start: Monday 2024-01-01
    (
        "default start",
        rotation_schedule(RotationPeriod.WEEKLY, start=DEFAULT_ROTATION_START),
        chicago(2024, 1, 8, 7),
        B,
    ),
]


@pytest.mark.parametrize(
    ("schedule", "at", "expected"),
    [case[1:] for case in ROTATION_CASES],
    ids=[case[0] for case in ROTATION_CASES],
)
def test_rotation_on_call(schedule: Schedule, at: datetime, expected: str) -> None:
    assert on_call(schedule, at) == (expected,)
    assert shift_at(schedule, at).users == (expected,)


# (case id, schedule, an instant, start of the shift covering it, its length in hours)
SHIFT_LENGTH_CASES = [
    ("daily before spring", DAILY, chicago(2026, 3, 6, 12), chicago(2026, 3, 6, 7), 24),
    ("daily across spring", DAILY, chicago(2026, 3, 7, 12), chicago(2026, 3, 7, 7), 23),
    ("daily after spring", DAILY, utc(2026, 3, 8, 18), utc(2026, 3, 8, 12), 24),
    ("daily across autumn", DAILY, chicago(2026, 10, 31, 12), utc(2026, 10, 31, 12), 25),
    ("daily after autumn", DAILY, utc(2026, 11, 1, 18), utc(2026, 11, 1, 13), 24),
    ("weekly across spring", WEEKLY, chicago(2026, 3, 8, 12), chicago(2026, 3, 2, 7), 167),
    ("weekly after spring", WEEKLY, chicago(2026, 3, 10), chicago(2026, 3, 9, 7), 168),
    ("weekly across autumn", WEEKLY, chicago(2026, 11, 1, 12), chicago(2026, 10, 26, 7), 169),
    ("weekly after autumn", WEEKLY, chicago(2026, 11, 3), chicago(2026, 11, 2, 7), 168),
    (
        "Phoenix has no DST",
        rotation_schedule(RotationPeriod.DAILY, zone="America/Phoenix"),
        utc(2026, 3, 8, 12),
        datetime(2026, 3, 7, 7, tzinfo=PHOENIX).astimezone(UTC),
        24,
    ),
    (
        "Honolulu has no DST",
        rotation_schedule(RotationPeriod.WEEKLY, zone="Pacific/Honolulu"),
        utc(2026, 11, 1, 12),
        datetime(2026, 10, 25, 7, tzinfo=ZoneInfo("Pacific/Honolulu")).astimezone(UTC),
        168,
    ),
    # a handoff time skipped in spring happens at the first instant after the gap (03:00 CDT)
    (
        "02:30 handoff, shift ending in the gap",
        rotation_schedule(RotationPeriod.DAILY, handoff=time(2, 30)),
        chicago(2026, 3, 7, 12),
        chicago(2026, 3, 7, 2, 30),
        23.5,
    ),
    (
        "02:30 handoff, shift starting at the gap's end",
        rotation_schedule(RotationPeriod.DAILY, handoff=time(2, 30)),
        chicago(2026, 3, 8, 12),
        utc(2026, 3, 8, 8),
        23.5,
    ),
    # an ambiguous handoff time in autumn is its first occurrence (01:30 CDT)
    (
        "01:30 handoff, shift ending at the first 01:30",
        rotation_schedule(RotationPeriod.DAILY, handoff=time(1, 30)),
        chicago(2026, 10, 31, 12),
        chicago(2026, 10, 31, 1, 30),
        24,
    ),
    (
        "01:30 handoff, shift starting at the first 01:30",
        rotation_schedule(RotationPeriod.DAILY, handoff=time(1, 30)),
        chicago(2026, 11, 1, 1, 30, fold=1),
        utc(2026, 11, 1, 6, 30),
        25,
    ),
]


@pytest.mark.parametrize(
    ("schedule", "at", "starts", "hours"),
    [case[1:] for case in SHIFT_LENGTH_CASES],
    ids=[case[0] for case in SHIFT_LENGTH_CASES],
)
def test_rotation_shift_lengths(
    schedule: Schedule, at: datetime, starts: datetime, hours: float
) -> None:
    shift = shift_at(schedule, at)
    assert shift.start == starts
    assert shift.end - shift.start == timedelta(hours=hours)


def test_shifts_between_daily_across_spring_change() -> None:
    shifts = shifts_between(DAILY, chicago(2026, 3, 7), chicago(2026, 3, 9, 12))
    assert shifts == [
        Shift((C,), chicago(2026, 3, 7), chicago(2026, 3, 7, 7)),
        Shift((A,), chicago(2026, 3, 7, 7), utc(2026, 3, 8, 12)),
        Shift((B,), utc(2026, 3, 8, 12), utc(2026, 3, 9, 12)),
        Shift((C,), utc(2026, 3, 9, 12), chicago(2026, 3, 9, 12)),
    ]


def test_shifts_between_splits_at_a_handoff_to_the_same_person() -> None:
    schedule = rotation_schedule(RotationPeriod.DAILY, users=(X,))
    shifts = shifts_between(schedule, chicago(2026, 3, 1), chicago(2026, 3, 3))
    assert [(shift.users, shift.start) for shift in shifts] == [
        ((X,), chicago(2026, 3, 1)),
        ((X,), chicago(2026, 3, 1, 7)),
        ((X,), chicago(2026, 3, 2, 7)),
    ]


def test_shifts_between_empty_and_reversed() -> None:
    assert shifts_between(DAILY, utc(2026, 3, 1), utc(2026, 3, 1)) == []
    with pytest.raises(ValueError, match="before start"):
        shifts_between(DAILY, utc(2026, 3, 2), utc(2026, 3, 1))


def test_shifts_cover_a_long_window_exactly() -> None:
    start, end = utc(2025, 12, 1, 3, 17), utc(2027, 1, 15, 9, 41)
    shifts = shifts_between(WEEKLY, start, end)
    assert shifts[0].start == start
    assert shifts[-1].end == end
    assert all(left.end == right.start for left, right in pairwise(shifts))
    assert {shift.end - shift.start for shift in shifts[1:-1]} == {
        timedelta(hours=167),
        timedelta(hours=168),
        timedelta(hours=169),
    }


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("naive", datetime(2026, 3, 1, 12)),
        ("non-UTC", datetime(2026, 3, 1, 12, tzinfo=CHICAGO)),
    ],
)
def test_instants_must_be_utc(name: str, value: datetime) -> None:
    for call in (
        lambda: on_call(DAILY, value),
        lambda: shifts_between(DAILY, value, value),
        lambda: current_and_next(DAILY, value),
        lambda: coverage_gaps(DAILY, value, value),
    ):
        with pytest.raises(ValueError, match="UTC"):
            call()


# --- overrides -------------------------------------------------------------------------

# X covers a night shift: Sat 2026-03-07 19:00 CST to Sun 09:00 CDT, across the 07:00 handoff.
NIGHT = Override(X, chicago(2026, 3, 7, 19), chicago(2026, 3, 8, 9))
WITH_NIGHT = rotation_schedule(RotationPeriod.DAILY, overrides=(NIGHT,))
# Y covers a shorter stretch inside it, which starts later and so wins while it lasts.
INNER = Override(Y, chicago(2026, 3, 7, 22), chicago(2026, 3, 8, 1))
# Y from earlier, overlapping NIGHT's start: NIGHT starts later, so NIGHT wins once it begins.
EARLIER = Override(Y, chicago(2026, 3, 7, 17), chicago(2026, 3, 7, 21))

OVERRIDE_CASES: list[tuple[str, Schedule, tuple[Override, ...], datetime, str]] = [
    ("before the override", WITH_NIGHT, (), chicago(2026, 3, 7, 18, 59), A),
    ("override starts", WITH_NIGHT, (), chicago(2026, 3, 7, 19), X),
    ("override across the handoff", WITH_NIGHT, (), chicago(2026, 3, 8, 7), X),
    ("override's last minute", WITH_NIGHT, (), chicago(2026, 3, 8, 8, 59), X),
    ("override ended", WITH_NIGHT, (), chicago(2026, 3, 8, 9), B),
    ("stored override alone", DAILY, (NIGHT,), chicago(2026, 3, 7, 20), X),
    ("latest start wins", WITH_NIGHT, (INNER,), chicago(2026, 3, 7, 23), Y),
    ("inner one ended", WITH_NIGHT, (INNER,), chicago(2026, 3, 8, 1), X),
    ("earlier one alone", WITH_NIGHT, (EARLIER,), chicago(2026, 3, 7, 18), Y),
    ("later start takes over", WITH_NIGHT, (EARLIER,), chicago(2026, 3, 7, 19), X),
    (
        "same start: the one listed last",
        WITH_NIGHT,
        (Override(Y, NIGHT.start, NIGHT.start + timedelta(hours=1)),),
        chicago(2026, 3, 7, 19, 30),
        Y,
    ),
]


@pytest.mark.parametrize(
    ("schedule", "extra", "at", "expected"),
    [case[1:] for case in OVERRIDE_CASES],
    ids=[case[0] for case in OVERRIDE_CASES],
)
def test_overrides_replace_the_rotation(
    schedule: Schedule, extra: tuple[Override, ...], at: datetime, expected: str
) -> None:
    assert on_call(schedule, at, extra) == (expected,)
    assert shift_at(schedule, at, extra).users == (expected,)


def test_shifts_between_splits_at_override_edges_and_handoffs() -> None:
    shifts = shifts_between(WITH_NIGHT, chicago(2026, 3, 7, 12), chicago(2026, 3, 8, 12), [INNER])
    assert shifts == [
        Shift((A,), chicago(2026, 3, 7, 12), chicago(2026, 3, 7, 19)),
        Shift((X,), chicago(2026, 3, 7, 19), chicago(2026, 3, 7, 22)),
        Shift((Y,), chicago(2026, 3, 7, 22), chicago(2026, 3, 8, 1)),
        Shift((X,), chicago(2026, 3, 8, 1), chicago(2026, 3, 8, 7)),
        Shift((X,), chicago(2026, 3, 8, 7), chicago(2026, 3, 8, 9)),
        Shift((B,), chicago(2026, 3, 8, 9), chicago(2026, 3, 8, 12)),
    ]


def test_overrides_reaching_past_the_window_are_clipped() -> None:
    shifts = shifts_between(WITH_NIGHT, chicago(2026, 3, 7, 20), chicago(2026, 3, 8, 8))
    assert shifts == [
        Shift((X,), chicago(2026, 3, 7, 20), chicago(2026, 3, 8, 7)),
        Shift((X,), chicago(2026, 3, 8, 7), chicago(2026, 3, 8, 8)),
    ]


def test_overrides_outside_the_window_change_nothing() -> None:
    window = (chicago(2026, 3, 9), chicago(2026, 3, 10))
    assert shifts_between(WITH_NIGHT, *window) == shifts_between(DAILY, *window)


@pytest.mark.parametrize(
    ("start", "end"),
    [(utc(2026, 3, 1), utc(2026, 3, 1)), (utc(2026, 3, 2), utc(2026, 3, 1))],
)
def test_override_must_end_after_it_starts(start: datetime, end: datetime) -> None:
    with pytest.raises(ValueError, match="after its start"):
        Override(X, start, end)


def test_override_must_be_utc() -> None:
    with pytest.raises(ValueError, match="UTC"):
        Override(X, datetime(2026, 3, 1, tzinfo=CHICAGO), utc(2026, 3, 2))


# --- current and next --------------------------------------------------------------------


def test_current_and_next_in_a_rotation() -> None:
    current, following = current_and_next(DAILY, chicago(2026, 3, 7, 12))
    assert current == Shift((A,), chicago(2026, 3, 7, 7), utc(2026, 3, 8, 12))
    assert following == Shift((B,), utc(2026, 3, 8, 12), utc(2026, 3, 9, 12))


def test_current_and_next_joins_back_to_back_shifts_of_one_person() -> None:
    schedule = rotation_schedule(RotationPeriod.DAILY, users=(A, A, B))
    current, following = current_and_next(schedule, chicago(2026, 3, 1, 12))
    assert current == Shift((A,), chicago(2026, 3, 1, 7), chicago(2026, 3, 3, 7))
    assert following == Shift((B,), chicago(2026, 3, 3, 7), chicago(2026, 3, 4, 7))


def test_current_and_next_during_an_override() -> None:
    current, following = current_and_next(WITH_NIGHT, chicago(2026, 3, 7, 23), [INNER])
    assert current == Shift((Y,), chicago(2026, 3, 7, 22), chicago(2026, 3, 8, 1))
    assert following == Shift((X,), chicago(2026, 3, 8, 1), chicago(2026, 3, 8, 9))


def test_current_and_next_when_the_override_is_next() -> None:
    current, following = current_and_next(WITH_NIGHT, chicago(2026, 3, 7, 12))
    assert current == Shift((A,), chicago(2026, 3, 7, 7), chicago(2026, 3, 7, 19))
    assert following == Shift((X,), chicago(2026, 3, 7, 19), chicago(2026, 3, 8, 9))


def test_current_and_next_with_nobody_else_within_the_horizon() -> None:
    at = utc(2026, 6, 1)
    current, following = current_and_next(rotation_schedule(RotationPeriod.DAILY, users=(X,)), at)
    assert current.users == (X,)
    assert (current.start, current.end) == (
        at - CURRENT_AND_NEXT_HORIZON,
        at + CURRENT_AND_NEXT_HORIZON,
    )
    assert following == Shift((X,), current.end, current.end)


# --- iCalendar -------------------------------------------------------------------------

ICS_HEAD = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//wso tests//EN\r\n"
ICS_TAIL = "END:VCALENDAR\r\n"


def vevent(uid: str, *lines: str) -> str:
    body = "".join(f"{line}\r\n" for line in lines)
    return f"BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20260101T000000Z\r\n{body}END:VEVENT\r\n"


def ics(*events: str) -> bytes:
    return (ICS_HEAD + "".join(events) + ICS_TAIL).encode()


# Alice: Mondays 07:00 Chicago time to Tuesday 07:00, except 2026-03-16.
ALICE_WEEKLY = vevent(
    "alice-weekly",
    "SUMMARY:U0ALICE",
    "DTSTART;TZID=America/Chicago:20260302T070000",
    "DTEND;TZID=America/Chicago:20260303T070000",
    "RRULE:FREQ=WEEKLY;BYDAY=MO",
    "EXDATE;TZID=America/Chicago:20260316T070000",
)
# Bob by email: all day Tuesday and Wednesday 2026-03-10/11 (whole Chicago days).
BOB_ALL_DAY = vevent(
    "bob-all-day",
    "SUMMARY:bob@example.org",
    "DTSTART;VALUE=DATE:20260310",
    "DTEND;VALUE=DATE:20260312",
)
# Carol: two hours in New York time, inside Alice's shift of 2026-03-09.
CAROL_NEW_YORK = vevent(
    "carol-ny",
    "SUMMARY:U0CAROL",
    "DTSTART;TZID=America/New_York:20260309T140000",
    "DTEND;TZID=America/New_York:20260309T160000",
)


def ical_schedule(
    data: bytes, overrides: tuple[Override, ...] = (), zone: str = "America/Chicago"
) -> Schedule:
    calendar = parse_ical(data, "ice-duty.ics", ZoneInfo(zone))
    return Schedule(id="ice-duty", timezone_name=zone, ical=calendar, overrides=overrides)


ICE_DUTY = ical_schedule(ics(ALICE_WEEKLY, BOB_ALL_DAY, CAROL_NEW_YORK))

ICAL_CASES = [
    ("before the first occurrence (CST)", utc(2026, 3, 2, 12, 59), ()),
    ("first occurrence, 07:00 CST", utc(2026, 3, 2, 13), ("U0ALICE",)),
    ("first occurrence ends", utc(2026, 3, 3, 13), ()),
    ("second occurrence, 07:00 CDT", utc(2026, 3, 9, 12), ("U0ALICE",)),
    ("a second before it", utc(2026, 3, 9, 11, 59, 59), ()),
    ("Carol joins (New York 14:00 EDT)", utc(2026, 3, 9, 18), ("U0ALICE", "U0CAROL")),
    ("Carol left", utc(2026, 3, 9, 20), ("U0ALICE",)),
    ("Bob's all-day from local midnight", utc(2026, 3, 10, 5), ("U0ALICE", "bob@example.org")),
    ("before local midnight", utc(2026, 3, 10, 4, 59), ("U0ALICE",)),
    ("Bob alone", utc(2026, 3, 11, 12), ("bob@example.org",)),
    ("Bob's last second", utc(2026, 3, 12, 4, 59, 59), ("bob@example.org",)),
    ("Bob's days end at local midnight", utc(2026, 3, 12, 5), ()),
    ("EXDATE removes 2026-03-16", utc(2026, 3, 16, 12), ()),
    ("series resumes", utc(2026, 3, 23, 12), ("U0ALICE",)),
    ("autumn: last CDT occurrence", utc(2026, 10, 26, 12), ("U0ALICE",)),
    ("autumn: first CST occurrence, early", utc(2026, 11, 2, 12, 30), ()),
    ("autumn: first CST occurrence", utc(2026, 11, 2, 13), ("U0ALICE",)),
]


@pytest.mark.parametrize(
    ("at", "expected"),
    [case[1:] for case in ICAL_CASES],
    ids=[case[0] for case in ICAL_CASES],
)
def test_ical_on_call(at: datetime, expected: tuple[str, ...]) -> None:
    assert on_call(ICE_DUTY, at) == expected
    assert shift_at(ICE_DUTY, at).users == expected


def test_ical_shifts_between() -> None:
    shifts = shifts_between(ICE_DUTY, utc(2026, 3, 9), utc(2026, 3, 13))
    alice, carol, bob = "U0ALICE", "U0CAROL", "bob@example.org"
    assert shifts == [
        Shift((), utc(2026, 3, 9), utc(2026, 3, 9, 12)),
        Shift((alice,), utc(2026, 3, 9, 12), utc(2026, 3, 9, 18)),
        Shift((alice, carol), utc(2026, 3, 9, 18), utc(2026, 3, 9, 20)),
        Shift((alice,), utc(2026, 3, 9, 20), utc(2026, 3, 10, 5)),
        Shift((alice, bob), utc(2026, 3, 10, 5), utc(2026, 3, 10, 12)),
        Shift((bob,), utc(2026, 3, 10, 12), utc(2026, 3, 12, 5)),
        Shift((), utc(2026, 3, 12, 5), utc(2026, 3, 13)),
    ]


def test_ical_coverage_gaps_are_exact() -> None:
    assert coverage_gaps(ICE_DUTY, utc(2026, 3, 9), utc(2026, 3, 24)) == [
        (utc(2026, 3, 9), utc(2026, 3, 9, 12)),
        (utc(2026, 3, 12, 5), utc(2026, 3, 23, 12)),  # no shift on 2026-03-16 (EXDATE)
    ]


def test_no_gaps_in_a_rotation() -> None:
    assert coverage_gaps(WEEKLY, utc(2026, 1, 1), utc(2027, 1, 1)) == []


def test_override_fills_an_ical_gap() -> None:
    fill = Override(X, utc(2026, 3, 12), utc(2026, 3, 16, 13))
    assert on_call(ICE_DUTY, utc(2026, 3, 14), [fill]) == (X,)
    assert on_call(ICE_DUTY, utc(2026, 3, 11), [fill]) == ("bob@example.org",)
    assert on_call(ICE_DUTY, utc(2026, 3, 12, 1), [fill]) == (X,)  # replaces Bob, too
    assert coverage_gaps(ICE_DUTY, utc(2026, 3, 9), utc(2026, 3, 24), [fill]) == [
        (utc(2026, 3, 9), utc(2026, 3, 9, 12)),
        (utc(2026, 3, 16, 13), utc(2026, 3, 23, 12)),
    ]


def test_current_and_next_in_an_ical_gap() -> None:
    current, following = current_and_next(ICE_DUTY, utc(2026, 3, 14))
    assert current == Shift((), utc(2026, 3, 12, 5), utc(2026, 3, 23, 12))
    assert following == Shift(("U0ALICE",), utc(2026, 3, 23, 12), utc(2026, 3, 24, 12))


def test_current_and_next_in_an_ical_shift() -> None:
    current, following = current_and_next(ICE_DUTY, utc(2026, 3, 9, 19))
    assert current == Shift(("U0ALICE", "U0CAROL"), utc(2026, 3, 9, 18), utc(2026, 3, 9, 20))
    assert following == Shift(("U0ALICE",), utc(2026, 3, 9, 20), utc(2026, 3, 10, 5))


def test_ical_moved_and_cancelled_occurrences() -> None:
    moved = vevent(
        "alice-weekly",
        "SUMMARY:U0DAVE",
        "RECURRENCE-ID;TZID=America/Chicago:20260323T070000",
        "DTSTART;TZID=America/Chicago:20260323T090000",
        "DTEND;TZID=America/Chicago:20260324T070000",
    )
    cancelled = vevent(
        "alice-weekly",
        "SUMMARY:U0ALICE",
        "RECURRENCE-ID;TZID=America/Chicago:20260330T070000",
        "DTSTART;TZID=America/Chicago:20260330T070000",
        "DTEND;TZID=America/Chicago:20260331T070000",
        "STATUS:CANCELLED",
    )
    schedule = ical_schedule(ics(ALICE_WEEKLY, moved, cancelled))
    assert on_call(schedule, chicago(2026, 3, 23, 8)) == ()
    assert on_call(schedule, chicago(2026, 3, 23, 9)) == ("U0DAVE",)
    assert on_call(schedule, chicago(2026, 3, 30, 12)) == ()
    assert on_call(schedule, chicago(2026, 4, 6, 12)) == ("U0ALICE",)


@pytest.mark.parametrize(
    ("zone", "at", "expected"),
    [
        # Floating times (no TZID, no Z) are wall-clock times in the schedule's zone.
        ("America/Chicago", utc(2026, 3, 20, 13, 59), ()),
        ("America/Chicago", utc(2026, 3, 20, 14), ("W0FLOAT",)),
        ("America/Chicago", utc(2026, 3, 20, 15, 59), ("W0FLOAT",)),
        ("America/Chicago", utc(2026, 3, 20, 16), ()),
        ("Pacific/Honolulu", utc(2026, 3, 20, 19), ("W0FLOAT",)),
        ("Pacific/Honolulu", utc(2026, 3, 20, 14), ()),
    ],
)
def test_ical_floating_time_with_duration(
    zone: str, at: datetime, expected: tuple[str, ...]
) -> None:
    floating = vevent("f", "SUMMARY:W0FLOAT", "DTSTART:20260320T090000", "DURATION:PT2H")
    assert on_call(ical_schedule(ics(floating), zone=zone), at) == expected


def test_ical_all_day_without_end_is_one_local_day() -> None:
    day = vevent("d", "SUMMARY:U0DAY", "DTSTART;VALUE=DATE:20261101")
    schedule = ical_schedule(ics(day))
    # 2026-11-01 is 25 hours long in Chicago: midnight CDT to midnight CST.
    assert coverage_gaps(schedule, utc(2026, 10, 31), utc(2026, 11, 3)) == [
        (utc(2026, 10, 31), utc(2026, 11, 1, 5)),
        (utc(2026, 11, 2, 6), utc(2026, 11, 3)),
    ]


def test_ical_instant_event_covers_nobody() -> None:
    instant = vevent("i", "SUMMARY:U0NOW", "DTSTART:20260320T090000Z")
    schedule = ical_schedule(ics(instant))
    assert on_call(schedule, utc(2026, 3, 20, 9)) == ()
    assert shifts_between(schedule, utc(2026, 3, 20), utc(2026, 3, 21)) == [
        Shift((), utc(2026, 3, 20), utc(2026, 3, 21))
    ]


def test_everyone_on_call_is_listed_in_summary_order() -> None:
    zed = vevent("z", "SUMMARY:W0ZED", "DTSTART:20260309T150000Z", "DTEND:20260309T170000Z")
    mail = vevent("m", "SUMMARY:ann@example.org", "DTSTART:20260309T000000Z", "DURATION:P1D")
    schedule = ical_schedule(ics(zed, mail, ALICE_WEEKLY))
    expected = ("U0ALICE", "W0ZED", "ann@example.org")
    assert on_call(schedule, utc(2026, 3, 9, 16)) == expected
    assert shift_at(schedule, utc(2026, 3, 9, 16)).users == expected


def test_same_person_twice_is_listed_once() -> None:
    again = vevent(
        "again",
        "SUMMARY:U0ALICE",
        "DTSTART:20260309T150000Z",
        "DTEND:20260309T170000Z",
    )
    assert on_call(ical_schedule(ics(ALICE_WEEKLY, again)), utc(2026, 3, 9, 16)) == ("U0ALICE",)


MINIMAL_CONFIG = (
    COUNTY_JAIL_TOML
    + """
[[schedule]]
id = "ice-duty"
ical = "oncall/ice-duty.ics"
timezone = "America/Chicago"
"""
)


def test_ical_file_is_read_once_at_config_load(tmp_path: Path) -> None:
    (tmp_path / "oncall").mkdir()
    ics_file = tmp_path / "oncall" / "ice-duty.ics"
    ics_file.write_bytes(ics(ALICE_WEEKLY, BOB_ALL_DAY, CAROL_NEW_YORK))
    (tmp_path / "wso.toml").write_text(MINIMAL_CONFIG, encoding="utf-8")
    schedule = load_config(tmp_path / "wso.toml").schedule("ice-duty")
    ics_file.unlink()
    assert schedule == ICE_DUTY
    assert schedule.ical is not None
    assert schedule.ical.source == str(ics_file)
    for _, at, expected in ICAL_CASES:
        assert on_call(schedule, at) == expected


def test_equal_calendars_compare_equal() -> None:
    data = ics(ALICE_WEEKLY)
    first, second = parse_ical(data, "a.ics", CHICAGO), parse_ical(data, "b.ics", CHICAGO)
    assert first == second
    assert hash(first) == hash(second)
    assert first != parse_ical(ics(BOB_ALL_DAY), "a.ics", CHICAGO)


ICAL_ERRORS = [
    ("not a calendar", b"hello\r\n", "not an iCalendar file"),
    ("no events", ics(), "has no events"),
    (
        "summary is a name",
        ics(vevent("n", "SUMMARY:Alice Smith", "DTSTART:20260301T000000Z")),
        'event 1 (UID n): SUMMARY "Alice Smith" must be a Slack member ID',
    ),
    (
        "no summary",
        ics(ALICE_WEEKLY, vevent("n", "DTSTART:20260301T000000Z")),
        'event 2 (UID n): SUMMARY ""',
    ),
    ("no start", ics(vevent("n", "SUMMARY:U0A")), "event 1 (UID n): has no DTSTART"),
    ("bad start", ics(vevent("n", "SUMMARY:U0A", "DTSTART:soon")), "bad DTSTART"),
    (
        "unknown TZID",
        ics(vevent("n", "SUMMARY:U0A", "DTSTART;TZID=Mars/Olympus:20260301T070000")),
        "unknown time zone TZID=Mars/Olympus",
    ),
    (
        "ends before it starts",
        ics(vevent("n", "SUMMARY:U0A", "DTSTART:20260302T070000Z", "DTEND:20260301T070000Z")),
        "ends before it starts",
    ),
    (
        "a bare event",
        vevent("n", "SUMMARY:U0A", "DTSTART:20260302T070000Z").encode(),
        "holds a VEVENT",
    ),
    (
        "DTEND and DURATION",
        ics(
            vevent(
                "n",
                "SUMMARY:U0A",
                "DTSTART:20260302T070000Z",
                "DTEND:20260302T080000Z",
                "DURATION:PT1H",
            )
        ),
        "event 1 (UID n): Only one of DTEND and DURATION",
    ),
    (
        "not Gregorian",
        ics(vevent("n", "SUMMARY:U0A", "DTSTART:20260302T070000Z")).replace(
            b"VERSION:2.0", b"VERSION:2.0\r\nCALSCALE:HEBREW"
        ),
        "cannot expand its recurrences",
    ),
    (
        "bad rule",
        ics(vevent("n", "SUMMARY:U0A", "DTSTART:20260302T070000Z", "RRULE:FREQ=SOMETIMES")),
        "bad RRULE",
    ),
]


@pytest.mark.parametrize(
    ("data", "message"),
    [case[1:] for case in ICAL_ERRORS],
    ids=[case[0] for case in ICAL_ERRORS],
)
def test_bad_ical_files_are_refused(data: bytes, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_ical(data, "bad.ics", CHICAGO)
    assert message in str(caught.value)


# --- value objects -----------------------------------------------------------------------


def test_schedule_needs_exactly_one_source() -> None:
    rotation = Rotation(RotationPeriod.DAILY, time(7), (A,))
    with pytest.raises(ValueError, match="exactly one"):
        Schedule(id="s", timezone_name="America/Chicago")
    with pytest.raises(ValueError, match="exactly one"):
        Schedule("s", "America/Chicago", rotation=rotation, ical=ICE_DUTY.ical)


def test_rotation_needs_users() -> None:
    with pytest.raises(ValueError, match="at least one user"):
        Rotation(RotationPeriod.WEEKLY, time(7), ())


def test_rotation_periods() -> None:
    assert (RotationPeriod.DAILY.days, RotationPeriod.WEEKLY.days) == (1, 7)
    assert RotationPeriod("weekly") is RotationPeriod.WEEKLY


def test_shift_gap_flag() -> None:
    assert Shift((), utc(2026, 1, 1), utc(2026, 1, 2)).is_gap
    assert not Shift((A,), utc(2026, 1, 1), utc(2026, 1, 2)).is_gap
    with pytest.raises(ValueError, match="before its start"):
        Shift((A,), utc(2026, 1, 2), utc(2026, 1, 1))
