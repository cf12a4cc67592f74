"""A facility's ``policy``, ``holidays`` and ``policy_hours`` keys, and check-config on them.

Each mistake fails ``wso-bot check-config`` (exit 2) naming the key and the facility,
with a right value to copy.
"""

from __future__ import annotations

import tomllib
from datetime import date
from pathlib import Path

import pytest

from bot.cli import check_config
from bot.config import ConfigError, parse_config
from bot.core.model import CountingRule
from bot.core.policy import ELAPSED_48H, CountingPolicy, PolicyStamp
from tests.conftest import COUNTY_JAIL_TOML

EXCLUDING = 'policy = "48h-excluding-weekends-holidays"\n'


def facility_with(lines: str) -> str:
    return COUNTY_JAIL_TOML + lines


def policy_of(lines: str) -> CountingPolicy:
    return parse_config(tomllib.loads(facility_with(lines))).facilities[0].policy


@pytest.mark.parametrize(
    ("lines", "stamp"),
    [
        pytest.param("", PolicyStamp(), id="default"),
        pytest.param('policy = "elapsed-48h"\n', PolicyStamp(), id="elapsed"),
        pytest.param(
            'policy = "elapsed-48h"\npolicy_hours = 24\n',
            PolicyStamp(hours=24),
            id="elapsed-shorter",
        ),
        pytest.param(
            EXCLUDING + 'holidays = "US"\n',
            PolicyStamp(CountingRule.EXCLUDING_WEEKENDS_HOLIDAYS, 1, 48, "US"),
            id="excluding-federal",
        ),
        pytest.param(
            EXCLUDING + 'holidays = "US-TX"\npolicy_hours = 36\n',
            PolicyStamp(CountingRule.EXCLUDING_WEEKENDS_HOLIDAYS, 1, 36, "US-TX"),
            id="excluding-state-shorter",
        ),
        pytest.param("policy_hours = 48\n", PolicyStamp(), id="hours-at-the-limit"),
    ],
)
def test_good_policies_are_read(lines: str, stamp: PolicyStamp) -> None:
    assert policy_of(lines).stamp == stamp


def test_the_default_is_the_wso_rule() -> None:
    assert policy_of("") == ELAPSED_48H


def test_the_holidays_are_the_regions_own() -> None:
    """Texas Independence Day (03-02) is a Texas holiday, not a federal one."""
    texas, federal = (
        policy_of(EXCLUDING + 'holidays = "US-TX"\n'),
        policy_of(EXCLUDING + 'holidays = "US"\n'),
    )
    assert texas.calendar is not None and federal.calendar is not None
    assert texas.calendar.is_holiday(date(2026, 3, 2))
    assert not federal.calendar.is_holiday(date(2026, 3, 2))
    assert federal.calendar.is_holiday(date(2027, 12, 24))  # Christmas on a Saturday: observed


# (case id, the facility's lines, key, words the message must contain)
BAD_POLICIES = [
    (
        "unknown policy",
        'policy = "48h-business-days"\n',
        "facility[0].policy",
        ('unknown counting policy "48h-business-days"', 'policy = "elapsed-48h"'),
    ),
    (
        "policy near miss",
        'policy = "elapsed-48"\n',
        "facility[0].policy",
        ('did you mean "elapsed-48h"?',),
    ),
    ("policy not a string", "policy = 48\n", "facility[0].policy", ('"elapsed-48h"',)),
    (
        "unknown holiday region",
        EXCLUDING + 'holidays = "US-XX"\n',
        "facility[0].holidays",
        ('unknown holiday calendar "US-XX"', 'holidays = "US-TX"'),
    ),
    (
        "holiday region in lower case",
        EXCLUDING + 'holidays = "us-tx"\n',
        "facility[0].holidays",
        ('did you mean "US-TX"?',),
    ),
    (
        "holiday region by state name",
        EXCLUDING + 'holidays = "Texas"\n',
        "facility[0].holidays",
        ('did you mean "US-TX"?',),
    ),
    (
        "another country",
        EXCLUDING + 'holidays = "CA"\n',
        "facility[0].holidays",
        ('holidays = "US-TX"',),
    ),
    (
        "holidays missing",
        EXCLUDING,
        "facility[0].holidays",
        ("missing", 'holidays = "US"'),
    ),
    (
        "holidays without the policy that reads them",
        'holidays = "US"\n',
        "facility[0].holidays",
        ('policy = "48h-excluding-weekends-holidays"',),
    ),
    (
        "policy_hours too long",
        "policy_hours = 72\n",
        "facility[0].policy_hours",
        ("at most 48 (got 72)", "never a longer one", "policy_hours = 36"),
    ),
    (
        "policy_hours zero",
        "policy_hours = 0\n",
        "facility[0].policy_hours",
        ("more than 0", "policy_hours = 36"),
    ),
    (
        "policy_hours negative",
        EXCLUDING + 'holidays = "US"\npolicy_hours = -12\n',
        "facility[0].policy_hours",
        ("more than 0",),
    ),
    (
        "policy_hours as a duration",
        'policy_hours = "36h"\n',
        "facility[0].policy_hours",
        ("whole number of hours", "policy_hours = 36"),
    ),
    (
        "policy_hours fractional",
        "policy_hours = 36.5\n",
        "facility[0].policy_hours",
        ("whole number of hours",),
    ),
    ("policy_hours typo", "policy_hour = 36\n", "facility[0].policy_hour", ('"policy_hours"',)),
]


@pytest.mark.parametrize(
    ("lines", "key", "hints"),
    [case[1:] for case in BAD_POLICIES],
    ids=[case[0] for case in BAD_POLICIES],
)
def test_a_bad_policy_names_the_key_and_the_facility(
    lines: str, key: str, hints: tuple[str, ...]
) -> None:
    with pytest.raises(ConfigError) as caught:
        policy_of(lines)
    assert caught.value.key == key
    assert '(in facility "county-jail")' in caught.value.message
    for hint in hints:
        assert hint in caught.value.message


@pytest.mark.parametrize(
    ("lines", "key", "example"),
    [
        ('policy = "48h-weekdays"\n', "facility[0].policy", 'policy = "elapsed-48h"'),
        (EXCLUDING + 'holidays = "US-ZZ"\n', "facility[0].holidays", 'holidays = "US-TX"'),
        ("policy_hours = 96\n", "facility[0].policy_hours", "policy_hours = 36"),
    ],
    ids=["unknown policy", "unknown holiday region", "policy_hours too long"],
)
def test_check_config_fails_naming_the_key_and_facility_with_a_right_value(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], lines: str, key: str, example: str
) -> None:
    path = tmp_path / "wso.toml"
    path.write_text(facility_with(lines))

    status = check_config(path, {})  # no SLACK_BOT_TOKEN: the file alone

    said = capsys.readouterr()
    assert status == 2
    assert f"{path}: {key}: " in said.err
    assert '(in facility "county-jail")' in said.err
    assert example in said.err
    assert "OK" not in said.out


def test_check_config_says_how_each_facility_counts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "wso.toml"
    path.write_text(facility_with(EXCLUDING + 'holidays = "US-IL"\npolicy_hours = 36\n'))

    assert check_config(path, {}) == 0

    said = capsys.readouterr().out
    assert "deadline: 48h-excluding-weekends-holidays v1, holidays US-IL, 36 h" in said
