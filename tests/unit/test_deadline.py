"""custody_deadline: 48 ELAPSED hours, counted on UTC instants, whatever the local clock does.

Each case gives the arrest as a local wall time in the facility's zone and the
deadline as the wall time (and zone abbreviation) people there will read.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from bot.core.model import (
    CUSTODY_WINDOW,
    CountingRule,
    Custody,
    Notice,
    NoticeKind,
    require_utc,
)
from bot.core.policy import ELAPSED_48H, PolicyStamp, custody_deadline
from bot.services.clock import FakeClock
from tests.conftest import custody

FORTY_EIGHT_HOURS = timedelta(hours=48)

# (zone, arrest wall time, arrest abbreviation, deadline wall time, deadline abbreviation)
DEADLINE_CASES = [
    # --- America/New_York: spring forward 2026-03-08 02:00 EST -> 03:00 EDT ---------
    pytest.param(
        "America/New_York",
        datetime(2026, 3, 7, 12, 0),
        "EST",
        datetime(2026, 3, 9, 13, 0),
        "EDT",
        id="ny-spring-straddle-noon",
    ),
    pytest.param(
        "America/New_York",
        datetime(2026, 3, 6, 2, 30),
        "EST",
        # 02:30 on 03-08 does not exist; 48 elapsed hours land at 03:30 EDT.
        datetime(2026, 3, 8, 3, 30),
        "EDT",
        id="ny-deadline-falls-in-spring-gap",
    ),
    pytest.param(
        "America/New_York",
        datetime(2026, 3, 8, 1, 59),
        "EST",
        datetime(2026, 3, 10, 2, 59),
        "EDT",
        id="ny-arrest-one-minute-before-spring-forward",
    ),
    pytest.param(
        "America/New_York",
        datetime(2026, 3, 8, 3, 0),
        "EDT",
        datetime(2026, 3, 10, 3, 0),
        "EDT",
        id="ny-arrest-just-after-spring-forward",
    ),
    # --- America/New_York: fall back 2026-11-01 02:00 EDT -> 01:00 EST --------------
    pytest.param(
        "America/New_York",
        datetime(2026, 10, 31, 12, 0),
        "EDT",
        datetime(2026, 11, 2, 11, 0),
        "EST",
        id="ny-fall-straddle-noon",
    ),
    pytest.param(
        "America/New_York",
        datetime(2026, 10, 30, 1, 30),
        "EDT",
        # First 01:30 of 11-01 (still EDT): the window does not include the change.
        datetime(2026, 11, 1, 1, 30),
        "EDT",
        id="ny-deadline-first-0130-before-fall-back",
    ),
    pytest.param(
        "America/New_York",
        datetime(2026, 10, 30, 2, 30),
        "EDT",
        # The repeated hour: 48 elapsed hours end at the SECOND 01:30 (EST).
        datetime(2026, 11, 1, 1, 30),
        "EST",
        id="ny-deadline-second-0130-after-fall-back",
    ),
    pytest.param(
        "America/New_York",
        datetime(2026, 7, 15, 9, 0),
        "EDT",
        datetime(2026, 7, 17, 9, 0),
        "EDT",
        id="ny-summer-no-change",
    ),
    # --- America/Chicago -------------------------------------------------------------
    pytest.param(
        "America/Chicago",
        datetime(2026, 3, 7, 12, 0),
        "CST",
        datetime(2026, 3, 9, 13, 0),
        "CDT",
        id="chicago-spring-straddle",
    ),
    pytest.param(
        "America/Chicago",
        datetime(2026, 10, 31, 12, 0),
        "CDT",
        datetime(2026, 11, 2, 11, 0),
        "CST",
        id="chicago-fall-straddle",
    ),
    pytest.param(
        "America/Chicago",
        datetime(2026, 11, 28, 14, 0),
        "CST",
        datetime(2026, 11, 30, 14, 0),
        "CST",
        id="chicago-winter-no-change",
    ),
    pytest.param(
        "America/Chicago",
        datetime(2026, 12, 31, 23, 30),
        "CST",
        datetime(2027, 1, 2, 23, 30),
        "CST",
        id="chicago-across-new-year",
    ),
    # --- America/Phoenix: no DST, so the wall time never moves ---------------------
    pytest.param(
        "America/Phoenix",
        datetime(2026, 3, 7, 12, 0),
        "MST",
        datetime(2026, 3, 9, 12, 0),
        "MST",
        id="phoenix-over-spring-forward-date",
    ),
    pytest.param(
        "America/Phoenix",
        datetime(2026, 10, 31, 12, 0),
        "MST",
        datetime(2026, 11, 2, 12, 0),
        "MST",
        id="phoenix-over-fall-back-date",
    ),
    pytest.param(
        "America/Phoenix",
        datetime(2026, 3, 8, 2, 30),
        "MST",
        datetime(2026, 3, 10, 2, 30),
        "MST",
        id="phoenix-0230-exists-on-spring-date",
    ),
    # --- Pacific/Honolulu: no DST ----------------------------------------------------
    pytest.param(
        "Pacific/Honolulu",
        datetime(2026, 3, 7, 12, 0),
        "HST",
        datetime(2026, 3, 9, 12, 0),
        "HST",
        id="honolulu-over-spring-forward-date",
    ),
    pytest.param(
        "Pacific/Honolulu",
        datetime(2026, 10, 31, 12, 0),
        "HST",
        datetime(2026, 11, 2, 12, 0),
        "HST",
        id="honolulu-over-fall-back-date",
    ),
    pytest.param(
        "Pacific/Honolulu",
        datetime(2026, 2, 27, 18, 0),
        "HST",
        datetime(2026, 3, 1, 18, 0),
        "HST",
        id="honolulu-end-of-february-common-year",
    ),
    pytest.param(
        "Pacific/Honolulu",
        datetime(2028, 2, 28, 10, 0),
        "HST",
        datetime(2028, 3, 1, 10, 0),
        "HST",
        id="honolulu-leap-day-2028",
    ),
]


@pytest.mark.parametrize(
    ("zone_name", "arrest_wall", "arrest_abbr", "deadline_wall", "deadline_abbr"), DEADLINE_CASES
)
def test_deadline_is_48_elapsed_hours_and_reads_right_locally(
    zone_name: str,
    arrest_wall: datetime,
    arrest_abbr: str,
    deadline_wall: datetime,
    deadline_abbr: str,
) -> None:
    zone = ZoneInfo(zone_name)
    arrest_local = arrest_wall.replace(tzinfo=zone)
    assert arrest_local.tzname() == arrest_abbr, "the case's arrest time is mislabelled"
    arrested_at = arrest_local.astimezone(UTC)

    deadline = custody_deadline(arrested_at)

    assert deadline.utcoffset() == timedelta(0)
    assert deadline.timestamp() - arrested_at.timestamp() == 48 * 3600
    assert deadline - arrested_at == FORTY_EIGHT_HOURS
    local = deadline.astimezone(zone)
    assert local.replace(tzinfo=None) == deadline_wall
    assert local.tzname() == deadline_abbr


@pytest.mark.parametrize(
    ("zone_name", "arrest_wall", "wall_clock_deadline_hours"),
    [
        # Adding 48h in the local zone keeps the wall time: one hour too late in spring...
        pytest.param("America/New_York", datetime(2026, 3, 7, 12, 0), 47, id="ny-spring"),
        # ...and one hour too early in autumn.
        pytest.param("America/New_York", datetime(2026, 10, 31, 12, 0), 49, id="ny-fall"),
        pytest.param("America/Chicago", datetime(2026, 3, 7, 12, 0), 47, id="chicago-spring"),
        pytest.param("America/Chicago", datetime(2026, 10, 31, 12, 0), 49, id="chicago-fall"),
    ],
)
def test_local_wall_clock_arithmetic_would_be_wrong(
    zone_name: str, arrest_wall: datetime, wall_clock_deadline_hours: int
) -> None:
    """Guard against 'fixing' the maths into local-zone addition: it is off by an hour."""
    arrest_local = arrest_wall.replace(tzinfo=ZoneInfo(zone_name))
    naive_sum = arrest_local + FORTY_EIGHT_HOURS
    assert naive_sum.timestamp() - arrest_local.timestamp() == wall_clock_deadline_hours * 3600

    deadline = custody_deadline(arrest_local.astimezone(UTC))
    assert deadline != naive_sum
    assert deadline.timestamp() - arrest_local.timestamp() == 48 * 3600


def test_default_rule_is_elapsed_48h_and_window_constant_matches() -> None:
    arrested_at = datetime(2026, 11, 28, 20, 0, tzinfo=UTC)
    assert CUSTODY_WINDOW == FORTY_EIGHT_HOURS
    assert custody_deadline(arrested_at) == custody_deadline(arrested_at, ELAPSED_48H)
    assert ELAPSED_48H.stamp == PolicyStamp(CountingRule.ELAPSED_48H, 1, 48, None)
    assert custody_deadline(arrested_at) == datetime(2026, 11, 30, 20, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "arrested_at",
    [
        pytest.param(datetime(2026, 3, 7, 12, 0), id="naive"),
        pytest.param(
            datetime(2026, 3, 7, 12, 0, tzinfo=ZoneInfo("America/New_York")), id="new-york-zone"
        ),
        pytest.param(
            datetime(2026, 7, 1, 12, 0, tzinfo=ZoneInfo("America/Phoenix")), id="phoenix-zone"
        ),
        pytest.param(
            datetime(2026, 7, 1, 12, 0, tzinfo=timezone(timedelta(hours=-10))),
            id="fixed-offset-minus-10",
        ),
        pytest.param(
            datetime(2026, 7, 1, 12, 0, tzinfo=timezone(timedelta(minutes=1))),
            id="fixed-offset-plus-1-minute",
        ),
    ],
)
def test_deadline_rejects_naive_and_non_utc_arrests(arrested_at: datetime) -> None:
    with pytest.raises(ValueError, match="arrested_at"):
        custody_deadline(arrested_at)


@pytest.mark.parametrize(
    "arrested_at",
    [
        pytest.param(datetime(2026, 3, 7, 17, 0, tzinfo=UTC), id="datetime-UTC"),
        pytest.param(datetime(2026, 3, 7, 17, 0, tzinfo=ZoneInfo("UTC")), id="zoneinfo-UTC"),
        pytest.param(datetime(2026, 3, 7, 17, 0, tzinfo=ZoneInfo("Etc/UTC")), id="etc-UTC"),
        pytest.param(datetime(2026, 3, 7, 17, 0, tzinfo=timezone(timedelta(0))), id="offset-zero"),
    ],
)
def test_deadline_accepts_every_spelling_of_utc(arrested_at: datetime) -> None:
    deadline = custody_deadline(arrested_at)
    assert deadline.astimezone(UTC) == datetime(2026, 3, 9, 17, 0, tzinfo=UTC)


def test_zero_offset_zone_with_dst_is_refused_or_counted_in_elapsed_hours() -> None:
    """Europe/London is at offset 0 in winter, so an offset check lets it through.

    Arrest 2026-03-28 00:30 GMT; British Summer Time starts 2026-03-29 01:00 UTC.
    Either refuse the zone, or the answer must still be 48 elapsed hours later
    (2026-03-30 00:30 UTC), not the same wall time two days on (47 hours).
    """
    arrested_at = datetime(2026, 3, 28, 0, 30, tzinfo=ZoneInfo("Europe/London"))
    try:
        deadline = custody_deadline(arrested_at)
    except ValueError:
        return
    assert deadline.astimezone(UTC) == datetime(2026, 3, 30, 0, 30, tzinfo=UTC)


# --- require_utc and the domain objects' boundary ------------------------------------


@pytest.mark.parametrize(
    ("value", "message"),
    [
        pytest.param(datetime(2026, 1, 1, 12, 0), "timezone-aware", id="naive"),
        pytest.param(
            datetime(2026, 1, 1, 12, 0, tzinfo=ZoneInfo("America/Chicago")),
            "must be in UTC",
            id="chicago",
        ),
        pytest.param(
            datetime(2026, 1, 1, 12, 0, tzinfo=timezone(timedelta(hours=5, minutes=30))),
            "must be in UTC",
            id="plus-0530",
        ),
    ],
)
def test_require_utc_rejects(value: datetime, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        require_utc("when", value)


@pytest.mark.parametrize(
    "value",
    [
        pytest.param(None, id="none-means-not-set"),
        pytest.param(datetime(2026, 1, 1, 12, 0, tzinfo=UTC), id="utc"),
    ],
)
def test_require_utc_accepts(value: datetime | None) -> None:
    assert require_utc("when", value) is None


UTC_NOON = datetime(2026, 11, 28, 18, 0, tzinfo=UTC)
NAIVE_NOON = datetime(2026, 11, 28, 12, 0)
CHICAGO_NOON = datetime(2026, 11, 28, 12, 0, tzinfo=ZoneInfo("America/Chicago"))


def _custody(**overrides: object) -> Custody:
    return custody(UTC_NOON, **overrides)


def _notice(**overrides: object) -> Notice:
    values: dict[str, object] = {
        "id": "n_1",
        "custody_id": "c_1",
        "kind": NoticeKind.REMINDER,
        "channel": "C0JAIL",
        "due_at": UTC_NOON,
    }
    values.update(overrides)
    return Notice(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("build", "field"),
    [
        *((_custody, f) for f in ("arrested_at", "deadline", "logged_at", "closed_at")),
        *((_notice, f) for f in ("due_at", "next_attempt_at", "attempted_at", "sent_at")),
    ],
    ids=lambda value: getattr(value, "__name__", value),
)
@pytest.mark.parametrize(
    "bad", [pytest.param(NAIVE_NOON, id="naive"), pytest.param(CHICAGO_NOON, id="chicago")]
)
def test_custody_and_notice_reject_naive_or_local_datetimes(
    build: Callable[..., object], field: str, bad: datetime
) -> None:
    with pytest.raises(ValueError, match=field):
        build(**{field: bad})


def test_valid_custody_and_notice_construct() -> None:
    custody = _custody(closed_at=None)
    notice = _notice(next_attempt_at=UTC_NOON + timedelta(seconds=5))
    assert custody.is_open
    assert notice.ready_at() == UTC_NOON + timedelta(seconds=5)


@pytest.mark.parametrize(
    ("next_attempt_offset", "expected_offset"),
    [
        pytest.param(None, timedelta(0), id="never-tried-ready-when-due"),
        pytest.param(timedelta(seconds=30), timedelta(seconds=30), id="retry-after-due"),
        pytest.param(timedelta(seconds=-30), timedelta(0), id="retry-before-due-waits-for-due"),
    ],
)
def test_notice_ready_at(next_attempt_offset: timedelta | None, expected_offset: timedelta) -> None:
    next_attempt = None if next_attempt_offset is None else UTC_NOON + next_attempt_offset
    assert _notice(next_attempt_at=next_attempt).ready_at() == UTC_NOON + expected_offset


# --- FakeClock: the tests' time source ------------------------------------------------


def test_fake_clock_moves_only_when_told_and_notifies() -> None:
    clock = FakeClock(UTC_NOON)
    changes: list[datetime] = []
    clock.subscribe(lambda: changes.append(clock.now()))
    assert clock.now() == UTC_NOON
    assert clock.advance(timedelta(hours=48)) == UTC_NOON + FORTY_EIGHT_HOURS
    assert clock.now() == UTC_NOON + FORTY_EIGHT_HOURS
    assert changes == [UTC_NOON + FORTY_EIGHT_HOURS]


@pytest.mark.parametrize(
    "start",
    [pytest.param(NAIVE_NOON, id="naive"), pytest.param(CHICAGO_NOON, id="chicago")],
)
def test_fake_clock_rejects_non_utc(start: datetime) -> None:
    with pytest.raises(ValueError, match="UTC"):
        FakeClock(start)
    clock = FakeClock(UTC_NOON)
    with pytest.raises(ValueError, match="UTC"):
        clock.set(start)
    assert clock.now() == UTC_NOON


def test_fake_clock_refuses_to_go_backwards() -> None:
    clock = FakeClock(UTC_NOON)
    with pytest.raises(ValueError, match="forward"):
        clock.advance(timedelta(seconds=-1))
    assert clock.now() == UTC_NOON
