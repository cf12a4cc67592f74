"""A token bucket per Slack channel: about one message a second, with short bursts. Pure.

Slack allows roughly one ``chat.postMessage`` per second per channel. Staying
under it avoids 429s; when a channel is congested, the dispatcher sends the
notices that matter most first (``send_priority``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.model import Notice, NoticeKind

DEFAULT_RATE_PER_SECOND = 1.0
DEFAULT_BURST = 4

# Lower goes first. Routine reminders yield to everything that says "act now".
_ROUTINE = frozenset({NoticeKind.REMINDER})


def send_priority(notice: Notice) -> tuple[int, datetime, int]:
    """Sort key within one channel: urgent kinds first, then due time, then plan order."""
    routine = 1 if notice.kind in _ROUTINE else 0
    return (routine, notice.due_at, notice.seq or 0)


@dataclass
class _Bucket:
    tokens: float
    updated: datetime


class ChannelRateLimiter:
    def __init__(
        self, rate_per_second: float = DEFAULT_RATE_PER_SECOND, burst: int = DEFAULT_BURST
    ) -> None:
        self._rate = rate_per_second
        self._burst = float(burst)
        self._buckets: dict[str, _Bucket] = {}

    def try_acquire(self, channel: str, now: datetime) -> bool:
        """Take a token for one message to ``channel`` if one is free at ``now``."""
        bucket = self._refilled(channel, now)
        if bucket.tokens < 1.0:
            return False
        bucket.tokens -= 1.0
        return True

    def free_at(self, channel: str, now: datetime) -> datetime:
        """When the next token for ``channel`` will be free (``now`` if one is)."""
        bucket = self._refilled(channel, now)
        missing = max(1.0 - bucket.tokens, 0.0)
        return now + timedelta(seconds=missing / self._rate)

    def _refilled(self, channel: str, now: datetime) -> _Bucket:
        bucket = self._buckets.get(channel)
        if bucket is None:
            bucket = self._buckets[channel] = _Bucket(self._burst, now)
        elapsed = max((now - bucket.updated).total_seconds(), 0.0)
        bucket.tokens = min(self._burst, bucket.tokens + elapsed * self._rate)
        bucket.updated = now
        return bucket
