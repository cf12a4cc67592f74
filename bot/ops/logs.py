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
from typing import Any

_STANDARD_ATTRS = frozenset(vars(logging.makeLogRecord({})).keys()) | {"message", "asctime"}
_SECRET_WORDS = ("token", "secret", "password", "authorization", "a_number")


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


def configure_logging(level: str = "INFO") -> None:
    """Send every log record to stderr as a JSON line."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonLineFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # Bolt and aiohttp access logs are chatty at INFO; keep their warnings.
    for noisy in ("aiohttp.access", "slack_bolt", "slack_sdk"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
