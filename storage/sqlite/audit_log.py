"""The audit chain in SQLite: appending events, reading them back, purging their personal parts.

Every event is appended here, inside the caller's write transaction: it follows the
last stored event (``audit_tip``), is sealed by ``bot.core.audit_chain`` with a fresh
random salt, and its personal values go to ``audit_personal``. Audit rows are only
inserted: no statement of the store changes or deletes one (the schema's triggers
refuse it too), except schema version 8's one-time chaining of older rows.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

import aiosqlite

from bot.core import audit
from bot.core.audit_chain import (
    GENESIS,
    PERSONAL_FIELDS,
    SealedEvent,
    StoredEvent,
    canonical,
    entry_of,
    seal,
)
from bot.core.model import AuditEntry, NoticeKind
from storage.sqlite.queries import QUERIES, json_list
from storage.sqlite.rows import from_db_time, to_db_time

# Salt bytes per event (hex in the database and the export).
SALT_BYTES = 16
_SECTION_COLUMNS = {"before": "values_before", "after": "values_after", "detail": "detail"}
AUDITED_KINDS = json_list(audit.AUDITED_NOTICE_KINDS)


async def append_events(db: aiosqlite.Connection, entries: Sequence[AuditEntry]) -> None:
    """Append ``entries`` to the chain, in order (the caller holds a write transaction)."""
    if not entries:
        return
    cursor = await db.execute(QUERIES["audit_tip"])
    tip = await cursor.fetchone()
    seq, prev_hash = (int(tip["id"]), tip["hash"] or GENESIS) if tip else (0, GENESIS)
    sealed: list[SealedEvent] = []
    for entry in entries:
        seq += 1
        event = seal(entry, seq, prev_hash, secrets.token_hex(SALT_BYTES))
        sealed.append(event)
        prev_hash = event.hash
    await db.executemany(QUERIES["insert_audit"], [_event_row(event) for event in sealed])
    personal = [_personal_row(event) for event in sealed if event.personal is not None]
    if personal:
        await db.executemany(QUERIES["insert_audit_personal"], personal)


def _event_row(event: SealedEvent) -> tuple[Any, ...]:
    body = event.body
    return (
        event.seq,
        body["at"],
        body["actor"],
        body["action"],
        body["custody"],
        canonical(body["detail"]),
        body["source"],
        body["facility"],
        body["request_id"],
        canonical(body["before"]),
        canonical(body["after"]),
        body["personal_digest"],
        event.prev_hash,
        event.hash,
    )


def _personal_row(event: SealedEvent) -> tuple[Any, ...]:
    return (event.seq, event.salt, canonical(event.personal))


def stored_event(row: sqlite3.Row) -> StoredEvent:
    """An ``audit_events`` or ``audit_trail`` row as the chain's verifier reads it."""
    body: dict[str, Any] = {
        "seq": row["id"],
        "at": row["at"],
        "actor": row["actor"],
        "source": row["source"],
        "action": row["action"],
        "facility": row["facility_id"],
        "custody": row["custody_id"],
        "request_id": row["request_id"],
        **{
            section: json.loads(row[column] or "{}") for section, column in _SECTION_COLUMNS.items()
        },
        "personal_digest": row["personal_digest"],
    }
    personal = row["personal"]
    return StoredEvent(
        body=body,
        prev_hash=row["prev_hash"],
        hash=row["hash"],
        personal=json.loads(personal) if personal is not None else None,
        salt=row["salt"],
    )


def entry_from_row(row: sqlite3.Row) -> AuditEntry:
    """An ``audit_trail`` row as the entry that was recorded (personal values back in)."""
    event = stored_event(row)
    return entry_of(event.body, event.personal)


# --- notices: sent, skipped, given to a person, paged --------------------------------------


async def record_notice_events(
    db: aiosqlite.Connection,
    notice_ids: Collection[str],
    at: datetime,
    action: str,
    state: str,
    **detail: object,
) -> None:
    """One event per notice of ``notice_ids`` whose kind is audited."""
    if not notice_ids:
        return
    facts = await _notice_facts(db, notice_ids, AUDITED_KINDS)
    await append_events(
        db, [audit.notice_event(at, action, notice, state, **detail) for notice, _ in facts]
    )


