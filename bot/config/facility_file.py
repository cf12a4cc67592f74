"""The TOML facility file (``wso.toml``): reminders, facilities, webhooks, heartbeat.

:func:`load_config` reads and validates the whole file into the frozen values of
:mod:`bot.core.facility`; the ``[[schedule]]`` tables are read by
:mod:`bot.config.schedules`, the escalation keys of a facility by
:mod:`bot.config.escalation` and the officer roster a ``roster`` key names by
:mod:`bot.config.roster_file`. Every mistake raises :class:`ConfigError` naming the key.
"""

from __future__ import annotations

import functools
import hashlib
import tomllib
import unicodedata
from collections.abc import Mapping
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bot.config.counting_policy import POLICY_KEYS, parse_counting_policy
from bot.config.escalation import (
    _check_oncall_references,
    _escalation_repeat,
    _parse_escalation,
    _parse_ice_escalation,
    _reack_after,
    _routing_key,
)
from bot.config.fields import (
    _CHANNEL_ID,
    _EXAMPLES,
    ConfigError,
    UnreadableFile,
    _at_most,
    _child,
    _describe,
    _duration,
    _item,
    _list_of_tables,
    _reject_unknown_keys,
    _required,
    _string,
    _string_list,
    _table_id,
    _tables_with_ids,
    _timezone,
    _user_ids,
    read_small_file,
)
from bot.config.report import parse_report
from bot.config.roster_file import load_roster
from bot.config.schedules import _parse_schedules
from bot.core.facility import (
    DEFAULT_BACKUP_GRACE,
    DEFAULT_REMINDERS,
    Config,
    Facility,
    Reminders,
    Webhook,
)
from bot.core.model import CUSTODY_WINDOW
from bot.core.roster import LiveRoster

# The config file is read whole at start-up; this is far above any real one.
MAX_CONFIG_FILE_BYTES = 1024 * 1024

# Ceilings on what multiplies the notices one arrest plans, with the escalation ones
# (``bot.config.escalation``): far above a real deployment, they keep one arrest's plan to a
# few hundred rows, stored in one transaction while the officer waits for the answer.
MAX_REMINDERS = 10
MAX_WEBHOOKS = 10
# Rendered into every message, and Slack caps a button at 75 characters and a section at
# 3,000: a name people read at a glance fits easily.
MAX_FACILITY_NAME_CHARS = 80

_TOP_LEVEL_KEYS = (
    "reminders",
    "facility",
    "schedule",
    "webhook",
    "heartbeat_url",
    "report",
    "retention_days",
    "roster",
)
# retention_days: at least a day; at most ten years (longer is the same as not setting it).
MAX_RETENTION_DAYS = 3650
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
    "igsa",
    "ice_staff",
    *POLICY_KEYS,
)
_WEBHOOK_KEYS = ("url", "secret")


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
    config = parse_config(_parse_toml(data, str(path)), source=str(path), base_dir=path.parent)
    return replace(config, sha256=hashlib.sha256(data).hexdigest())


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


def parse_config(
    document: Mapping[str, Any], source: str = "", *, base_dir: Path | None = None
) -> Config:
    """Validate an already-parsed TOML document; ``source`` names it in errors.

    ``base_dir`` is the folder relative ``ical`` and ``roster`` paths are read from
    (default: the working directory). This reads those files, and nothing else.
    """
    try:
        return _parse_document(document, base_dir)
    except ConfigError as error:
        raise ConfigError(error.key, error.message, source or error.source) from None


def _parse_document(document: Mapping[str, Any], base_dir: Path | None) -> Config:
    _reject_unknown_keys(document, _TOP_LEVEL_KEYS, "")
    reminders = _parse_reminders(_reminders_table(document))
    roster_file = _roster_file(document.get("roster"), base_dir)
    roster = LiveRoster()
    facilities = _parse_facilities(document.get("facility"), roster, roster_file is not None)
    if roster_file is not None:
        roster.replace(load_roster(roster_file, facilities, str(document["roster"])))
    schedules = _parse_schedules(document.get("schedule", []), base_dir)
    _check_oncall_references(facilities, schedules)
    return Config(
        reminders=reminders,
        facilities=facilities,
        schedules=schedules,
        webhooks=_parse_webhooks(document.get("webhook", [])),
        heartbeat_url=_heartbeat_url(document.get("heartbeat_url")),
        retention_days=_retention_days(document.get("retention_days")),
        report=parse_report(document.get("report"), facilities),
        roster=roster,
        roster_path=None if roster_file is None else str(roster_file),
    )


