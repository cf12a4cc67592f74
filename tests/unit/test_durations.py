"""Durations as people type them ("1h30m") and as the bot shows them ("1h 30m left")."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.core.durations import DURATION_EXAMPLES, format_duration, format_time_left, parse_duration

S = timedelta(seconds=1)
M = timedelta(minutes=1)
H = timedelta(hours=1)
D = timedelta(days=1)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("30s", 30 * S, id="seconds"),
        pytest.param("15m", 15 * M, id="minutes"),
        pytest.param("4h", 4 * H, id="hours"),
        pytest.param("2d", 2 * D, id="days"),
        pytest.param("1h30m", H + 30 * M, id="hours-minutes"),
        pytest.param("1d2h3m4s", D + 2 * H + 3 * M + 4 * S, id="all-units"),
        pytest.param("2d30s", 2 * D + 30 * S, id="gap-in-units"),
        pytest.param("0s", timedelta(0), id="zero-seconds"),
        pytest.param("0m", timedelta(0), id="zero-minutes"),
        pytest.param("90m", 90 * M, id="minutes-over-an-hour"),
        pytest.param("48h", 48 * H, id="the-window"),
        pytest.param("  24h  ", 24 * H, id="surrounding-space-stripped"),
        pytest.param("4H", 4 * H, id="upper-case"),
        pytest.param("1H30M", H + 30 * M, id="upper-case-compound"),
        pytest.param("007m", 7 * M, id="leading-zeros"),
    ],
)
def test_parse_duration_good(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("", id="empty"),
        pytest.param("   ", id="blank"),
        pytest.param("30", id="no-unit"),
        pytest.param("h", id="unit-only"),
        pytest.param("1.5h", id="decimal"),
        pytest.param("-1h", id="negative"),
        pytest.param("+1h", id="plus-sign"),
        pytest.param("30m1h", id="units-out-of-order"),
        pytest.param("1h1h", id="unit-repeated"),
        pytest.param("1h 30m", id="inner-space"),
        pytest.param("1w", id="weeks-unknown"),
        pytest.param("1y", id="years-unknown"),
        pytest.param("30 minutes", id="words"),
        pytest.param("1hr", id="hr-abbreviation"),
        pytest.param("1h30", id="trailing-number"),
        pytest.param("1h\n30m", id="newline-inside"),
    ],
)
def test_parse_duration_bad(text: str) -> None:
    with pytest.raises(ValueError) as raised:
        parse_duration(text)
    message = str(raised.value)
    assert repr(text) in message
    assert DURATION_EXAMPLES in message


@pytest.mark.parametrize(
    ("delta", "expected"),
    [
        pytest.param(timedelta(0), "0s", id="zero"),
        pytest.param(30 * S, "30s", id="seconds"),
        pytest.param(15 * M, "15m", id="minutes"),
        pytest.param(H + 30 * M, "1h30m", id="hours-minutes"),
        pytest.param(4 * H, "4h", id="hours"),
        pytest.param(24 * H, "1d", id="a-day"),
        pytest.param(48 * H, "2d", id="the-window"),
        pytest.param(D + 2 * H + 3 * M + 4 * S, "1d2h3m4s", id="all-units"),
        pytest.param(2 * D + 30 * S, "2d30s", id="gap-in-units"),
        pytest.param(90 * M, "1h30m", id="minutes-normalised"),
        pytest.param(-(H + 30 * M), "-1h30m", id="negative"),
        pytest.param(timedelta(seconds=59, milliseconds=999), "59s", id="fraction-truncated"),
    ],
)
def test_format_duration(delta: timedelta, expected: str) -> None:
    assert format_duration(delta) == expected


@pytest.mark.parametrize(
    "text", ["0s", "30s", "15m", "4h", "1h30m", "2d", "1d2h3m4s", "2d30s", "12h", "30m"]
)
def test_format_duration_round_trips_canonical_text(text: str) -> None:
    assert format_duration(parse_duration(text)) == text


@pytest.mark.parametrize(
    ("delta", "expected"),
    [
        pytest.param(48 * H, "48h 00m", id="whole-window"),
        pytest.param(48 * H - S, "47h 59m", id="just-under-window-seconds-dropped"),
        pytest.param(47 * H + 59 * M + 59 * S, "47h 59m", id="47h59m59s"),
        pytest.param(25 * H + 5 * M, "25h 05m", id="over-a-day-stays-hours"),
        pytest.param(H, "1h 00m", id="one-hour"),
        pytest.param(59 * M + 59 * S, "59m 59s", id="under-an-hour-shows-seconds"),
        pytest.param(12 * M + 5 * S, "12m 05s", id="minutes-padded-seconds"),
        pytest.param(M, "1m 00s", id="one-minute"),
        pytest.param(59 * S, "59s", id="seconds"),
        pytest.param(S, "1s", id="one-second"),
        pytest.param(timedelta(0), "0s", id="zero"),
        pytest.param(timedelta(milliseconds=900), "0s", id="sub-second"),
        pytest.param(-S, "overdue by 1s", id="overdue-1s"),
        pytest.param(-(5 * M), "overdue by 5m 00s", id="overdue-minutes"),
        pytest.param(-(2 * H + 3 * M), "overdue by 2h 03m", id="overdue-hours"),
        pytest.param(-(49 * H), "overdue by 49h 00m", id="overdue-days-stays-hours"),
    ],
)
def test_format_time_left(delta: timedelta, expected: str) -> None:
    assert format_time_left(delta) == expected
