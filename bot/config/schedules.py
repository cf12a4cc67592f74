"""``[[schedule]]`` tables: on-call rotations, iCalendar files and overrides.

Builds the :class:`bot.core.oncall.Schedule` values the escalation chains name as
``oncall:<id>``. Reads the ``ical`` files a schedule names, and nothing else.
"""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Mapping
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

from bot.config.fields import (
    _EXAMPLES,
    ConfigError,
    UnreadableFile,
    _child,
    _item,
    _list_of_tables,
    _reject_unknown_keys,
    _required,
    _string,
    _table_id,
    _tables_with_ids,
    _timezone,
    _user_id,
    _user_id_list,
    read_small_file,
)
from bot.core.local_time import AmbiguousLocalTime, LocalTimeError, to_utc
from bot.core.oncall import (
    DEFAULT_ROTATION_START,
    IcalCalendar,
    Override,
    Rotation,
    RotationPeriod,
    Schedule,
    parse_ical,
)

# An on-call calendar is read whole at start-up; this is far above any real one.
MAX_ICAL_FILE_BYTES = 2 * 1024 * 1024

_HANDOFF = re.compile(r"(?P<hour>\d{2}):(?P<minute>\d{2})")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_STAMP = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2})?(?P<offset>Z|[+-]\d{2}:\d{2})?")

_ROTATION_KEYS = ("handoff", "rotation", "users", "start")
_SCHEDULE_KEYS = ("id", "timezone", *_ROTATION_KEYS, "ical", "overrides")
_OVERRIDE_KEYS = ("user", "from", "to")

# Keys whose example depends on the table they are in.
_SCHEDULE_ID_EXAMPLE = '"watch-commanders"'
_OVERRIDE_EXAMPLE = '{ user = "U0LT3", from = "2026-11-28 19:00", to = "2026-11-29 07:00" }'


def _parse_schedules(value: object, base_dir: Path | None) -> tuple[Schedule, ...]:
    return _tables_with_ids(
        value, "schedule", lambda table, path: _parse_schedule(table, path, base_dir)
    )


def _parse_schedule(table: Mapping[str, Any], path: str, base_dir: Path | None) -> Schedule:
    _reject_unknown_keys(table, _SCHEDULE_KEYS, path)
    schedule_id = _table_id(
        _required(table, "id", path, _SCHEDULE_ID_EXAMPLE),
        _child(path, "id"),
        _SCHEDULE_ID_EXAMPLE,
    )
    timezone_name = _timezone(_required(table, "timezone", path), _child(path, "timezone"))
    zone = zoneinfo.ZoneInfo(timezone_name)
    rotation, ical = _schedule_source(table, path, zone, base_dir)
    return Schedule(
        id=schedule_id,
        timezone_name=timezone_name,
        rotation=rotation,
        ical=ical,
        overrides=_parse_overrides(table.get("overrides", []), _child(path, "overrides"), zone),
    )


def _schedule_source(
    table: Mapping[str, Any], path: str, zone: zoneinfo.ZoneInfo, base_dir: Path | None
) -> tuple[Rotation | None, IcalCalendar | None]:
    """Exactly one of: a rotation (handoff, rotation, users, start) or an iCalendar file."""
    rotation_keys = [key for key in _ROTATION_KEYS if key in table]
    if "ical" in table and rotation_keys:
        raise ConfigError(
            _child(path, "ical"),
            f"a schedule is either an iCalendar file or a rotation, not both; remove ical, "
            f"or remove {', '.join(rotation_keys)}",
        )
    if "ical" in table:
        return None, _ical(table["ical"], _child(path, "ical"), zone, base_dir)
    if not rotation_keys:
        raise ConfigError(
            path,
            f"needs either a rotation (handoff = {_EXAMPLES['handoff']}, rotation = "
            f"{_EXAMPLES['rotation']}, users = {_EXAMPLES['users']}) or ical = {_EXAMPLES['ical']}",
        )
    return _parse_rotation(table, path), None


def _parse_rotation(table: Mapping[str, Any], path: str) -> Rotation:
    return Rotation(
        handoff=_handoff(_required(table, "handoff", path), _child(path, "handoff")),
        period=_rotation_period(_required(table, "rotation", path), _child(path, "rotation")),
        users=_rotation_users(_required(table, "users", path), _child(path, "users")),
        start=_rotation_start(table, _child(path, "start")),
    )


def _handoff(value: object, path: str) -> time:
    text = _string(value, path, _EXAMPLES["handoff"])
    match = _HANDOFF.fullmatch(text)
    if match is None or int(match["hour"]) > 23 or int(match["minute"]) > 59:
        raise ConfigError(
            path, f'"{text}" is not a time of day; use 24-hour HH:MM, like {_EXAMPLES["handoff"]}'
        )
    return time(int(match["hour"]), int(match["minute"]))


def _rotation_period(value: object, path: str) -> RotationPeriod:
    text = _string(value, path, _EXAMPLES["rotation"])
    try:
        return RotationPeriod(text)
    except ValueError:
        choices = " or ".join(f'"{period.value}"' for period in RotationPeriod)
        raise ConfigError(path, f'"{text}" is not a rotation; use {choices}') from None


def _rotation_users(value: object, path: str) -> tuple[str, ...]:
    users = _user_id_list(value, path, _EXAMPLES["users"])
    if not users:
        raise ConfigError(
            path, f"needs at least one member ID, in rotation order, like {_EXAMPLES['users']}"
        )
    return tuple(users)


