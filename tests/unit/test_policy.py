"""bot.core.policy: the deadline under each counting policy, on each facility's calendar.

The table gives each arrest as the wall time on the facility's clocks, and for each
policy the deadline people there will read (wall time and zone abbreviation) and the
elapsed hours from arrest to deadline. Every row is worked out by hand in its comment.
The holidays are the real ``holidays`` package's (``RegionHolidays``), federal ("US").

How the 8 CFR 287.7(d)-style policy counts (``48h-excluding-weekends-holidays``): only
time on counted local days runs; the clock stops at the local midnight that starts a
Saturday, Sunday or holiday (observed date included) and runs again at the local midnight
that starts the next counted day.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.config.counting_policy import RegionHolidays
from bot.core.model import CountingRule
from bot.core.policy import (
    ELAPSED_48H,
    CountingPolicy,
    PolicyStamp,
    counted_time,
    custody_deadline,
    local_day_start,
    recount,
)
from tests.conftest import custody

CHICAGO, PHOENIX, HONOLULU = "America/Chicago", "America/Phoenix", "Pacific/Honolulu"
EXCLUDING = CountingRule.EXCLUDING_WEEKENDS_HOLIDAYS
FEDERAL = CountingPolicy(EXCLUDING, calendar=RegionHolidays("US"))


def policy(region: str, hours: int = 48) -> CountingPolicy:
    return CountingPolicy(EXCLUDING, hours, RegionHolidays(region))


def case(
    case_id: str,
    zone: str,
    arrest: datetime,
    arrest_abbr: str,
    elapsed: tuple[datetime, str],
    excluding: tuple[datetime, str, int],
) -> object:
    """One row: the arrest, the elapsed-48h deadline, and the excluding one with its hours."""
    return pytest.param(zone, arrest, arrest_abbr, elapsed, excluding, id=f"{case_id}-{zone}")


D = datetime  # wall times on the facility's clocks (naive: the zone is the row's)

POLICY_TABLE = [
    # --- A Thursday-evening arrest: Thu 2026-11-19 18:30 -----------------------------
    # elapsed-48h: Thu 18:30 + 48 h = Sat 11-21 18:30; no DST change in November after the
    # 1st, so the wall time is the same in every zone.
    # excluding: Thu 18:30 -> Fri 00:00 counts 5 h 30 m; Friday counts 24 h (29 h 30 m);
    # Saturday and Sunday do not count; Monday 11-23 from 00:00 needs the last 18 h 30 m:
    # Mon 18:30. From Thu 18:30 to Mon 18:30 is 4 days: 96 elapsed hours.
    case("thursday-evening", CHICAGO, D(2026, 11, 19, 18, 30), "CST",
         (D(2026, 11, 21, 18, 30), "CST"), (D(2026, 11, 23, 18, 30), "CST", 96)),
    case("thursday-evening", PHOENIX, D(2026, 11, 19, 18, 30), "MST",
         (D(2026, 11, 21, 18, 30), "MST"), (D(2026, 11, 23, 18, 30), "MST", 96)),
    case("thursday-evening", HONOLULU, D(2026, 11, 19, 18, 30), "HST",
         (D(2026, 11, 21, 18, 30), "HST"), (D(2026, 11, 23, 18, 30), "HST", 96)),
    # --- Friday before a Monday holiday: Fri 2026-09-04 16:00, Labor Day Mon 09-07 -------
    # elapsed-48h: Fri 16:00 + 48 h = Sun 09-06 16:00 (the holiday changes nothing).
    # excluding: Fri 16:00 -> Sat 00:00 counts 8 h; Saturday, Sunday and Labor Day do not
    # count; Tuesday 09-08 counts 24 h (32 h); Wednesday 09-09 from 00:00 needs 16 h:
    # Wed 16:00. Fri 16:00 to Wed 16:00 is 5 days: 120 elapsed hours.
    case("friday-before-monday-holiday", CHICAGO, D(2026, 9, 4, 16, 0), "CDT",
         (D(2026, 9, 6, 16, 0), "CDT"), (D(2026, 9, 9, 16, 0), "CDT", 120)),
    case("friday-before-monday-holiday", PHOENIX, D(2026, 9, 4, 16, 0), "MST",
         (D(2026, 9, 6, 16, 0), "MST"), (D(2026, 9, 9, 16, 0), "MST", 120)),
    case("friday-before-monday-holiday", HONOLULU, D(2026, 9, 4, 16, 0), "HST",
         (D(2026, 9, 6, 16, 0), "HST"), (D(2026, 9, 9, 16, 0), "HST", 120)),
    # --- A Saturday holiday observed on Friday: Independence Day is Sat 2026-07-04, -----
    # observed Fri 07-03. Arrest Thu 2026-07-02 10:00.
    # elapsed-48h: Thu 10:00 + 48 h = Sat 07-04 10:00.
    # excluding: Thu 10:00 -> Fri 00:00 counts 14 h; Friday (the observed holiday),
    # Saturday and Sunday do not count; Monday 07-06 counts 24 h (38 h); Tuesday 07-07
    # from 00:00 needs 10 h: Tue 10:00. Thu 10:00 to Tue 10:00: 5 days, 120 elapsed hours.
    # (Counting the holiday on its own Saturday only would have ended Mon 07-06 10:00.)
    case("saturday-holiday-observed-friday", CHICAGO, D(2026, 7, 2, 10, 0), "CDT",
         (D(2026, 7, 4, 10, 0), "CDT"), (D(2026, 7, 7, 10, 0), "CDT", 120)),
    case("saturday-holiday-observed-friday", PHOENIX, D(2026, 7, 2, 10, 0), "MST",
         (D(2026, 7, 4, 10, 0), "MST"), (D(2026, 7, 7, 10, 0), "MST", 120)),
    case("saturday-holiday-observed-friday", HONOLULU, D(2026, 7, 2, 10, 0), "HST",
         (D(2026, 7, 4, 10, 0), "HST"), (D(2026, 7, 7, 10, 0), "HST", 120)),
    # --- Spring forward, Sun 2026-03-08 02:00 CST -> 03:00 CDT (Chicago only: Arizona and
    # Hawaii keep standard time all year). Arrest Fri 2026-03-06 12:00.
    # Chicago, elapsed-48h: 12:00 CST is 18:00 UTC; + 48 h = Sun 18:00 UTC = 13:00 CDT (the
    # clocks jumped an hour inside the window; the hours did not).
    # Chicago, excluding: Fri 12:00 -> Sat 00:00 counts 12 h; Saturday and Sunday (the
    # 23-hour day of the change) do not count; Monday 03-09 from 00:00 CDT needs 36 h:
    # Monday 24 h, Tuesday 12 h: Tue 03-10 12:00 CDT. Elapsed: 12 (Fri) + 24 (Sat) + 23 (Sun)
    # + 24 (Mon) + 12 (Tue) = 95 hours.
    # Phoenix, Honolulu: no change. elapsed-48h: Sun 03-08 12:00; excluding: 12 h on Friday,
    # 24 on Monday, 12 on Tuesday: Tue 03-10 12:00; 96 elapsed hours.
    case("spring-dst-change", CHICAGO, D(2026, 3, 6, 12, 0), "CST",
         (D(2026, 3, 8, 13, 0), "CDT"), (D(2026, 3, 10, 12, 0), "CDT", 95)),
    case("spring-dst-change", PHOENIX, D(2026, 3, 6, 12, 0), "MST",
         (D(2026, 3, 8, 12, 0), "MST"), (D(2026, 3, 10, 12, 0), "MST", 96)),
    case("spring-dst-change", HONOLULU, D(2026, 3, 6, 12, 0), "HST",
         (D(2026, 3, 8, 12, 0), "HST"), (D(2026, 3, 10, 12, 0), "HST", 96)),
    # --- Fall back, Sun 2026-11-01 02:00 CDT -> 01:00 CST (Chicago only). Arrest Fri
    # 2026-10-30 12:00.
    # Chicago, elapsed-48h: 12:00 CDT is 17:00 UTC; + 48 h = Sun 17:00 UTC = 11:00 CST.
    # Chicago, excluding: 12 h on Friday; Saturday and Sunday (25 hours) do not count;
    # Monday 11-02 counts 24 h (36 h); Tuesday 11-03 needs 12 h: Tue 12:00 CST (Election Day
    # is no federal holiday). Elapsed: 12 + 24 + 25 + 24 + 12 = 97 hours.
    # Phoenix, Honolulu: elapsed-48h Sun 11-01 12:00; excluding Tue 11-03 12:00, 96 hours.
    case("fall-dst-change", CHICAGO, D(2026, 10, 30, 12, 0), "CDT",
         (D(2026, 11, 1, 11, 0), "CST"), (D(2026, 11, 3, 12, 0), "CST", 97)),
    case("fall-dst-change", PHOENIX, D(2026, 10, 30, 12, 0), "MST",
         (D(2026, 11, 1, 12, 0), "MST"), (D(2026, 11, 3, 12, 0), "MST", 96)),
    case("fall-dst-change", HONOLULU, D(2026, 10, 30, 12, 0), "HST",
         (D(2026, 11, 1, 12, 0), "HST"), (D(2026, 11, 3, 12, 0), "HST", 96)),
    # --- An arrest on an excluded day: Sun 2026-03-08 01:30, just before spring forward.
    # Chicago, elapsed-48h: 01:30 CST is 07:30 UTC; + 48 h = Tue 07:30 UTC = 02:30 CDT.
    # Chicago, excluding: Sunday does not count, so the clock starts at Mon 00:00 CDT;
    # Monday and Tuesday count 24 h each and the window ends as Tuesday does: Wed 03-11
    # 00:00 CDT (the first instant at which 48 hours have counted, not the next Monday).
    # Elapsed: the rest of the 23-hour Sunday (01:30 -> 24:00 is 22 h 30 m on the clock,
    # less the skipped hour: 21 h 30 m) + 48 = 69.5 hours: the row gives whole hours, 69;
    # to the minute below.
    # Phoenix, Honolulu: elapsed-48h Tue 03-10 01:30; excluding Wed 03-11 00:00, 22 h 30 m
    # of Sunday + 48 = 70.5 hours (70).
    case("arrest-on-a-sunday", CHICAGO, D(2026, 3, 8, 1, 30), "CST",
         (D(2026, 3, 10, 2, 30), "CDT"), (D(2026, 3, 11, 0, 0), "CDT", 69)),
    case("arrest-on-a-sunday", PHOENIX, D(2026, 3, 8, 1, 30), "MST",
         (D(2026, 3, 10, 1, 30), "MST"), (D(2026, 3, 11, 0, 0), "MST", 70)),
    case("arrest-on-a-sunday", HONOLULU, D(2026, 3, 8, 1, 30), "HST",
         (D(2026, 3, 10, 1, 30), "HST"), (D(2026, 3, 11, 0, 0), "HST", 70)),
]  # fmt: skip


def utc(zone: str, wall: datetime, abbr: str) -> datetime:
    local = wall.replace(tzinfo=ZoneInfo(zone))
    assert local.tzname() == abbr, f"the row's time {wall} is not {abbr} in {zone}"
    return local.astimezone(UTC)


def read_locally(deadline: datetime, zone: str) -> tuple[datetime, str | None]:
    assert deadline.utcoffset() == timedelta(0)
    local = deadline.astimezone(ZoneInfo(zone))
    return local.replace(tzinfo=None), local.tzname()


@pytest.mark.parametrize(("zone", "arrest", "arrest_abbr", "elapsed", "excluding"), POLICY_TABLE)
def test_each_policy_gives_the_deadline_worked_out_by_hand(
    zone: str,
    arrest: datetime,
    arrest_abbr: str,
    elapsed: tuple[datetime, str],
    excluding: tuple[datetime, str, int],
) -> None:
    arrested_at = utc(zone, arrest, arrest_abbr)

    by_elapsed = custody_deadline(arrested_at, ELAPSED_48H, ZoneInfo(zone))
    by_excluding = custody_deadline(arrested_at, FEDERAL, ZoneInfo(zone))

    assert read_locally(by_elapsed, zone) == elapsed
    assert by_elapsed - arrested_at == timedelta(hours=48)
    wall, abbr, hours = excluding
    assert read_locally(by_excluding, zone) == (wall, abbr)
    assert (by_excluding - arrested_at) // timedelta(hours=1) == hours
    assert counted_time(arrested_at, by_excluding, FEDERAL, ZoneInfo(zone)) == timedelta(hours=48)


def test_an_arrest_on_an_excluded_day_counts_from_the_next_counted_midnight() -> None:
    """The Chicago Sunday row, to the minute: 21 h 30 m of the 23-hour Sunday + 48 h."""
    arrested_at = utc(CHICAGO, D(2026, 3, 8, 1, 30), "CST")
    deadline = custody_deadline(arrested_at, FEDERAL, ZoneInfo(CHICAGO))
    assert deadline - arrested_at == timedelta(hours=69, minutes=30)
    monday = local_day_start(date(2026, 3, 9), ZoneInfo(CHICAGO))
    assert counted_time(arrested_at, monday, FEDERAL, ZoneInfo(CHICAGO)) == timedelta(0)


# --- state calendars, and shorter windows ------------------------------------------------

STATE_TABLE = [
    # Prince Kuhio Day, Thu 2026-03-26, is a Hawaii holiday, not a federal one. Arrest Wed
    # 2026-03-25 20:00 HST.
    # US: Wed 20:00 -> Thu 00:00 counts 4 h; Thursday 24 h (28 h); Friday needs 20 h: Fri
    # 03-27 20:00.
    # US-HI: 4 h on Wednesday; Thursday (Kuhio Day), Saturday and Sunday do not count;
    # Friday 24 h (28 h); Monday 03-30 needs 20 h: Mon 20:00.
    pytest.param(HONOLULU, D(2026, 3, 25, 20, 0), "US", 48, D(2026, 3, 27, 20, 0), id="us"),
    pytest.param(HONOLULU, D(2026, 3, 25, 20, 0), "US-HI", 48, D(2026, 3, 30, 20, 0), id="hi"),
    # Election Day, Tue 2026-11-03, is an Illinois holiday. The fall-back row above
    # (Fri 10-30 12:00 CDT, federal: Tue 11-03 12:00 CST) with US-IL: 12 h on Friday, 24 on
    # Monday; Tuesday does not count; Wednesday 11-04 needs 12 h: Wed 12:00 CST.
    pytest.param(CHICAGO, D(2026, 10, 30, 12, 0), "US-IL", 48, D(2026, 11, 4, 12, 0), id="il"),
    # policy_hours = 24 on the Thursday-evening row: 5 h 30 m on Thursday, then Friday
    # needs 18 h 30 m: Fri 11-20 18:30 (no weekend reached).
    pytest.param(CHICAGO, D(2026, 11, 19, 18, 30), "US", 24, D(2026, 11, 20, 18, 30), id="24h"),
    # policy_hours = 36 on the Friday-before-Labor-Day row: 8 h on Friday, 24 on Tuesday
    # (32 h); Wednesday needs 4 h: Wed 09-09 04:00.
    pytest.param(PHOENIX, D(2026, 9, 4, 16, 0), "US", 36, D(2026, 9, 9, 4, 0), id="36h"),
]  # fmt: skip


@pytest.mark.parametrize(("zone", "arrest", "region", "hours", "expected"), STATE_TABLE)
def test_state_holidays_and_shorter_windows(
    zone: str, arrest: datetime, region: str, hours: int, expected: datetime
) -> None:
    arrested_at = arrest.replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)
    deadline = custody_deadline(arrested_at, policy(region, hours), ZoneInfo(zone))
    assert deadline.astimezone(ZoneInfo(zone)).replace(tzinfo=None) == expected


@pytest.mark.parametrize(
    ("hours", "expected"),
    [(48, D(2026, 11, 21, 18, 30)), (36, D(2026, 11, 21, 6, 30)), (1, D(2026, 11, 19, 19, 30))],
)
def test_a_shorter_elapsed_window_is_that_many_elapsed_hours(
    hours: int, expected: datetime
) -> None:
    arrested_at = D(2026, 11, 19, 18, 30).replace(tzinfo=ZoneInfo(CHICAGO)).astimezone(UTC)
    deadline = custody_deadline(arrested_at, CountingPolicy(hours=hours))
    assert deadline.astimezone(ZoneInfo(CHICAGO)).replace(tzinfo=None) == expected


@pytest.mark.parametrize("hours", [0, -1, 49, 72])
def test_a_window_longer_than_48_hours_or_empty_cannot_be_built(hours: int) -> None:
    with pytest.raises(ValueError, match="1 to 48"):
        CountingPolicy(hours=hours)


def test_the_excluding_policy_needs_a_calendar_and_the_facility_zone() -> None:
    with pytest.raises(ValueError, match="needs a holiday calendar"):
        CountingPolicy(EXCLUDING)
    with pytest.raises(ValueError, match="takes no holiday calendar"):
        CountingPolicy(CountingRule.ELAPSED_48H, calendar=RegionHolidays("US"))
    with pytest.raises(ValueError, match="time zone"):
        custody_deadline(datetime(2026, 11, 19, 12, 0, tzinfo=UTC), FEDERAL)


def test_a_counted_day_is_local_midnight_to_local_midnight() -> None:
    """23 elapsed hours on the spring-forward day, 25 on the fall-back day (Chicago)."""
    zone = ZoneInfo(CHICAGO)

    def length(day: date) -> timedelta:
        return local_day_start(day + timedelta(days=1), zone) - local_day_start(day, zone)

    assert length(date(2026, 3, 8)) == timedelta(hours=23)
    assert length(date(2026, 11, 1)) == timedelta(hours=25)
    assert length(date(2026, 11, 2)) == timedelta(hours=24)
    assert local_day_start(date(2026, 3, 9), zone) == datetime(2026, 3, 9, 5, 0, tzinfo=UTC)


# --- what a custody records ----------------------------------------------------------------


def test_each_policy_has_a_name_version_and_label() -> None:
    assert ELAPSED_48H.stamp == PolicyStamp(CountingRule.ELAPSED_48H, 1, 48, None)
    assert ELAPSED_48H.stamp.label == "elapsed-48h v1"
    assert (
        policy("US-TX", 36).stamp.label
        == "48h-excluding-weekends-holidays v1, holidays US-TX, 36 h"
    )
    assert policy("US-TX") == policy("US-TX") != policy("US")  # compared by region, not object
    assert FEDERAL.holidays_source is not None and FEDERAL.holidays_source.startswith("holidays ")


def test_recount_moves_the_deadline_and_the_stamp_together() -> None:
    thursday = utc(CHICAGO, D(2026, 11, 19, 18, 30), "CST")
    old = custody(thursday)
    assert PolicyStamp.of(old) == ELAPSED_48H.stamp  # stored before policies: elapsed-48h v1

    counted = recount(old, policy("US-IL"), ZoneInfo(CHICAGO))

    assert counted.arrested_at == old.arrested_at
    assert counted.deadline == utc(CHICAGO, D(2026, 11, 23, 18, 30), "CST")
    assert (counted.counting_rule, counted.holiday_region) == (EXCLUDING, "US-IL")
    earlier = recount(old, ELAPSED_48H, ZoneInfo(CHICAGO), thursday - timedelta(hours=2))
    assert earlier.deadline == thursday + timedelta(hours=46)


# --- any arrest ----------------------------------------------------------------------------

ZONES = st.sampled_from([CHICAGO, PHOENIX, HONOLULU, "America/New_York"])
ARRESTS = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2028, 12, 31), timezones=st.just(UTC)
)


@settings(max_examples=300, deadline=None)
@given(arrested_at=ARRESTS, zone_name=ZONES, hours=st.integers(1, 48))
def test_the_deadline_is_the_first_instant_the_window_has_counted(
    arrested_at: datetime, zone_name: str, hours: int
) -> None:
    zone, counting = ZoneInfo(zone_name), policy("US", hours)
    window = timedelta(hours=hours)

    deadline = custody_deadline(arrested_at, counting, zone)

    assert counted_time(arrested_at, deadline, counting, zone) == window
    assert counted_time(arrested_at, deadline - timedelta(microseconds=1), counting, zone) < window
    assert deadline - arrested_at >= window
    assert custody_deadline(arrested_at, CountingPolicy(hours=hours), zone) - arrested_at == window
