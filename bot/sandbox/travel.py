"""The sandbox's clock: real time plus a lead that only grows, kept across restarts.

Time travel is a ``Clock`` (``bot.services.clock``) like any other: the bot reads ``now()``
and is told of each jump through ``subscribe``, so the dispatcher wakes and sends whatever
the jump made due. Only ``bot.sandbox`` builds one; ``wso-bot serve`` runs on the system
clock and has no way to move it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

log = logging.getLogger("wso.sandbox")


class TimeTravelRefused(ValueError):
    """A jump that would move the clock backwards (or not at all)."""


class TravelClock:
    """``now()`` is the system time plus ``lead``; ``advance``/``travel_to`` only go forward.

    With ``lead_file`` the lead is written after each jump and read back at start, so a
    sandbox restarted after a trip continues from where it was, not before its own custodies.
    """

    def __init__(
        self,
        lead_file: Path | None = None,
        system_now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._system_now = system_now
        self._lead_file = lead_file
        self._lead = self._read_lead()
        self._listeners: list[Callable[[], None]] = []

    @property
    def lead(self) -> timedelta:
        """How far ahead of real time the sandbox is."""
        return self._lead

    def now(self) -> datetime:
        return self._system_now() + self._lead

    def subscribe(self, on_change: Callable[[], None]) -> None:
        self._listeners.append(on_change)

    def advance(self, delta: timedelta) -> datetime:
        """Move forward by ``delta``; refuses a negative or zero step."""
        if delta <= timedelta(0):
            raise TimeTravelRefused("time travel only goes forward: give a positive step, e.g. +1h")
        self._lead += delta
        self._write_lead()
        for listener in list(self._listeners):
            listener()
        return self.now()

    def travel_to(self, instant: datetime) -> datetime:
        """Move forward to ``instant`` (aware); refuses an instant that is not ahead."""
        if instant.tzinfo is None:
            raise TimeTravelRefused("give the instant with its offset, e.g. 2026-12-03T14:05Z")
        now = self.now()
        if instant <= now:
            raise TimeTravelRefused(
                f"time travel only goes forward: {instant.astimezone(UTC):%Y-%m-%d %H:%M:%S} "
                f"UTC is not after the sandbox's now, {now:%Y-%m-%d %H:%M:%S} UTC"
            )
        return self.advance(instant - now)

    def _read_lead(self) -> timedelta:
        if self._lead_file is None or not self._lead_file.exists():
            return timedelta(0)
        try:
            seconds = float(json.loads(self._lead_file.read_text())["lead_seconds"])
        except (OSError, ValueError, KeyError, TypeError) as error:
            log.warning("sandbox.clock_unreadable", extra={"error": str(error)})
            return timedelta(0)
        return timedelta(seconds=max(0.0, seconds))

    def _write_lead(self) -> None:
        if self._lead_file is not None:
            payload = {"lead_seconds": self._lead.total_seconds()}
            self._lead_file.write_text(json.dumps(payload) + "\n")
