"""Arrests written by group commit: those queued while one is written share its transaction.

Whoever gets the store's lock writes every arrest queued by then (up to
``ARREST_BATCH``) with one statement per table and one fsync, and tells each its
outcome. Each caller returns only once its own arrest is committed (or refused),
so "stored before acknowledged" holds for every one of them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import aiosqlite

from bot.core.model import AuditEntry, Custody, Notice
from storage.interface import DuplicateOpenCustody
from storage.sqlite.audit_log import append_events
from storage.sqlite.database import SqliteDatabase
from storage.sqlite.queries import QUERIES, json_list
from storage.sqlite.rows import custody_from_row, custody_row, notice_row

# Arrests written together in one transaction at most.
ARREST_BATCH = 64


@dataclass(eq=False)
class _QueuedArrest:
    """An arrest waiting for the group commit, with its rows ready to write."""

    custody: Custody
    custody_row: tuple[Any, ...]
    notice_rows: list[tuple[Any, ...]]
    # Chained when written: its place in the chain is known only inside the transaction.
    audit: AuditEntry
    outcome: asyncio.Future[None]


class ArrestWriter:
    """The queue of arrests waiting for the lock, and the batch writer that empties it."""

    def __init__(self, database: SqliteDatabase) -> None:
        self._database = database
        self._queued: list[_QueuedArrest] = []

    async def add(self, custody: Custody, notices: Sequence[Notice], audit: AuditEntry) -> None:
        """Store one arrest atomically, in a batch with those queued meanwhile."""
        arrest = _queued_arrest(custody, notices, audit)
        self._queued.append(arrest)
        try:
            async with self._database.lock:
                if not arrest.outcome.done():
                    batch = self._queued[:ARREST_BATCH]
                    del self._queued[:ARREST_BATCH]
                    await self._write(batch)
        except asyncio.CancelledError:
            if arrest in self._queued:  # not written, and now never will be
                self._queued.remove(arrest)
            raise
        await arrest.outcome

    async def _write(self, batch: list[_QueuedArrest]) -> None:
        """Write ``batch`` in one transaction and settle each arrest's outcome.

        Errors go to the arrests' outcomes, not to the caller; only a cancellation
        of the writer propagates, after putting the others back in the queue (their
        callers are still waiting for the lock and will write them).
        """
        try:
            async with self._database.locked_transaction("add_custody") as db:
                refused = await _open_duplicates(db, batch)
                await _insert(db, [arrest for arrest in batch if arrest not in refused])
        except Exception as error:
            if len(batch) > 1:
                # Something in the batch broke a constraint: write each on its own,
                # so one bad arrest cannot fail the others.
                for arrest in batch:
                    await self._write([arrest])
            else:
                batch[0].outcome.set_exception(error)
            return
        except BaseException:
            self._queued[:0] = [a for a in batch if not a.outcome.done()]
            raise
        for arrest in batch:
            if arrest in refused:
                arrest.outcome.set_exception(DuplicateOpenCustody(refused[arrest]))
            else:
                arrest.outcome.set_result(None)

    async def add_all(
        self, arrests: Sequence[tuple[Custody, Sequence[Notice], AuditEntry]]
    ) -> None:
        """Store many arrests in one transaction, all or none (the caller waits for it).

        Raises ``DuplicateOpenCustody`` (storing none) when a booking is open already.
        """
        batch = [_queued_arrest(*arrest) for arrest in arrests]
        async with self._database.transaction("add_custodies") as db:
            refused = await _open_duplicates(db, batch)
            if refused:
                raise DuplicateOpenCustody(next(iter(refused.values())))
            await _insert(db, batch)
        for arrest in batch:
            arrest.outcome.cancel()  # nobody waits on it


def _queued_arrest(custody: Custody, notices: Sequence[Notice], audit: AuditEntry) -> _QueuedArrest:
    return _QueuedArrest(
        custody=custody,
        custody_row=custody_row(custody),
        notice_rows=[notice_row(notice) for notice in notices],
        audit=audit,
        outcome=asyncio.get_running_loop().create_future(),
    )


async def _insert(db: aiosqlite.Connection, arrests: Sequence[_QueuedArrest]) -> None:
    if not arrests:
        return
    await db.executemany(QUERIES["insert_custody"], [a.custody_row for a in arrests])
    await db.executemany(QUERIES["insert_notice"], [row for a in arrests for row in a.notice_rows])
    await append_events(db, [a.audit for a in arrests])


async def _open_duplicates(
    db: aiosqlite.Connection, batch: Sequence[_QueuedArrest]
) -> dict[_QueuedArrest, Custody]:
    """Arrests whose booking is already open at their facility, with that custody.

    One process writes the file (see the README), and this runs inside the write
    transaction, so the answer holds until COMMIT; the unique index stays as the
    last word.
    """
    bookings = [arrest.custody.booking for arrest in batch]
    cursor = await db.execute(QUERIES["open_custodies_by_booking"], (json_list(bookings),))
    open_now = {
        (row["booking"], row["facility_id"]): custody_from_row(row)
        for row in await cursor.fetchall()
    }
    refused: dict[_QueuedArrest, Custody] = {}
    for arrest in batch:
        if not arrest.custody.is_open:  # a closed custody (a data set's) is no duplicate
            continue
        key = (arrest.custody.booking, arrest.custody.facility_id)
        if key in open_now:
            refused[arrest] = open_now[key]
        else:
            open_now[key] = arrest.custody  # a second one later in the batch is refused
    return refused
