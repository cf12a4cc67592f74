"""The SQLite ledger of certification reminders (``storage.certification_ledger``).

It shares the store's database (its connection, lock and transactions): one file,
one process. Each statement is a named block of ``queries.sql``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from bot.core.certification_plan import CertificationReminder, ReminderKey
from storage.certification_ledger import ReminderRecord
from storage.sqlite.database import SqliteDatabase
from storage.sqlite.queries import QUERIES
from storage.sqlite.rows import (
    certification_reminder_row,
    reminder_record_from_row,
    to_db_time,
)


class SqliteCertificationLedger:
    """A ``CertificationLedger`` over the store's SQLite database."""

    def __init__(self, database: SqliteDatabase) -> None:
        self._database = database

    async def add(self, reminders: Sequence[CertificationReminder]) -> list[CertificationReminder]:
        if not reminders:
            return []
        added = []
        async with self._database.transaction("add_certification_reminders") as db:
            for reminder in reminders:
                cursor = await db.execute(
                    QUERIES["insert_certification_reminder"], certification_reminder_row(reminder)
                )
                if cursor.rowcount == 1:
                    added.append(reminder)
        return added

    async def planned(self) -> set[ReminderKey]:
        rows = await self._database.fetch_all(QUERIES["certification_reminder_keys"])
        return {(row["user_id"], date.fromisoformat(row["expires_on"])) for row in rows}

    async def unsent(self) -> list[ReminderRecord]:
        rows = await self._database.fetch_all(QUERIES["unsent_certification_reminders"])
        return [reminder_record_from_row(row) for row in rows]

    async def mark_sending(self, reminder_id: str, at: datetime) -> bool:
        async with self._database.transaction("mark_certification_reminder_sending") as db:
            cursor = await db.execute(
                QUERIES["mark_certification_reminder_sending"], (to_db_time(at), reminder_id)
            )
            return cursor.rowcount == 1

    async def mark_sent(self, reminder_id: str, at: datetime, message_ts: str | None) -> None:
        async with self._database.transaction("mark_certification_reminder_sent") as db:
            await db.execute(
                QUERIES["mark_certification_reminder_sent"],
                (to_db_time(at), message_ts, reminder_id),
            )

    async def mark_skipped(self, reminder_id: str, reason: str) -> None:
        async with self._database.transaction("mark_certification_reminder_skipped") as db:
            await db.execute(QUERIES["mark_certification_reminder_skipped"], (reason, reminder_id))

    async def mark_failed(
        self, reminder_id: str, *, error: str, retry_at: datetime, may_have_posted: bool
    ) -> None:
        async with self._database.transaction("mark_certification_reminder_failed") as db:
            await db.execute(
                QUERIES["mark_certification_reminder_failed"],
                (error, to_db_time(retry_at), int(may_have_posted), reminder_id),
            )
