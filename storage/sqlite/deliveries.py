"""The notice queue of the SQLite store: what the dispatcher reads, claims and records.

Part of ``SqliteCustodyStore`` (its base class). A notice recorded sent, skipped, or
failing on an error a person must fix appends its audit event in the same transaction
(``storage.sqlite.audit_log``; which kinds, ``bot.core.audit.AUDITED_NOTICE_KINDS``),
and so does a chain step that becomes pages.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

import aiosqlite

from bot.core.model import Notice, NoticeKind
from bot.core.retry import SendFailure
from storage.interface import Clock
from storage.sqlite.audit_log import record_notice_events, record_pages
from storage.sqlite.database import SqliteDatabase
from storage.sqlite.queries import QUERIES, json_list, with_list
from storage.sqlite.rows import maybe_time, notice_from_row, notice_row, to_db_time


class NoticeQueue:
    """The notices' half of the store, over its database."""

    def __init__(self, database: SqliteDatabase, clock: Clock) -> None:
        self._database = database
        self._clock = clock
        self._transaction = database.transaction
        self._fetch_all = database.fetch_all

    @staticmethod
    async def _insert_notices(db: aiosqlite.Connection, notices: Sequence[Notice]) -> None:
        await db.executemany(QUERIES["insert_notice"], [notice_row(notice) for notice in notices])

    async def add_notices(self, notices: Sequence[Notice]) -> None:
        async with self._transaction("add_notices") as db:
            await self._insert_notices(db, notices)

    async def skip_superseded_reminders(self, now: datetime) -> int:
        async with self._transaction("skip_superseded_reminders") as db:
            cursor = await db.execute(QUERIES["skip_superseded_reminders"], (to_db_time(now),))
            skipped = [row["id"] for row in await cursor.fetchall()]
            await record_notice_events(
                db, skipped, now, "notice_skipped", "skipped", reason="superseded"
            )
            return len(skipped)

    async def ready_notices(
        self, now: datetime, limit: int, exclude_channels: Collection[str] = ()
    ) -> list[Notice]:
        excluded = tuple(exclude_channels)
        rows = await self._fetch_all(
            with_list("ready_notices", len(excluded)), (to_db_time(now), *excluded, limit)
        )
        return [notice_from_row(row) for row in rows]

    async def next_ready_at(self, exclude_channels: Collection[str] = ()) -> datetime | None:
        excluded = tuple(exclude_channels)
        rows = await self._fetch_all(with_list("next_ready_at", len(excluded)), excluded)
        return maybe_time(rows[0]["ready_at"]) if rows else None

    async def oldest_overdue_due_at(self, now: datetime) -> datetime | None:
        rows = await self._fetch_all(QUERIES["oldest_overdue_due_at"], (to_db_time(now),))
        return maybe_time(rows[0]["due_at"])

    async def count_failing_notices(
        self, error_codes: Collection[str], error_prefixes: Collection[str] = ()
    ) -> int:
        if not error_codes and not error_prefixes:
            return 0
        rows = await self._fetch_all(
            QUERIES["count_failing_notices"], (json_list(error_codes), json_list(error_prefixes))
        )
        return int(rows[0]["n"])

    async def notices_in_flight(self) -> list[Notice]:
        return [notice_from_row(row) for row in await self._fetch_all(QUERIES["notices_in_flight"])]

    async def notices_for(self, custody_id: str) -> list[Notice]:
        rows = await self._fetch_all(QUERIES["notices_of_custody"], (custody_id,))
        return [notice_from_row(row) for row in rows]

    async def mark_sending(self, notice_id: str, at: datetime) -> bool:
        async with self._transaction("mark_sending") as db:
            cursor = await db.execute(QUERIES["mark_sending"], (to_db_time(at), notice_id))
            return cursor.rowcount == 1

    async def mark_sent(
        self,
        notice_id: str,
        at: datetime,
        message_ts: str | None,
        message_channel: str | None = None,
    ) -> None:
        async with self._transaction("mark_sent") as db:
            cursor = await db.execute(
                QUERIES["mark_sent"], (to_db_time(at), message_ts, message_channel, notice_id)
            )
            sent = [row["id"] for row in await cursor.fetchall()]
            await record_notice_events(
                db, sent, at, "notice_sent", "sent", message_ts=message_ts, where=message_channel
            )
            if self._database.before_commit is not None:
                self._database.before_commit("mid_commit")

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
            cursor = await db.execute(QUERIES["unsent_notice_place"], (notice_id,))
            row = await cursor.fetchone()
            if row is None:
                return  # already sent, skipped or cancelled: a late failure report changes nothing
            if SendFailure(error).is_permanent and row["last_error"] != error:
                # A person must fix this: the notice waits for them (it is retried, slowly).
                await record_notice_events(
                    db, [notice_id], retry_at, "notice_undeliverable", "pending", error=error
                )
            await db.execute(
                QUERIES["mark_failed"],
                (error, retry_text, retry_text, int(may_have_posted), attempts, notice_id),
            )
            await db.execute(
                QUERIES["hold_back_later_notices"],
                (retry_text, row["custody_id"], row["channel"], row["seq"]),
            )

    async def mark_pending(self, notice_id: str, *, may_have_posted: bool) -> None:
        async with self._transaction("mark_pending") as db:
            await db.execute(QUERIES["mark_pending"], (int(may_have_posted), notice_id))

    async def skip_notices(self, notice_ids: Collection[str], reason: str) -> None:
        if not notice_ids:
            return
        async with self._transaction("skip_notices") as db:
            cursor = await db.execute(QUERIES["skip_notices"], (reason, json_list(notice_ids)))
            skipped = [row["id"] for row in await cursor.fetchall()]
            await record_notice_events(
                db, skipped, self._clock.now(), "notice_skipped", "skipped", reason=reason
            )

    async def defer_notices(self, notice_ids: Collection[str], until: datetime) -> None:
        if not notice_ids:
            return
        async with self._transaction("defer_notices") as db:
            await db.execute(QUERIES["defer_notices"], (to_db_time(until), json_list(notice_ids)))

    @staticmethod
    async def _bring_forward(
        db: aiosqlite.Connection,
        custody_id: str,
        kind: NoticeKind,
        at: datetime,
        channel: str | None = None,
    ) -> None:
        await db.execute(
            QUERIES["bring_forward"], (to_db_time(at), custody_id, kind.value, channel)
        )

    async def bring_forward(
        self, custody_id: str, kind: NoticeKind, at: datetime, *, channel: str | None = None
    ) -> None:
        async with self._transaction("bring_forward") as db:
            await self._bring_forward(db, custody_id, kind, at, channel)

    async def expand_step(self, step_id: str, pages: Sequence[Notice], at: datetime) -> bool:
        async with self._transaction("expand_step") as db:
            cursor = await db.execute(QUERIES["mark_step_expanded"], (to_db_time(at), step_id))
            if cursor.rowcount != 1:
                return False
            await self._insert_notices(db, pages)
            paged = [p.channel for p in pages if p.kind is NoticeKind.ESCALATION]
            await record_pages(db, step_id, paged, at)
            return True
