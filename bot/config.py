"""Deployment config, each part loaded once at start-up into a frozen object.

Two sources:

* the TOML facility file (``wso.toml``): reminders, facilities, channels, who may do what;
* the environment (:class:`Settings`): Slack credentials, paths, the HTTP port.

This is the only module that reads environment variables, and only through
:meth:`Settings.from_env`, which takes the mapping as a parameter.
Every config mistake raises :class:`ConfigError` naming the exact key, so an
operator can fix the file without reading code.
"""

from __future__ import annotations

import difflib
import re
import tomllib
import zoneinfo
from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from bot.durations import parse_duration
from bot.model import CUSTODY_WINDOW

DEFAULT_REMINDERS: tuple[timedelta, ...] = (
    timedelta(hours=24),
    timedelta(hours=12),
    timedelta(hours=4),
    timedelta(hours=1),
    timedelta(minutes=30),
)
DEFAULT_SLACK_API_URL = "https://slack.com/api/"
DEFAULT_CONFIG_PATH = Path("wso.toml")
DEFAULT_DB_PATH = Path("wso.db")
DEFAULT_PORT = 3000
DEFAULT_HOST = "0.0.0.0"

_FACILITY_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
_CHANNEL_ID = re.compile(r"[CG][A-Z0-9]{2,}")
_USER_ID = re.compile(r"[UW][A-Z0-9]{2,}")
_USER_GROUP_ID = re.compile(r"S[A-Z0-9]{2,}")
_ONCALL = re.compile(r"oncall:[a-z0-9][a-z0-9_-]*")

_TOP_LEVEL_KEYS = ("reminders", "facility")
_REMINDER_KEYS = ("before",)
_FACILITY_KEYS = (
    "id",
    "name",
    "timezone",
    "jail_channel",
    "ice_channel",
    "officers",
    "staff",
    "escalation",
)
_ESCALATION_KEYS = ("notify", "after")

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


@dataclass(frozen=True)
class EscalationLevel:
    """Who to notify, and how long after the escalation starts (parsed, not yet acted on)."""

    notify: tuple[str, ...]
    after: timedelta


@dataclass(frozen=True)
class Facility:
    """One jail: its clock's time zone, its two Slack channels, and who may act there."""

    id: str
    name: str
    timezone_name: str
    jail_channel: str
    ice_channel: str
    officers: frozenset[str]
    staff: frozenset[str] = frozenset()
    escalation: tuple[EscalationLevel, ...] = ()

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        """The facility's time zone (ZoneInfo caches instances, so this is cheap)."""
        return zoneinfo.ZoneInfo(self.timezone_name)

    def channels(self) -> tuple[str, str]:
        """The jail and ICE channel ids, in that order (they may be the same channel)."""
        return (self.jail_channel, self.ice_channel)

    def may_log_arrest(self, user_id: str) -> bool:
        """Only the facility's officers may start a custody clock."""
        return user_id in self.officers

    def may_close(self, user_id: str) -> bool:
        """Officers and staff may record a transfer or release."""
        return user_id in self.officers or user_id in self.staff


@dataclass(frozen=True)
class Reminders:
    """Lead times before the deadline at which to remind; always sorted longest first."""

    before: tuple[timedelta, ...] = DEFAULT_REMINDERS

    def __post_init__(self) -> None:
        object.__setattr__(self, "before", tuple(sorted(self.before, reverse=True)))


@dataclass(frozen=True)
class Config:
    """The whole facility file, validated."""

    reminders: Reminders
    facilities: tuple[Facility, ...]

    def facility(self, facility_id: str) -> Facility | None:
        """The facility with this id, or None."""
        return next((each for each in self.facilities if each.id == facility_id), None)

    def facilities_for_channel(self, channel_id: str) -> tuple[Facility, ...]:
        """Facilities whose jail or ICE channel this is."""
        return tuple(each for each in self.facilities if channel_id in each.channels())

    def facilities_for_officer(self, user_id: str) -> tuple[Facility, ...]:
        """Facilities where this user may log arrests."""
        return tuple(each for each in self.facilities if each.may_log_arrest(user_id))


def load_config(path: Path) -> Config:
    """Read and validate the TOML facility file at ``path``; raise ConfigError on any mistake."""
    try:
        with path.open("rb") as file:
            document = tomllib.load(file)
    except FileNotFoundError:
        raise ConfigError(
            "", f"config file not found: {path} — copy wso.example.toml to {path} and edit it"
        ) from None
    except OSError as error:
        raise ConfigError("", f"cannot read config file: {error.strerror}", str(path)) from None
    except UnicodeDecodeError:
        raise ConfigError("", "config file is not UTF-8 text", str(path)) from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError("", f"invalid TOML: {error}", str(path)) from None
    return parse_config(document, source=str(path))


def parse_config(document: Mapping[str, Any], source: str = "") -> Config:
    """Validate an already-parsed TOML document; ``source`` names it in errors."""
    try:
        return _parse_document(document)
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


def _required(table: Mapping[str, Any], key: str, path: str) -> Any:
    if key not in table:
        raise ConfigError(_child(path, key), f"missing; add it, like {key} = {_EXAMPLES[key]}")
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


# --- the document ------------------------------------------------------------------------


