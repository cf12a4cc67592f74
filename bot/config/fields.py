"""Typed readers for the values of the TOML config: each names the exact key on error.

Every config mistake raises :class:`ConfigError` with the key's dotted path
(``facility[1].timezone``) and a message that says what a right value looks like,
so an operator can fix the file without reading code. Each reader takes a value and
its key path and returns a plain Python value, or raises.

Names with a leading underscore are this package's own: the loaders beside this
module (``schedules``, ``escalation``, ``facility_file``) use them, nothing else does.
"""

from __future__ import annotations

import difflib
import os
import re
import stat
import zoneinfo
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any, Protocol, TypeVar

from bot.core.durations import parse_duration
from bot.core.model import CUSTODY_WINDOW

_HOUR = timedelta(hours=1)

_FACILITY_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
# Slack ids are 9 to 11 characters today; 32 leaves room to grow and bounds what is rendered.
_CHANNEL_ID = re.compile(r"[CG][A-Z0-9]{2,31}")
_USER_ID = re.compile(r"[UW][A-Z0-9]{2,31}")
_USER_GROUP_ID = re.compile(r"S[A-Z0-9]{2,31}")

# What a right value looks like, quoted in "missing" and "wrong type" messages.
_EXAMPLES = {
    "id": '"county-jail"',
    "name": '"County Jail"',
    "timezone": '"America/Chicago"',
    "jail_channel": '"C0123JAIL"',
    "ice_channel": '"C0456ICE"',
    "officers": '["U0AAA", "U0BBB"]',
    "staff": '["U0DESK"]',
    "ice_staff": '["U0ERO1"]',
    "igsa": "true",
    "notify": '["U0SGT", "S0SHIFT", "oncall:night-sgt"]',
    "before": '["24h", "12h", "4h", "1h", "30m"]',
    "after": '"15m"',
    "escalation_repeat": "2",
    "reack_after": '"30m"',
    "pagerduty_routing_key": '"R0123456789ABCDEF0123456789ABCDE"',
    "handoff": '"07:00"',
    "rotation": '"weekly"',
    "users": '["U0LT1", "U0LT2"]',
    "start": '"2026-01-05"',
    "ical": '"oncall/ice-duty.ics"',
    "user": '"U0LT3"',
    "from": '"2026-11-28 19:00"',
    "to": '"2026-11-29 07:00"',
    "url": '"https://jms.example.org/wso-events"',
    "secret": '"<a long random string>"',
}


class ConfigError(Exception):
    """A config mistake; ``key`` is the bad key's dotted path, e.g. ``facility[1].timezone``."""

    def __init__(self, key: str, message: str, source: str = "") -> None:
        super().__init__(key, message, source)
        self.key = key
        self.message = message
        self.source = source

    def __str__(self) -> str:
        return ": ".join(part for part in (self.source, self.key, self.message) if part)


class UnreadableFile(Exception):
    """A file the config names is not one to read: not a regular file, or too large."""


