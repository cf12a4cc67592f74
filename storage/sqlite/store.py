"""SQLite implementation of ``CustodyStore`` (aiosqlite, WAL, synchronous=FULL).

The file, its lock and its transactions are ``SqliteDatabase``'s; the statements are
the named blocks of ``queries.sql``; the rows are read and written by ``rows``. What
each method promises is said once, on ``storage.interface.CustodyStore``.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import datetime
from pathlib import Path

import aiosqlite

from bot.core.model import AuditEntry, Custody, CustodyState, Notice, NoticeKind
from storage.interface import (
    AlreadyAcknowledged,
    Clock,
    CustodyChanged,
    CustodyNotOpen,
    OncallOverrideRecord,
    StoreFault,
)
from storage.sqlite.arrests import ArrestWriter
from storage.sqlite.audit_log import append_events, entry_from_row, purge_personal_data
from storage.sqlite.certifications import SqliteCertificationLedger
from storage.sqlite.database import INTEGRITY_WAIT_SECONDS, SqliteDatabase, WallClock
from storage.sqlite.deliveries import NoticeQueue
from storage.sqlite.queries import QUERIES, json_list
from storage.sqlite.rows import (
    counted_from,
    custody_from_row,
    maybe_db_time,
    notice_from_row,
    override_from_row,
    override_row,
    to_db_time,
)


class SqliteCustodyStore(NoticeQueue):
    """A ``CustodyStore`` over one SQLite file, used by one process at a time."""

    def __init__(
        self,
        path: Path | str,
        *,
        before_commit: Callable[[str], None] | None = None,
        clock: Clock | None = None,
        integrity_wait_seconds: float = INTEGRITY_WAIT_SECONDS,
    ) -> None:
        clock = clock or WallClock()
        database = SqliteDatabase(
            path,
            before_commit=before_commit,
            clock=clock,
            integrity_wait_seconds=integrity_wait_seconds,
        )
        super().__init__(database, clock)
        self._arrests = ArrestWriter(database)
        self.certifications = SqliteCertificationLedger(database)

    # --- the file --------------------------------------------------------------

    async def open(self) -> None:
        """Lock the database, connect, check it and migrate; refuse one in use or damaged.

        The integrity check (own connection) is awaited up to ``integrity_wait_seconds``; one
        still running then ends in the background, reporting by ``fault``/``integrity_checked``.
        """
        await self._database.open()

    async def close(self) -> None:
        await self._database.close()

    async def integrity_checked(self) -> None:
        await self._database.integrity_checked()

    def fault(self) -> StoreFault | None:
        return self._database.fault()

    async def ping(self) -> None:
        await self._fetch_all("SELECT 1")

    # --- custodies -------------------------------------------------------------

    async def add_custody(
        self, custody: Custody, notices: Sequence[Notice], audit: AuditEntry
    ) -> None:
        """Group commit: see ``storage.sqlite.arrests``."""
        await self._arrests.add(custody, notices, audit)

    async def add_custodies(
        self, arrests: Sequence[tuple[Custody, Sequence[Notice], AuditEntry]]
    ) -> None:
        await self._arrests.add_all(arrests)

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
        received_by: str | None = None,
        taken_at: datetime | None = None,
    ) -> Custody:
        parameters = (state.value, to_db_time(at), by, reason, received_by)
        async with self._transaction("close_custody") as db:
            cursor = await db.execute(
                QUERIES["close_custody"], (*parameters, maybe_db_time(taken_at), custody_id)
            )
            if cursor.rowcount != 1:
                raise CustodyNotOpen(await self._get_custody(db, custody_id))
            await db.execute(QUERIES["cancel_notices_of_closed_custody"], (custody_id,))
            await self._bring_forward(db, custody_id, NoticeKind.BACKUP_DELETE, at)
            await self._insert_notices(db, closing_notices)
            await append_events(db, [audit])
            closed = await self._get_custody(db, custody_id)
        assert closed is not None
        return closed

    async def correct_custody(
        self,
        *,
        expected: Custody,
        corrected: Custody,
        at: datetime,
        new_notices: Sequence[Notice],
        audit: AuditEntry,
    ) -> Custody:
        custody_id = expected.id
        parameters = (*counted_from(corrected), custody_id, *counted_from(expected))
        async with self._transaction("correct_custody") as db:
            cursor = await db.execute(QUERIES["correct_custody"], parameters)
            await self._changed_or_raise(db, custody_id, cursor.rowcount)
            await db.execute(QUERIES["cancel_notices_of_closed_custody"], (custody_id,))
            await self._bring_forward(db, custody_id, NoticeKind.BACKUP_DELETE, at)
            return await self._finish(db, custody_id, new_notices, audit)

    async def dispute_custody(
        self,
        custody_id: str,
        *,
        at: datetime,
        by: str,
        note: str,
        new_notices: Sequence[Notice],
        audit: AuditEntry,
    ) -> Custody:
        async with self._transaction("dispute_custody") as db:
            cursor = await db.execute(
                QUERIES["dispute_custody"], (to_db_time(at), by, note, custody_id)
            )
            await self._changed_or_raise(db, custody_id, cursor.rowcount)
            return await self._finish(db, custody_id, new_notices, audit)

    async def add_to_open_custody(
        self, custody_id: str, notices: Sequence[Notice], audit: AuditEntry
    ) -> Custody:
        async with self._transaction("add_to_open_custody") as db:
            current = await self._get_custody(db, custody_id)
            is_open = current is not None and current.is_open
            await self._changed_or_raise(db, custody_id, int(is_open))
            return await self._finish(db, custody_id, notices, audit)

    async def _changed_or_raise(
        self, db: aiosqlite.Connection, custody_id: str, rowcount: int
    ) -> None:
        """Raise ``CustodyNotOpen`` or ``CustodyChanged`` unless one row changed."""
        if rowcount == 1:
            return
        current = await self._get_custody(db, custody_id)
        if current is None or not current.is_open:
            raise CustodyNotOpen(current)
        raise CustodyChanged(current)

    async def _finish(
        self,
        db: aiosqlite.Connection,
        custody_id: str,
        notices: Sequence[Notice],
        audit: AuditEntry,
    ) -> Custody:
        """Store the notices and the audit entry of a change; the custody as it is now."""
        await self._insert_notices(db, notices)
        await append_events(db, [audit])
        changed = await self._get_custody(db, custody_id)
        assert changed is not None
        return changed

    async def get_custody(self, custody_id: str) -> Custody | None:
        rows = await self._fetch_all(QUERIES["custody_by_id"], (custody_id,))
        return custody_from_row(rows[0]) if rows else None

    @staticmethod
    async def _get_custody(db: aiosqlite.Connection, custody_id: str) -> Custody | None:
        cursor = await db.execute(QUERIES["custody_by_id"], (custody_id,))
        row = await cursor.fetchone()
        return None if row is None else custody_from_row(row)

    async def find_custodies(
        self, booking: str, facility_ids: Collection[str] | None = None, *, open_only: bool = False
    ) -> list[Custody]:
        rows = await self._fetch_all(
            QUERIES["custodies_by_booking"], (booking, json_list(facility_ids), int(open_only))
        )
        return [custody_from_row(row) for row in rows]

    async def list_open_custodies(
        self, facility_ids: Collection[str] | None = None, limit: int = 100
    ) -> list[Custody]:
        rows = await self._fetch_all(
            QUERIES["open_custodies_by_deadline"], (json_list(facility_ids), limit)
        )
        return [custody_from_row(row) for row in rows]

    async def closed_custodies_since(
        self, facility_ids: Collection[str] | None, since: datetime, limit: int = 100
    ) -> list[Custody]:
        rows = await self._fetch_all(
            QUERIES["closed_custodies_since"], (json_list(facility_ids), to_db_time(since), limit)
        )
        return [custody_from_row(row) for row in rows]

    async def count_open_custodies(self, facility_ids: Collection[str] | None = None) -> int:
        rows = await self._fetch_all(QUERIES["count_open_custodies"], (json_list(facility_ids),))
        return int(rows[0]["n"])

    async def scheduled_backups(self) -> list[tuple[Custody, Notice]]:
        rows = await self._fetch_all(QUERIES["scheduled_backups"])
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

    # --- escalation ------------------------------------------------------------

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
        expected = maybe_db_time(expected_acknowledged_at)
        async with self._transaction("acknowledge") as db:
            cursor = await db.execute(
                QUERIES["acknowledge_custody"], (to_db_time(at), by, custody_id, expected)
            )
            if cursor.rowcount != 1:
                current = await self._get_custody(db, custody_id)
                if current is None or not current.is_open:
                    raise CustodyNotOpen(current)
                raise AlreadyAcknowledged(current)
            await db.execute(
                QUERIES["cancel_pages_and_steps"], (custody_id, json_list(cancel_step_ids))
            )
            await self._insert_notices(db, new_notices)
            await append_events(db, [audit])
            acknowledged = await self._get_custody(db, custody_id)
        assert acknowledged is not None
        return acknowledged

    async def add_oncall_override(self, override: OncallOverrideRecord, audit: AuditEntry) -> None:
        async with self._transaction("add_oncall_override") as db:
            await db.execute(QUERIES["insert_oncall_override"], override_row(override))
            await append_events(db, [audit])

    async def oncall_overrides(self, schedule_id: str, now: datetime) -> list[OncallOverrideRecord]:
        rows = await self._fetch_all(QUERIES["oncall_overrides"], (schedule_id, to_db_time(now)))
        return [override_from_row(row) for row in rows]

    async def oncall_override_by_id(
        self, override_id: int, now: datetime
    ) -> OncallOverrideRecord | None:
        found = (override_id, to_db_time(now))
        rows = await self._fetch_all(QUERIES["oncall_override_by_id"], found)
        return override_from_row(rows[0]) if rows else None

    async def end_oncall_override(self, override_id: int, at: datetime, audit: AuditEntry) -> bool:
        async with self._transaction("end_oncall_override") as db:
            cursor = await db.execute(QUERIES["end_oncall_override"], (to_db_time(at), override_id))
            if cursor.rowcount != 1:
                return False
            await append_events(db, [audit])
            return True

    # --- audit -----------------------------------------------------------------

    async def record_audit(self, entry: AuditEntry) -> None:
        async with self._transaction("record_audit") as db:
            await append_events(db, [entry])

    async def audit_trail(self, custody_id: str) -> list[AuditEntry]:
        rows = await self._fetch_all(QUERIES["audit_trail"], (custody_id,))
        return [entry_from_row(row) for row in rows]

    async def purge_personal_data(
        self, closed_before: datetime, audit: Callable[[Mapping[str, int]], AuditEntry]
    ) -> Mapping[str, int]:
        async with self._database.erasing_transaction("purge_personal_data") as db:
            erased = await purge_personal_data(db, closed_before)
            await append_events(db, [audit(erased)])
        return erased
