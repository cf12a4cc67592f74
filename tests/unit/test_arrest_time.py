"""Table tests for parsing the arrest time typed after ``at``.

2026 US DST changes: clocks go forward on 2026-03-08 at 02:00 and back on
2026-11-01 at 02:00. Phoenix and Honolulu do not change.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from bot.chat.arrest_time import TimeInputError, parse_arrest_time

NEW_YORK = ZoneInfo("America/New_York")
CHICAGO = ZoneInfo("America/Chicago")
PHOENIX = ZoneInfo("America/Phoenix")
HONOLULU = ZoneInfo("Pacific/Honolulu")


def utc(year: int, month: int, day: int, hour: int, minute: int, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


# 15:00 CST / 16:00 EST / 14:00 MST / 11:00 HST on 2026-11-28.
AFTERNOON = utc(2026, 11, 28, 21, 0)
# 21:30 CST on 2026-11-28, but already 2026-11-29 in UTC.
CHICAGO_LATE_EVENING = utc(2026, 11, 29, 3, 30)
# 00:10 CST on 2026-11-28, just after local midnight.
CHICAGO_JUST_AFTER_MIDNIGHT = utc(2026, 11, 28, 6, 10)
# 23:00 HST on 2026-06-30, but already 2026-07-01 in UTC.
HONOLULU_LATE_EVENING = utc(2026, 7, 1, 9, 0)
# Noon UTC on each 2026 DST change day: after the change everywhere in the US.
AUTUMN_CHANGE_DAY = utc(2026, 11, 1, 12, 0)
SPRING_CHANGE_DAY = utc(2026, 3, 8, 15, 0)
LATER_IN_2026 = utc(2026, 12, 1, 0, 0)


def refusal(text: str, zone: ZoneInfo, now: datetime) -> TimeInputError:
    """The error ``parse_arrest_time`` must raise for ``text``."""
    with pytest.raises(TimeInputError) as caught:
        parse_arrest_time(text, zone, now)
    return caught.value


ACCEPTED = [
    # (text, zone, now, expected UTC instant)
    pytest.param("14:05", CHICAGO, AFTERNOON, utc(2026, 11, 28, 20, 5), id="hhmm-chicago"),
    pytest.param("14:05:30", CHICAGO, AFTERNOON, utc(2026, 11, 28, 20, 5, 30), id="hhmmss"),
    pytest.param("09:05", CHICAGO, AFTERNOON, utc(2026, 11, 28, 15, 5), id="hhmm-morning"),
    pytest.param("9:05", CHICAGO, AFTERNOON, utc(2026, 11, 28, 15, 5), id="single-digit-hour"),
    pytest.param("00:00", CHICAGO, AFTERNOON, utc(2026, 11, 28, 6, 0), id="local-midnight"),
    pytest.param("  14:05 ", CHICAGO, AFTERNOON, utc(2026, 11, 28, 20, 5), id="padded"),
    pytest.param("15:00", CHICAGO, AFTERNOON, AFTERNOON, id="exactly-now-is-not-future"),
    pytest.param("14:05", NEW_YORK, AFTERNOON, utc(2026, 11, 28, 19, 5), id="hhmm-new-york"),
    pytest.param("13:05", PHOENIX, AFTERNOON, utc(2026, 11, 28, 20, 5), id="hhmm-phoenix"),
    pytest.param("10:05", HONOLULU, AFTERNOON, utc(2026, 11, 28, 20, 5), id="hhmm-honolulu"),
    # Near local midnight the local date is not the UTC date: "today" is the local one.
    pytest.param(
        "21:00", CHICAGO, CHICAGO_LATE_EVENING, utc(2026, 11, 29, 3, 0), id="today-is-local-date"
    ),
    pytest.param(
        "00:05",
        CHICAGO,
        CHICAGO_JUST_AFTER_MIDNIGHT,
        utc(2026, 11, 28, 6, 5),
        id="just-after-local-midnight",
    ),
    pytest.param(
        "22:30",
        HONOLULU,
        HONOLULU_LATE_EVENING,
        utc(2026, 7, 1, 8, 30),
        id="today-is-local-date-honolulu",
    ),
    pytest.param(
        "2026-11-27 23:50",
        CHICAGO,
        CHICAGO_JUST_AFTER_MIDNIGHT,
        utc(2026, 11, 28, 5, 50),
        id="explicit-yesterday",
    ),
    # Date and time without an offset: wall-clock time in the facility zone.
    pytest.param(
        "2026-11-28 14:05", CHICAGO, AFTERNOON, utc(2026, 11, 28, 20, 5), id="date-space-time"
    ),
    pytest.param("2026-11-28T14:05", CHICAGO, AFTERNOON, utc(2026, 11, 28, 20, 5), id="date-T"),
    pytest.param("2026-11-28t14:05", CHICAGO, AFTERNOON, utc(2026, 11, 28, 20, 5), id="date-t"),
    pytest.param(
        "2026-11-27 23:50:15",
        CHICAGO,
        AFTERNOON,
        utc(2026, 11, 28, 5, 50, 15),
        id="date-time-seconds-crosses-utc-midnight",
    ),
    pytest.param(
        "2026-07-04 12:00", NEW_YORK, AFTERNOON, utc(2026, 7, 4, 16, 0), id="summer-new-york-edt"
    ),
    pytest.param(
        "2026-07-04 12:00", PHOENIX, AFTERNOON, utc(2026, 7, 4, 19, 0), id="summer-phoenix-mst"
    ),
    # ISO 8601 with Z or an offset: the offset wins over the facility zone.
    pytest.param("2026-11-28T20:05:00Z", CHICAGO, AFTERNOON, utc(2026, 11, 28, 20, 5), id="iso-Z"),
    pytest.param("2026-11-28T20:05z", CHICAGO, AFTERNOON, utc(2026, 11, 28, 20, 5), id="iso-z"),
    pytest.param(
        "2026-11-28 20:05Z", CHICAGO, AFTERNOON, utc(2026, 11, 28, 20, 5), id="iso-space-Z"
    ),
    pytest.param(
        "2026-11-28T14:05-06:00", CHICAGO, AFTERNOON, utc(2026, 11, 28, 20, 5), id="iso-offset"
    ),
    pytest.param(
        "2026-11-28 14:05-06:00",
        CHICAGO,
        AFTERNOON,
        utc(2026, 11, 28, 20, 5),
        id="iso-space-offset",
    ),
    pytest.param(
        "2026-11-28T14:05:30+00:00",
        CHICAGO,
        AFTERNOON,
        utc(2026, 11, 28, 14, 5, 30),
        id="iso-utc-offset-seconds",
    ),
    pytest.param(
        "2026-11-28T23:05+03:00",
        CHICAGO,
        AFTERNOON,
        utc(2026, 11, 28, 20, 5),
        id="iso-positive-offset",
    ),
    pytest.param(
        "2026-11-28T10:35-05:30",
        HONOLULU,
        AFTERNOON,
        utc(2026, 11, 28, 16, 5),
        id="offset-wins-over-zone",
    ),
    # Around the autumn change (2026-11-01): the times either side are fine.
    pytest.param(
        "2026-11-01 00:59", NEW_YORK, LATER_IN_2026, utc(2026, 11, 1, 4, 59), id="ny-before-repeat"
    ),
    pytest.param(
        "2026-11-01 02:00", NEW_YORK, LATER_IN_2026, utc(2026, 11, 1, 7, 0), id="ny-after-repeat"
    ),
    pytest.param(
        "2026-11-01 02:00", CHICAGO, LATER_IN_2026, utc(2026, 11, 1, 8, 0), id="chi-after-repeat"
    ),
    pytest.param(
        "2026-11-01T01:30-04:00",
        NEW_YORK,
        LATER_IN_2026,
        utc(2026, 11, 1, 5, 30),
        id="ny-repeat-first-with-offset",
    ),
    pytest.param(
        "2026-11-01T01:30-05:00",
        NEW_YORK,
        LATER_IN_2026,
        utc(2026, 11, 1, 6, 30),
        id="ny-repeat-second-with-offset",
    ),
    pytest.param(
        "2026-11-01 01:30",
        PHOENIX,
        LATER_IN_2026,
        utc(2026, 11, 1, 8, 30),
        id="phoenix-no-repeat",
    ),
    pytest.param(
        "2026-11-01 01:30",
        HONOLULU,
        LATER_IN_2026,
        utc(2026, 11, 1, 11, 30),
        id="honolulu-no-repeat",
    ),
    pytest.param(
        "01:30", PHOENIX, AUTUMN_CHANGE_DAY, utc(2026, 11, 1, 8, 30), id="phoenix-hhmm-no-repeat"
    ),
    # Around the spring change (2026-03-08): the times either side are fine.
    pytest.param(
        "2026-03-08 01:59", NEW_YORK, LATER_IN_2026, utc(2026, 3, 8, 6, 59), id="ny-before-gap"
    ),
    pytest.param(
        "2026-03-08 03:00", NEW_YORK, LATER_IN_2026, utc(2026, 3, 8, 7, 0), id="ny-after-gap"
    ),
    pytest.param(
        "2026-03-08 03:00", CHICAGO, LATER_IN_2026, utc(2026, 3, 8, 8, 0), id="chi-after-gap"
    ),
    pytest.param(
        "2026-03-08 02:30", PHOENIX, LATER_IN_2026, utc(2026, 3, 8, 9, 30), id="phoenix-no-gap"
    ),
    pytest.param(
        "2026-03-08 02:30",
        HONOLULU,
        LATER_IN_2026,
        utc(2026, 3, 8, 12, 30),
        id="honolulu-no-gap",
    ),
    pytest.param(
        "02:30", HONOLULU, SPRING_CHANGE_DAY, utc(2026, 3, 8, 12, 30), id="honolulu-hhmm-no-gap"
    ),
]


@pytest.mark.parametrize(("text", "zone", "now", "expected"), ACCEPTED)
def test_accepted_times_become_utc_instants(
    text: str, zone: ZoneInfo, now: datetime, expected: datetime
) -> None:
    arrested_at = parse_arrest_time(text, zone, now)

    assert arrested_at == expected
    assert arrested_at.tzinfo is UTC


AMBIGUOUS = [
    # (text, zone, now, first offset form, second offset form)
    pytest.param(
        "2026-11-01 01:30",
        NEW_YORK,
        LATER_IN_2026,
        "2026-11-01T01:30-04:00",
        "2026-11-01T01:30-05:00",
        id="new-york",
    ),
    pytest.param(
        "2026-11-01T01:00",
        NEW_YORK,
        LATER_IN_2026,
        "2026-11-01T01:00-04:00",
        "2026-11-01T01:00-05:00",
        id="new-york-start-of-repeat",
    ),
    pytest.param(
        "2026-11-01 01:59:59",
        NEW_YORK,
        LATER_IN_2026,
        "2026-11-01T01:59:59-04:00",
        "2026-11-01T01:59:59-05:00",
        id="new-york-seconds",
    ),
    pytest.param(
        "2026-11-01 01:30",
        CHICAGO,
        LATER_IN_2026,
        "2026-11-01T01:30-05:00",
        "2026-11-01T01:30-06:00",
        id="chicago",
    ),
    pytest.param(
        "01:30",
        NEW_YORK,
        AUTUMN_CHANGE_DAY,
        "2026-11-01T01:30-04:00",
        "2026-11-01T01:30-05:00",
        id="new-york-hhmm-today",
    ),
    pytest.param(
        "01:45",
        CHICAGO,
        AUTUMN_CHANGE_DAY,
        "2026-11-01T01:45-05:00",
        "2026-11-01T01:45-06:00",
        id="chicago-hhmm-today",
    ),
]


@pytest.mark.parametrize(("text", "zone", "now", "first", "second"), AMBIGUOUS)
def test_repeated_local_time_is_refused_with_both_offsets(
    text: str, zone: ZoneInfo, now: datetime, first: str, second: str
) -> None:
    error = refusal(text, zone, now)

    message = error.message
    assert "twice" in message
    assert f"`at {first}`" in message
    assert f"`at {second}`" in message
    assert message.index(first) < message.index(second)
    assert error.example == f"/wso arrest B-2026-0412 at {first}"


SKIPPED = [
    # (text, zone, now, an explicit offset form the message suggests)
    pytest.param(
        "2026-03-08 02:30", NEW_YORK, LATER_IN_2026, "2026-03-08T02:30-05:00", id="new-york"
    ),
    pytest.param(
        "2026-03-08T02:00", NEW_YORK, LATER_IN_2026, "2026-03-08T02:00-05:00", id="start-of-gap"
    ),
    pytest.param(
        "2026-03-08 02:59:59",
        NEW_YORK,
        LATER_IN_2026,
        "2026-03-08T02:59:59-05:00",
        id="end-of-gap-seconds",
    ),
    pytest.param(
        "2026-03-08 02:30", CHICAGO, LATER_IN_2026, "2026-03-08T02:30-06:00", id="chicago"
    ),
    pytest.param("02:30", NEW_YORK, SPRING_CHANGE_DAY, "2026-03-08T02:30-05:00", id="hhmm-today"),
]


@pytest.mark.parametrize(("text", "zone", "now", "suggestion"), SKIPPED)
def test_skipped_local_time_is_refused(
    text: str, zone: ZoneInfo, now: datetime, suggestion: str
) -> None:
    error = refusal(text, zone, now)

    message = error.message
    assert "does not exist" in message
    assert "jumped forward" in message
    assert f"`at {suggestion}`" in message
    assert error.example == f"/wso arrest B-2026-0412 at {suggestion}"


@pytest.mark.parametrize(
    ("zone", "refused"),
    [
        pytest.param(NEW_YORK, True, id="new-york"),
        pytest.param(CHICAGO, True, id="chicago"),
        pytest.param(PHOENIX, False, id="phoenix"),
        pytest.param(HONOLULU, False, id="honolulu"),
    ],
)
@pytest.mark.parametrize("text", ["2026-11-01 01:30", "2026-03-08 02:30"], ids=["repeat", "gap"])
def test_dst_refusals_depend_on_the_zone(text: str, zone: ZoneInfo, refused: bool) -> None:
    if refused:
        with pytest.raises(TimeInputError):
            parse_arrest_time(text, zone, LATER_IN_2026)
    else:
        arrested_at = parse_arrest_time(text, zone, LATER_IN_2026)
        assert arrested_at.astimezone(zone).strftime("%Y-%m-%d %H:%M") == text


FUTURE = [
    # (text, zone, now, the time shown in the facility zone, yesterday suggestion or None)
    pytest.param(
        "23:50",
        CHICAGO,
        CHICAGO_JUST_AFTER_MIDNIGHT,
        "2026-11-28 23:50 CST",
        "2026-11-27 23:50",
        id="hhmm-just-after-midnight",
    ),
    pytest.param(
        "23:50:30",
        CHICAGO,
        CHICAGO_JUST_AFTER_MIDNIGHT,
        "2026-11-28 23:50:30 CST",
        "2026-11-27 23:50:30",
        id="hhmmss-keeps-seconds",
    ),
    pytest.param(
        "16:01",
        NEW_YORK,
        AFTERNOON,
        "2026-11-28 16:01 EST",
        "2026-11-27 16:01",
        id="hhmm-one-minute-ahead",
    ),
    pytest.param(
        "23:00",
        CHICAGO,
        CHICAGO_LATE_EVENING,
        "2026-11-28 23:00 CST",
        "2026-11-27 23:00",
        id="hhmm-local-date-behind-utc",
    ),
    pytest.param(
        "23:30",
        HONOLULU,
        HONOLULU_LATE_EVENING,
        "2026-06-30 23:30 HST",
        "2026-06-29 23:30",
        id="hhmm-honolulu",
    ),
    pytest.param(
        "2026-11-29 08:00", CHICAGO, AFTERNOON, "2026-11-29 08:00 CST", None, id="explicit-date"
    ),
    pytest.param(
        "2026-11-28T21:00:01Z",
        CHICAGO,
        AFTERNOON,
        "2026-11-28 15:00:01 CST",
        None,
        id="iso-Z-one-second-ahead",
    ),
    pytest.param(
        "2026-11-28T18:00-05:00",
        PHOENIX,
        AFTERNOON,
        "2026-11-28 16:00 MST",
        None,
        id="offset-shown-in-facility-zone",
    ),
]


@pytest.mark.parametrize(("text", "zone", "now", "shown", "yesterday"), FUTURE)
def test_future_time_is_refused(
    text: str, zone: ZoneInfo, now: datetime, shown: str, yesterday: str | None
) -> None:
    error = refusal(text, zone, now)

    message = error.message
    assert "in the future" in message
    assert shown in message
    if yesterday is None:
        assert "yesterday" not in message
    else:
        assert f"If you meant yesterday, type `at {yesterday}`" in message
        assert error.example == f"/wso arrest B-2026-0412 at {yesterday}"


@pytest.mark.parametrize(("text", "zone", "now", "shown", "yesterday"), FUTURE)
def test_future_refusal_example_is_accepted(
    text: str, zone: ZoneInfo, now: datetime, shown: str, yesterday: str | None
) -> None:
    error = refusal(text, zone, now)

    suggested_text = error.example.split(" at ", 1)[1]
    assert parse_arrest_time(suggested_text, zone, now) <= now


GARBAGE = [
    pytest.param("noon", id="word"),
    pytest.param("2pm", id="am-pm"),
    pytest.param("14:05 pm", id="trailing-word"),
    pytest.param("1405", id="no-colon"),
    pytest.param("14:5", id="single-digit-minute"),
    pytest.param("14.05", id="dot"),
    pytest.param("25:00", id="hour-25"),
    pytest.param("24:00", id="hour-24"),
    pytest.param("14:60", id="minute-60"),
    pytest.param("14:05:60", id="second-60"),
    pytest.param("2026-02-30 10:00", id="february-30"),
    pytest.param("2026-13-01 10:00", id="month-13"),
    pytest.param("2026-11-28", id="date-only"),
    pytest.param("2026-11-28 14", id="hour-only"),
    pytest.param("2026/11/28 14:05", id="slashes"),
    pytest.param("28-11-2026 14:05", id="day-first"),
    pytest.param("2026-11-28T14:05+25:00", id="offset-25h"),
    pytest.param("2026-11-28T14:05-0600", id="offset-without-colon"),
    pytest.param("2026-11-28T14:05 CST", id="zone-abbreviation"),
    pytest.param("2026-11-28  14:05", id="two-spaces"),
    pytest.param("\u0661\u0664:\u0660\u0665", id="arabic-indic-digits"),
    pytest.param("yesterday 14:05", id="yesterday-word"),
    pytest.param("<!channel>", id="slack-mention"),
    pytest.param("", id="empty"),
    pytest.param("   ", id="blank"),
]


@pytest.mark.parametrize("text", GARBAGE)
def test_text_that_is_not_a_time_is_refused(text: str) -> None:
    error = refusal(text, CHICAGO, AFTERNOON)

    assert str(error) == error.message
    assert error.example.startswith("/wso arrest B-2026-0412 at ")
    assert "<" not in error.message
    if text.strip():
        assert f"`{text.replace('<', '&lt;').replace('>', '&gt;')}`" in error.message
    else:
        assert "No arrest time" in error.message


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        pytest.param("<!channel>", "`&lt;!channel&gt;`", id="channel"),
        pytest.param("<@U123> 14:05", "`&lt;@U123&gt; 14:05`", id="user-mention"),
        pytest.param("14:05 & <!here>", "`14:05 &amp; &lt;!here&gt;`", id="ampersand"),
        pytest.param("`<!here>`", "`'&lt;!here&gt;'`", id="backticks"),
    ],
)
def test_refused_text_is_echoed_escaped(text: str, escaped: str) -> None:
    error = refusal(text, CHICAGO, AFTERNOON)

    assert escaped in error.message
    assert "<" not in error.message


def test_long_garbage_is_echoed_shortened() -> None:
    error = refusal("x" * 500, CHICAGO, AFTERNOON)

    assert "x" * 40 + "…" in error.message
    assert "x" * 41 not in error.message


@pytest.mark.parametrize(
    "now",
    [
        pytest.param(datetime(2026, 11, 28, 21, 0), id="naive"),
        pytest.param(datetime(2026, 11, 28, 15, 0, tzinfo=CHICAGO), id="not-utc"),
        pytest.param(
            datetime(2026, 11, 28, 15, 0, tzinfo=timezone(timedelta(hours=-6))), id="offset"
        ),
    ],
)
def test_now_must_be_aware_utc(now: datetime) -> None:
    with pytest.raises(ValueError, match="now") as caught:
        parse_arrest_time("14:05", CHICAGO, now)

    assert not isinstance(caught.value, TimeInputError)


def test_time_input_error_keeps_message_and_example() -> None:
    error = TimeInputError("bad time", "/wso arrest B-1 at 14:05")

    assert isinstance(error, ValueError)
    assert (str(error), error.message, error.example) == (
        "bad time",
        "bad time",
        "/wso arrest B-1 at 14:05",
    )
