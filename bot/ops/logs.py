"""Structured logs: one JSON object per line, one event per object.

Callers log an event name as the message and the facts as ``extra=``. Tokens
and secrets are never passed in; the formatter also drops any field whose
name says it is one, as a second line of defence.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any, TextIO

_STANDARD_ATTRS = frozenset(vars(logging.makeLogRecord({})).keys()) | {"message", "asctime"}
_SECRET_WORDS = ("token", "secret", "password", "authorization", "a_number")
# Libraries whose records stop at WARNING whatever LOG_LEVEL says (see configure_logging).
QUIETED_LIBRARIES = ("aiohttp.access", "slack_bolt", "slack_sdk", "aiosqlite")


class JsonLineFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "at": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key in _STANDARD_ATTRS or key.startswith("_"):
                continue
            if any(word in key.lower() for word in _SECRET_WORDS):
                continue
            entry[key] = value if isinstance(value, str | int | float | bool | None) else str(value)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(level: str = "INFO", stream: TextIO | None = None) -> None:
    """Send every log record to stderr (or ``stream``) as a JSON line."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonLineFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # Bolt and aiohttp access logs are chatty at INFO; keep their warnings. At DEBUG,
    # slack_sdk and Bolt log request bodies and aiosqlite every statement's parameters:
    # what officers type (an A-number) must not reach the logs at any LOG_LEVEL.
    for noisy in QUIETED_LIBRARIES:
        logging.getLogger(noisy).setLevel(logging.WARNING)
