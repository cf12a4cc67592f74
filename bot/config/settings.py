"""Process settings from the environment: the only reader of environment variables.

``bot.cli`` hands ``os.environ`` to these functions once at start-up; nothing else in
the bot reads the environment. Unset and blank variables mean their defaults. A bad
value raises :class:`ConfigError` whose key is the variable's name.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from bot.config.fields import ConfigError

DEFAULT_SLACK_API_URL = "https://slack.com/api/"
DEFAULT_PAGERDUTY_EVENTS_URL = "https://events.pagerduty.com"
DEFAULT_CONFIG_PATH = Path("wso.toml")
DEFAULT_DB_PATH = Path("wso.db")
DEFAULT_PORT = 3000
DEFAULT_HOST = "0.0.0.0"
DEFAULT_LOG_LEVEL = "INFO"
APP_TOKEN_PREFIX = "xapp-"


class MissingCredentials(Exception):
    """The Slack credentials are not in the environment; ``missing`` names the variables."""

    def __init__(self, missing: tuple[str, ...]) -> None:
        super().__init__(missing)
        self.missing = missing

    def __str__(self) -> str:
        names = " and ".join(self.missing)
        return (
            f"missing Slack credentials: set {names} in the environment "
            "(from your Slack app's settings: OAuth & Permissions, Basic Information); "
            "SLACK_SIGNING_SECRET is not needed with SLACK_APP_TOKEN (Socket Mode)"
        )


@dataclass(frozen=True)
class Settings:
    """Process settings from the environment; the token and secret never appear in repr."""

    slack_bot_token: str = field(repr=False)
    # Empty in Socket Mode, which has no HTTP endpoint for Slack and checks no signature.
    slack_signing_secret: str = field(repr=False)
    slack_api_url: str = DEFAULT_SLACK_API_URL
    config_path: Path = DEFAULT_CONFIG_PATH
    db_path: Path = DEFAULT_DB_PATH
    port: int = DEFAULT_PORT
    host: str = DEFAULT_HOST
    pagerduty_events_url: str = DEFAULT_PAGERDUTY_EVENTS_URL
    # Fault tests only: "after_claim", "after_post" or "mid_commit", optionally ":N" for
    # the N-th time; the process SIGKILLs itself there (see bot/ops/faults.py).
    fault_point: str | None = None
    # Benchmarks only (B4 "with reconciliation off"): False resends whatever a crash or
    # a timeout left in doubt without looking in Slack's history first.
    history_lookup: bool = True
    # Handed to the logging module as given; it refuses a name it does not know.
    log_level: str = DEFAULT_LOG_LEVEL
    # An app-level token (``xapp-``): connect to Slack by Socket Mode, not wait for its requests.
    slack_app_token: str | None = field(default=None, repr=False)

    @property
    def socket_mode(self) -> bool:
        """Slack is reached by an outgoing WebSocket: no inbound connection, no signature."""
        return self.slack_app_token is not None

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Settings:
        """Build settings from an environment mapping; unset and empty variables mean defaults.

        Raises MissingCredentials if SLACK_BOT_TOKEN is unset or empty, or
        SLACK_SIGNING_SECRET is while SLACK_APP_TOKEN is not (Socket Mode needs no
        secret), and ConfigError (key = the variable) for a bad PORT, SLACK_API_URL,
        SLACK_APP_TOKEN or LOG_LEVEL.
        """
        token = _env(environ, "SLACK_BOT_TOKEN")
        app_token = _app_token(_env(environ, "SLACK_APP_TOKEN"))
        secret = _env(environ, "SLACK_SIGNING_SECRET")
        if app_token is not None:
            secret = secret or ""
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
            slack_app_token=app_token,
            slack_api_url=_api_url(_env(environ, "SLACK_API_URL") or DEFAULT_SLACK_API_URL),
            config_path=Path(_env(environ, "WSO_CONFIG") or DEFAULT_CONFIG_PATH),
            db_path=Path(_env(environ, "WSO_DB") or DEFAULT_DB_PATH),
            port=_port(_env(environ, "PORT")),
            host=_env(environ, "HOST") or DEFAULT_HOST,
            pagerduty_events_url=_pagerduty_events_url(_env(environ, "PAGERDUTY_EVENTS_URL")),
            fault_point=_env(environ, "WSO_FAULT_POINT"),
            history_lookup=_history_lookup(_env(environ, "WSO_HISTORY_LOOKUP")),
            log_level=_log_level(_env(environ, "LOG_LEVEL")),
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


def check_config_path(environ: Mapping[str, str]) -> Path:
    """The file ``check-config`` checks when none is named: $WSO_CONFIG, else ./wso.toml.

    Read as :class:`Settings` reads it (surrounding spaces removed), so ``check-config``
    checks the file ``serve`` would load.
    """
    return Path(_env(environ, "WSO_CONFIG") or DEFAULT_CONFIG_PATH)


def database_path(environ: Mapping[str, str]) -> Path:
    """The database ``serve`` uses and the tools read (``export``, ``report``, ``audit``,
    ``purge``): $WSO_DB, else ./wso.db."""
    return Path(_env(environ, "WSO_DB") or DEFAULT_DB_PATH)


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


def _log_level(text: str | None) -> str:
    """``LOG_LEVEL`` in any case; unset or blank means INFO."""
    if text is None:
        return DEFAULT_LOG_LEVEL
    if text.upper() not in LOG_LEVELS:
        raise ConfigError(
            "LOG_LEVEL", f'must be one of {", ".join(LOG_LEVELS)}, like "INFO" (got "{text}")'
        )
    return text.upper()


def _app_token(text: str | None) -> str | None:
    """``SLACK_APP_TOKEN``: an app-level token, which Slack spells ``xapp-…``."""
    if text is None or text.startswith(APP_TOKEN_PREFIX):
        return text
    # Never echo the value: it is a credential. A known Slack prefix says what was pasted.
    known = {"xoxb-": "a bot token (xoxb-)", "xoxp-": "a user token (xoxp-)"}
    seen = known.get(text[:5], "another value")
    raise ConfigError(
        "SLACK_APP_TOKEN",
        f"must be an app-level token starting with {APP_TOKEN_PREFIX}, like "
        f'"xapp-1-A0123-456-abc" (Basic Information -> App-Level Tokens, scope '
        f"connections:write); got {seen}",
    )


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
