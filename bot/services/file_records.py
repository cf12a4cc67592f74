"""The audit events of the files the running bot reads, each with its SHA-256: the config
at start-up (``config_loaded``), and the officer roster at start-up and again each time
SIGHUP puts a new one in force (``roster_loaded``).

A failed write never stops a start or a reload: the clocks matter more than this record,
and ``/healthz`` shows the database's fault already.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from bot.core import audit
from bot.core.facility import Config
from bot.core.model import AuditEntry, Source
from bot.services.clock import Clock
from storage.audit import AuditLog

log = logging.getLogger("wso.audit")


class FileRecords:
    def __init__(self, store: AuditLog, clock: Clock, config_path: Path, config: Config) -> None:
        self._store = store
        self._clock = clock
        self._config_path = config_path
        self._config = config
        self._pending: set[asyncio.Task[None]] = set()

    async def started(self) -> None:
        """The config file, and the roster file if there is one, as the bot starts with them."""
        now = self._clock.now()
        await self._record(audit.config_loaded(now, str(self._config_path), self._config.sha256))
        if self._config.roster_path is not None:
            await self._record(self._roster_loaded(Source.STARTUP))

    def roster_reloaded(self) -> None:
        """SIGHUP put a new roster in force: its event is written without holding the reload
        (which runs in the signal handler, outside any coroutine)."""
        task = asyncio.get_running_loop().create_task(
            self._record(self._roster_loaded(Source.SIGNAL))
        )
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def stop(self) -> None:
        """Let the events still being written finish (before the store closes)."""
        await asyncio.gather(*self._pending)

    def _roster_loaded(self, source: Source) -> AuditEntry:
        roster = self._config.roster.current
        path = self._config.roster_path or ""
        return audit.roster_loaded(
            self._clock.now(), source, path, roster.sha256, len(roster.entries)
        )

    async def _record(self, event: AuditEntry) -> None:
        try:
            await self._store.record_audit(event)
        except Exception as error:
            log.error(f"audit.{event.action}_not_recorded", extra={"error": repr(error)})
