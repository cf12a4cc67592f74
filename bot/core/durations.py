"""Durations as people type them in config and chat: "30s", "15m", "4h", "1h30m", "2d"."""

from __future__ import annotations

import re
from datetime import timedelta

_UNIT_SECONDS = {"d": 86_400, "h": 3_600, "m": 60, "s": 1}
_DURATION = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$", re.ASCII)
DURATION_EXAMPLES = '"30s", "15m", "4h", "1h30m"'
_LONGEST_SECONDS = 100 * 365 * 86_400  # a century: far beyond any real window or shift


def parse_duration(text: str) -> timedelta:
    """Parse ``1h30m``-style text into a timedelta.

    Units must come in the order d, h, m, s, each at most once. Raises
    ``ValueError`` with a message that shows valid examples.
    """
    cleaned = text.strip().lower()
    match = _DURATION.fullmatch(cleaned)
    if not cleaned or match is None:
        raise ValueError(f"{text!r} is not a duration; use forms like {DURATION_EXAMPLES}")
    seconds = 0
    for amount, unit in zip(match.groups(), "dhms", strict=True):
        if amount is not None:
            seconds += int(amount) * _UNIT_SECONDS[unit]
    if seconds > _LONGEST_SECONDS:
        raise ValueError(f"{text!r} is longer than any duration this bot can count")
    return timedelta(seconds=seconds)


def format_duration(delta: timedelta) -> str:
    """Render a duration compactly and exactly, e.g. ``1h30m`` or ``0s``."""
    total = int(delta.total_seconds())
    if total == 0:
        return "0s"
    sign = "-" if total < 0 else ""
    remaining = abs(total)
    parts = []
    for unit, size in _UNIT_SECONDS.items():
        amount, remaining = divmod(remaining, size)
        if amount:
            parts.append(f"{amount}{unit}")
    return sign + "".join(parts)


def format_time_left(delta: timedelta) -> str:
    """Render time left for people: ``47h 59m``, ``12m 5s``; negative means overdue."""
    total = int(delta.total_seconds())
    if total < 0:
        return f"overdue by {format_time_left(-delta)}"
    hours, rest = divmod(total, 3_600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m {seconds:02d}s"
    return f"{seconds}s"
