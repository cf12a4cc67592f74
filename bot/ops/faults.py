"""Crash on purpose at a named point: how the fault tests prove nothing is lost or doubled.

Set ``WSO_FAULT_POINT`` to ``after_claim`` (a notice is marked ``sending``, nothing
posted yet), ``after_post`` (Slack accepted the post, the bot has not recorded it)
or ``mid_commit`` (inside the transaction that records it, before COMMIT), with an
optional ``:N`` to crash the N-th time that point is reached (default the first).
The process then SIGKILLs itself, exactly as ``kill -9`` would. Unset, nothing happens.
"""

from __future__ import annotations

import os
import signal

FAULT_POINTS = frozenset({"after_claim", "after_post", "mid_commit"})


class FaultInjector:
    def __init__(self, spec: str | None) -> None:
        self._point: str | None = None
        self._remaining = 0
        if spec:
            point, _, count = spec.partition(":")
            if point not in FAULT_POINTS:
                raise ValueError(f"WSO_FAULT_POINT: unknown point {point!r}")
            self._point = point
            self._remaining = int(count or "1")

    def reached(self, point: str) -> None:
        """Called at each named point; kills the process when its turn comes."""
        if point != self._point:
            return
        self._remaining -= 1
        if self._remaining == 0:
            os.kill(os.getpid(), signal.SIGKILL)
