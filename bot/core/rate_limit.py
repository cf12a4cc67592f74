"""Pacing to Slack's limits, per channel. Pure.

Slack allows roughly one ``chat.postMessage`` per second per channel (a token
bucket here, with short bursts) and 30 ``chat.scheduleMessage`` per channel per
5 minutes (a sliding window). Staying under them avoids refusals; when a
channel is congested, the dispatcher sends the notices that matter most first
(``send_priority``) and the rest wait their turn.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.core.model import Notice, NoticeKind

DEFAULT_RATE_PER_SECOND = 1.0
DEFAULT_BURST = 4
# chat.scheduleMessage: at most 30 per channel per 5 minutes.
SCHEDULED_PER_WINDOW = 30
SCHEDULE_WINDOW = timedelta(minutes=5)

# Lower goes first. Routine reminders, and scheduling Slack's backup copies (which
# fire only a minute after the deadline), yield to everything that says "act now".
_ROUTINE = frozenset({NoticeKind.REMINDER, NoticeKind.BACKUP})


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

    def congested(self, now: datetime) -> dict[str, datetime]:
        """Channels with no token free at ``now``, and when their next one will be.

        Buckets that have refilled are forgotten (a new bucket starts full), so the
        limiter stays as small as the set of channels posted to in the last few seconds.
        """
        spent: dict[str, datetime] = {}
        for channel in list(self._buckets):
            bucket = self._refilled(channel, now)
            if bucket.tokens >= self._burst:
                del self._buckets[channel]
            elif bucket.tokens < 1.0:
                spent[channel] = now + timedelta(seconds=(1.0 - bucket.tokens) / self._rate)
        return spent

    def _refilled(self, channel: str, now: datetime) -> _Bucket:
        bucket = self._buckets.get(channel)
        if bucket is None:
            bucket = self._buckets[channel] = _Bucket(self._burst, now)
        elapsed = max((now - bucket.updated).total_seconds(), 0.0)
        bucket.tokens = min(self._burst, bucket.tokens + elapsed * self._rate)
        bucket.updated = now
        return bucket


class SlidingWindowLimiter:
    """At most ``limit`` actions per target in any ``window`` (Slack's limit on
    ``chat.scheduleMessage``: 30 per channel per 5 minutes). Same interface as
    ``ChannelRateLimiter``."""

    def __init__(
        self,
        limit: int = SCHEDULED_PER_WINDOW,
        window: timedelta = SCHEDULE_WINDOW,
    ) -> None:
        self._limit = limit
        self._window = window
        self._taken: dict[str, deque[datetime]] = {}

    def try_acquire(self, target: str, now: datetime) -> bool:
        taken = self._recent(target, now)
        if len(taken) >= self._limit:
            return False
        taken.append(now)
        return True

    def give_back(self, target: str) -> None:
        """Return the latest action taken for ``target``: it never reached the far end.

        A call refused outright (a 5xx before processing, a refused connection) is
        not one of Slack's 30: counting it would hold real backups back for minutes
        after an outage.
        """
        taken = self._taken.get(target)
        if taken:
            taken.pop()

    def free_at(self, target: str, now: datetime) -> datetime:
        taken = self._recent(target, now)
        if len(taken) < self._limit:
            return now
        return taken[len(taken) - self._limit] + self._window

    def congested(self, now: datetime) -> dict[str, datetime]:
        spent: dict[str, datetime] = {}
        for target in list(self._taken):
            taken = self._recent(target, now)
            if not taken:
                del self._taken[target]
            elif len(taken) >= self._limit:
                spent[target] = self.free_at(target, now)
        return spent

    def _recent(self, target: str, now: datetime) -> deque[datetime]:
        taken = self._taken.setdefault(target, deque())
        while taken and taken[0] + self._window <= now:
            taken.popleft()
        return taken


class TargetPauses:
    """Targets that asked us to stop for a while (a 429), and until when. Pure.

    A rate limit is about the channel, not the one message that met it: while a
    target is paused, none of its notices is tried, so a long queue cannot spend
    the pause knocking on a closed door and every other target carries on.
    """

    def __init__(self) -> None:
        self._until: dict[str, datetime] = {}

    def pause(self, target: str, until: datetime) -> None:
        """Hold ``target`` until ``until`` (a later pause already in place is kept)."""
        current = self._until.get(target)
        if current is None or until > current:
            self._until[target] = until

    def is_paused(self, target: str, now: datetime) -> bool:
        until = self._until.get(target)
        return until is not None and now < until

    def paused(self, now: datetime) -> dict[str, datetime]:
        """Targets paused at ``now``, and when each may go again; ended pauses are forgotten."""
        for target in [t for t, until in self._until.items() if until <= now]:
            del self._until[target]
        return dict(self._until)
