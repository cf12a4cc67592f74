"""Retention: erasing the personal data of custodies closed long enough ago.

``wso-bot purge --closed-before DATE`` runs one purge; ``retention_days`` in the config
makes ``serve`` run one at start-up and then once a day. Either way the store erases
the personal parts (``bot.core.audit_chain.PERSONAL_FIELDS``) and keeps the audit
skeleton and its hashes, and the purge is itself an audit event, in one transaction.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from datetime import datetime, timedelta

from bot.core import audit
from bot.core.audit import Origin
from bot.core.model import AuditEntry
from bot.services.clock import Clock
from storage.interface import CustodyStore

log = logging.getLogger("wso.retention")

PURGE_EVERY = timedelta(days=1)
# A purge that failed (the database busy, say) is tried again this soon.
RETRY_SECONDS = 60.0


async def purge(
    store: CustodyStore, closed_before: datetime, now: datetime, origin: Origin
) -> Mapping[str, int]:
    """Erase the personal data of custodies closed before ``closed_before``; what was erased."""

    def event(counts: Mapping[str, int]) -> AuditEntry:
        return audit.personal_data_purged(now, origin, closed_before, counts)

    erased = await store.purge_personal_data(closed_before, event)
    log.info("retention.purged", extra={"closed_before": closed_before.isoformat(), **erased})
    return erased


class DailyPurge:
    """``retention_days``: a purge at start-up, then whenever a day has passed on ``clock``.

    It wakes when its clock jumps (a test's fake clock) as well as when the day is up.
    A purge that fails is logged and tried again at the next wake.
    """

    def __init__(self, store: CustodyStore, clock: Clock, retention_days: int) -> None:
        self._store = store
        self._clock = clock
        self._keep = timedelta(days=retention_days)
        self._last: datetime | None = None
        self._woken = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.purges = 0  # how many ran (for tests and /healthz-minded readers)
        clock.subscribe(self._woken.set)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="wso-daily-purge")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            now = self._clock.now()
            failed = False
            if self._last is None or now - self._last >= PURGE_EVERY:
                failed = not await self._purge(now)
            self._woken.clear()
            due = (self._last or now) + PURGE_EVERY
            wait = RETRY_SECONDS if failed else max((due - self._clock.now()).total_seconds(), 1.0)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._woken.wait(), timeout=wait)

    async def _purge(self, now: datetime) -> bool:
        try:
            await purge(self._store, now - self._keep, now, audit.by_system())
        except Exception:
            log.exception("retention.purge_failed")
            return False
        self._last = now
        self.purges += 1
        return True
