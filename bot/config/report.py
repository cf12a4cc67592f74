"""``[report]``: where and when the weekly oversight summary is posted (optional).

```toml
[report]
channel = "C0123OVERSIGHT"    # required: the channel ID
weekday = "monday"            # default "monday"
time = "08:00"                # local 24-hour time; default "08:00"
timezone = "America/Chicago"  # default: the first facility's
```
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import time
from typing import Any

from bot.config.fields import (
    _CHANNEL_ID,
    ConfigError,
    _child,
    _describe,
    _reject_unknown_keys,
    _required,
    _string,
    _timezone,
)
from bot.core.facility import Facility
from bot.core.report_schedule import WEEKDAYS, ReportSchedule

_REPORT_KEYS = ("channel", "weekday", "time", "timezone")
_CLOCK = re.compile(r"(?P<hour>\d{1,2}):(?P<minute>\d{2})", re.ASCII)
_EXAMPLE = '[report] channel = "C0123OVERSIGHT", weekday = "monday", time = "08:00"'


def parse_report(value: object, facilities: tuple[Facility, ...]) -> ReportSchedule | None:
    """The ``[report]`` table, or None when there is none."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ConfigError("report", f"must be a table, like {_EXAMPLE} (got {_describe(value)})")
    table: Mapping[str, Any] = value
    _reject_unknown_keys(table, _REPORT_KEYS, "report")
    channel = _string(
        _required(table, "channel", "report", '"C0123OVERSIGHT"'),
        "report.channel",
        '"C0123OVERSIGHT"',
    )
    if not _CHANNEL_ID.fullmatch(channel):
        raise ConfigError(
            "report.channel", f'"{channel}" is not a channel ID: use one like "C0123OVERSIGHT"'
        )
    zone = (
        _timezone(table["timezone"], _child("report", "timezone"))
        if "timezone" in table
        else facilities[0].timezone_name
    )
    return ReportSchedule(
        channel=channel,
        weekday=_weekday(table.get("weekday", "monday")),
        at=_clock(table.get("time", "08:00")),
        timezone_name=zone,
    )


def _weekday(value: object) -> int:
    text = _string(value, "report.weekday", '"monday"').strip().lower()
    if text not in WEEKDAYS:
        raise ConfigError("report.weekday", f'"{text}" is not a weekday: use one of {WEEKDAYS}')
    return WEEKDAYS.index(text)


def _clock(value: object) -> time:
    text = _string(value, "report.time", '"08:00"')
    match = _CLOCK.fullmatch(text)
    if match is None or int(match["hour"]) > 23 or int(match["minute"]) > 59:
        raise ConfigError("report.time", f'"{text}" is not a time of day; use HH:MM, like "08:00"')
    return time(int(match["hour"]), int(match["minute"]))
