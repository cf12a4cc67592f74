"""The one place the runtime reads the time.

The core takes ``now`` as a parameter; only the edges (handlers, dispatcher)
ask a ``Clock``. Tests use ``FakeClock`` and move time instead of sleeping.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol

from bot.core.model import require_utc


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, aware and in UTC."""
        ...

    def subscribe(self, on_change: Callable[[], None]) -> None:
        """Call ``on_change`` whenever time jumps (only fake clocks jump)."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def subscribe(self, on_change: Callable[[], None]) -> None:
        # Real time never jumps under the dispatcher's feet in a way it must be told of.
        return None


class FakeClock:
    """A clock that only moves when a test says so."""

    def __init__(self, start: datetime) -> None:
        require_utc("FakeClock start", start)
        self._now = start
        self._listeners: list[Callable[[], None]] = []

    def now(self) -> datetime:
        return self._now

    def subscribe(self, on_change: Callable[[], None]) -> None:
        self._listeners.append(on_change)

    def advance(self, delta: timedelta) -> datetime:
        if delta < timedelta(0):
            raise ValueError("time only moves forward")
        return self.set(self._now + delta)

    def set(self, instant: datetime) -> datetime:
        require_utc("FakeClock.set instant", instant)
        self._now = instant
        for listener in list(self._listeners):
            listener()
        return self._now