def _roster_file(value: object, base_dir: Path | None) -> Path | None:
    """The roster file a ``roster`` key names, relative to the config file's folder."""
    if value is None:
        return None
    name = _string(value, "roster", '"officers.csv"')
    if not name.strip():
        raise ConfigError("roster", 'must name the officer roster file, like "officers.csv"')
    return base_dir / name if base_dir is not None else Path(name)


def _retention_days(value: object) -> int | None:
    """``retention_days``: purge personal data that many days after a custody closed."""
    if value is None:
        return None
    # bool is an int subclass in Python, but "true" is no count.
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(
            "retention_days", f"must be a whole number of days, like 365 (got {_describe(value)})"
        )
    if not 1 <= value <= MAX_RETENTION_DAYS:
        raise ConfigError(
            "retention_days",
            f"must be from 1 to {MAX_RETENTION_DAYS} days, like 365 (got {value}); "
            "leave it out to keep personal data until wso-bot purge is run",
        )
    return value


def _heartbeat_url(value: object) -> str | None:
    if value is None:
        return None
    url = _string(value, "heartbeat_url", '"https://hc-ping.com/your-check-uuid"')
    if not url.startswith(("http://", "https://")):
        raise ConfigError("heartbeat_url", "must be an http:// or https:// URL")
    return url


def _reminders_table(document: Mapping[str, Any]) -> Mapping[str, Any]:
    table = document.get("reminders", {})
    if not isinstance(table, dict):
        raise ConfigError(
            "reminders",
            f"must be a table: a [reminders] line, then before = {_EXAMPLES['before']} "
            f"(got {_describe(table)})",
        )
    return table


# --- reminders and facilities ------------------------------------------------------------


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


def _parse_facilities(value: object, roster: LiveRoster, has_roster: bool) -> tuple[Facility, ...]:
    if value is None or value == []:
        raise ConfigError("facility", "no facilities; add at least one [[facility]] table")
    parse = functools.partial(_parse_facility, roster=roster, has_roster=has_roster)
    return _tables_with_ids(value, "facility", parse)


def _parse_facility(
    table: Mapping[str, Any], path: str, roster: LiveRoster, has_roster: bool
) -> Facility:
    """One ``[[facility]]``; with a roster, ``officers`` is optional (the roster may list them)."""
    _reject_unknown_keys(table, _FACILITY_KEYS, path)
    officers_path = _child(path, "officers")
    return Facility(
        id=_table_id(_required(table, "id", path), _child(path, "id"), _EXAMPLES["id"]),
        name=_facility_name(_required(table, "name", path), _child(path, "name")),
        timezone_name=_timezone(_required(table, "timezone", path), _child(path, "timezone")),
        jail_channel=_channel(_required(table, "jail_channel", path), path, "jail_channel"),
        ice_channel=_channel(_required(table, "ice_channel", path), path, "ice_channel"),
        officers=(
            _user_ids(table.get("officers", []), officers_path, _EXAMPLES["officers"])
            if has_roster
            else _officers(_required(table, "officers", path), officers_path)
        ),
        staff=_user_ids(table.get("staff", []), _child(path, "staff"), _EXAMPLES["staff"]),
        ice_staff=_user_ids(
            table.get("ice_staff", []), _child(path, "ice_staff"), _EXAMPLES["ice_staff"]
        ),
        igsa=_igsa(table.get("igsa", False), _child(path, "igsa")),
        escalation=_parse_escalation(table.get("escalation", []), _child(path, "escalation")),
        escalation_repeat=_escalation_repeat(table, _child(path, "escalation_repeat")),
        reack_after=_reack_after(table, _child(path, "reack_after")),
        pagerduty_routing_key=_routing_key(table, _child(path, "pagerduty_routing_key")),
        ice_escalation=_parse_ice_escalation(
            table.get("ice_escalation", []), _child(path, "ice_escalation")
        ),
        policy=parse_counting_policy(table, path),
        roster=roster,
    )


def _igsa(value: object, path: str) -> bool:
    if isinstance(value, bool):
        return value
    raise ConfigError(
        path,
        f"must be true or false, like igsa = {_EXAMPLES['igsa']} where the facility "
        f"holds people under an IGSA (got {_describe(value)})",
    )


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
