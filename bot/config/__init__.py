"""Deployment config, each part loaded once at start-up into a frozen object.

Two sources:

* the TOML facility file (``wso.toml``): reminders, facilities, channels, who may do what,
  escalation chains, on-call schedules (``bot.core.oncall`` holds their types) and webhooks;
* the environment (:class:`Settings`): Slack credentials, paths, the HTTP port.

This is the only module that reads environment variables, and only through
:meth:`Settings.from_env`, which takes the mapping as a parameter.
Every config mistake raises :class:`ConfigError` naming the exact key, so an
operator can fix the file without reading code.
"""

from __future__ import annotations

import difflib
import os
import re
import stat
import tomllib
import unicodedata
import zoneinfo
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bot.core.durations import parse_duration
from bot.core.facility import (  # re-exported: the validated config is the core's values
    DEFAULT_BACKUP_GRACE as DEFAULT_BACKUP_GRACE,
)
from bot.core.facility import DEFAULT_REACK_AFTER as DEFAULT_REACK_AFTER
from bot.core.facility import DEFAULT_REMINDERS as DEFAULT_REMINDERS
from bot.core.facility import Config as Config
from bot.core.facility import EscalationLevel as EscalationLevel
from bot.core.facility import Facility as Facility
from bot.core.facility import IceEscalationLevel as IceEscalationLevel
from bot.core.facility import Reminders as Reminders
from bot.core.facility import Webhook as Webhook
from bot.core.local_time import AmbiguousLocalTime, LocalTimeError, to_utc
from bot.core.model import CUSTODY_WINDOW
from bot.core.oncall import (
    DEFAULT_ROTATION_START,
    IcalCalendar,
    Override,
    Rotation,
    RotationPeriod,
    parse_ical,
)
from bot.core.oncall import Schedule as Schedule  # re-exported: Config.schedules holds these

DEFAULT_SLACK_API_URL = "https://slack.com/api/"
DEFAULT_PAGERDUTY_EVENTS_URL = "https://events.pagerduty.com"
DEFAULT_CONFIG_PATH = Path("wso.toml")
DEFAULT_DB_PATH = Path("wso.db")
DEFAULT_PORT = 3000
DEFAULT_HOST = "0.0.0.0"

# Files the config names are read whole at start-up; these are far above any real one.
MAX_CONFIG_FILE_BYTES = 1024 * 1024
MAX_ICAL_FILE_BYTES = 2 * 1024 * 1024

# Ceilings on what multiplies the notices one arrest plans (see ``bot.core.custody_plan``):
# each is far above a real deployment, and together they keep one arrest's plan to a few
# hundred rows, stored in one transaction while the officer waits for the answer.
MAX_REMINDERS = 10
MAX_ESCALATION_LEVELS = 10  # per chain: expiry and ICE
MAX_ESCALATION_REPEAT = 10
MAX_NOTIFY_ENTRIES = 20  # per level
MAX_WEBHOOKS = 10
# The expiry chain's length (every level's after, in every round) and reack_after bound the
# span an arrest checks for on-call gaps, within the 3 s Slack gives a command.
MAX_ESCALATION_AFTER = timedelta(hours=24)
MAX_REACK_AFTER = timedelta(hours=24)
# Rendered into every message, and Slack caps a button at 75 characters and a section at
# 3,000: a name people read at a glance fits easily.
MAX_FACILITY_NAME_CHARS = 80
_HOUR = timedelta(hours=1)

_FACILITY_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
# Slack ids are 9 to 11 characters today; 32 leaves room to grow and bounds what is rendered.
_CHANNEL_ID = re.compile(r"[CG][A-Z0-9]{2,31}")
_USER_ID = re.compile(r"[UW][A-Z0-9]{2,31}")
_USER_GROUP_ID = re.compile(r"S[A-Z0-9]{2,31}")
_ONCALL = re.compile(r"oncall:[a-z0-9][a-z0-9_-]{0,63}")
_ONCALL_PREFIX = "oncall:"
_ROUTING_KEY = re.compile(r"[A-Za-z0-9]{20,64}")
_HANDOFF = re.compile(r"(?P<hour>\d{2}):(?P<minute>\d{2})")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_STAMP = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2})?(?P<offset>Z|[+-]\d{2}:\d{2})?")

