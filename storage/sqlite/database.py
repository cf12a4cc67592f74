"""One SQLite file, one connection, one lock: opening it, its health, and its transactions.

SQLite has a single writer anyway, and the lock keeps one coroutine's transaction
from interleaving with another's. Callers in the delivery lane (``storage.lanes``:
the dispatcher) are served before queued command transactions, so a burst of
commands cannot hold back due notices. Write transactions use ``BEGIN IMMEDIATE``
so they take the write lock up front.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import time
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiosqlite

from storage.interface import Clock, DatabaseDamaged, DatabaseUnusable, StoreFault
from storage.lanes import LaneLock
from storage.lock_file import LockFile
from storage.sqlite.checks import (
    IntegrityCheck,
    LinkedFiles,
    damaged_message,
    describe_problems,
    unlinked_advice,
)
from storage.sqlite.migrations import migrate

log = logging.getLogger("wso.store")

# A database call slower than this is logged (``store.slow``): it holds up everything
# queued behind the store's lock, due notices included.
SLOW_CALL_SECONDS = 0.2

# How long ``open`` waits for the integrity check before letting it finish in the
# background. quick_check reads the whole file: 0.67 s for the benchmark's 100k custodies
# (430 MB) from the page cache, 6.6 s from disk; a restart must post within 2 s.
INTEGRITY_WAIT_SECONDS = 0.5

# Errors that say the database (disk, file, lock) failed, not the caller's data:
# constraint violations and misuse are refusals or bugs, and say nothing about health.
_REFUSALS = (sqlite3.IntegrityError, sqlite3.ProgrammingError, sqlite3.DataError)


def _is_storage_failure(error: BaseException) -> bool:
    return isinstance(error, sqlite3.DatabaseError) and not isinstance(error, _REFUSALS)


def _log_if_slow(
    what: str, started: float, committing: float | None = None, sql: str | None = None
) -> None:
    finished = time.monotonic()
    if finished - started < SLOW_CALL_SECONDS:
        return
    fields: dict[str, Any] = {"what": what, "ms": round((finished - started) * 1000)}
    if sql is not None:
        fields["sql"] = " ".join(sql.split())[:120]
    if committing is not None:
        fields["commit_ms"] = round((finished - committing) * 1000)
    log.warning("store.slow", extra=fields)


class WallClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class SqliteDatabase:
    """The file behind ``SqliteCustodyStore``: locked, checked, migrated, watched."""

    def __init__(
        self,
        path: Path | str,
        *,
        before_commit: Callable[[str], None] | None,
        clock: Clock,
        integrity_wait_seconds: float,
    ) -> None:
        self._path = str(path)
        # The file as the lock, the checks and the messages name it (symlinks resolved).
        self._file = None if self._path == ":memory:" else Path(path).resolve()
        # Fault tests: called inside a write transaction just before COMMIT, with its name.
        self.before_commit = before_commit
        self._clock = clock
        self._integrity_wait = integrity_wait_seconds
        self._db: aiosqlite.Connection | None = None
        self.lock = LaneLock()
        self._file_lock: LockFile | None = None
        self._integrity: IntegrityCheck | None = None
        self._integrity_task: asyncio.Task[None] | None = None
        self._linked: LinkedFiles | None = None
        self._damage: StoreFault | None = None
        self._unlinked: StoreFault | None = None
        self._write_fault: StoreFault | None = None

    async def open(self) -> None:
        """Lock the file, connect, check it and migrate; refuse one in use or damaged."""
        self._damage = self._unlinked = self._write_fault = None
        if self._file is not None:
            self._file.parent.mkdir(parents=True, exist_ok=True)
            self._file_lock = LockFile.acquire(self._file, self._clock.now())
        try:
            await self._connect()
            await self._check_integrity()
            async with self.transaction("migrate") as db:
                await migrate(db)
        except sqlite3.DatabaseError as error:
            await self.close()
            raise self._unusable(error) from None
        except BaseException:
            await self.close()
            raise
        if self._file is not None:
            self._linked = LinkedFiles(self._file)

    async def _connect(self) -> None:
        db = await aiosqlite.connect(self._path, isolation_level=None)
        self._db = db
        db.row_factory = sqlite3.Row
        await db.execute("PRAGMA journal_mode=WAL")
        # FULL: a custody acknowledged to the officer survives a power cut, not just a crash.
        await db.execute("PRAGMA synchronous=FULL")
        await db.execute("PRAGMA foreign_keys=ON")
        await db.execute("PRAGMA busy_timeout=5000")
        # Deleted and overwritten values are zeroed where that costs no extra write: what a
        # purge erases does not linger in the pages it rewrites (it turns this fully on).
        await db.execute("PRAGMA secure_delete=FAST")
        # Reads the schema: a damaged header or schema shows here, before anything is written.
        await db.execute("SELECT count(*) FROM sqlite_master")

    def _unusable(self, error: sqlite3.DatabaseError) -> DatabaseUnusable:
        name = self._file or self._path
        if getattr(error, "sqlite_errorname", None) in ("SQLITE_NOTADB", "SQLITE_CORRUPT"):
            return DatabaseDamaged(damaged_message(Path(name), str(error)))
        return DatabaseUnusable(f"cannot use the database {name}: {error}")

    async def _check_integrity(self) -> None:
        if self._file is None:
            return
        self._integrity = IntegrityCheck(self._file)
        self._integrity_task = asyncio.create_task(
            self._run_integrity_check(self._integrity), name="wso-integrity-check"
        )
        await asyncio.wait({self._integrity_task}, timeout=self._integrity_wait)
        if self._damage is not None:
            raise DatabaseDamaged(self._damage.error)
        if not self._integrity_task.done():
            log.info("store.integrity_check_continues", extra={"db": str(self._file)})

    async def _run_integrity_check(self, check: IntegrityCheck) -> None:
        """Record what the check finds; never raises (nobody may be waiting for it)."""
        assert self._file is not None
        started = time.monotonic()
        try:
            problems = await asyncio.to_thread(check.run)
        except Exception as error:  # the check could not run; that is not damage
            log.warning("store.integrity_unchecked", extra={"error": repr(error)})
            return
        ms = round((time.monotonic() - started) * 1000)
        if problems is None:
            return  # stopped by close()
        if not problems:
            log.info("store.integrity_checked", extra={"ms": ms})
            return
        message = damaged_message(self._file, describe_problems(problems))
        self._damage = StoreFault("database damaged", message, self._clock.now())
        log.error("store.damaged", extra={"ms": ms, "db": str(self._file), "found": problems[0]})

    async def integrity_checked(self) -> None:
        if self._integrity_task is not None:
            await asyncio.shield(self._integrity_task)
        if self._damage is not None:
            raise DatabaseDamaged(self._damage.error)

    async def close(self) -> None:
        if self._integrity is not None:
            self._integrity.stop()
            self._integrity = None
        if self._integrity_task is not None:
            await self._integrity_task
            self._integrity_task = None
        self._linked = None
        if self._db is not None:
            await self._db.close()
            self._db = None
        if self._file_lock is not None:
            self._file_lock.release()
            self._file_lock = None

    def fault(self) -> StoreFault | None:
        return self._damage or self._unlinked_fault() or self._write_fault

    def _unlinked_fault(self) -> StoreFault | None:
        """Sticky: the records written meanwhile are in the lost file whatever happens next."""
        if self._unlinked is not None or self._linked is None:
            return self._unlinked
        changed = self._linked.changed()
        if changed is None:
            return None
        path, how = changed
        self._unlinked = StoreFault(
            f"{path} was {how} while the bot runs", unlinked_advice(path), self._clock.now()
        )
        log.error("store.file_unlinked", extra={"file": str(path), "how": how})
        return self._unlinked

    def _note_write_failure(self, what: str, error: BaseException) -> None:
        if not _is_storage_failure(error):
            return
        self._write_fault = StoreFault(f"write failed ({what})", str(error), self._clock.now())
        log.error("store.write_failed", extra={"what": what, "error": str(error)})

    @property
    def connection(self) -> aiosqlite.Connection:
        if self._db is None:
            raise RuntimeError("store is not open")
        return self._db

    @asynccontextmanager
    async def transaction(self, what: str = "write") -> AsyncIterator[aiosqlite.Connection]:
        """Take the lock, then one write transaction (see ``locked_transaction``)."""
        async with self.lock, self.locked_transaction(what) as db:
            yield db

    @asynccontextmanager
    async def locked_transaction(self, what: str = "write") -> AsyncIterator[aiosqlite.Connection]:
        """One write transaction; the caller holds ``lock``.

        A failure of the database itself (disk full, read-only, I/O error) is kept
        for ``fault`` as the last failed write, named ``what``, until a write succeeds.
        Only a commit that changed rows counts as one: a transaction that changed
        nothing (the dispatcher's sweep, most ticks) commits without touching the disk.
        """
        db = self.connection
        started = time.monotonic()
        changes_before = db.total_changes
        try:
            await db.execute("BEGIN IMMEDIATE")
            try:
                yield db
                committing = time.monotonic()
                await db.execute("COMMIT")
            except BaseException:
                await self._roll_back(db)
                raise
        except Exception as error:
            self._note_write_failure(what, error)
            raise
        if db.total_changes != changes_before:
            self._write_fault = None
        _log_if_slow("transaction", started, committing)

    @asynccontextmanager
    async def erasing_transaction(self, what: str) -> AsyncIterator[aiosqlite.Connection]:
        """A write transaction whose erased content does not linger in the file.

        SQLite leaves deleted and overwritten values in free space; ``secure_delete``
        zeroes them, and the WAL, which still holds the pages as they were, is
        checkpointed and truncated after the commit (fully unless a reader holds it).
        """
        async with self.lock:
            db = self.connection
            await db.execute("PRAGMA secure_delete = ON")
            try:
                async with self.locked_transaction(what) as transaction:
                    yield transaction
            finally:
                await db.execute("PRAGMA secure_delete = OFF")
            await db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    @staticmethod
    async def _roll_back(db: aiosqlite.Connection) -> None:
        """Roll back unless SQLite already has: after disk full or I/O errors it may."""
        if db.in_transaction:
            with contextlib.suppress(sqlite3.Error):  # keep the error that brought us here
                await db.execute("ROLLBACK")

    async def fetch_all(self, sql: str, params: Iterable[Any] = ()) -> list[sqlite3.Row]:
        async with self.lock:
            started = time.monotonic()
            cursor = await self.connection.execute(sql, tuple(params))
            rows = list(await cursor.fetchall())
            _log_if_slow("query", started, sql=sql)
            return rows
