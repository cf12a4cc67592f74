"""``[report]``: when the weekly summary goes out, which week it covers, and bad config."""

from __future__ import annotations

import tomllib
from datetime import UTC, date, datetime, time

import pytest

from bot.config import ConfigError, parse_config
from bot.core.oversight import Period
from bot.core.report_schedule import ReportSchedule, next_report_at, week_before
from tests.conftest import COUNTY_JAIL_TOML

MONDAY_8_CHICAGO = ReportSchedule("C0OVERSIGHT", 0, time(8, 0), "America/Chicago")


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


@pytest.mark.parametrize(
    ("schedule", "now", "expected"),
    [
        # Sat Nov 28 2026 14:00 CST: the coming Monday 08:00 CST is 14:00 UTC.
        pytest.param(MONDAY_8_CHICAGO, utc(2026, 11, 28, 20), utc(2026, 11, 30, 14), id="sat"),
        # Monday 07:59 CST: today at 08:00.
        pytest.param(
            MONDAY_8_CHICAGO, utc(2026, 11, 30, 13, 59), utc(2026, 11, 30, 14), id="mon-before"
        ),
        # Monday 08:00 CST exactly: it is being posted now; the next is a week on.
        pytest.param(MONDAY_8_CHICAGO, utc(2026, 11, 30, 14), utc(2026, 12, 7, 14), id="mon-at"),
        # Sunday Mar 8 2026 is the spring change: Monday 08:00 is CDT, 13:00 UTC.
        pytest.param(MONDAY_8_CHICAGO, utc(2026, 3, 7, 12), utc(2026, 3, 9, 13), id="spring"),
        # Sunday Nov 1 2026 is the autumn change: Monday 08:00 is CST again, 14:00 UTC.
        pytest.param(MONDAY_8_CHICAGO, utc(2026, 10, 31, 12), utc(2026, 11, 2, 14), id="autumn"),
        # Sunday 23:30 in Chicago is already Monday in UTC: the local day counts.
        pytest.param(
            MONDAY_8_CHICAGO, utc(2026, 11, 30, 5, 30), utc(2026, 11, 30, 14), id="local-day"
        ),
        # Phoenix keeps MST all year: Friday 17:00 is 00:00 UTC on Saturday.
        pytest.param(
            ReportSchedule("C0X", 4, time(17, 0), "America/Phoenix"),
            utc(2026, 7, 1),
            utc(2026, 7, 4, 0),
            id="phoenix-friday",
        ),
    ],
)
def test_the_next_posting_moment(
    schedule: ReportSchedule, now: datetime, expected: datetime
) -> None:
    assert next_report_at(schedule, now) == expected


def test_a_monday_post_covers_monday_to_sunday_before_it() -> None:
    assert week_before(MONDAY_8_CHICAGO, utc(2026, 11, 30, 14)) == Period(
        date(2026, 11, 23), date(2026, 11, 29)
    )


def config_with(report: str) -> str:
    return COUNTY_JAIL_TOML + "\n[report]\n" + report


def test_the_report_table_is_read_with_its_defaults() -> None:
    config = parse_config(tomllib.loads(config_with('channel = "C0OVERSIGHT"\n')))
    assert config.report == ReportSchedule("C0OVERSIGHT", 0, time(8, 0), "America/Chicago")
    full = 'channel = "C0X"\nweekday = "Friday"\ntime = "17:30"\ntimezone = "America/Phoenix"\n'
    assert parse_config(tomllib.loads(config_with(full))).report == ReportSchedule(
        "C0X", 4, time(17, 30), "America/Phoenix"
    )
    assert parse_config(tomllib.loads(COUNTY_JAIL_TOML)).report is None


@pytest.mark.parametrize(
    ("report", "key", "said"),
    [
        pytest.param('weekday = "monday"\n', "report.channel", "missing", id="no-channel"),
        pytest.param('channel = "#oversight"\n', "report.channel", "not a channel ID", id="name"),
        pytest.param(
            'channel = "C0X"\nweekday = "mon"\n', "report.weekday", "not a weekday", id="weekday"
        ),
        pytest.param('channel = "C0X"\ntime = "8am"\n', "report.time", "HH:MM", id="time"),
        pytest.param('channel = "C0X"\ntime = "24:00"\n', "report.time", "HH:MM", id="24h"),
        pytest.param(
            'channel = "C0X"\ntimezone = "America/Chicgo"\n',
            "report.timezone",
            "America/Chicago",
            id="zone-typo",
        ),
        pytest.param('channel = "C0X"\nday = "monday"\n', "report", "day", id="unknown-key"),
    ],
)
def test_a_bad_report_table_names_the_key(report: str, key: str, said: str) -> None:
    with pytest.raises(ConfigError) as refused:
        parse_config(tomllib.loads(config_with(report)))
    assert refused.value.key.startswith(key)
    assert said in refused.value.message