def _rotation_start(table: Mapping[str, Any], path: str) -> date:
    if "start" not in table:
        return DEFAULT_ROTATION_START
    value = table["start"]
    if isinstance(value, date) and not isinstance(value, datetime):
        return value  # an unquoted TOML date
    text = _string(value, path, _EXAMPLES["start"])
    try:
        if _DATE.fullmatch(text):
            return date.fromisoformat(text)
    except ValueError:
        pass
    raise ConfigError(
        path,
        f'"{text}" is not a date; use YYYY-MM-DD, like {_EXAMPLES["start"]} '
        "(the day whose handoff starts the first user's first shift)",
    )


def _ical(value: object, path: str, zone: zoneinfo.ZoneInfo, base_dir: Path | None) -> IcalCalendar:
    relative = _string(value, path, _EXAMPLES["ical"])
    if not relative.strip():
        raise ConfigError(path, f"must name an .ics file, like {_EXAMPLES['ical']}")
    file = base_dir / relative if base_dir is not None else Path(relative)
    try:
        data = read_small_file(file, MAX_ICAL_FILE_BYTES, "an on-call calendar")
    except FileNotFoundError:
        raise ConfigError(
            path, f"file not found: {file} (a relative path is read from the config file's folder)"
        ) from None
    except UnreadableFile as problem:
        raise ConfigError(path, f"cannot read {file}: {problem}") from None
    except OSError as error:
        raise ConfigError(path, f"cannot read {file}: {error.strerror}") from None
    try:
        return parse_ical(data, str(file), zone)
    except ValueError as error:
        raise ConfigError(path, f"{file}: {error}") from None


def _parse_overrides(value: object, path: str, zone: zoneinfo.ZoneInfo) -> tuple[Override, ...]:
    tables = _list_of_tables(value, path, f"[{_OVERRIDE_EXAMPLE}]")
    overrides: list[Override] = []
    for index, table in enumerate(tables):
        override = _parse_override(table, _item(path, index), zone)
        _reject_overlap(override, overrides, path, index, zone)
        overrides.append(override)
    return tuple(overrides)


def _parse_override(table: Mapping[str, Any], path: str, zone: zoneinfo.ZoneInfo) -> Override:
    _reject_unknown_keys(table, _OVERRIDE_KEYS, path)
    user = _user_id(_required(table, "user", path), _child(path, "user"))
    start = _override_time(_required(table, "from", path), _child(path, "from"), zone)
    end = _override_time(_required(table, "to", path), _child(path, "to"), zone)
    if end <= start:
        raise ConfigError(
            _child(path, "to"),
            f"must be after from ({_local_text(start, zone)}); got {_local_text(end, zone)}",
        )
    return Override(user=user, start=start, end=end)


def _reject_overlap(
    override: Override, earlier: list[Override], path: str, index: int, zone: zoneinfo.ZoneInfo
) -> None:
    for other_index, other in enumerate(earlier):
        if override.start < other.end and other.start < override.end:
            raise ConfigError(
                _item(path, index),
                f"overlaps {_item(path.rsplit('.', 1)[-1], other_index)} ({other.user}, "
                f"{_local_text(other.start, zone)} to {_local_text(other.end, zone)}); "
                "overrides of one schedule must not overlap — shorten or remove one",
            )


def _override_time(value: object, path: str, zone: zoneinfo.ZoneInfo) -> datetime:
    """ISO 8601 with an offset or Z, or "YYYY-MM-DD HH:MM" in the schedule's zone."""
    if isinstance(value, datetime):
        moment = value  # an unquoted TOML date-time
    else:
        text = _string(value, path, _EXAMPLES["from"])
        moment = _read_stamp(text, path)
    try:
        if moment.tzinfo is None:
            return _local_to_utc(moment, path, zone)
        return moment.astimezone(UTC)
    except OverflowError:  # the first or last day of year 1 or 9999, moved into UTC
        raise ConfigError(
            path,
            f"{moment.isoformat()} is out of range; use a date between years 2 and 9998, "
            'like "2026-12-24 19:00"',
        ) from None


def _read_stamp(text: str, path: str) -> datetime:
    try:
        if _STAMP.fullmatch(text.strip()):
            return datetime.fromisoformat(text.strip())
    except ValueError:
        pass
    raise ConfigError(
        path,
        f'"{text}" is not a date and time; use "YYYY-MM-DD HH:MM" in the schedule\'s time zone, '
        'or ISO 8601 with an offset, like "2026-11-28T19:00:00-06:00"',
    )


def _local_to_utc(wall: datetime, path: str, zone: zoneinfo.ZoneInfo) -> datetime:
    """A local time that happens exactly once; DST repeats and gaps are refused, not guessed."""
    try:
        return to_utc(wall, zone)
    except LocalTimeError as refused:
        if isinstance(refused, AmbiguousLocalTime):
            problem = "happens twice (clocks go back that night)"
        else:
            problem = "does not exist (clocks skip it that night)"
        choices = f'"{_iso_minutes(refused.earlier)}" or "{_iso_minutes(refused.later)}"'
        raise ConfigError(
            path,
            f"{wall:%Y-%m-%d %H:%M} {problem} in {zone.key}; write it with an offset: {choices}",
        ) from None


def _iso_minutes(moment: datetime) -> str:
    return moment.isoformat(timespec="minutes")


def _local_text(moment: datetime, zone: zoneinfo.ZoneInfo) -> str:
    return _iso_minutes(moment.astimezone(zone))