async def record_pages(
    db: aiosqlite.Connection, step_id: str, recipients: list[str], at: datetime
) -> None:
    """A chain step fell due at ``at`` and pages ``recipients``."""
    steps = await _notice_facts(db, [step_id], json_list([NoticeKind.PAGE_STEP]))
    await append_events(
        db, [audit.pages_sent(at, step, level, recipients) for step, level in steps]
    )


async def _notice_facts(
    db: aiosqlite.Connection, notice_ids: Collection[str], kinds: str | None
) -> list[tuple[audit.NoticeFacts, int | None]]:
    cursor = await db.execute(QUERIES["notice_audit_facts"], (json_list(notice_ids), kinds))
    return [
        (
            audit.NoticeFacts(
                notice_id=row["id"],
                kind=row["kind"],
                target=row["channel"],
                custody_id=row["custody_id"],
                facility_id=row["facility_id"],
                booking=row["booking"],
                attempts=row["attempts"],
            ),
            row["level"],
        )
        for row in await cursor.fetchall()
    ]


# --- the purge --------------------------------------------------------------------------


async def purge_personal_data(db: aiosqlite.Connection, closed_before: datetime) -> dict[str, int]:
    """Erase the personal data of custodies closed before ``closed_before``; what was erased.

    Their events lose their personal part and salt (each keeps its digest, so the chain
    verifies), their custody fields named in ``PERSONAL_FIELDS`` are emptied, and so are
    those keys of their notices' details.
    """
    cutoff = to_db_time(closed_before)
    cursor = await db.execute(QUERIES["count_closed_before"], (cutoff,))
    row = await cursor.fetchone()
    closed = int(row["n"]) if row is not None else 0
    cursor = await db.execute(QUERIES["purge_audit_personal"], (cutoff,))
    events = cursor.rowcount
    fields = 0
    for column in await _personal_custody_columns(db):
        statement = QUERIES["erase_custody_field"].replace("{column}", column)
        cursor = await db.execute(statement, (cutoff,))
        fields += cursor.rowcount
    notices = 0
    for key in sorted(PERSONAL_FIELDS):
        cursor = await db.execute(QUERIES["erase_notice_detail_field"], (cutoff, key))
        notices += cursor.rowcount
    return {
        "custodies": closed,
        "events_erased": events,
        "custody_fields_erased": fields,
        "notice_details_erased": notices,
    }


async def _personal_custody_columns(db: aiosqlite.Connection) -> list[str]:
    """The custodies table's columns whose names are personal fields (table's own names)."""
    cursor = await db.execute("PRAGMA table_info(custodies)")
    return sorted(row["name"] for row in await cursor.fetchall() if row["name"] in PERSONAL_FIELDS)


# --- schema version 8: the chain begins ------------------------------------------------------


async def chain_legacy_events(db: aiosqlite.Connection) -> int:
    """Chain the events written before schema version 8, in order; how many there were.

    Each keeps its number and content; its personal values move to ``audit_personal``.
    """
    cursor = await db.execute(QUERIES["legacy_audit_events"])
    rows = list(await cursor.fetchall())
    prev_hash = GENESIS
    for row in rows:
        entry = AuditEntry(
            at=from_db_time(row["at"]),
            actor=row["actor"],
            action=row["action"],
            custody_id=row["custody_id"],
            detail=json.loads(row["detail"] or "{}"),
            facility_id=row["custody_facility"],
        )
        event = seal(entry, int(row["id"]), prev_hash, secrets.token_hex(SALT_BYTES))
        await db.execute(
            QUERIES["chain_legacy_audit_event"],
            (
                canonical(event.body["detail"]),
                event.body["facility"],
                event.body["personal_digest"],
                event.prev_hash,
                event.hash,
                event.seq,
            ),
        )
        if event.personal is not None:
            await db.execute(QUERIES["insert_audit_personal"], _personal_row(event))
        prev_hash = event.hash
    return len(rows)