def _parse_document(document: Mapping[str, Any]) -> Config:
    _reject_unknown_keys(document, _TOP_LEVEL_KEYS, "")
    return Config(
        reminders=_parse_reminders(_reminders_table(document)),
        facilities=_parse_facilities(document.get("facility")),
    )


def _parse_reminders(table: Mapping[str, Any]) -> Reminders:
    _reject_unknown_keys(table, _REMINDER_KEYS, "reminders")
    if "before" not in table:
        return Reminders(DEFAULT_REMINDERS)
    path = "reminders.before"
    texts = _string_list(table["before"], path, _EXAMPLES["before"])
    lead_times: list[timedelta] = []
    for index in range(len(texts)):
        lead_times.append(_reminder_lead_time(texts, index, lead_times, path))
    return Reminders(tuple(lead_times))


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
        _reject_duplicate_id(facility.id, facilities, path)
        facilities.append(facility)
    return tuple(facilities)


def _reject_duplicate_id(facility_id: str, earlier: list[Facility], path: str) -> None:
    for index, other in enumerate(earlier):
        if other.id == facility_id:
            raise ConfigError(
                _child(path, "id"),
                f'duplicate facility id "{facility_id}" (facility[{index}] has it too); '
                "each facility needs its own id",
            )


@contextmanager
def _naming_facility(facility_id: str | None) -> Iterator[None]:
    """Add the facility id to error messages, since an index alone is hard to find."""
    try:
        yield
    except ConfigError as error:
        if facility_id is None:
            raise
        message = f'{error.message} (in facility "{facility_id}")'
        raise ConfigError(error.key, message) from None


def _peek_id(table: Mapping[str, Any]) -> str | None:
    facility_id = table.get("id")
    if isinstance(facility_id, str) and _FACILITY_ID.fullmatch(facility_id):
        return facility_id
    return None


def _parse_facility(table: Mapping[str, Any], path: str) -> Facility:
    with _naming_facility(_peek_id(table)):
        _reject_unknown_keys(table, _FACILITY_KEYS, path)
        return Facility(
            id=_facility_id(_required(table, "id", path), _child(path, "id")),
            name=_facility_name(_required(table, "name", path), _child(path, "name")),
            timezone_name=_timezone(_required(table, "timezone", path), _child(path, "timezone")),
            jail_channel=_channel(_required(table, "jail_channel", path), path, "jail_channel"),
            ice_channel=_channel(_required(table, "ice_channel", path), path, "ice_channel"),
            officers=_officers(_required(table, "officers", path), _child(path, "officers")),
            staff=_user_ids(table.get("staff", []), _child(path, "staff"), _EXAMPLES["staff"]),
            escalation=_parse_escalation(table.get("escalation", []), _child(path, "escalation")),
        )


# --- facility fields ---------------------------------------------------------------------


def _facility_id(value: object, path: str) -> str:
    facility_id = _string(value, path, _EXAMPLES["id"])
    if not _FACILITY_ID.fullmatch(facility_id):
        raise ConfigError(
            path,
            f'"{facility_id}" is not a valid id; use lower-case letters, digits, "-" and "_" '
            '(up to 64), like "county-jail"',
        )
    return facility_id


def _facility_name(value: object, path: str) -> str:
    name = _string(value, path, _EXAMPLES["name"])
    if not name.strip():
        raise ConfigError(path, 'must not be empty; use the name people know, like "County Jail"')
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
    user_ids = _string_list(value, path, example)
    for index, user_id in enumerate(user_ids):
        if not _USER_ID.fullmatch(user_id):
            raise ConfigError(_item(path, index), _bad_user_id_message(user_id))
    return frozenset(user_ids)


def _bad_user_id_message(user_id: str) -> str:
    return (
        f'"{user_id}" is not a Slack member ID; use the ID (like "U0AAA"), not a display name '
        '— "Copy member ID" on their Slack profile gives it'
    )


# --- escalation --------------------------------------------------------------------------


def _parse_escalation(value: object, path: str) -> tuple[EscalationLevel, ...]:
    tables = _list_of_tables(value, path, "[[facility.escalation]] (double brackets)")
    return tuple(
        _parse_escalation_level(table, _item(path, index)) for index, table in enumerate(tables)
    )


def _parse_escalation_level(table: Mapping[str, Any], path: str) -> EscalationLevel:
    _reject_unknown_keys(table, _ESCALATION_KEYS, path)
    return EscalationLevel(
        notify=_notify_targets(_required(table, "notify", path), _child(path, "notify")),
        after=_escalation_delay(table, _child(path, "after")),
    )


def _escalation_delay(table: Mapping[str, Any], path: str) -> timedelta:
    return _duration(table["after"], path) if "after" in table else timedelta(0)


def _notify_targets(value: object, path: str) -> tuple[str, ...]:
    targets = _string_list(value, path, _EXAMPLES["notify"])
    if not targets:
        raise ConfigError(path, f"needs at least one target, like {_EXAMPLES['notify']}")
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
        )


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


def _port(text: str | None) -> int:
    if text is None:
        return DEFAULT_PORT
    port = int(text) if re.fullmatch(r"[0-9]{1,5}", text) else 0
    if not 1 <= port <= 65_535:
        raise ConfigError(
            "PORT", f'must be a whole number from 1 to 65535, like 3000 (got "{text}")'
        )
    return port
