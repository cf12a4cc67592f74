"""SQLite implementation of ``CustodyStore`` (aiosqlite, WAL, synchronous=FULL).

One connection, one lock: SQLite has a single writer anyway, and the lock
keeps one coroutine's transaction from interleaving with another's. Callers in
the delivery lane (``storage.lanes``: the dispatcher) are served before queued
command transactions, so a burst of commands cannot hold back due notices.
Write transactions use ``BEGIN IMMEDIATE`` so they take the write lock up front.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sqlite3
import time
from collections.abc import AsyncIterator, Callable, Collection, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

import aiosqlite

from bot.core.model import (
    AuditEntry,
    CountingRule,
    Custody,
    CustodyState,
    Notice,
    NoticeKind,
    NoticeState,
    WarrantForm,
)
from storage.interface import (
    AlreadyAcknowledged,
    Clock,
    CustodyNotOpen,
    DatabaseDamaged,
    DatabaseUnusable,
    DuplicateOpenCustody,
    OncallOverrideRecord,
    StoreFault,
)
from storage.lanes import LaneLock
from storage.lock_file import LockFile
from storage.sqlite_checks import (
    IntegrityCheck,
    LinkedFiles,
    damaged_message,
    describe_problems,
    unlinked_advice,
)

log = logging.getLogger("wso.store")

SCHEMA_VERSION = 2
# Columns added after version 1, created on databases that predate them.
_ADDED_COLUMNS = (
    ("custodies", "acknowledged_at", "TEXT"),
    ("custodies", "acknowledged_by", "TEXT"),
    ("custodies", "coverage_warning", "TEXT"),
    ("notices", "level", "INTEGER"),
    ("notices", "round", "INTEGER"),
    ("notices", "message_channel", "TEXT"),
    ("notices", "detail", "TEXT"),
)
_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
_NO_OFFSET = timedelta(0)


def to_db_time(value: datetime) -> str:
    """UTC instant → fixed-width text whose sort order is time order."""
    offset = value.utcoffset()
    if offset is None:
        raise ValueError("naive datetimes are not stored")
    utc = value if offset == _NO_OFFSET else value.astimezone(UTC)
    # isoformat zero-pads the year (unlike strftime's %Y on some platforms): the sort
    # order needs the fixed width. ~2x faster than strftime; called ~40 times per arrest.
    return utc.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def from_db_time(text: str) -> datetime:
    return datetime.strptime(text, _TIME_FORMAT).replace(tzinfo=UTC)


def _maybe_time(text: str | None) -> datetime | None:
    return None if text is None else from_db_time(text)


def _maybe_db_time(value: datetime | None) -> str | None:
    return None if value is None else to_db_time(value)


def custody_from_row(row: sqlite3.Row) -> Custody:
    return Custody(
        id=row["id"],
        facility_id=row["facility_id"],
        booking=row["booking"],
        warrant_form=WarrantForm(row["warrant_form"]) if row["warrant_form"] else None,
        warrant_number=row["warrant_number"],
        arrested_at=from_db_time(row["arrested_at"]),
        deadline=from_db_time(row["deadline"]),
        counting_rule=CountingRule(row["counting_rule"]),
        logged_by=row["logged_by"],
        logged_at=from_db_time(row["logged_at"]),
        state=CustodyState(row["state"]),
        closed_at=_maybe_time(row["closed_at"]),
        closed_by=row["closed_by"],
        close_reason=row["close_reason"],
        acknowledged_at=_maybe_time(row["acknowledged_at"]),
        acknowledged_by=row["acknowledged_by"],
        coverage_warning=row["coverage_warning"],
    )


def notice_from_row(row: sqlite3.Row) -> Notice:
    return Notice(
        id=row["id"],
        custody_id=row["custody_id"],
        kind=NoticeKind(row["kind"]),
        channel=row["channel"],
        due_at=from_db_time(row["due_at"]),
        lead_seconds=row["lead_seconds"],
        seq=row["seq"],
        state=NoticeState(row["state"]),
        attempts=row["attempts"],
        next_attempt_at=_maybe_time(row["next_attempt_at"]),
        attempted_at=_maybe_time(row["attempted_at"]),
        sent_at=_maybe_time(row["sent_at"]),
        message_ts=row["message_ts"],
        last_error=row["last_error"],
        may_have_posted=bool(row["may_have_posted"]),
        level=row["level"],
        round=row["round"],
        message_channel=row["message_channel"],
        detail=json.loads(row["detail"]) if row["detail"] else {},
    )


def audit_from_row(row: sqlite3.Row) -> AuditEntry:
    return AuditEntry(
        at=from_db_time(row["at"]),
        actor=row["actor"],
        action=row["action"],
        custody_id=row["custody_id"],
        detail=json.loads(row["detail"]),
    )


# Arrests written together in one transaction at most (see ``add_custody``).
ARREST_BATCH = 64

_INSERT_CUSTODY = """INSERT INTO custodies (id, facility_id, booking, warrant_form,
        warrant_number, arrested_at, deadline, counting_rule, logged_by, logged_at, state,
        coverage_warning)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"""

# Inserted in the order given, so seq (the autoincrement key) orders each channel's
# notices; a new notice never becomes ready before an earlier one of its channel that
# is waiting to be retried (only those: not behind ones that are merely due later).
_INSERT_NOTICE = """INSERT INTO notices (id, custody_id, kind, channel, due_at, lead_seconds,
        state, attempts, next_attempt_at, ready_at, level, round, detail)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, max(?10, coalesce(
        (SELECT max(ready_at) FROM notices
         WHERE custody_id = ?2 AND channel = ?4 AND state = 'pending'
           AND next_attempt_at IS NOT NULL), ?10)),
        ?11, ?12, ?13)"""

_INSERT_AUDIT = (
    "INSERT INTO audit_log (at, actor, action, custody_id, detail) VALUES (?, ?, ?, ?, ?)"
)


def _custody_row(custody: Custody) -> tuple[Any, ...]:
    return (
        custody.id,
        custody.facility_id,
        custody.booking,
        custody.warrant_form.value if custody.warrant_form else None,
        custody.warrant_number,
        to_db_time(custody.arrested_at),
        to_db_time(custody.deadline),
        custody.counting_rule.value,
        custody.logged_by,
        to_db_time(custody.logged_at),
        custody.state.value,
        custody.coverage_warning,
    )


def _notice_row(notice: Notice) -> tuple[Any, ...]:
    return (
        notice.id,
        notice.custody_id,
        notice.kind.value,
        notice.channel,
        to_db_time(notice.due_at),
        notice.lead_seconds,
        notice.state.value,
        notice.attempts,
        _maybe_db_time(notice.next_attempt_at),
        to_db_time(notice.ready_at()),
        notice.level,
        notice.round,
        json.dumps(notice.detail, sort_keys=True) if notice.detail else None,
    )


def _audit_row(entry: AuditEntry) -> tuple[Any, ...]:
    return (
        to_db_time(entry.at),
        entry.actor,
        entry.action,
        entry.custody_id,
        json.dumps(entry.detail, sort_keys=True),
    )


@dataclass(eq=False)
class _QueuedArrest:
    """An arrest waiting for the group commit, with its rows ready to write."""

    custody: Custody
    custody_row: tuple[Any, ...]
    notice_rows: list[tuple[Any, ...]]
    audit_row: tuple[Any, ...]
    outcome: asyncio.Future[None]


# A database call slower than this is logged (``store.slow``): it holds up everything
# queued behind the store's lock, due notices included.
SLOW_CALL_SECONDS = 0.2


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


def _placeholders(count: int) -> str:
    return ", ".join("?" for _ in range(count))


# Exclusion lists are a courtesy (a sender finding no token just stops); keep them
# well inside SQLite's limit on bound parameters.
_MAX_EXCLUDED = 500


def _bounded(values: Collection[str]) -> tuple[str, ...]:
    return tuple(sorted(values))[:_MAX_EXCLUDED]


# How long ``open`` waits for the integrity check before letting it finish in the
# background. quick_check reads the whole file: 0.67 s for the benchmark's 100k custodies
# (430 MB) from the page cache, 6.6 s from disk; a restart must post within 2 s.
INTEGRITY_WAIT_SECONDS = 0.5

# Errors that say the database (disk, file, lock) failed, not the caller's data:
# constraint violations and misuse are refusals or bugs, and say nothing about health.
_REFUSALS = (sqlite3.IntegrityError, sqlite3.ProgrammingError, sqlite3.DataError)


def _is_storage_failure(error: BaseException) -> bool:
    return isinstance(error, sqlite3.DatabaseError) and not isinstance(error, _REFUSALS)


class _WallClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class SqliteCustodyStore:
    """A ``CustodyStore`` over one SQLite file, used by one process at a time."""

    def __init__(
        self,
        path: Path | str,
        *,
        before_commit: Callable[[str], None] | None = None,
        clock: Clock | None = None,
        integrity_wait_seconds: float = INTEGRITY_WAIT_SECONDS,
    ) -> None:
        self._path = str(path)
        # The file as the lock, the checks and the messages name it (symlinks resolved).
        self._file = None if self._path == ":memory:" else Path(path).resolve()
        # Fault tests: called inside a write transaction just before COMMIT, with its name.
        self._before_commit = before_commit
        self._clock: Clock = clock or _WallClock()
        self._integrity_wait = integrity_wait_seconds
        self._db: aiosqlite.Connection | None = None
        self._lock = LaneLock()
        self._queued_arrests: list[_QueuedArrest] = []
        self._file_lock: LockFile | None = None
        self._integrity: IntegrityCheck | None = None
        self._integrity_task: asyncio.Task[None] | None = None
        self._linked: LinkedFiles | None = None
        self._damage: StoreFault | None = None
        self._unlinked: StoreFault | None = None
        self._write_fault: StoreFault | None = None

    async def open(self) -> None:
        """Lock the database, connect, check it and migrate; refuse one in use or damaged.

        The integrity check runs on a connection of its own. ``open`` waits for it
        up to ``integrity_wait_seconds`` and refuses a damaged database; a check
        still running then (a large file read from disk) finishes in the background,
        and damage it finds is reported by ``fault`` and ``integrity_checked``.
        """
        self._damage = self._unlinked = self._write_fault = None
        if self._file is not None:
            self._file.parent.mkdir(parents=True, exist_ok=True)
            self._file_lock = LockFile.acquire(self._file, self._clock.now())
        try:
            await self._connect()
            await self._check_integrity()
            await self._migrate()
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

    async def ping(self) -> None:
        async with self._lock:
            await self._conn.execute("SELECT 1")

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
    def _conn(self) -> aiosqlite.Connection:
        if self._db is None:
            raise RuntimeError("store is not open")
        return self._db

    async def _migrate(self) -> None:
        schema = resources.files("storage").joinpath("schema.sql").read_text(encoding="utf-8")
        async with self._transaction("migrate") as db:
            version = await self._schema_version(db)
            if version > SCHEMA_VERSION:
                raise RuntimeError(
                    f"database schema version {version} is newer than this bot "
                    f"({SCHEMA_VERSION}); upgrade the bot"
                )
            if 0 < version < SCHEMA_VERSION:
                await self._add_missing_columns(db)
            for statement in schema.split(";"):
                if statement.strip():
                    await db.execute(statement)
            await db.execute("DELETE FROM schema_version")
            await db.execute("INSERT INTO schema_version (version) VALUES (?)", (SCHEMA_VERSION,))

    @staticmethod
    async def _schema_version(db: aiosqlite.Connection) -> int:
        cursor = await db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'"
        )
        if await cursor.fetchone() is None:
            return 0
        cursor = await db.execute("SELECT version FROM schema_version")
        row = await cursor.fetchone()
        return 0 if row is None else int(row["version"])

    @staticmethod
    async def _add_missing_columns(db: aiosqlite.Connection) -> None:
        for table, column, declaration in _ADDED_COLUMNS:
            cursor = await db.execute(f"PRAGMA table_info({table})")
            existing = {row["name"] for row in await cursor.fetchall()}
            if column not in existing:
                await db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {declaration}")

    @asynccontextmanager
    async def _transaction(self, what: str = "write") -> AsyncIterator[aiosqlite.Connection]:
        async with self._lock, self._open_transaction(what) as db:
            yield db

    @asynccontextmanager
    async def _open_transaction(self, what: str = "write") -> AsyncIterator[aiosqlite.Connection]:
        """One write transaction; the caller holds ``self._lock``.

        A failure of the database itself (disk full, read-only, I/O error) is kept
        for ``fault`` as the last failed write, named ``what``, until a write succeeds.
        Only a commit that changed rows counts as one: a transaction that changed
        nothing (the dispatcher's sweep, most ticks) commits without touching the disk.
        """
        db = self._conn
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

    @staticmethod
    async def _roll_back(db: aiosqlite.Connection) -> None:
        """Roll back unless SQLite already has: after disk full or I/O errors it may."""
        if db.in_transaction:
            with contextlib.suppress(sqlite3.Error):  # keep the error that brought us here
                await db.execute("ROLLBACK")

    async def _fetch_all(self, sql: str, params: Iterable[Any] = ()) -> list[sqlite3.Row]:
        async with self._lock:
            started = time.monotonic()
            cursor = await self._conn.execute(sql, tuple(params))
            rows = list(await cursor.fetchall())
            _log_if_slow("query", started, sql=sql)
            return rows

    # --- custodies -------------------------------------------------------------

    async def add_custody(
        self, custody: Custody, notices: Sequence[Notice], audit: AuditEntry
    ) -> None:
        """Group commit: arrests queued while another is being written share one transaction.

        Whoever gets the lock writes every arrest queued by then (up to
        ``ARREST_BATCH``) with one statement per table and one fsync, and tells each
        its outcome. Each caller returns only once its own arrest is committed (or
        refused), so "stored before acknowledged" holds for every one of them.
        """
        arrest = _QueuedArrest(
            custody=custody,
            custody_row=_custody_row(custody),
            notice_rows=[_notice_row(notice) for notice in notices],
            audit_row=_audit_row(audit),
            outcome=asyncio.get_running_loop().create_future(),
        )
        self._queued_arrests.append(arrest)
        try:
            async with self._lock:
                if not arrest.outcome.done():
                    batch = self._queued_arrests[:ARREST_BATCH]
                    del self._queued_arrests[:ARREST_BATCH]
                    await self._write_arrests(batch)
        except asyncio.CancelledError:
            if arrest in self._queued_arrests:  # not written, and now never will be
                self._queued_arrests.remove(arrest)
            raise
        await arrest.outcome

    async def _write_arrests(self, batch: list[_QueuedArrest]) -> None:
        """Write ``batch`` in one transaction and settle each arrest's outcome.

        Errors go to the arrests' outcomes, not to the caller; only a cancellation
        of the writer propagates, after putting the others back in the queue (their
        callers are still waiting for the lock and will write them).
        """
        try:
            async with self._open_transaction("add_custody") as db:
                refused = await self._open_duplicates(db, batch)
                accepted = [arrest for arrest in batch if arrest not in refused]
                if accepted:
                    await db.executemany(_INSERT_CUSTODY, [a.custody_row for a in accepted])
                    await db.executemany(
                        _INSERT_NOTICE, [row for a in accepted for row in a.notice_rows]
                    )
                    await db.executemany(_INSERT_AUDIT, [a.audit_row for a in accepted])
        except Exception as error:
            if len(batch) > 1:
                # Something in the batch broke a constraint: write each on its own,
                # so one bad arrest cannot fail the others.
                for arrest in batch:
                    await self._write_arrests([arrest])
            else:
                batch[0].outcome.set_exception(error)
            return
        except BaseException:
            self._queued_arrests[:0] = [a for a in batch if not a.outcome.done()]
            raise
        for arrest in batch:
            if arrest in refused:
                arrest.outcome.set_exception(DuplicateOpenCustody(refused[arrest]))
            else:
                arrest.outcome.set_result(None)

    @staticmethod
    async def _open_duplicates(
        db: aiosqlite.Connection, batch: Sequence[_QueuedArrest]
    ) -> dict[_QueuedArrest, Custody]:
        """Arrests whose booking is already open at their facility, with that custody.

        One process writes the file (see the README), and this runs inside the write
        transaction, so the answer holds until COMMIT; the unique index stays as the
        last word.
        """
        bookings = sorted({arrest.custody.booking for arrest in batch})
        cursor = await db.execute(
            f"""SELECT * FROM custodies WHERE state = 'open'
                AND booking IN ({_placeholders(len(bookings))})""",
            bookings,
        )
        open_now = {
            (row["booking"], row["facility_id"]): custody_from_row(row)
            for row in await cursor.fetchall()
        }
        refused: dict[_QueuedArrest, Custody] = {}
        for arrest in batch:
            key = (arrest.custody.booking, arrest.custody.facility_id)
            if key in open_now:
                refused[arrest] = open_now[key]
            else:
                open_now[key] = arrest.custody  # a second one later in the batch is refused
        return refused

    async def close_custody(
        self,
        custody_id: str,
        *,
        state: CustodyState,
        at: datetime,
        by: str,
        reason: str | None,
        closing_notices: Sequence[Notice],
        audit: AuditEntry,
    ) -> Custody:
        async with self._transaction("close_custody") as db:
            cursor = await db.execute(
                """UPDATE custodies SET state = ?, closed_at = ?, closed_by = ?, close_reason = ?
                   WHERE id = ? AND state = 'open'""",
                (state.value, to_db_time(at), by, reason, custody_id),
            )
            if cursor.rowcount != 1:
                raise CustodyNotOpen(await self._get_custody(db, custody_id))
            await db.execute(
                """UPDATE notices SET state = 'cancelled'
                   WHERE custody_id = ? AND state = 'pending'
                     AND kind IN ('reminder', 'expired', 'page_step', 'escalation', 'backup')""",
                (custody_id,),
            )
            await self._bring_forward(db, custody_id, NoticeKind.BACKUP_DELETE, at)
            await self._insert_notices(db, closing_notices)
            await self._insert_audit(db, audit)
            closed = await self._get_custody(db, custody_id)
        assert closed is not None
        return closed

    async def get_custody(self, custody_id: str) -> Custody | None:
        async with self._lock:
            return await self._get_custody(self._conn, custody_id)

    @staticmethod
    async def _get_custody(db: aiosqlite.Connection, custody_id: str) -> Custody | None:
        cursor = await db.execute("SELECT * FROM custodies WHERE id = ?", (custody_id,))
        row = await cursor.fetchone()
        return None if row is None else custody_from_row(row)

    async def find_custodies(
        self, booking: str, facility_ids: Collection[str] | None = None, *, open_only: bool = False
    ) -> list[Custody]:
        sql = "SELECT * FROM custodies WHERE booking = ?"
        params: list[Any] = [booking]
        if facility_ids is not None:
            sql += f" AND facility_id IN ({_placeholders(len(facility_ids))})"
            params.extend(facility_ids)
        if open_only:
            sql += " AND state = 'open'"
        sql += " ORDER BY logged_at DESC, rowid DESC"
        return [custody_from_row(row) for row in await self._fetch_all(sql, params)]

    async def list_open_custodies(
        self, facility_ids: Collection[str] | None = None, limit: int = 100
    ) -> list[Custody]:
        sql = "SELECT * FROM custodies WHERE state = 'open'"
        params: list[Any] = []
        if facility_ids is not None:
            sql += f" AND facility_id IN ({_placeholders(len(facility_ids))})"
            params.extend(facility_ids)
        sql += " ORDER BY deadline, booking LIMIT ?"
        params.append(limit)
        return [custody_from_row(row) for row in await self._fetch_all(sql, params)]

    async def count_open_custodies(self, facility_ids: Collection[str] | None = None) -> int:
        sql = "SELECT count(*) AS n FROM custodies WHERE state = 'open'"
        params: list[Any] = []
        if facility_ids is not None:
            sql += f" AND facility_id IN ({_placeholders(len(facility_ids))})"
            params.extend(facility_ids)
        rows = await self._fetch_all(sql, params)
        return int(rows[0]["n"])

    # --- notices ---------------------------------------------------------------

    @staticmethod
    async def _insert_notices(db: aiosqlite.Connection, notices: Sequence[Notice]) -> None:
        await db.executemany(_INSERT_NOTICE, [_notice_row(notice) for notice in notices])

    async def scheduled_backups(self) -> list[tuple[Custody, Notice]]:
        rows = await self._fetch_all(
            """SELECT n.*, c.id AS c_id FROM notices n JOIN custodies c ON c.id = n.custody_id
               WHERE n.kind = 'backup' AND n.state = 'sent' AND n.message_ts IS NOT NULL
               ORDER BY n.seq"""
        )
        custodies: dict[str, Custody] = {}
        found: list[tuple[Custody, Notice]] = []
        for row in rows:
            custody_id = row["custody_id"]
            if custody_id not in custodies:
                custody = await self.get_custody(custody_id)
                assert custody is not None
                custodies[custody_id] = custody
            found.append((custodies[custody_id], notice_from_row(row)))
        return found

    async def add_notices(self, notices: Sequence[Notice]) -> None:
        async with self._transaction("add_notices") as db:
            await self._insert_notices(db, notices)

    async def skip_superseded_reminders(self, now: datetime) -> int:
        now_text = to_db_time(now)
        async with self._transaction("skip_superseded_reminders") as db:
            cursor = await db.execute(
                """UPDATE notices SET state = 'skipped', last_error = 'superseded'
                   WHERE state = 'pending' AND kind = 'reminder' AND ready_at <= ?1
                     AND EXISTS (
                         SELECT 1 FROM notices later
                         WHERE later.custody_id = notices.custody_id
                           AND later.channel = notices.channel
                           AND later.state = 'pending'
                           AND later.kind IN ('reminder', 'expired')
                           AND later.due_at > notices.due_at
                           AND later.due_at <= ?1)""",
                (now_text,),
            )
            return int(cursor.rowcount)

    async def ready_notices(
        self, now: datetime, limit: int, exclude_channels: Collection[str] = ()
    ) -> list[Notice]:
        excluded = _bounded(exclude_channels)
        rows = await self._fetch_all(
            f"""SELECT * FROM notices WHERE state = 'pending' AND ready_at <= ?
                AND channel NOT IN ({_placeholders(len(excluded))})
                ORDER BY ready_at, seq LIMIT ?""",
            (to_db_time(now), *excluded, limit),
        )
        return [notice_from_row(row) for row in rows]

    async def next_ready_at(self, exclude_channels: Collection[str] = ()) -> datetime | None:
        excluded = _bounded(exclude_channels)
        rows = await self._fetch_all(
            # ORDER BY … LIMIT 1 stops at the first match in the index; min() would read it all.
            f"""SELECT ready_at FROM notices WHERE state = 'pending'
                AND channel NOT IN ({_placeholders(len(excluded))})
                ORDER BY ready_at LIMIT 1""",
            excluded,
        )
        return _maybe_time(rows[0]["ready_at"]) if rows else None

    async def oldest_overdue_due_at(self, now: datetime) -> datetime | None:
        rows = await self._fetch_all(
            """SELECT min(due_at) AS due_at FROM notices
               WHERE state IN ('pending', 'sending') AND due_at <= ?
                 AND kind NOT IN ('backup', 'backup_delete')""",
            (to_db_time(now),),
        )
        return _maybe_time(rows[0]["due_at"])

    async def count_failing_notices(
        self, error_codes: Collection[str], error_prefixes: Collection[str] = ()
    ) -> int:
        conditions = [f"last_error IN ({_placeholders(len(error_codes))})"] if error_codes else []
        conditions += ["last_error LIKE ?" for _ in error_prefixes]
        if not conditions:
            return 0
        rows = await self._fetch_all(
            f"""SELECT count(*) AS n FROM notices
                WHERE state = 'pending' AND last_error IS NOT NULL
                  AND ({" OR ".join(conditions)})""",
            (*error_codes, *(prefix + "%" for prefix in error_prefixes)),
        )
        return int(rows[0]["n"])

    async def notices_in_flight(self) -> list[Notice]:
        rows = await self._fetch_all("SELECT * FROM notices WHERE state = 'sending' ORDER BY seq")
        return [notice_from_row(row) for row in rows]

    async def notices_for(self, custody_id: str) -> list[Notice]:
        rows = await self._fetch_all(
            "SELECT * FROM notices WHERE custody_id = ? ORDER BY seq", (custody_id,)
        )
        return [notice_from_row(row) for row in rows]

    async def mark_sending(self, notice_id: str, at: datetime) -> bool:
        async with self._transaction("mark_sending") as db:
            cursor = await db.execute(
                """UPDATE notices SET state = 'sending', attempted_at = ?, attempts = attempts + 1
                   WHERE id = ? AND state = 'pending'""",
                (to_db_time(at), notice_id),
            )
            return cursor.rowcount == 1

    async def mark_sent(
        self,
        notice_id: str,
        at: datetime,
        message_ts: str | None,
        message_channel: str | None = None,
    ) -> None:
        async with self._transaction("mark_sent") as db:
            await db.execute(
                """UPDATE notices SET state = 'sent', sent_at = ?, message_ts = ?,
                       message_channel = ?, next_attempt_at = NULL, may_have_posted = 0,
                       last_error = CASE WHEN state IN ('skipped', 'cancelled')
                                         THEN NULL ELSE last_error END
                   WHERE id = ? AND state != 'sent'""",
                (to_db_time(at), message_ts, message_channel, notice_id),
            )
            if self._before_commit is not None:
                self._before_commit("mid_commit")

    async def mark_failed(
        self,
        notice_id: str,
        *,
        error: str,
        retry_at: datetime,
        may_have_posted: bool,
        attempts: int | None = None,
    ) -> None:
        retry_text = to_db_time(retry_at)
        async with self._transaction("mark_failed") as db:
            cursor = await db.execute(
                """SELECT custody_id, channel, seq FROM notices
                   WHERE id = ? AND state IN ('pending', 'sending')""",
                (notice_id,),
            )
            row = await cursor.fetchone()
            if row is None:
                return  # already sent, skipped or cancelled: a late failure report changes nothing
            await db.execute(
                """UPDATE notices SET state = 'pending', last_error = ?, next_attempt_at = ?,
                       ready_at = max(due_at, ?), may_have_posted = ?,
                       attempts = max(attempts, coalesce(?, 0))
                   WHERE id = ?""",
                (error, retry_text, retry_text, int(may_have_posted), attempts, notice_id),
            )
            await db.execute(
                """UPDATE notices SET ready_at = max(ready_at, ?)
                   WHERE custody_id = ? AND channel = ? AND seq > ? AND state = 'pending'""",
                (retry_text, row["custody_id"], row["channel"], row["seq"]),
            )

    async def mark_pending(self, notice_id: str, *, may_have_posted: bool) -> None:
        async with self._transaction("mark_pending") as db:
            await db.execute(
                """UPDATE notices SET state = 'pending', may_have_posted = ?
                   WHERE id = ? AND state = 'sending'""",
                (int(may_have_posted), notice_id),
            )

    async def skip_notices(self, notice_ids: Collection[str], reason: str) -> None:
        if not notice_ids:
            return
        async with self._transaction("skip_notices") as db:
            await db.execute(
                f"""UPDATE notices SET state = 'skipped', last_error = ?
                    WHERE id IN ({_placeholders(len(notice_ids))}) AND state = 'pending'""",
                (reason, *notice_ids),
            )

    async def defer_notices(self, notice_ids: Collection[str], until: datetime) -> None:
        if not notice_ids:
            return
        async with self._transaction("defer_notices") as db:
            await db.execute(
                f"""UPDATE notices SET next_attempt_at = ?1, ready_at = max(due_at, ?1)
                    WHERE id IN ({_placeholders(len(notice_ids))}) AND state = 'pending'
                      AND ready_at < ?1""",
                (to_db_time(until), *notice_ids),
            )

    @staticmethod
    async def _bring_forward(
        db: aiosqlite.Connection,
        custody_id: str,
        kind: NoticeKind,
        at: datetime,
        channel: str | None = None,
    ) -> None:
        await db.execute(
            """UPDATE notices SET due_at = ?1, ready_at = max(?1, coalesce(next_attempt_at, ?1))
               WHERE custody_id = ?2 AND kind = ?3 AND state = 'pending' AND due_at > ?1
                 AND (?4 IS NULL OR channel = ?4)""",
            (to_db_time(at), custody_id, kind.value, channel),
        )

    async def bring_forward(
        self, custody_id: str, kind: NoticeKind, at: datetime, *, channel: str | None = None
    ) -> None:
        async with self._transaction("bring_forward") as db:
            await self._bring_forward(db, custody_id, kind, at, channel)

    # --- escalation ------------------------------------------------------------

    async def expand_step(self, step_id: str, pages: Sequence[Notice], at: datetime) -> bool:
        async with self._transaction("expand_step") as db:
            cursor = await db.execute(
                """UPDATE notices SET state = 'sent', sent_at = ?, next_attempt_at = NULL
                   WHERE id = ? AND state IN ('pending', 'sending')""",
                (to_db_time(at), step_id),
            )
            if cursor.rowcount != 1:
                return False
            await self._insert_notices(db, pages)
            return True

    async def acknowledge(
        self,
        custody_id: str,
        *,
        at: datetime,
        by: str,
        cancel_step_ids: Collection[str],
        new_notices: Sequence[Notice],
        audit: AuditEntry,
        expected_acknowledged_at: datetime | None,
    ) -> Custody:
        expected = (
            to_db_time(expected_acknowledged_at) if expected_acknowledged_at is not None else None
        )
        async with self._transaction("acknowledge") as db:
            # The condition on acknowledged_at makes this a compare-and-set: of two
            # acknowledgements that read the same custody, only the first changes it.
            cursor = await db.execute(
                """UPDATE custodies SET acknowledged_at = ?, acknowledged_by = ?
                   WHERE id = ? AND state = 'open' AND acknowledged_at IS ?""",
                (to_db_time(at), by, custody_id, expected),
            )
            if cursor.rowcount != 1:
                current = await self._get_custody(db, custody_id)
                if current is None or not current.is_open:
                    raise CustodyNotOpen(current)
                raise AlreadyAcknowledged(current)
            await db.execute(
                f"""UPDATE notices SET state = 'cancelled'
                    WHERE custody_id = ? AND state = 'pending'
                      AND (kind = 'escalation'
                           OR id IN ({_placeholders(len(cancel_step_ids))}))""",
                (custody_id, *cancel_step_ids),
            )
            await self._insert_notices(db, new_notices)
            await self._insert_audit(db, audit)
            acknowledged = await self._get_custody(db, custody_id)
        assert acknowledged is not None
        return acknowledged

    async def add_oncall_override(self, override: OncallOverrideRecord, audit: AuditEntry) -> None:
        async with self._transaction("add_oncall_override") as db:
            await db.execute(
                """INSERT INTO oncall_overrides
                       (schedule_id, user_id, starts_at, ends_at, created_by, created_at)
                   VALUES (?, ?, ?, ?, ?, ?)""",
                (
                    override.schedule_id,
                    override.user_id,
                    to_db_time(override.starts_at),
                    to_db_time(override.ends_at),
                    override.created_by,
                    to_db_time(override.created_at),
                ),
            )
            await self._insert_audit(db, audit)

    async def oncall_overrides(self, schedule_id: str, now: datetime) -> list[OncallOverrideRecord]:
        rows = await self._fetch_all(
            """SELECT * FROM oncall_overrides WHERE schedule_id = ? AND ends_at > ?
               ORDER BY starts_at, id""",
            (schedule_id, to_db_time(now)),
        )
        return [
            OncallOverrideRecord(
                schedule_id=row["schedule_id"],
                user_id=row["user_id"],
                starts_at=from_db_time(row["starts_at"]),
                ends_at=from_db_time(row["ends_at"]),
                created_by=row["created_by"],
                created_at=from_db_time(row["created_at"]),
            )
            for row in rows
        ]

    # --- audit -----------------------------------------------------------------

    @staticmethod
    async def _insert_audit(db: aiosqlite.Connection, entry: AuditEntry) -> None:
        await db.execute(_INSERT_AUDIT, _audit_row(entry))

    async def record_audit(self, entry: AuditEntry) -> None:
        async with self._transaction("record_audit") as db:
            await self._insert_audit(db, entry)

    async def audit_trail(self, custody_id: str) -> list[AuditEntry]:
        rows = await self._fetch_all(
            "SELECT * FROM audit_log WHERE custody_id = ? ORDER BY id", (custody_id,)
        )
        return [audit_from_row(row) for row in rows]
