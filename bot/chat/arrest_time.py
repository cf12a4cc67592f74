"""Turn the arrest time an officer types after ``at`` into a UTC instant.

Pure: no clock and no I/O; the facility zone and ``now`` are parameters. A
local time that happens twice (the autumn DST change) or never (the spring
change) is refused rather than guessed, because a wrong hour moves a legal
deadline (:mod:`bot.core.local_time` decides which times those are; the words
for the officer are this module's). A time in the future is refused too, and
"yesterday" is only ever suggested, never assumed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from bot.chat.slack import code, echo
from bot.core.local_time import AmbiguousLocalTime, SkippedLocalTime, to_utc
from bot.core.model import require_utc

SAMPLE_BOOKING = "B-2026-0412"

_CLOCK = r"(?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second>\d{2}))?"
_CLOCK_ONLY = re.compile(_CLOCK, re.ASCII)
_DATE_AND_CLOCK = re.compile(
    r"(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})[Tt ]"
    + _CLOCK
    + r"(?P<offset>[Zz]|[+-]\d{2}:\d{2})?",
    re.ASCII,
)
_ACCEPTED_FORMS = (
    "`HH:MM` for today (facility time), `YYYY-MM-DD HH:MM`, "
    "or ISO 8601 with an offset such as `2026-11-28T14:05-06:00`"
)


class TimeInputError(ValueError):
    """An arrest time that was refused, with a plain-English reason and a fix."""

    def __init__(self, message: str, example: str) -> None:
        super().__init__(message)
        self.message = message
        self.example = example


@dataclass(frozen=True)
class _TypedTime:
    """What the officer typed, before it is placed on the time line."""

    wall: datetime  # naive: the digits as typed
    offset: timedelta | None  # None: a wall-clock time in the facility zone
    clock_only: bool  # True for the bare ``HH:MM`` form (today implied)


def parse_arrest_time(text: str, zone: ZoneInfo, now: datetime) -> datetime:
    """Parse the text after ``at`` into an aware UTC datetime.

    Accepts ``HH:MM[:SS]`` (today in ``zone``), ``YYYY-MM-DD HH:MM[:SS]`` (also
    with ``T``; wall-clock time in ``zone``), and ISO 8601 with ``Z`` or an
    offset (the offset wins over ``zone``). ``now`` must be an aware UTC
    datetime; a naive one raises ``ValueError``. Raises ``TimeInputError`` for
    text that is not a time, a time later than ``now``, and a local time that is
    ambiguous or skipped by a DST change.
    """
    require_utc("now", now)
    today = now.astimezone(zone).date()
    typed = _read_typed_time(text, today)
    try:
        instant = _place_on_time_line(typed, zone)
        if instant > now:
            raise _future_error(instant, typed, zone, now)
    except OverflowError:  # year 1 or 9999 with an offset: off the end of the calendar
        raise _not_real_error(text) from None
    return instant


def _read_typed_time(text: str, today: date) -> _TypedTime:
    cleaned = text.strip()
    clock = _CLOCK_ONLY.fullmatch(cleaned)
    if clock is not None:
        return _TypedTime(_build_wall(text, today, clock), None, clock_only=True)
    stamp = _DATE_AND_CLOCK.fullmatch(cleaned)
    if stamp is None:
        raise _unreadable_error(text)
    try:
        day = date(int(stamp["year"]), int(stamp["month"]), int(stamp["day"]))
    except ValueError:
        raise _not_real_error(text) from None
    offset = _read_offset(text, stamp["offset"])
    return _TypedTime(_build_wall(text, day, stamp), offset, clock_only=False)


def _build_wall(text: str, day: date, clock: re.Match[str]) -> datetime:
    hour, minute = int(clock["hour"]), int(clock["minute"])
    second = int(clock["second"] or 0)
    try:
        return datetime(day.year, day.month, day.day, hour, minute, second)
    except ValueError:
        raise _not_real_error(text) from None


def _read_offset(text: str, raw: str | None) -> timedelta | None:
    if raw is None:
        return None
    if raw.upper() == "Z":
        return timedelta(0)
    hours, minutes = int(raw[1:3]), int(raw[4:6])
    if hours > 23 or minutes > 59:
        raise _not_real_error(text)
    sign = -1 if raw.startswith("-") else 1
    return sign * timedelta(hours=hours, minutes=minutes)


def _place_on_time_line(typed: _TypedTime, zone: ZoneInfo) -> datetime:
    if typed.offset is not None:
        return typed.wall.replace(tzinfo=timezone(typed.offset)).astimezone(UTC)
    try:
        return to_utc(typed.wall, zone)
    except AmbiguousLocalTime as repeated:
        raise _ambiguous_error(repeated.earlier, repeated.later, zone) from None
    except SkippedLocalTime as skipped:
        raise _skipped_error(skipped.earlier, skipped.later, zone) from None


def _unreadable_error(text: str) -> TimeInputError:
    if not text.strip():
        return TimeInputError(
            f"No arrest time was given after `at`. Use {_ACCEPTED_FORMS}.",
            _example("14:05"),
        )
    return TimeInputError(
        f"{echo(text)} is not a time I can read. Use {_ACCEPTED_FORMS}.",
        _example("14:05"),
    )


def _not_real_error(text: str) -> TimeInputError:
    return TimeInputError(
        f"{echo(text)} is not a real date and time: check that the day exists in that "
        "month, the hour is 00-23, the minutes and seconds 00-59, and any offset is valid.",
        _example("2026-11-28 14:05"),
    )


def _ambiguous_error(earlier: datetime, later: datetime, zone: ZoneInfo) -> TimeInputError:
    first, second = _iso_with_offset(earlier), _iso_with_offset(later)
    return TimeInputError(
        f"{_wall_text(earlier)} happens twice in {zone.key}: the clocks go back an hour "
        f"that night. Type it with its offset: {code('at ' + first)} for the first one "
        f"({earlier.tzname()}) or {code('at ' + second)} for the second one "
        f"({later.tzname()}).",
        _example(first),
    )


def _skipped_error(earlier: datetime, later: datetime, zone: ZoneInfo) -> TimeInputError:
    suggestion = _iso_with_offset(earlier)
    return TimeInputError(
        f"{_wall_text(earlier)} does not exist in {zone.key}: the clocks jumped forward "
        f"from UTC{_offset_text(earlier)} to UTC{_offset_text(later)} that night. Check "
        f"the time, or type it with an explicit offset, e.g. {code('at ' + suggestion)}.",
        _example(suggestion),
    )


def _future_error(
    instant: datetime, typed: _TypedTime, zone: ZoneInfo, now: datetime
) -> TimeInputError:
    local, local_now = instant.astimezone(zone), now.astimezone(zone)
    message = (
        f"The arrest time {_wall_text(local)} {local.tzname()} ({zone.key}) is in the "
        f"future: it is now {local_now:%Y-%m-%d %H:%M} {local_now.tzname()} there."
    )
    if not typed.clock_only:
        return TimeInputError(message, _example(f"{local_now:%Y-%m-%d %H:%M}"))
    yesterday = f"{typed.wall.date() - timedelta(days=1)} {_clock_text(typed.wall)}"
    return TimeInputError(
        f"{message} If you meant yesterday, type {code('at ' + yesterday)}.",
        _example(yesterday),
    )


def _example(time_text: str) -> str:
    return f"/wso arrest {SAMPLE_BOOKING} at {time_text}"


def _clock_text(wall: datetime) -> str:
    return f"{wall:%H:%M:%S}" if wall.second else f"{wall:%H:%M}"


def _wall_text(wall: datetime) -> str:
    return f"{wall:%Y-%m-%d} {_clock_text(wall)}"


def _iso_with_offset(local: datetime) -> str:
    return f"{local:%Y-%m-%d}T{_clock_text(local)}{_offset_text(local)}"


def _offset_text(local: datetime) -> str:
    total_minutes = int((local.utcoffset() or timedelta(0)).total_seconds()) // 60
    sign = "-" if total_minutes < 0 else "+"
    hours, minutes = divmod(abs(total_minutes), 60)
    return f"{sign}{hours:02d}:{minutes:02d}"