_TOP_LEVEL_KEYS = ("reminders", "facility", "schedule", "webhook", "heartbeat_url")
_REMINDER_KEYS = ("before", "backup_grace")
_FACILITY_KEYS = (
    "id",
    "name",
    "timezone",
    "jail_channel",
    "ice_channel",
    "officers",
    "staff",
    "escalation",
    "escalation_repeat",
    "reack_after",
    "pagerduty_routing_key",
    "ice_escalation",
)
_ESCALATION_KEYS = ("notify", "after")
_ICE_ESCALATION_KEYS = ("notify", "before", "after")
_ROTATION_KEYS = ("handoff", "rotation", "users", "start")
_SCHEDULE_KEYS = ("id", "timezone", *_ROTATION_KEYS, "ical", "overrides")
_OVERRIDE_KEYS = ("user", "from", "to")
_WEBHOOK_KEYS = ("url", "secret")

# What a right value looks like, quoted in "missing" and "wrong type" messages.
_EXAMPLES = {
    "id": '"county-jail"',
    "name": '"County Jail"',
    "timezone": '"America/Chicago"',
    "jail_channel": '"C0123JAIL"',
    "ice_channel": '"C0456ICE"',
    "officers": '["U0AAA", "U0BBB"]',
    "staff": '["U0DESK"]',
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
# Keys whose example depends on the table they are in.
_SCHEDULE_ID_EXAMPLE = '"watch-commanders"'
_ICE_BEFORE_EXAMPLE = '"4h"'
_OVERRIDE_EXAMPLE = '{ user = "U0LT3", from = "2026-11-28 19:00", to = "2026-11-29 07:00" }'


class ConfigError(Exception):
    """A config mistake; ``key`` is the bad key's dotted path, e.g. ``facility[1].timezone``."""

    def __init__(self, key: str, message: str, source: str = "") -> None:
        super().__init__(key, message, source)
        self.key = key
        self.message = message
        self.source = source

    def __str__(self) -> str:
        return ": ".join(part for part in (self.source, self.key, self.message) if part)


def load_config(path: Path) -> Config:
    """Read and validate the TOML facility file at ``path``; raise ConfigError on any mistake.

    Relative ``ical`` paths of schedules are read from the file's folder.
    """
    try:
        data = read_small_file(path, MAX_CONFIG_FILE_BYTES, "a config file")
    except FileNotFoundError:
        raise ConfigError(
            "", f"config file not found: {path} — copy wso.example.toml to {path} and edit it"
        ) from None
    except UnreadableFile as problem:
        raise ConfigError("", f"cannot read config file: {problem}", str(path)) from None
    except OSError as error:
        raise ConfigError("", f"cannot read config file: {error.strerror}", str(path)) from None
    return parse_config(_parse_toml(data, str(path)), source=str(path), base_dir=path.parent)


def _parse_toml(data: bytes, source: str) -> dict[str, Any]:
    try:
        return tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError("", "config file is not UTF-8 text", source) from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError("", f"invalid TOML: {error}", source) from None
    except RecursionError:
        # tomllib parses nested lists and inline tables recursively.
        raise ConfigError(
            "",
            "invalid TOML: lists or tables are nested hundreds of levels deep; "
            "a WSO config nests a few levels at most",
            source,
        ) from None


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


def parse_config(
    document: Mapping[str, Any], source: str = "", *, base_dir: Path | None = None
) -> Config:
    """Validate an already-parsed TOML document; ``source`` names it in errors.

    ``base_dir`` is the folder relative ``ical`` paths are read from (default: the
    working directory). This reads those files, and nothing else.
    """
    try:
        return _parse_document(document, base_dir)
    except ConfigError as error:
        raise ConfigError(error.key, error.message, source or error.source) from None


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


def _reminders_table(document: Mapping[str, Any]) -> Mapping[str, Any]:
    table = document.get("reminders", {})
    if not isinstance(table, dict):
        raise ConfigError(
            "reminders",
            f"must be a table: a [reminders] line, then before = {_EXAMPLES['before']} "
            f"(got {_describe(table)})",
        )
    return table


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


# --- the document ------------------------------------------------------------------------


def _parse_document(document: Mapping[str, Any], base_dir: Path | None) -> Config:
    _reject_unknown_keys(document, _TOP_LEVEL_KEYS, "")
    reminders = _parse_reminders(_reminders_table(document))
    facilities = _parse_facilities(document.get("facility"))
    schedules = _parse_schedules(document.get("schedule", []), base_dir)
    _check_oncall_references(facilities, schedules)
    return Config(
        reminders=reminders,
        facilities=facilities,
        schedules=schedules,
        webhooks=_parse_webhooks(document.get("webhook", [])),
        heartbeat_url=_heartbeat_url(document.get("heartbeat_url")),
    )


def _heartbeat_url(value: object) -> str | None:
    if value is None:
        return None
    url = _string(value, "heartbeat_url", '"https://hc-ping.com/your-check-uuid"')
    if not url.startswith(("http://", "https://")):
        raise ConfigError("heartbeat_url", "must be an http:// or https:// URL")
    return url


def _parse_reminders(table: Mapping[str, Any]) -> Reminders:
    _reject_unknown_keys(table, _REMINDER_KEYS, "reminders")
    grace = DEFAULT_BACKUP_GRACE
    if "backup_grace" in table:
        grace = _duration(table["backup_grace"], "reminders.backup_grace")
    if "before" not in table:
        return Reminders(DEFAULT_REMINDERS, backup_grace=grace)
    path = "reminders.before"
    texts = _string_list(table["before"], path, _EXAMPLES["before"])
    _at_most(
        texts,
        MAX_REMINDERS,
        path,
        "reminders",
        "each is posted in both channels, and more would drown the ones that matter",
    )
    lead_times: list[timedelta] = []
    for index in range(len(texts)):
        lead_times.append(_reminder_lead_time(texts, index, lead_times, path))
    return Reminders(tuple(lead_times), backup_grace=grace)


def _reminder_lead_time(
    texts: list[str], index: int, earlier: list[timedelta], list_path: str
) -> timedelta:
    path, text = _item(list_path, index), texts[index]
    lead_time = _duration(text, path)
    if lead_time <= timedelta(0):
        raise ConfigError(path, f'must be more than 0, like "30m" (got "{text}")')
    if lead_time >= CUSTODY_WINDOW:
        raise ConfigError(path, f'must be less than 48h, like "24h" (got "{text}")')
    if lead_time in earlier:
        first = _item(list_path, earlier.index(lead_time))
        raise ConfigError(path, f'duplicate: "{text}" is the same lead time as {first}; remove one')
    return lead_time


def _parse_facilities(value: object) -> tuple[Facility, ...]:
    if value is None or value == []:
        raise ConfigError("facility", "no facilities; add at least one [[facility]] table")
    tables = _list_of_tables(value, "facility", "[[facility]] (double brackets)")
    facilities: list[Facility] = []
    for index, table in enumerate(tables):
        path = _item("facility", index)
        facility = _parse_facility(table, path)
        _reject_duplicate_id("facility", facility.id, [each.id for each in facilities], path)
        facilities.append(facility)
    return tuple(facilities)


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


def _parse_facility(table: Mapping[str, Any], path: str) -> Facility:
    with _naming("facility", _peek_id(table)):
        _reject_unknown_keys(table, _FACILITY_KEYS, path)
        return Facility(
            id=_table_id(_required(table, "id", path), _child(path, "id"), _EXAMPLES["id"]),
            name=_facility_name(_required(table, "name", path), _child(path, "name")),
            timezone_name=_timezone(_required(table, "timezone", path), _child(path, "timezone")),
            jail_channel=_channel(_required(table, "jail_channel", path), path, "jail_channel"),
            ice_channel=_channel(_required(table, "ice_channel", path), path, "ice_channel"),
            officers=_officers(_required(table, "officers", path), _child(path, "officers")),
            staff=_user_ids(table.get("staff", []), _child(path, "staff"), _EXAMPLES["staff"]),
            escalation=_parse_escalation(table.get("escalation", []), _child(path, "escalation")),
            escalation_repeat=_escalation_repeat(table, _child(path, "escalation_repeat")),
            reack_after=_reack_after(table, _child(path, "reack_after")),
            pagerduty_routing_key=_routing_key(table, _child(path, "pagerduty_routing_key")),
            ice_escalation=_parse_ice_escalation(
                table.get("ice_escalation", []), _child(path, "ice_escalation")
            ),
        )


# --- facility fields ---------------------------------------------------------------------


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


def _facility_name(value: object, path: str) -> str:
    name = _string(value, path, _EXAMPLES["name"])
    if not name.strip():
        raise ConfigError(path, 'must not be empty; use the name people know, like "County Jail"')
    if len(name) > MAX_FACILITY_NAME_CHARS:
        raise ConfigError(
            path,
            f"must be at most {MAX_FACILITY_NAME_CHARS} characters (got {len(name)}): it is "
            "shown in every message, and Slack limits the length of message parts",
        )
    if any(unicodedata.category(char) in ("Cc", "Zl", "Zp") for char in name):
        raise ConfigError(path, "must be one line of plain text, without tabs or line breaks")
    return name


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


def _channel(value: object, facility_path: str, key: str) -> str:
    path = _child(facility_path, key)
    example = _EXAMPLES[key]
    channel = _string(value, path, example)
    if _CHANNEL_ID.fullmatch(channel):
        return channel
    if channel.startswith("#") or channel != channel.upper():
        raise ConfigError(
            path,
            f'"{channel}" looks like a channel name; use the channel ID (like {example}), '
            "not its name — it is at the bottom of the channel's details in Slack",
        )
    raise ConfigError(
        path, f'"{channel}" is not a Slack channel ID; IDs start with C or G, like {example}'
    )


def _officers(value: object, path: str) -> frozenset[str]:
    officers = _user_ids(value, path, _EXAMPLES["officers"])
    if not officers:
        raise ConfigError(
            path, f"needs at least one officer's Slack member ID, like {_EXAMPLES['officers']}"
        )
    return officers


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


# --- escalation --------------------------------------------------------------------------


_LEVELS_WHY = (
    f"each level is paged in every round; if {MAX_ESCALATION_LEVELS} levels find nobody, "
    "more will not"
)


def _parse_escalation(value: object, path: str) -> tuple[EscalationLevel, ...]:
    tables = _list_of_tables(value, path, "[[facility.escalation]] (double brackets)")
    _at_most(tables, MAX_ESCALATION_LEVELS, path, "levels", _LEVELS_WHY)
    return tuple(
        _parse_escalation_level(table, _item(path, index)) for index, table in enumerate(tables)
    )


def _parse_ice_escalation(value: object, path: str) -> tuple[IceEscalationLevel, ...]:
    tables = _list_of_tables(value, path, "[[facility.ice_escalation]] (double brackets)")
    _at_most(tables, MAX_ESCALATION_LEVELS, path, "levels", _LEVELS_WHY)
    return tuple(
        _parse_ice_escalation_level(table, _item(path, index)) for index, table in enumerate(tables)
    )


def _parse_ice_escalation_level(table: Mapping[str, Any], path: str) -> IceEscalationLevel:
    _reject_unknown_keys(table, _ICE_ESCALATION_KEYS, path)
    return IceEscalationLevel(
        notify=_notify_targets(_required(table, "notify", path), _child(path, "notify")),
        before=_lead_time(
            _required(table, "before", path, _ICE_BEFORE_EXAMPLE),
            _child(path, "before"),
            _ICE_BEFORE_EXAMPLE,
        ),
        after=_escalation_delay(table, _child(path, "after")),
    )


def _parse_escalation_level(table: Mapping[str, Any], path: str) -> EscalationLevel:
    _reject_unknown_keys(table, _ESCALATION_KEYS, path)
    return EscalationLevel(
        notify=_notify_targets(_required(table, "notify", path), _child(path, "notify")),
        after=_escalation_delay(table, _child(path, "after")),
    )


def _escalation_delay(table: Mapping[str, Any], path: str) -> timedelta:
    if "after" not in table:
        return timedelta(0)
    delay = _duration(table["after"], path)
    _not_longer(
        delay,
        MAX_ESCALATION_AFTER,
        path,
        table["after"],
        "a custody past its deadline cannot wait a day for the next level",
    )
    return delay


def _notify_targets(value: object, path: str) -> tuple[str, ...]:
    targets = _string_list(value, path, _EXAMPLES["notify"])
    if not targets:
        raise ConfigError(path, f"needs at least one target, like {_EXAMPLES['notify']}")
    _at_most(
        targets,
        MAX_NOTIFY_ENTRIES,
        path,
        "targets",
        "put the people in a Slack user group and name the group (S…) instead",
    )
    for index, target in enumerate(targets):
        if not _is_notify_target(target):
            raise ConfigError(
                _item(path, index),
                f'"{target}" is not a notify target; use a member ID like "U0SGT", '
                'a user group ID like "S0SHIFT", or "oncall:<schedule id>" like "oncall:night-sgt"',
            )
    return tuple(targets)


def _is_notify_target(target: str) -> bool:
    patterns = (_USER_ID, _USER_GROUP_ID, _ONCALL)
    return any(pattern.fullmatch(target) for pattern in patterns)


def _escalation_repeat(table: Mapping[str, Any], path: str) -> int:
    if "escalation_repeat" not in table:
        return 0
    repeat = table["escalation_repeat"]
    # bool is an int subclass in Python, but "true" is no count.
    if isinstance(repeat, bool) or not isinstance(repeat, int):
        raise ConfigError(
            path, f"must be a whole number, 0 or more, like 2 (got {_describe(repeat)})"
        )
    if repeat < 0:
        raise ConfigError(
            path, f"must be 0 or more (got {repeat}); 0 runs the chain once, 2 runs it 3 times"
        )
    if repeat > MAX_ESCALATION_REPEAT:
        raise ConfigError(
            path,
            f"must be at most {MAX_ESCALATION_REPEAT} (got {repeat}): the chain then runs "
            f"{MAX_ESCALATION_REPEAT + 1} times, and more only pages the same people again "
            "without reaching anyone new, while every arrest plans each page in advance",
        )
    return repeat


def _reack_after(table: Mapping[str, Any], path: str) -> timedelta:
    if "reack_after" not in table:
        return DEFAULT_REACK_AFTER
    reack_after = _positive_duration(table["reack_after"], path, _EXAMPLES["reack_after"])
    _not_longer(
        reack_after,
        MAX_REACK_AFTER,
        path,
        table["reack_after"],
        "an acknowledged custody that is still open must be paged again the same day",
    )
    return reack_after


def _routing_key(table: Mapping[str, Any], path: str) -> str | None:
    if "pagerduty_routing_key" not in table:
        return None
    # Never quote the value: it is a credential.
    key = _string(table["pagerduty_routing_key"], path, _EXAMPLES["pagerduty_routing_key"])
    if not _ROUTING_KEY.fullmatch(key):
        raise ConfigError(
            path,
            "must be the integration key of a PagerDuty Events API v2 integration: "
            f"20 to 64 letters and digits (usually 32; got {len(key)} characters)",
        )
    return key


def _notify_entries(facilities: Iterable[Facility]) -> Iterator[tuple[str, str]]:
    """Every notify target with its key path, in file order (escalation before ICE levels)."""
    for facility_index, facility in enumerate(facilities):
        chains: tuple[tuple[str, Sequence[EscalationLevel | IceEscalationLevel]], ...] = (
            ("escalation", facility.escalation),
            ("ice_escalation", facility.ice_escalation),
        )
        for chain, levels in chains:
            for level_index, level in enumerate(levels):
                level_path = f"facility[{facility_index}].{chain}[{level_index}].notify"
                for target_index, target in enumerate(level.notify):
                    yield _item(level_path, target_index), target


def _check_oncall_references(facilities: Iterable[Facility], schedules: Sequence[Schedule]) -> None:
    known = [schedule.id for schedule in schedules]
    for path, target in _notify_entries(facilities):
        if target.startswith(_ONCALL_PREFIX) and target[len(_ONCALL_PREFIX) :] not in known:
            raise ConfigError(path, _unknown_schedule_message(target[len(_ONCALL_PREFIX) :], known))


def _unknown_schedule_message(schedule_id: str, known: list[str]) -> str:
    message = f'no [[schedule]] has id "{schedule_id}"'
    if not known:
        return f'{message}; add one with id = "{schedule_id}" (there are no schedules yet)'
    close = difflib.get_close_matches(schedule_id, known, n=1)
    hint = f'did you mean "oncall:{close[0]}"? ' if close else ""
    return f"{message}; {hint}known schedules: {', '.join(known)}"


def referenced_user_groups(config: Config) -> dict[str, str]:
    """Each Slack user group id (``S…``) named in a notify list, with the key of its first use.

    Only Slack knows which groups exist; the caller checks these against
    ``usergroups.list`` at start-up and names the key of any unknown one.
    """
    groups: dict[str, str] = {}
    for path, target in _notify_entries(config.facilities):
        if _USER_GROUP_ID.fullmatch(target):
            groups.setdefault(target, path)
    return groups


# --- on-call schedules -------------------------------------------------------------------


def _parse_schedules(value: object, base_dir: Path | None) -> tuple[Schedule, ...]:
    tables = _list_of_tables(value, "schedule", "[[schedule]] (double brackets)")
    schedules: list[Schedule] = []
    for index, table in enumerate(tables):
        path = _item("schedule", index)
        schedule = _parse_schedule(table, path, base_dir)
        _reject_duplicate_id("schedule", schedule.id, [each.id for each in schedules], path)
        schedules.append(schedule)
    return tuple(schedules)


def _parse_schedule(table: Mapping[str, Any], path: str, base_dir: Path | None) -> Schedule:
    with _naming("schedule", _peek_id(table)):
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
    if moment.tzinfo is None:
        return _local_to_utc(moment, path, zone)
    return moment.astimezone(UTC)


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


# --- webhooks ----------------------------------------------------------------------------


def _parse_webhooks(value: object) -> tuple[Webhook, ...]:
    tables = _list_of_tables(value, "webhook", "[[webhook]] (double brackets)")
    _at_most(
        tables,
        MAX_WEBHOOKS,
        "webhook",
        "webhooks",
        "each receives every event of every custody; fan out from one receiver instead",
    )
    return tuple(
        _parse_webhook(table, _item("webhook", index)) for index, table in enumerate(tables)
    )


def _parse_webhook(table: Mapping[str, Any], path: str) -> Webhook:
    _reject_unknown_keys(table, _WEBHOOK_KEYS, path)
    return Webhook(
        url=_webhook_url(_required(table, "url", path), _child(path, "url")),
        secret=_webhook_secret(_required(table, "secret", path), _child(path, "secret")),
    )


def _webhook_url(value: object, path: str) -> str:
    # The URL is not quoted back: some receivers put a token in it.
    url = _string(value, path, _EXAMPLES["url"])
    try:
        parts = urlsplit(url.strip())
        valid = parts.scheme in ("http", "https") and bool(parts.hostname)
    except ValueError:
        valid = False
    if not valid:
        raise ConfigError(path, f"must be an http(s) URL with a host, like {_EXAMPLES['url']}")
    return url.strip()


def _webhook_secret(value: object, path: str) -> str:
    # Never quote the value: it signs every request.
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(
            path, "must be a non-empty string; use a long random one, shared with the receiver"
        )
    return value


# --- the environment ---------------------------------------------------------------------


class MissingCredentials(Exception):
    """The Slack credentials are not in the environment; ``missing`` names the variables."""

    def __init__(self, missing: tuple[str, ...]) -> None:
        super().__init__(missing)
        self.missing = missing

    def __str__(self) -> str:
        names = " and ".join(self.missing)
        return (
            f"missing Slack credentials: set {names} in the environment "
            "(from your Slack app's settings: OAuth & Permissions, Basic Information)"
        )


@dataclass(frozen=True)
class Settings:
    """Process settings from the environment; the token and secret never appear in repr."""

    slack_bot_token: str = field(repr=False)
    slack_signing_secret: str = field(repr=False)
    slack_api_url: str = DEFAULT_SLACK_API_URL
    config_path: Path = DEFAULT_CONFIG_PATH
    db_path: Path = DEFAULT_DB_PATH
    port: int = DEFAULT_PORT
    host: str = DEFAULT_HOST
    pagerduty_events_url: str = DEFAULT_PAGERDUTY_EVENTS_URL
    # Fault tests only: "after_claim", "after_post" or "mid_commit", optionally ":N" for
    # the N-th time; the process SIGKILLs itself there (see bot/faults.py).
    fault_point: str | None = None
    # Benchmarks only (B4 "with reconciliation off"): False resends whatever a crash or
    # a timeout left in doubt without looking in Slack's history first.
    history_lookup: bool = True

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Settings:
        """Build settings from an environment mapping; unset and empty variables mean defaults.

        Raises MissingCredentials if SLACK_BOT_TOKEN or SLACK_SIGNING_SECRET is unset or
        empty, and ConfigError (key = the variable) for a bad PORT or SLACK_API_URL.
        """
        token = _env(environ, "SLACK_BOT_TOKEN")
        secret = _env(environ, "SLACK_SIGNING_SECRET")
        missing = tuple(
            name
            for name, value in (("SLACK_BOT_TOKEN", token), ("SLACK_SIGNING_SECRET", secret))
            if value is None
        )
        if token is None or secret is None:
            raise MissingCredentials(missing)
        return cls(
            slack_bot_token=token,
            slack_signing_secret=secret,
            slack_api_url=_api_url(_env(environ, "SLACK_API_URL") or DEFAULT_SLACK_API_URL),
            config_path=Path(_env(environ, "WSO_CONFIG") or DEFAULT_CONFIG_PATH),
            db_path=Path(_env(environ, "WSO_DB") or DEFAULT_DB_PATH),
            port=_port(_env(environ, "PORT")),
            host=_env(environ, "HOST") or DEFAULT_HOST,
            pagerduty_events_url=_pagerduty_events_url(_env(environ, "PAGERDUTY_EVENTS_URL")),
            fault_point=_env(environ, "WSO_FAULT_POINT"),
            history_lookup=_history_lookup(_env(environ, "WSO_HISTORY_LOOKUP")),
        )


@dataclass(frozen=True)
class SlackAccess:
    """The bot token and the API URL: what ``check-config`` needs to ask Slack about the config.

    Unlike :class:`Settings`, it needs no signing secret: checking a config is not serving.
    """

    bot_token: str = field(repr=False)
    api_url: str = DEFAULT_SLACK_API_URL

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> SlackAccess | None:
        """None when SLACK_BOT_TOKEN is unset or blank; ConfigError for a bad SLACK_API_URL."""
        token = _env(environ, "SLACK_BOT_TOKEN")
        if token is None:
            return None
        return cls(token, _api_url(_env(environ, "SLACK_API_URL") or DEFAULT_SLACK_API_URL))


def _history_lookup(text: str | None) -> bool:
    if text is None or text.lower() == "on":
        return True
    if text.lower() == "off":
        return False
    raise ConfigError("WSO_HISTORY_LOOKUP", f'must be "on" or "off" (got "{text}")')


def _env(environ: Mapping[str, str], name: str) -> str | None:
    """The variable's value with surrounding whitespace removed; None if unset or blank."""
    value = environ.get(name, "").strip()
    return value or None


def _api_url(url: str) -> str:
    if not url.startswith(("https://", "http://")):
        raise ConfigError(
            "SLACK_API_URL", f'must be an http(s) URL, like "{DEFAULT_SLACK_API_URL}"'
        )
    return url if url.endswith("/") else url + "/"


def _pagerduty_events_url(url: str | None) -> str:
    """Base URL of the PagerDuty Events API; tests point it at a fake."""
    if url is None:
        return DEFAULT_PAGERDUTY_EVENTS_URL
    if not url.startswith(("https://", "http://")):
        raise ConfigError(
            "PAGERDUTY_EVENTS_URL", f'must be an http(s) URL, like "{DEFAULT_PAGERDUTY_EVENTS_URL}"'
        )
    return url.rstrip("/")


def _port(text: str | None) -> int:
    if text is None:
        return DEFAULT_PORT
    port = int(text) if re.fullmatch(r"[0-9]{1,5}", text) else 0
    if not 1 <= port <= 65_535:
        raise ConfigError(
            "PORT", f'must be a whole number from 1 to 65535, like 3000 (got "{text}")'
        )
    return port