def read_small_file(path: Path, limit: int, what: str) -> bytes:
    """The bytes of the regular file at ``path``, refusing anything longer than ``limit``.

    Opened without blocking and checked before reading, so that a FIFO (which
    would wait for a writer) or a device such as ``/dev/zero`` (which never
    ends) cannot hang start-up. Raises ``UnreadableFile`` with a message for
    people (``what`` names the file in it, "a config file"), or ``OSError``
    (``FileNotFoundError`` …) from opening.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    descriptor = os.open(path, flags)
    try:
        mode = os.fstat(descriptor).st_mode
        if not stat.S_ISREG(mode):
            raise UnreadableFile(f"it is {_file_kind(mode)}, not a regular file")
        data = _read_at_most(descriptor, limit + 1)
    finally:
        os.close(descriptor)
    if len(data) > limit:
        raise UnreadableFile(f"it is larger than {_size_text(limit)}, the limit for {what}")
    return data


def _read_at_most(descriptor: int, size: int) -> bytes:
    chunks: list[bytes] = []
    remaining = size
    while remaining > 0:
        chunk = os.read(descriptor, min(remaining, 64 * 1024))
        if not chunk:
            break
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def _file_kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a special file"


def _size_text(size: int) -> str:
    return f"{size // (1024 * 1024)} MiB" if size >= 1024 * 1024 else f"{size} bytes"


# --- key paths and generic checks ------------------------------------------------------


def _child(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _item(path: str, index: int) -> str:
    return f"{path}[{index}]"


def _describe(value: object) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a table"
    return f"a {type(value).__name__}"


def _reject_unknown_keys(table: Mapping[str, Any], known: Collection[str], path: str) -> None:
    for key in table:
        if key not in known:
            raise ConfigError(_child(path, key), _unknown_key_message(key, known))


def _unknown_key_message(key: str, known: Collection[str]) -> str:
    close = difflib.get_close_matches(key, list(known), n=1)
    if close:
        return f'unknown key; did you mean "{close[0]}"?'
    return f"unknown key; known keys here are: {', '.join(known)}"


def _required(table: Mapping[str, Any], key: str, path: str, example: str | None = None) -> Any:
    if key not in table:
        shown = example or _EXAMPLES[key]
        raise ConfigError(_child(path, key), f"missing; add it, like {key} = {shown}")
    return table[key]


def _list_of_tables(value: object, path: str, header: str) -> list[Mapping[str, Any]]:
    if not isinstance(value, list) or not all(isinstance(each, dict) for each in value):
        raise ConfigError(path, f"must be tables written as {header}, each with its own keys")
    return value


def _string(value: object, path: str, example: str) -> str:
    if not isinstance(value, str):
        raise ConfigError(path, f"must be a string, like {example} (got {_describe(value)})")
    return value


def _string_list(value: object, path: str, example: str) -> list[str]:
    if isinstance(value, str):
        raise ConfigError(path, f"must be a list in brackets, like {example}, not a bare string")
    if not isinstance(value, list):
        raise ConfigError(path, f"must be a list, like {example} (got {_describe(value)})")
    for index, each in enumerate(value):
        if not isinstance(each, str):
            message = f"must be a string in quotes, like those in {example} (got {_describe(each)})"
            raise ConfigError(_item(path, index), message)
    return value


def _duration(value: object, path: str) -> timedelta:
    try:
        return parse_duration(_string(value, path, '"1h30m"'))
    except ValueError as error:
        raise ConfigError(path, str(error)) from None


def _positive_duration(value: object, path: str, example: str) -> timedelta:
    duration = _duration(value, path)
    if duration <= timedelta(0):
        raise ConfigError(path, f'must be more than 0, like {example} (got "{value}")')
    return duration


def _lead_time(value: object, path: str, example: str) -> timedelta:
    """A time before the deadline: more than 0 and less than the 48-hour window."""
    lead_time = _positive_duration(value, path, example)
    if lead_time >= CUSTODY_WINDOW:
        raise ConfigError(path, f'must be less than 48h, like {example} (got "{value}")')
    return lead_time


def _at_most(items: Sequence[object], limit: int, path: str, what: str, why: str) -> None:
    """Refuse more than ``limit`` items, saying why the ceiling is there."""
    if len(items) > limit:
        raise ConfigError(path, f"at most {limit} {what} (got {len(items)}): {why}")


def _not_longer(value: timedelta, limit: timedelta, path: str, text: object, why: str) -> None:
    """Refuse a duration over ``limit`` (a whole number of hours, as people say it)."""
    if value > limit:
        raise ConfigError(path, f'must be at most {limit // _HOUR}h (got "{text}"): {why}')


# --- tables with an id ---------------------------------------------------------------------


class _HasId(Protocol):
    @property
    def id(self) -> str: ...


_WithId = TypeVar("_WithId", bound=_HasId)


def _tables_with_ids(
    value: object, kind: str, parse: Callable[[Mapping[str, Any], str], _WithId]
) -> tuple[_WithId, ...]:
    """Each ``[[kind]]`` table read by ``parse``, in file order; two with one id are refused.

    A mistake inside a table also names the table's id, since an index alone is hard to find.
    """
    tables = _list_of_tables(value, kind, f"[[{kind}]] (double brackets)")
    parsed: list[_WithId] = []
    for index, table in enumerate(tables):
        path = _item(kind, index)
        with _naming(kind, _peek_id(table)):
            each = parse(table, path)
        _reject_duplicate_id(kind, each.id, [other.id for other in parsed], path)
        parsed.append(each)
    return tuple(parsed)


def _reject_duplicate_id(kind: str, table_id: str, earlier: list[str], path: str) -> None:
    if table_id in earlier:
        raise ConfigError(
            _child(path, "id"),
            f'duplicate {kind} id "{table_id}" ({kind}[{earlier.index(table_id)}] has it too); '
            f"each {kind} needs its own id",
        )


@contextmanager
def _naming(kind: str, table_id: str | None) -> Iterator[None]:
    """Add the table's id to error messages, since an index alone is hard to find."""
    try:
        yield
    except ConfigError as error:
        if table_id is None:
            raise
        message = f'{error.message} (in {kind} "{table_id}")'
        raise ConfigError(error.key, message) from None


def _peek_id(table: Mapping[str, Any]) -> str | None:
    facility_id = table.get("id")
    if isinstance(facility_id, str) and _FACILITY_ID.fullmatch(facility_id):
        return facility_id
    return None


def _table_id(value: object, path: str, example: str) -> str:
    """A facility or schedule id: short, lower-case, stable."""
    table_id = _string(value, path, example)
    if not _FACILITY_ID.fullmatch(table_id):
        raise ConfigError(
            path,
            f'"{table_id}" is not a valid id; use lower-case letters, digits, "-" and "_" '
            f"(up to 64), like {example}",
        )
    return table_id


# --- time zones and people ---------------------------------------------------------------


def _timezone(value: object, path: str) -> str:
    name = _string(value, path, _EXAMPLES["timezone"])
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        raise ConfigError(path, _unknown_zone_message(name)) from None
    return name


def _unknown_zone_message(name: str) -> str:
    message = f'unknown time zone "{name}"; use an IANA name like "America/Chicago"'
    known = zoneinfo.available_timezones()
    by_lower = {zone.lower(): zone for zone in known}
    close = by_lower.get(name.strip().lower()) or next(
        iter(difflib.get_close_matches(name, sorted(known), n=1)), None
    )
    return f'{message} (did you mean "{close}"?)' if close else message


def _user_ids(value: object, path: str, example: str) -> frozenset[str]:
    return frozenset(_user_id_list(value, path, example))


def _user_id_list(value: object, path: str, example: str) -> list[str]:
    user_ids = _string_list(value, path, example)
    for index, user_id in enumerate(user_ids):
        _user_id(user_id, _item(path, index))
    return user_ids


def _user_id(value: object, path: str) -> str:
    user_id = _string(value, path, _EXAMPLES["user"])
    if not _USER_ID.fullmatch(user_id):
        raise ConfigError(path, _bad_user_id_message(user_id))
    return user_id


def _bad_user_id_message(user_id: str) -> str:
    return (
        f'"{user_id}" is not a Slack member ID; use the ID (like "U0AAA"), not a display name '
        '— "Copy member ID" on their Slack profile gives it'
    )
