"""Deployment config, each part loaded once at start-up into a frozen object.

Two sources:

* the TOML facility file (``wso.toml``, :mod:`bot.config.facility_file`): reminders,
  facilities, channels, who may do what, escalation chains (:mod:`bot.config.escalation`),
  on-call schedules (:mod:`bot.config.schedules`), webhooks and the officer roster file
  (:mod:`bot.config.roster_file`, read again on SIGHUP); the validated values are the
  core's (:mod:`bot.core.facility`, :mod:`bot.core.oncall`, :mod:`bot.core.roster`);
* the environment (:mod:`bot.config.settings`): Slack credentials, paths, the HTTP port.

:mod:`bot.config.settings` is the only module that reads environment variables, and only
from the mapping ``bot.cli`` hands it. Every config mistake raises :class:`ConfigError`
naming the exact key (:mod:`bot.config.fields`), so an operator can fix the file without
reading code. The names below are the package's public face: import them from here.
"""

from __future__ import annotations

from bot.config.escalation import (
    MAX_ESCALATION_AFTER,
    MAX_ESCALATION_LEVELS,
    MAX_ESCALATION_REPEAT,
    MAX_NOTIFY_ENTRIES,
    MAX_REACK_AFTER,
    referenced_user_groups,
)
from bot.config.facility_file import (
    MAX_CONFIG_FILE_BYTES,
    MAX_FACILITY_NAME_CHARS,
    MAX_REMINDERS,
    MAX_WEBHOOKS,
    load_config,
    parse_config,
)
from bot.config.fields import ConfigError, UnreadableFile, read_small_file
from bot.config.roster_file import MAX_ROSTER_FILE_BYTES, load_roster
from bot.config.schedules import MAX_ICAL_FILE_BYTES
from bot.config.settings import (
    DEFAULT_CONFIG_PATH,
    DEFAULT_DB_PATH,
    DEFAULT_HOST,
    DEFAULT_LOG_LEVEL,
    DEFAULT_PAGERDUTY_EVENTS_URL,
    DEFAULT_PORT,
    DEFAULT_SLACK_API_URL,
    MissingCredentials,
    Settings,
    SlackAccess,
    check_config_path,
    database_path,
)
from bot.core.facility import (
    DEFAULT_BACKUP_GRACE,
    DEFAULT_REACK_AFTER,
    DEFAULT_REMINDERS,
    Config,
    EscalationLevel,
    Facility,
    IceEscalationLevel,
    Reminders,
    Webhook,
)
from bot.core.oncall import Schedule

__all__ = [
    "DEFAULT_BACKUP_GRACE",
    "DEFAULT_CONFIG_PATH",
    "DEFAULT_DB_PATH",
    "DEFAULT_HOST",
    "DEFAULT_LOG_LEVEL",
    "DEFAULT_PAGERDUTY_EVENTS_URL",
    "DEFAULT_PORT",
    "DEFAULT_REACK_AFTER",
    "DEFAULT_REMINDERS",
    "DEFAULT_SLACK_API_URL",
    "MAX_CONFIG_FILE_BYTES",
    "MAX_ESCALATION_AFTER",
    "MAX_ESCALATION_LEVELS",
    "MAX_ESCALATION_REPEAT",
    "MAX_FACILITY_NAME_CHARS",
    "MAX_ICAL_FILE_BYTES",
    "MAX_NOTIFY_ENTRIES",
    "MAX_REACK_AFTER",
    "MAX_REMINDERS",
    "MAX_ROSTER_FILE_BYTES",
    "MAX_WEBHOOKS",
    "Config",
    "ConfigError",
    "EscalationLevel",
    "Facility",
    "IceEscalationLevel",
    "MissingCredentials",
    "Reminders",
    "Schedule",
    "Settings",
    "SlackAccess",
    "UnreadableFile",
    "Webhook",
    "check_config_path",
    "database_path",
    "load_config",
    "load_roster",
    "parse_config",
    "read_small_file",
    "referenced_user_groups",
]
