"""Table tests for local wall-clock times on the UTC time line (``bot.core.local_time``).

2026 changes used here:
- United States: forward on 03-08 at 02:00, back on 11-01 at 02:00 (Phoenix and
  Honolulu do not change);
- Europe/London: forward on 03-29 at 01:00 GMT, back on 10-25 at 02:00 BST;
- Australia/Sydney (southern hemisphere): back on 04-05 at 03:00, forward on 10-04 at 02:00;
- Australia/Lord_Howe (a 30-minute change): back on 04-05 at 02:00 to 01:30, forward on
  10-04 at 02:00 to 02:30.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from bot.core.local_time import (
    AmbiguousLocalTime,
    LocalTimeError,
    SkippedLocalTime,
    to_utc,
    when_reached,
)

CHICAGO = ZoneInfo("America/Chicago")
NEW_YORK = ZoneInfo("America/New_York")
PHOENIX = ZoneInfo("America/Phoenix")
HONOLULU = ZoneInfo("Pacific/Honolulu")
LONDON = ZoneInfo("Europe/London")
SYDNEY = ZoneInfo("Australia/Sydney")
LORD_HOWE = ZoneInfo("Australia/Lord_Howe")
UTC_ZONE = ZoneInfo("UTC")


def utc(month: int, day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, second, tzinfo=UTC)


def wall(month: int, day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, second)


def hours(amount: float) -> timedelta:
    return timedelta(hours=amount)


# (zone, wall time, the one instant it names)
EXACT = [
    pytest.param(
        CHICAGO, wall(11, 1, 0, 59, 59), utc(11, 1, 5, 59, 59), id="chicago-before-repeat"
    ),
    pytest.param(CHICAGO, wall(11, 1, 2), utc(11, 1, 8), id="chicago-after-repeat"),
    pytest.param(CHICAGO, wall(3, 8, 1, 59, 59), utc(3, 8, 7, 59, 59), id="chicago-before-gap"),
    pytest.param(CHICAGO, wall(3, 8, 3), utc(3, 8, 8), id="chicago-after-gap"),
    pytest.param(CHICAGO, wall(7, 4, 12), utc(7, 4, 17), id="chicago-summer"),
    pytest.param(CHICAGO, wall(1, 15, 12), utc(1, 15, 18), id="chicago-winter"),
    pytest.param(NEW_YORK, wall(11, 1, 0, 59), utc(11, 1, 4, 59), id="new-york-before-repeat"),
    pytest.param(NEW_YORK, wall(11, 1, 2), utc(11, 1, 7), id="new-york-after-repeat"),
    pytest.param(NEW_YORK, wall(3, 8, 1, 59), utc(3, 8, 6, 59), id="new-york-before-gap"),
    pytest.param(NEW_YORK, wall(3, 8, 3), utc(3, 8, 7), id="new-york-after-gap"),
    pytest.param(PHOENIX, wall(3, 8, 2, 30), utc(3, 8, 9, 30), id="phoenix-us-gap-night"),
    pytest.param(PHOENIX, wall(11, 1, 1, 30), utc(11, 1, 8, 30), id="phoenix-us-repeat-night"),
    pytest.param(HONOLULU, wall(3, 8, 2, 30), utc(3, 8, 12, 30), id="honolulu-us-gap-night"),
    pytest.param(HONOLULU, wall(11, 1, 1, 30), utc(11, 1, 11, 30), id="honolulu-us-repeat-night"),
    pytest.param(LONDON, wall(3, 29, 0, 59), utc(3, 29, 0, 59), id="london-before-gap"),
    pytest.param(LONDON, wall(3, 29, 2), utc(3, 29, 1), id="london-after-gap"),
    pytest.param(LONDON, wall(10, 25, 0, 59), utc(10, 24, 23, 59), id="london-before-repeat"),
    pytest.param(LONDON, wall(10, 25, 2), utc(10, 25, 2), id="london-after-repeat"),
    pytest.param(SYDNEY, wall(4, 5, 1, 59), utc(4, 4, 14, 59), id="sydney-before-repeat"),
    pytest.param(SYDNEY, wall(4, 5, 3), utc(4, 4, 17), id="sydney-after-repeat"),
    pytest.param(SYDNEY, wall(10, 4, 1, 59), utc(10, 3, 15, 59), id="sydney-before-gap"),
    pytest.param(SYDNEY, wall(10, 4, 3), utc(10, 3, 16), id="sydney-after-gap"),
    pytest.param(LORD_HOWE, wall(4, 5, 1, 29), utc(4, 4, 14, 29), id="lord-howe-before-repeat"),
    pytest.param(LORD_HOWE, wall(4, 5, 2), utc(4, 4, 15, 30), id="lord-howe-after-repeat"),
    pytest.param(LORD_HOWE, wall(10, 4, 1, 59), utc(10, 3, 15, 29), id="lord-howe-before-gap"),
    pytest.param(LORD_HOWE, wall(10, 4, 2, 30), utc(10, 3, 15, 30), id="lord-howe-after-gap"),
    pytest.param(UTC_ZONE, wall(3, 8, 2, 30), utc(3, 8, 2, 30), id="utc-us-gap-night"),
    pytest.param(UTC_ZONE, wall(10, 25, 1, 30), utc(10, 25, 1, 30), id="utc-london-repeat-night"),
    pytest.param(UTC, wall(11, 1, 1, 30), utc(11, 1, 1, 30), id="datetime-utc"),
    pytest.param(
        timezone(hours(-6)), wall(3, 8, 2, 30), utc(3, 8, 8, 30), id="fixed-offset-never-changes"
    ),
]

# (zone, wall time, its first instant, its second instant)
REPEATED = [
    pytest.param(CHICAGO, wall(11, 1, 1), utc(11, 1, 6), utc(11, 1, 7), id="chicago-start"),
    pytest.param(
        CHICAGO,
        wall(11, 1, 1, 59, 59),
        utc(11, 1, 6, 59, 59),
        utc(11, 1, 7, 59, 59),
        id="chicago-end",
    ),
    pytest.param(NEW_YORK, wall(11, 1, 1, 30), utc(11, 1, 5, 30), utc(11, 1, 6, 30), id="new-york"),
    pytest.param(LONDON, wall(10, 25, 1, 30), utc(10, 25, 0, 30), utc(10, 25, 1, 30), id="london"),
    pytest.param(SYDNEY, wall(4, 5, 2), utc(4, 4, 15), utc(4, 4, 16), id="sydney-start"),
    pytest.param(SYDNEY, wall(4, 5, 2, 59), utc(4, 4, 15, 59), utc(4, 4, 16, 59), id="sydney-end"),
    pytest.param(LORD_HOWE, wall(4, 5, 1, 30), utc(4, 4, 14, 30), utc(4, 4, 15), id="lord-howe"),
    pytest.param(
        LORD_HOWE, wall(4, 5, 1, 59), utc(4, 4, 14, 59), utc(4, 4, 15, 29), id="lord-howe-end"
    ),
]

# (zone, wall time, first wall time skipped, wall time jumped to, instant of the jump)
SKIPPED = [
    pytest.param(
        CHICAGO, wall(3, 8, 2), wall(3, 8, 2), wall(3, 8, 3), utc(3, 8, 8), id="chicago-start"
    ),
    pytest.param(
        CHICAGO, wall(3, 8, 2, 30), wall(3, 8, 2), wall(3, 8, 3), utc(3, 8, 8), id="chicago-middle"
    ),
    pytest.param(
        CHICAGO, wall(3, 8, 2, 59, 59), wall(3, 8, 2), wall(3, 8, 3), utc(3, 8, 8), id="chicago-end"
    ),
    pytest.param(
        NEW_YORK, wall(3, 8, 2, 30), wall(3, 8, 2), wall(3, 8, 3), utc(3, 8, 7), id="new-york"
    ),
    pytest.param(
        LONDON, wall(3, 29, 1, 30), wall(3, 29, 1), wall(3, 29, 2), utc(3, 29, 1), id="london"
    ),
    pytest.param(
        SYDNEY, wall(10, 4, 2, 30), wall(10, 4, 2), wall(10, 4, 3), utc(10, 3, 16), id="sydney"
    ),
    pytest.param(
        LORD_HOWE,
        wall(10, 4, 2, 15),
        wall(10, 4, 2),
        wall(10, 4, 2, 30),
        utc(10, 3, 15, 30),
        id="lord-howe",
    ),
]


@pytest.mark.parametrize(("zone", "local", "instant"), EXACT)
def test_a_time_that_happens_once_is_its_instant(
    zone: ZoneInfo, local: datetime, instant: datetime
) -> None:
    assert to_utc(local, zone) == instant
    assert to_utc(local, zone).tzinfo is UTC
    assert when_reached(local, zone) == instant


@pytest.mark.parametrize(("zone", "local", "first", "second"), REPEATED)
def test_a_time_that_happens_twice_is_refused_with_both_readings(
    zone: ZoneInfo, local: datetime, first: datetime, second: datetime
) -> None:
    with pytest.raises(AmbiguousLocalTime) as refused:
        to_utc(local, zone)
    error = refused.value
    assert (error.wall, error.zone) == (local, zone)
    # Compared in UTC: PEP 495 makes a repeated local time unequal to any other zone's.
    assert (error.earlier.astimezone(UTC), error.later.astimezone(UTC)) == (first, second)
    assert error.earlier.replace(tzinfo=None) == local
    assert error.later.replace(tzinfo=None) == local
    assert error.offsets == (error.earlier.utcoffset(), error.later.utcoffset())
    assert error.offsets[0] - error.offsets[1] == second - first


@pytest.mark.parametrize(("zone", "local", "gap_start", "gap_end", "transition"), SKIPPED)
def test_a_skipped_time_is_refused_with_its_gap(
    zone: ZoneInfo, local: datetime, gap_start: datetime, gap_end: datetime, transition: datetime
) -> None:
    with pytest.raises(SkippedLocalTime) as refused:
        to_utc(local, zone)
    error = refused.value
    assert (error.wall, error.zone) == (local, zone)
    assert (error.gap_start, error.gap_end, error.transition) == (gap_start, gap_end, transition)
    offset_before, offset_after = error.offsets
    assert offset_after - offset_before == gap_end - gap_start
    assert error.earlier.replace(tzinfo=None) == local
    assert error.earlier.utcoffset() == offset_before
    assert error.later.utcoffset() == offset_after


@pytest.mark.parametrize(("zone", "local", "first", "second"), REPEATED)
def test_when_reached_takes_the_first_of_a_repeated_time(
    zone: ZoneInfo, local: datetime, first: datetime, second: datetime
) -> None:
    assert when_reached(local, zone) == first


@pytest.mark.parametrize(("zone", "local", "gap_start", "gap_end", "transition"), SKIPPED)
def test_when_reached_takes_the_end_of_the_gap_for_a_skipped_time(
    zone: ZoneInfo, local: datetime, gap_start: datetime, gap_end: datetime, transition: datetime
) -> None:
    assert when_reached(local, zone) == transition
    assert when_reached(local, zone).astimezone(zone).replace(tzinfo=None) == gap_end


@pytest.mark.parametrize(
    ("zone", "day"),
    [
        (CHICAGO, wall(3, 8, 0)),
        (CHICAGO, wall(11, 1, 0)),
        (LONDON, wall(3, 29, 0)),
        (LONDON, wall(10, 25, 0)),
        (SYDNEY, wall(4, 5, 0)),
        (SYDNEY, wall(10, 4, 0)),
        (LORD_HOWE, wall(4, 5, 0)),
        (LORD_HOWE, wall(10, 4, 0)),
    ],
    ids=str,
)
def test_every_minute_of_a_change_day_is_placed_or_refused_consistently(
    zone: ZoneInfo, day: datetime
) -> None:
    """Each wall time round-trips, or is refused with readings that show the same digits."""
    refused: set[type[LocalTimeError]] = set()
    for minute in range(24 * 60):
        local = day + timedelta(minutes=minute)
        try:
            instant = to_utc(local, zone)
        except AmbiguousLocalTime as error:
            refused.add(AmbiguousLocalTime)
            assert error.earlier.astimezone(UTC) < error.later.astimezone(UTC)
            assert when_reached(local, zone).astimezone(zone).replace(tzinfo=None) == local
        except SkippedLocalTime as error:
            refused.add(SkippedLocalTime)
            assert error.gap_start <= local < error.gap_end
        else:
            assert instant.astimezone(zone).replace(tzinfo=None) == local
    assert len(refused) == 1  # a change day repeats or skips, never both


def test_an_aware_wall_time_is_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        to_utc(datetime(2026, 3, 8, 2, 30, tzinfo=UTC), CHICAGO)
